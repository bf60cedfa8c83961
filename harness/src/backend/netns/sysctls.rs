//! A pod's sysctls (Kubernetes `securityContext.sysctls`), set in its own network namespace
//! when the simulated cluster is built, before any of its containers starts, as the kubelet's
//! runtime sets them in the pod sandbox; then read back from inside that namespace, so a value
//! the kernel did not take fails the run instead of passing for set.

use std::collections::BTreeMap;

use super::commands::{run, setup_err};
use super::topology::Topology;
use crate::backend::BackendError;

/// `/proc/sys` path of a dotted sysctl name.
fn proc_path(name: &str) -> String {
    format!("/proc/sys/{}", name.replace('.', "/"))
}

/// The `ip` argument lists that set each pod's sysctls in its namespace, in an order the kernel
/// accepts ([`crate::spec::sysctl_write_order`]): one `sysctl -w` per pod that has any.
pub(super) fn commands(topo: &Topology) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for p in topo.pods.iter().filter(|p| !p.sysctls.is_empty() && !p.host_network) {
        let Some(ns) = topo.pod_ns(&p.name) else { continue };
        let mut args: Vec<String> = ["netns", "exec", &ns, "sysctl", "-q", "-w"].map(str::to_owned).to_vec();
        args.extend(crate::spec::sysctl_write_order(&p.sysctls).into_iter().map(|(k, v)| format!("{k}={v}")));
        out.push((p.name.clone(), args));
    }
    out
}

/// Sets every pod's sysctls and checks that each reads back as written. Blocking.
pub(super) fn apply(topo: &Topology) -> Result<(), BackendError> {
    for (pod, args) in commands(topo) {
        run("ip", &args, None)?;
        let read = read(topo, &pod)?;
        let wanted = &topo.pods.iter().find(|p| p.name == pod).map(|p| p.sysctls.clone()).unwrap_or_default();
        for (name, value) in wanted {
            let got = read.get(name).map(String::as_str).unwrap_or("(unreadable)");
            if got != value.trim() {
                return Err(setup_err(
                    &format!("sysctl in pod {pod}"),
                    format!("{name} reads {got} after writing {value}"),
                ));
            }
        }
    }
    Ok(())
}

/// The values of pod `pod`'s sysctls as its namespace has them now, read by a thread that
/// enters the namespace (a `/proc/sys/net` file shows the reader's network namespace). Blocking.
pub(super) fn read(topo: &Topology, pod: &str) -> Result<BTreeMap<String, String>, BackendError> {
    let (Some(p), Some(ns)) = (topo.pods.iter().find(|p| p.name == pod), topo.pod_ns(pod)) else {
        return Err(setup_err("read sysctls", format!("no pod {pod}")));
    };
    let path = format!("/run/netns/{ns}");
    let fail = |e: String| setup_err(&format!("read the sysctls of {ns}"), e);
    let file = std::fs::File::open(&path).map_err(|e| fail(format!("{path}: {e}")))?;
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns: {e}"))?;
            p.sysctls
                .keys()
                .map(|name| {
                    let at = proc_path(name);
                    let v = std::fs::read_to_string(&at).map_err(|e| format!("{at}: {e}"))?;
                    Ok((name.clone(), v.trim().to_owned()))
                })
                .collect::<Result<BTreeMap<_, _>, String>>()
        })
        .join()
        .unwrap_or_else(|_| Err("the reading thread panicked".into()))
    })
    .map_err(fail)
}

/// What the run's notes say of every pod's sysctls, as read back from its namespace. Blocking.
pub(super) fn notes(topo: &Topology) -> Result<Vec<String>, BackendError> {
    let mut out = Vec::new();
    for p in topo.pods.iter().filter(|p| !p.sysctls.is_empty()) {
        let read = read(topo, &p.name)?;
        let set: Vec<String> = read.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push(format!(
            "pod {}: sysctls {} set in its own network namespace before its containers started (read back there; \
             the node's are unchanged)",
            p.name,
            set.join(", ")
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pod_with_sysctls_gets_one_sysctl_in_its_own_namespace() {
        let mut t = Topology::two_empty_nodes("x");
        let pod = |name: &str, sysctls: &[(&str, &str)]| super::super::topology::TopoPod {
            name: name.into(),
            node: 1,
            host_network: false,
            host_ipc: false,
            sysctls: sysctls.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        };
        t.pods.push(pod("plain", &[]));
        t.pods.push(pod(
            "viewer",
            &[("net.ipv4.ipfrag_low_thresh", "50331648"), ("net.ipv4.ipfrag_high_thresh", "67108864")],
        ));
        let c = commands(&t);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].0, "viewer");
        assert_eq!(
            c[0].1.join(" "),
            "netns exec chh-x-p1 sysctl -q -w net.ipv4.ipfrag_high_thresh=67108864 net.ipv4.ipfrag_low_thresh=50331648"
        );
        assert_eq!(proc_path("net.ipv4.ipfrag_time"), "/proc/sys/net/ipv4/ipfrag_time");
    }
}
