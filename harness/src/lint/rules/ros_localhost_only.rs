//! `ros-localhost-only` (note, or warning beside other ROS workloads): `ROS_LOCALHOST_ONLY=1` or a
//! LOCALHOST discovery range keeps DDS on the pod's loopback — except beside a Zenoh bridge (in
//! the pod, or on the node's network for a host-network pod), whose README asks for exactly that.

use crate::lint::finding::{Out, Severity};
use crate::lint::manifest_set::ManifestSet;
use crate::lint::workload::Workload;
use crate::lint::zenoh::bridged_by;

/// `ROS_LOCALHOST_ONLY=1` (or a LOCALHOST discovery range): only this pod's network namespace
/// hears the node. Not a finding where a Zenoh bridge carries the node's traffic off the host:
/// that is the bridge's intended setup (DDS on loopback, the bridge between hosts).
pub(super) fn check(w: &Workload, set: &ManifestSet, out: &mut Out) {
    let all = &set.workloads;
    if bridged_by(w, all).is_some() {
        return;
    }
    let others = all.iter().any(|o| !std::ptr::eq(o, w) && o.ros2());
    for c in &w.containers {
        let hit = ["ROS_LOCALHOST_ONLY", "ROS_AUTOMATIC_DISCOVERY_RANGE"]
            .iter()
            .find_map(|k| c.env.get(*k).filter(|(v, _)| v == "1" || v == "LOCALHOST").map(|(v, l)| (*k, v, *l)));
        let Some((key, value, line)) = hit else { continue };
        let reach = if w.host_network() { "processes on its node's network" } else { "the containers of this pod" };
        out.push(
            w,
            line,
            if others { Severity::Warning } else { Severity::Note },
            "ros-localhost-only",
            format!(
                "container {}: {key}={value} keeps DDS on loopback: only {reach} hear it{}",
                c.name,
                if others { ", not the other ROS workloads here" } else { "" }
            ),
            "remove it (or ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET) where other pods must hear this node",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, rules, run};

    #[test]
    fn localhost_only_is_a_note_alone_and_a_warning_beside_other_ros() {
        let pod = |name: &str, spec: &str, container: &str| {
            format!("---\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n{spec}  containers:\n    - name: c\n      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, talker, --ros-args, -r, __node:={name}]\n{container}")
        };
        let local = "      env: [{name: ROS_LOCALHOST_ONLY, value: '1'}]\n";
        let alone = run(&pod("a", "  nodeName: n\n", local));
        assert!(rules(&alone).contains(&("ros-localhost-only", 10, Severity::Note)), "{:?}", rules(&alone));
        let with_other = run(&(pod("a", "  nodeName: n\n", local) + &pod("b", "  nodeName: n\n", "")));
        assert!(
            rules(&with_other).contains(&("ros-localhost-only", 10, Severity::Warning)),
            "{:?}",
            rules(&with_other)
        );
        let off = run(&pod("a", "  nodeName: n\n", "      env: [{name: ROS_LOCALHOST_ONLY, value: '0'}]\n"));
        assert_eq!(fired(&off, "ros-localhost-only"), 0);
    }

    /// Beside a Zenoh bridge — in the pod, or a host-network bridge DaemonSet for a host-network
    /// pod — LOCALHOST is the bridge's setup, not a finding; a bridge elsewhere changes nothing.
    #[test]
    fn localhost_beside_a_zenoh_bridge_is_not_a_finding() {
        let ros = "    - name: c\n      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, talker]\n      env: [{name: ROS_AUTOMATIC_DISCOVERY_RANGE, value: LOCALHOST}]\n";
        let bridge = "    - name: z\n      image: eclipse/zenoh-bridge-ros2dds:1.10.2\n      args: [-e, 'tcp/master:7447']\n      env: [{name: ROS_LOCALHOST_ONLY, value: '1'}]\n";
        let other = "---\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers:\n    - name: c\n      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, listener]\n";
        let same_pod = format!("kind: Pod\nmetadata: {{name: a}}\nspec:\n  containers:\n{ros}{bridge}{other}");
        assert_eq!(fired(&run(&same_pod), "ros-localhost-only"), 0, "{:?}", rules(&run(&same_pod)));
        let daemon = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: zenoh}\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      containers:\n        - name: z\n          image: eclipse/zenoh-bridge-ros2dds:1.10.2\n          args: [-e, 'tcp/master:7447']\n".to_owned();
        let host_pod =
            format!("---\nkind: Pod\nmetadata: {{name: a}}\nspec:\n  hostNetwork: true\n  containers:\n{ros}");
        let on_node = daemon.clone() + &host_pod + other;
        assert_eq!(fired(&run(&on_node), "ros-localhost-only"), 0, "{:?}", rules(&run(&on_node)));
        // The same pod on the pod network is not on the bridge's network: still a warning.
        let pod_net = daemon + &host_pod.replace("  hostNetwork: true\n", "") + other;
        assert_eq!(fired(&run(&pod_net), "ros-localhost-only"), 1, "{:?}", rules(&run(&pod_net)));
    }
}
