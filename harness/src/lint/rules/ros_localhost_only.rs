//! `ros-localhost-only` (note, or warning beside other ROS workloads): `ROS_LOCALHOST_ONLY=1` or a
//! LOCALHOST discovery range keeps DDS on the pod's loopback.

use crate::lint::finding::{Out, Severity};
use crate::lint::manifest_set::ManifestSet;
use crate::lint::workload::Workload;

/// `ROS_LOCALHOST_ONLY=1` (or a LOCALHOST discovery range): only this pod's network namespace
/// hears the node.
pub(super) fn check(w: &Workload, set: &ManifestSet, out: &mut Out) {
    let all = &set.workloads;
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
}
