//! The fragment-sysctls variant: more IP reassembly memory, for a shorter time, in every pod
//! that receives large samples (`securityContext.sysctls`), where the DDS sends datagrams the
//! kernel fragments.
//!
//! Why these values (measured on `scenarios/seed-camera.yaml`, one 1 MiB image stream at 5 Hz,
//! 2 % frame loss; images delivered of ~50 per trial, viewer's ReasmFails):
//! - as deployed (ipfrag_high_thresh 4 MiB, ipfrag_time 30 s): 0 and 0, 58,162 and 72,488
//!   ReasmFails. Every datagram that lost a frame leaves an incomplete queue that holds its
//!   fragments for ipfrag_time; within a second they fill the 4 MiB, and from then on the kernel
//!   refuses every new fragment, whole datagrams and Fast DDS's retransmissions alike;
//! - 64 MiB: 16 and 12; with ipfrag_time 60 s: 10 and 11; with ipfrag_time 5 s: 26 and 37;
//! - 256 MiB: 48 and 36; with ipfrag_time 5 s: 48 and 50 (the only ReasmFails were the queues
//!   that timed out: frames lost on the wire). The reassembly memory in use peaked at 71 MB
//!   (`/proc/net/sockstat` FRAG) with 5 s;
//! - 128 MiB with 5 s (this variant): 49 of 51 twice; in `harness matrix --trials 2`, 50 of 50
//!   twice (p50 220 ms, against 60 ms with the under-MTU profile), every ReasmFail a timeout;
//! - without the loss, the defaults lost nothing to reassembly, at 5 Hz and at 30 Hz (0
//!   ReasmFails; the few samples lost were UDP receive-buffer overruns): 4 MiB is no bottleneck
//!   for one sender on a clean link.
//!
//! A lost fragment is never recovered by the kernel: the memory lets a reliable writer's
//! retransmissions through, and the short time frees what the lost frames left behind.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::placement::{Plan, PlannedContainer};
use crate::spec::{ContainerRole, MessageType, Scenario, Transport, IPFRAG_HIGH_THRESH, IPFRAG_TIME};

use super::edits::Variant;
use super::overlay::{KUSTOMIZATION, PRIVILEGED_PATCH};

pub(super) const ID: &str = "fragment-sysctls";
/// Twice the 71 MB measured in use with 5 s.
const HIGH_THRESH: &str = "134217728";
/// Fragments of one datagram arrive within milliseconds; what stays longer lost a frame.
const TIME_S: &str = "5";

const NOTE: &str = "net.ipv4.ipfrag_* are unsafe sysctls in Kubernetes' terms: the kubelet of every node these \
     pods may run on must allow them (`--allowed-unsafe-sysctls 'net.ipv4.ipfrag_*'`, or allowedUnsafeSysctls in \
     its KubeletConfiguration, then a kubelet restart), else it rejects the pod (SysctlForbidden); the namespace \
     needs Pod Security `privileged` (baseline forbids them); a hostNetwork pod cannot set them per pod (they would \
     be the node's). They help a reliable writer's retransmissions through; a fragment lost on the wire stays lost";

/// The sysctls the variant sets.
fn sysctls() -> BTreeMap<String, String> {
    BTreeMap::from([
        (IPFRAG_HIGH_THRESH.to_owned(), HIGH_THRESH.to_owned()),
        (IPFRAG_TIME.to_owned(), TIME_S.to_owned()),
    ])
}

/// A container's message size: a program's `payloadBytes`, or our talker's `--payload-bytes`.
fn payload_of(c: &PlannedContainer) -> Option<u32> {
    c.payload_bytes.or_else(|| c.args.windows(2).find(|w| w[0] == "--payload-bytes").and_then(|w| w[1].parse().ok()))
}

/// The pods of `plan` (name, on the host network) with a listener of a topic whose messages do
/// not fit `frame` bytes: those that reassemble fragmented datagrams.
fn receivers(plan: &Plan, frame: u32) -> Vec<(&str, bool)> {
    let large: Vec<Option<MessageType>> = plan
        .containers()
        .filter(|(_, c)| c.role == ContainerRole::Talker && payload_of(c).is_some_and(|b| b > frame))
        .map(|(_, c)| c.message_type)
        .collect();
    let listens = |c: &PlannedContainer| c.role == ContainerRole::Listener && large.contains(&c.message_type);
    plan.pods.iter().filter(|p| p.containers.iter().any(listens)).map(|p| (p.name.as_str(), p.host_network)).collect()
}

/// The variant: the sysctls on every pod-network pod of `s` that receives large samples, where
/// the kernel fragments them (not our RustDDS nodes, which send datagrams under the MTU).
pub(super) fn variant(s: &Scenario, plan: &Plan) -> Variant {
    Variant {
        files: Vec::new(),
        id: ID,
        title: "more IP reassembly memory for a shorter time in the receiving pods (ipfrag sysctls, unsafe)",
        // Kubelet configuration on every node, and a privileged namespace: more than a profile
        // or an env var, less than replacing the CNI.
        rank: 4,
        scenario: with_sysctls(s, plan, super::large_data::one_frame(s), super::large_data::not_large(s)),
        note: Some(NOTE),
    }
}

fn with_sysctls(s: &Scenario, plan: &Plan, frame: u32, not_large: Option<String>) -> Result<Scenario, String> {
    if let Some(why) = not_large {
        return Err(why);
    }
    let ours = |c: &crate::spec::ContainerSpec| !c.is_custom() && s.dds.transport == Transport::Rustdds;
    if s.pods.iter().flat_map(|p| &p.containers).filter(|c| c.role == ContainerRole::Talker).all(ours) {
        return Err("the harness's RustDDS nodes fragment samples themselves, under the MTU: the kernel reassembles \
                    nothing"
            .into());
    }
    let on_pod_network: Vec<&str> =
        receivers(plan, frame).into_iter().filter(|(_, host)| !host).map(|(n, _)| n).collect();
    if on_pod_network.is_empty() {
        return Err("every pod that receives the large samples is on the host network, where a pod cannot set net.* \
                    sysctls (set them on the node)"
            .into());
    }
    let mut out = s.clone();
    for p in out.pods.iter_mut().filter(|p| {
        crate::spec::expanded_names(&p.name, p.replicas).iter().any(|n| on_pod_network.contains(&n.as_str()))
    }) {
        p.sysctls.extend(sysctls());
    }
    Ok(out)
}

/// The overlay: the sysctls in the pod security context of every receiving pod of `plan` on the
/// pod network, and a namespace that admits them.
pub(super) fn files(plan: &Plan) -> BTreeMap<String, String> {
    let mut k = String::from(
        "# More IP reassembly memory, held for less time, in every pod that receives samples larger than a frame:\n\
         # net.ipv4.ipfrag_* are UNSAFE sysctls in Kubernetes' terms. The kubelet of every node these pods may\n\
         # run on must allow them, or it rejects the pods (SysctlForbidden):\n\
         #   kubelet --allowed-unsafe-sysctls 'net.ipv4.ipfrag_*'\n\
         #   (or KubeletConfiguration: allowedUnsafeSysctls: [\"net.ipv4.ipfrag_*\"]), then restart the kubelet.\n\
         # The namespace needs Pod Security `privileged` (baseline forbids unsafe sysctls). hostNetwork pods\n\
         # cannot set them per pod. A fragment lost on the wire stays lost: this lets retransmissions through.\n",
    );
    let _ = write!(k, "{KUSTOMIZATION}resources:\n  - base.yaml\npatches:\n{PRIVILEGED_PATCH}");
    for (name, _) in receivers(plan, super::large_data::UNDER_MTU_MESSAGE).into_iter().filter(|(_, host)| !host) {
        let _ = write!(
            k,
            "  - target:\n      kind: Pod\n      name: {name}\n    patch: |-\n      - op: add\n        path: /spec/securityContext/sysctls\n        value:\n          - {{name: {IPFRAG_HIGH_THRESH}, value: \"{HIGH_THRESH}\"}}\n          - {{name: {IPFRAG_TIME}, value: \"{TIME_S}\"}}\n"
        );
    }
    BTreeMap::from([("kustomization.yaml".to_owned(), k)])
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::matrix::{fix_files, variants};

    use crate::matrix::edits::parsed as scenario;

    fn camera() -> String {
        std::fs::read_to_string(testkit::workspace_root().join("scenarios/seed-camera.yaml")).expect("present")
    }

    /// On the camera scenario the viewer alone receives the images: it alone gets the sysctls,
    /// and the variant ranks after every env var or profile.
    #[test]
    fn the_receiving_pods_alone_get_the_sysctls() {
        let (s, plan) = scenario(&camera());
        let v = variants(&s, &plan, "netns", None, Path::new("/m/files"));
        let f = v.iter().find(|x| x.id == ID).expect("listed");
        let with = f.scenario.as_ref().expect("applies");
        for p in &with.pods {
            let want = if p.name == "viewer" { sysctls() } else { BTreeMap::new() };
            assert_eq!(p.sysctls, want, "{}", p.name);
        }
        let rank = |id: &str| v.iter().find(|x| x.id == id).expect(id).rank;
        assert!(rank(ID) > rank("fastdds-under-mtu") && rank(ID) > rank("discovery-server"));
        assert!(rank(ID) < rank("host-network"));
        assert!(f.note.expect("a note").contains("--allowed-unsafe-sysctls 'net.ipv4.ipfrag_*'"));
        // The viewer on the host network: nothing a pod can set.
        let (host, plan) = scenario(&camera().replace(
            "  - name: viewer                         # 10.42.0.6\n",
            "  - name: viewer                         # 10.42.0.6\n    hostNetwork: true\n",
        ));
        let v = variants(&host, &plan, "netns", None, Path::new("/m/files"));
        let why = v.iter().find(|x| x.id == ID).expect("listed").scenario.clone().expect_err("host network");
        assert!(why.contains("host network"), "{why}");
        // Chatter-sized messages: nothing to reassemble.
        let (small, plan) = scenario(&camera().replace("payloadBytes: 1048576", "payloadBytes: 512"));
        let v = variants(&small, &plan, "netns", None, Path::new("/m/files"));
        assert!(v.iter().find(|x| x.id == ID).expect("listed").scenario.is_err());
    }

    /// The overlay patches the viewer's security context only, and says the sysctls are unsafe.
    #[test]
    fn the_overlay_sets_the_receivers_sysctls_and_says_they_are_unsafe() {
        let (_, plan) = scenario(&camera());
        let files = fix_files(ID, &plan, "ns", None, None).expect("an overlay");
        let k = &files["kustomization.yaml"];
        assert_eq!(k.matches("path: /spec/securityContext/sysctls").count(), 1, "{k}");
        assert!(k.contains("      name: viewer\n"), "{k}");
        assert!(k.contains("- {name: net.ipv4.ipfrag_high_thresh, value: \"134217728\"}"), "{k}");
        assert!(k.contains("UNSAFE sysctls") && k.contains("--allowed-unsafe-sysctls 'net.ipv4.ipfrag_*'"), "{k}");
        assert!(k.contains("SysctlForbidden"), "{k}");
        assert!(k.contains("path: /metadata/labels/pod-security.kubernetes.io~1enforce\n        value: privileged"));
    }
}
