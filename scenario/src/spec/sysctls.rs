//! A pod's `sysctls` (Kubernetes `securityContext.sysctls`, as a map of name → value): which
//! the harness accepts, the checks on their values, and the order they are written in.
//!
//! Only the IPv4 reassembly parameters are accepted: they are per network namespace (each pod
//! has its own, and setting them there leaves the node's alone), the netns backend can set them
//! in a pod's namespace, and they are what a team tries when large UDP datagrams are lost to
//! fragment reassembly. Kubernetes counts them among the *unsafe* sysctls: the kubelet of every
//! node the pod may run on must allow them (`--allowed-unsafe-sysctls 'net.ipv4.ipfrag_*'`, or
//! `allowedUnsafeSysctls` in its KubeletConfiguration), else it rejects the pod
//! (`SysctlForbidden`); and a hostNetwork pod cannot set any `net.*` sysctl (it would be the
//! node's), so the harness refuses those too.

use std::collections::BTreeMap;

use super::PodSpec;
use super::Violation;

/// What one accepted sysctl may be set to.
struct Known {
    name: &'static str,
    /// The kernel's default in a new network namespace.
    default: u64,
    min: u64,
    max: u64,
    /// What the value is, for the error.
    what: &'static str,
}

/// Linux's defaults in a new network namespace (include/net/ip.h: IPV4_FRAG_HIGH_THRESH 4 MiB,
/// low 3 MiB; ipfrag_time 30 s; ipfrag_max_dist 64).
pub const IPFRAG_TIME: &str = "net.ipv4.ipfrag_time";
pub const IPFRAG_HIGH_THRESH: &str = "net.ipv4.ipfrag_high_thresh";
pub const IPFRAG_LOW_THRESH: &str = "net.ipv4.ipfrag_low_thresh";
pub const IPFRAG_MAX_DIST: &str = "net.ipv4.ipfrag_max_dist";
const DEFAULT_HIGH: u64 = 4 << 20;
const DEFAULT_LOW: u64 = 3 << 20;
/// More than 1 GiB of a pod's kernel memory held by incomplete datagrams is no setting a node
/// can afford (the kernel itself has no bound).
const MAX_THRESH: u64 = 1 << 30;

const KNOWN: [Known; 4] = [
    Known {
        name: IPFRAG_TIME,
        default: 30,
        min: 1,
        max: 3600,
        what: "seconds an incomplete datagram's fragments are kept (1 to 3600)",
    },
    Known {
        name: IPFRAG_HIGH_THRESH,
        default: DEFAULT_HIGH,
        min: 1,
        max: MAX_THRESH,
        what: "bytes of reassembly memory (at most 1 GiB)",
    },
    Known { name: IPFRAG_LOW_THRESH, default: DEFAULT_LOW, min: 0, max: MAX_THRESH, what: "bytes (at most 1 GiB)" },
    Known {
        name: IPFRAG_MAX_DIST,
        default: 64,
        min: 0,
        max: i32::MAX as u64,
        what: "fragments from one source (0 turns the check off)",
    },
];

/// The sysctls a pod may set, as a list for messages.
fn accepted() -> String {
    KNOWN.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

/// Why a sysctl the harness does not accept is refused.
fn refused(name: &str) -> String {
    let why = if name.contains('/') {
        "write sysctl names with dots (net.ipv4.ipfrag_time)".to_owned()
    } else if name.starts_with("net.core.") || name == "net.ipv4.udp_mem" || name == "net.ipv4.tcp_mem" {
        "it is the node's, not per network namespace: a pod cannot set it (set it on the node)".to_owned()
    } else {
        "the harness sets only the IPv4 reassembly sysctls, which are per network namespace".to_owned()
    };
    format!("`{name}` is not accepted: {why}; accepted: {}", accepted())
}

/// `pods[i].sysctls`: known names, values in range, the low threshold at most the high one, and
/// none on a hostNetwork pod.
pub(super) fn check_sysctls(i: usize, p: &PodSpec, out: &mut Vec<Violation>) {
    if p.sysctls.is_empty() {
        return;
    }
    if p.host_network {
        out.push(super::validate::violation(
            format!("pods[{i}].sysctls"),
            "a hostNetwork pod runs in its node's network namespace, so its net.* sysctls would be the node's: \
             Kubernetes refuses them (the kubelet rejects the pod), and so does the harness; take the pod off the \
             host network, or set them on the node itself",
        ));
        return;
    }
    let mut values = BTreeMap::new();
    for (name, value) in &p.sysctls {
        let field = format!("pods[{i}].sysctls.{name}");
        let Some(k) = KNOWN.iter().find(|k| k.name == name) else {
            out.push(super::validate::violation(field, refused(name)));
            continue;
        };
        match value.trim().parse::<u64>() {
            Ok(v) if (k.min..=k.max).contains(&v) => {
                values.insert(k.name, v);
            }
            _ => out.push(super::validate::violation(
                field,
                format!("`{value}` is not a valid {name}: an integer, {} (default {})", k.what, k.default),
            )),
        }
    }
    let high = values.get(IPFRAG_HIGH_THRESH).copied();
    let low = values.get(IPFRAG_LOW_THRESH).copied();
    if high.is_some() || low.is_some() {
        let (h, l) = (high.unwrap_or(DEFAULT_HIGH), low.unwrap_or(DEFAULT_LOW));
        if l > h {
            let (field, other) = if high.is_some() {
                (IPFRAG_HIGH_THRESH, IPFRAG_LOW_THRESH)
            } else {
                (IPFRAG_LOW_THRESH, IPFRAG_HIGH_THRESH)
            };
            out.push(super::validate::violation(
                format!("pods[{i}].sysctls.{field}"),
                format!(
                    "ipfrag_low_thresh ({l}) is above ipfrag_high_thresh ({h}), which the kernel refuses; set {other} \
                     too (defaults: high {DEFAULT_HIGH}, low {DEFAULT_LOW})"
                ),
            ));
        }
    }
}

/// `sysctls` in an order the kernel takes them from a new namespace's defaults: the high
/// threshold before the low one when it rises past the default low (the kernel keeps
/// low ≤ high at every write), after it otherwise.
pub fn write_order(sysctls: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    let high_first =
        sysctls.get(IPFRAG_HIGH_THRESH).and_then(|v| v.trim().parse::<u64>().ok()).is_none_or(|h| h >= DEFAULT_LOW);
    let rank = |name: &str| match name {
        IPFRAG_HIGH_THRESH => u8::from(!high_first),
        IPFRAG_LOW_THRESH => u8::from(high_first),
        _ => 2,
    };
    let mut out: Vec<(&str, &str)> = sysctls.iter().map(|(k, v)| (k.as_str(), v.trim())).collect();
    out.sort_by_key(|(k, _)| rank(k));
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::spec::{parse, SpecError};

    const POD: &str = "name: t\npods:\n  - name: cam\n    sysctls:\n      SYSCTLS\n    containers: [{name: t, role: \
                       talker}]\n  - name: view\n    containers: [{name: l, role: listener}]\n";

    fn with(sysctls: &str) -> Result<crate::spec::Scenario, SpecError> {
        parse(&POD.replace("SYSCTLS", sysctls), Path::new("s.yaml"))
    }

    #[test]
    fn reassembly_sysctls_are_read_as_kubernetes_writes_them() {
        let s = with("net.ipv4.ipfrag_time: 60\n      net.ipv4.ipfrag_high_thresh: \"67108864\"").expect("valid");
        assert_eq!(s.pods[0].sysctls["net.ipv4.ipfrag_time"], "60");
        assert_eq!(s.pods[0].sysctls["net.ipv4.ipfrag_high_thresh"], "67108864");
        assert!(s.pods[1].sysctls.is_empty());
    }

    /// Each mistake at its line, column and field, saying what is accepted.
    #[test]
    fn unknown_sysctls_and_bad_values_are_refused_where_written() {
        let e = with("net.core.rmem_max: 26214400").expect_err("not per namespace");
        assert!(
            e.to_string().starts_with(
                "s.yaml:5:26: pods[0].sysctls.net.core.rmem_max: `net.core.rmem_max` is not accepted: it is the node's"
            ),
            "{e}"
        );
        assert!(e.to_string().contains("accepted: net.ipv4.ipfrag_time, net.ipv4.ipfrag_high_thresh"), "{e}");
        let e = with("net.ipv4.ipfrag_time: soon").expect_err("not a number");
        assert!(
            e.to_string().starts_with("s.yaml:5:29: pods[0].sysctls.net.ipv4.ipfrag_time: `soon` is not a valid"),
            "{e}"
        );
        let e = with("net.ipv4.ipfrag_time: 0").expect_err("out of range");
        assert!(e.to_string().contains("1 to 3600"), "{e}");
        let e = with("net.ipv4.ipfrag_high_thresh: 2097152").expect_err("under the default low threshold");
        assert_eq!(e.field(), Some("pods[0].sysctls.net.ipv4.ipfrag_high_thresh"), "{e}");
        assert!(e.to_string().contains("ipfrag_low_thresh (3145728) is above ipfrag_high_thresh (2097152)"), "{e}");
        with("net.ipv4.ipfrag_high_thresh: 2097152\n      net.ipv4.ipfrag_low_thresh: 1048576").expect("both lowered");
        let e = with("net/ipv4/ipfrag_time: 60").expect_err("slashes");
        assert!(e.to_string().contains("with dots"), "{e}");
    }

    /// Kubernetes refuses net.* sysctls on the host network; so does the harness, at the map.
    #[test]
    fn a_host_network_pod_sets_no_sysctls() {
        let text = POD
            .replace("SYSCTLS", "net.ipv4.ipfrag_time: 60")
            .replace("    sysctls:", "    hostNetwork: true\n    sysctls:");
        let e = parse(&text, Path::new("s.yaml")).expect_err("host network");
        assert!(
            e.to_string()
                .starts_with("s.yaml:5:5: pods[0].sysctls: a hostNetwork pod runs in its node's network namespace"),
            "{e}"
        );
    }

    #[test]
    fn thresholds_are_written_in_an_order_the_kernel_accepts() {
        let map = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let raised: BTreeMap<String, String> =
            map(&[(IPFRAG_LOW_THRESH, "50331648"), (IPFRAG_HIGH_THRESH, "67108864"), (IPFRAG_TIME, "60")]);
        let names: Vec<&str> = write_order(&raised).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, [IPFRAG_HIGH_THRESH, IPFRAG_LOW_THRESH, IPFRAG_TIME]);
        let lowered: BTreeMap<String, String> = map(&[(IPFRAG_LOW_THRESH, "1048576"), (IPFRAG_HIGH_THRESH, "2097152")]);
        let names: Vec<&str> = write_order(&lowered).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, [IPFRAG_LOW_THRESH, IPFRAG_HIGH_THRESH]);
    }
}
