//! `fastdds-host-network-shm` (error when pinned together, warning when they can meet, note when a
//! profile is unreadable): Fast DDS pods on the host network that can share a node but not its
//! /dev/shm — discovery works, data never arrives.

use crate::lint::container::Container;
use crate::lint::distro::distro_at_least_jazzy;
use crate::lint::document::Node;
use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// Fast DDS pods on the host network that can share a node without sharing /dev/shm: one
/// Fast DDS host, shared memory chosen, nothing arrives (measured on Jazzy and Kilted: the
/// pair between two hostNetwork pods on one node heard 0 of 3 trials; UDPv4 delivered).
pub(super) fn check(all: &[Workload], out: &mut Out) {
    let hn: Vec<&Workload> = all.iter().filter(|w| w.host_network() && w.fast_dds()).collect();
    for w in &hn {
        let shm_off: Vec<Option<bool>> =
            w.containers.iter().filter(|c| c.fast_dds()).map(fastdds_without_shm).collect();
        if shm_off.iter().all(|s| *s == Some(true)) {
            continue;
        }
        let neighbours: Vec<&Workload> = hn
            .iter()
            .filter(|o| !std::ptr::eq(**o, *w) && w.may_share_node(o) && !(w.host_ipc() && o.host_ipc()))
            .copied()
            .collect();
        if neighbours.is_empty() {
            continue;
        }
        let distro = w.containers.iter().find_map(Container::distro);
        let fix = if distro_at_least_jazzy(distro) {
            "set FASTDDS_BUILTIN_TRANSPORTS=UDPv4 in every Fast DDS container on the host network (or hostIPC: true on all of them, or anti-affinity that keeps them on different nodes)"
        } else {
            "a UDP-only Fast DDS XML profile (FASTRTPS_DEFAULT_PROFILES_FILE; this distro's Fast DDS predates FASTDDS_BUILTIN_TRANSPORTS), or hostIPC: true on all of them"
        };
        let same = neighbours.iter().all(|o| w.pinned_node().is_some() && w.pinned_node() == o.pinned_node());
        let unreadable = shm_off.contains(&None);
        let (severity, when) = if unreadable {
            (
                Severity::Note,
                "it loads a Fast DDS profile the lint cannot read; unless that profile turns shared memory off,",
            )
        } else if same {
            (Severity::Error, "they are pinned to one node, so")
        } else {
            (Severity::Warning, "nothing keeps them on different nodes, and where they meet")
        };
        let line = w.host_network.map_or(w.spec.line(), Node::line);
        out.push(
            w,
            line,
            severity,
            "fastdds-host-network-shm",
            format!(
                "Fast DDS on the host network beside {}: {when} they share the node's network namespace (one Fast DDS host, so Fast DDS sends through shared memory) but not its /dev/shm (each pod has its own) — discovery works, data never arrives (measured on ROS 2 Jazzy and Kilted)",
                w.other_names(&neighbours)
            ),
            fix,
        );
    }
}

/// Fast DDS without shared memory: only UDP/TCP built-in transports, or a profile (which
/// the lint cannot read: `None`).
fn fastdds_without_shm(c: &Container) -> Option<bool> {
    if c.env_is("FASTDDS_BUILTIN_TRANSPORTS", |v| !crate::diagnosis::builtin_transports_include_shm(v)) {
        return Some(true);
    }
    match &c.fastdds_profile {
        None => Some(false),
        Some(None) => None,
        // Shared memory stays unless the built-in transports are off and no SHM descriptor
        // is added back.
        Some(Some(xml)) => {
            Some(xml.contains("<useBuiltinTransports>false</useBuiltinTransports>") && !xml.contains("SHM"))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, rules, run};

    const TWO_HOST_NETWORK: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: camera}
spec:
  template:
    spec:
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
      containers:
        - name: driver
          image: ros:jazzy-ros-base
          command: [ros2, run, usb_cam, usb_cam_node_exe]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: recorder}
spec:
  template:
    spec:
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
      containers:
        - name: bag
          image: ros:jazzy-ros-base
          command: [ros2, bag, record, -a]
";

    #[test]
    fn host_network_fast_dds_pods_that_can_meet_on_a_node_are_flagged() {
        let f = run(TWO_HOST_NETWORK);
        let r = rules(&f);
        assert!(r.contains(&("fastdds-host-network-shm", 7, Severity::Warning)), "{r:?}");
        assert!(r.contains(&("fastdds-host-network-shm", 20, Severity::Warning)), "{r:?}");
        let x = f.iter().find(|x| x.rule == "fastdds-host-network-shm").expect("present");
        assert!(
            x.fix.contains("FASTDDS_BUILTIN_TRANSPORTS=UDPv4") && x.message.contains("DaemonSet/recorder"),
            "{x:?}"
        );
        // Host network carries multicast: no multicast finding.
        assert_eq!(fired(&f, "multicast-discovery-across-nodes"), 0, "{r:?}");
        // UDPv4 in both, hostIPC in both, or nodes kept apart: silent.
        let udp = TWO_HOST_NETWORK.replace(
            "          command: [ros2,",
            "          env: [{name: FASTDDS_BUILTIN_TRANSPORTS, value: UDPv4}]\n          command: [ros2,",
        );
        assert_eq!(fired(&run(&udp), "fastdds-host-network-shm"), 0);
        let ipc =
            TWO_HOST_NETWORK.replace("      hostNetwork: true\n", "      hostNetwork: true\n      hostIPC: true\n");
        assert_eq!(fired(&run(&ipc), "fastdds-host-network-shm"), 0);
        let apart = TWO_HOST_NETWORK
            .replacen("      hostNetwork: true\n", "      nodeSelector: {kubernetes.io/hostname: pi}\n      hostNetwork: true\n", 1)
            .replacen("kind: DaemonSet", "kind: Deployment", 1)
            .replace("      dnsPolicy: ClusterFirstWithHostNet\n      containers:\n        - name: bag", "      dnsPolicy: ClusterFirstWithHostNet\n      nodeSelector: {kubernetes.io/hostname: master}\n      containers:\n        - name: bag");
        assert_eq!(fired(&run(&apart), "fastdds-host-network-shm"), 0, "{:?}", rules(&run(&apart)));
        // Pinned to one node: it will not work.
        let same =
            TWO_HOST_NETWORK.replace("      hostNetwork: true\n", "      nodeName: pi\n      hostNetwork: true\n");
        assert!(rules(&run(&same)).iter().any(|(r, _, s)| *r == "fastdds-host-network-shm" && *s == Severity::Error));
        // Cyclone DDS has no such shared memory default.
        let cyclone = TWO_HOST_NETWORK.replace(
            "          command: [ros2,",
            "          env: [{name: RMW_IMPLEMENTATION, value: rmw_cyclonedds_cpp}]\n          command: [ros2,",
        );
        assert_eq!(fired(&run(&cyclone), "fastdds-host-network-shm"), 0);
    }

    /// The old rule said containers of one pod lose Fast DDS messages without a /dev/shm
    /// volume: false on Kubernetes (a pod's containers share its /dev/shm; measured: the pod's
    /// own pair delivers). Nothing about shm for one multi-container pod.
    #[test]
    fn containers_of_one_pod_are_not_flagged_for_shared_memory() {
        let f = run("apiVersion: v1
kind: Pod
metadata: {name: both}
spec:
  containers:
    - {name: talker, image: 'ros:jazzy', command: [ros2, run, demo_nodes_cpp, talker]}
    - {name: listener, image: 'ros:jazzy', command: [ros2, run, demo_nodes_cpp, listener]}
");
        assert!(f.iter().all(|x| !x.rule.contains("shm")), "{f:?}");
        assert!(f.is_empty(), "one pod alone: nothing to say: {f:?}");
    }
}
