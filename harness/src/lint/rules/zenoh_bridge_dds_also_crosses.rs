//! `zenoh-bridge-dds-also-crosses` (warning): ROS 2 pods carried by Zenoh bridges that can also
//! reach each other over DDS across nodes — every message arrives twice (once per path), or
//! loops between the bridges.

use crate::lint::container::Container;
use crate::lint::document::Node;
use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;
use crate::lint::zenoh::{bridged_by, localhost_only};

/// Bridged ROS 2 workloads whose DDS is not kept on the host, and which can run on different
/// nodes from other such workloads where DDS also crosses between nodes: both on the host
/// network (the underlay carries multicast discovery like a LAN), or either discovering by
/// unicast (static peers, a discovery server).
pub(super) fn check(all: &[Workload], out: &mut Out) {
    let bridged: Vec<(&Workload, &Workload)> = all
        .iter()
        .filter(|w| w.ros2() && !w.containers.iter().filter(|c| c.dds()).all(localhost_only))
        .filter_map(|w| bridged_by(w, all).map(|b| (w, b)))
        .collect();
    for &(w, bridge) in &bridged {
        let reach: Vec<&Workload> = bridged
            .iter()
            .map(|&(o, _)| o)
            .filter(|o| {
                let apart = if std::ptr::eq(*o, w) { w.daemon() || w.replicas > 1 } else { w.may_split(o) };
                apart && dds_crosses(w, o) && domain(w) == domain(o)
            })
            .collect();
        if reach.is_empty() {
            continue;
        }
        let line =
            w.host_network.map_or_else(|| w.spec.get("containers").map_or(w.spec.line(), Node::line), Node::line);
        out.push(
            w,
            line,
            Severity::Warning,
            "zenoh-bridge-dds-also-crosses",
            format!(
                "ROS 2 in {} is carried by the Zenoh bridge of {}, and also reaches {} on other nodes over DDS \
                 itself: each message arrives twice — directly and through the bridges — or loops between \
                 bridges (the bridge's README: DDS must not also cross between bridged hosts)",
                w.label,
                bridge.label,
                reach
                    .iter()
                    .map(|o| if std::ptr::eq(*o, w) { format!("{} (its own pods)", w.label) } else { o.label.clone() })
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            "keep DDS on each host: ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (ROS_LOCALHOST_ONLY=1 before Iron) on the \
             ROS pods (Fast DDS pods then also need hostIPC, measured: at LOCALHOST Fast DDS processes of one node \
             meet only through a /dev/shm they share), and the bridge's own Cyclone DDS pinned to the loopback \
             interface by CYCLONEDDS_URI (with Fast DDS nodes, not the bridge's ROS_LOCALHOST_ONLY, which they \
             were measured never to meet); or a ROS_DOMAIN_ID per node",
        );
    }
}

/// DDS between pods of `a` and `b` on different nodes: the underlay for two host-network pods,
/// unicast discovery for any.
fn dds_crosses(a: &Workload, b: &Workload) -> bool {
    let unicast = |w: &Workload| {
        w.containers.iter().filter(|c| c.dds()).any(|c: &Container| {
            c.env_is("ROS_STATIC_PEERS", |v| !v.trim().is_empty())
                || c.env_is("ROS_DISCOVERY_SERVER", |v| !v.trim().is_empty())
        })
    };
    (a.host_network() && b.host_network()) || unicast(a) || unicast(b)
}

/// The ROS_DOMAIN_ID of a workload's first ROS 2 container (0 when unset).
fn domain(w: &Workload) -> String {
    w.containers
        .iter()
        .find(|c| c.dds())
        .and_then(|c| c.env.get("ROS_DOMAIN_ID"))
        .map_or_else(|| "0".to_owned(), |(v, _)| v.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{fired, rules, run};

    /// The seed team's layout: a host-network bridge DaemonSet, ROS pods on the host network.
    fn layout(ros_env: &str, domain_b: &str) -> String {
        format!(
            "apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: zenoh}}
spec:
  template:
    spec:
      hostNetwork: true
      containers:
        - name: z
          image: eclipse/zenoh-bridge-ros2dds:1.10.2
          args: [-e, 'tcp/master:7447']
---
kind: Pod
metadata: {{name: a}}
spec:
  hostNetwork: true
  nodeName: robot-1
  containers:
    - name: t
      image: ros:jazzy
      command: [ros2, run, demo_nodes_cpp, talker]
{ros_env}---
kind: Pod
metadata: {{name: b}}
spec:
  hostNetwork: true
  nodeName: robot-2
  containers:
    - name: l
      image: ros:jazzy
      command: [ros2, run, demo_nodes_cpp, listener]
{ros_env}{domain_b}"
        )
    }

    #[test]
    fn bridged_host_network_pods_that_also_meet_over_dds_are_warned() {
        let free = run(&layout("", ""));
        assert_eq!(fired(&free, "zenoh-bridge-dds-also-crosses"), 2, "{:?}", rules(&free));
        let local = "      env: [{name: ROS_AUTOMATIC_DISCOVERY_RANGE, value: LOCALHOST}]\n";
        assert_eq!(fired(&run(&layout(local, "")), "zenoh-bridge-dds-also-crosses"), 0);
        // Another domain on robot-2: DDS does not meet across (the README's other way).
        let other_domain = run(&layout("", "      env: [{name: ROS_DOMAIN_ID, value: '7'}]\n"));
        assert_eq!(fired(&other_domain, "zenoh-bridge-dds-also-crosses"), 0, "{:?}", rules(&other_domain));
        // On the pod network the bridge does not reach them: not bridged, not this rule.
        let pod_net = layout("", "").replace("  hostNetwork: true\n  nodeName", "  nodeName");
        assert_eq!(fired(&run(&pod_net), "zenoh-bridge-dds-also-crosses"), 0);
    }

    /// The message names each workload whole, even one whose name begins another's (`a` and
    /// `ab`), and the fix keeps the bridge's Cyclone on loopback rather than at LOCALHOST.
    #[test]
    fn the_message_names_the_other_workloads_whole() {
        let found = run(&layout("", "").replace("metadata: {name: b}", "metadata: {name: ab}"));
        let on_a: Vec<_> =
            found.iter().filter(|f| f.rule == "zenoh-bridge-dds-also-crosses" && f.object == "Pod/a").collect();
        assert_eq!(on_a.len(), 1, "{:?}", rules(&found));
        assert!(on_a[0].message.contains("also reaches Pod/ab on other nodes"), "{}", on_a[0].message);
        assert!(!on_a[0].message.contains("(its own pods)"), "{}", on_a[0].message);
        assert!(on_a[0].fix.contains("CYCLONEDDS_URI") && on_a[0].fix.contains("hostIPC"), "{}", on_a[0].fix);
    }
}
