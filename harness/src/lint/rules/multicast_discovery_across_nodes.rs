//! `multicast-discovery-across-nodes` (warning): ROS 2 on the pod network that discovers by
//! multicast and can run on different nodes, where a CNI like flannel does not carry it.

use crate::lint::container::Container;
use crate::lint::distro::distro_has_static_peers;
use crate::lint::document::Node;
use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// ROS 2 pods on the pod network that discover by multicast, and can run on different nodes.
pub(super) fn check(all: &[Workload], out: &mut Out) {
    let ros: Vec<&Workload> = all.iter().filter(|w| w.ros2()).collect();
    for w in &ros {
        if w.host_network() || w.containers.iter().filter(|c| c.dds()).all(unicast_discovery) {
            continue;
        }
        let apart: Vec<&Workload> = ros.iter().filter(|o| !std::ptr::eq(**o, *w) && w.may_split(o)).copied().collect();
        let spread_alone = w.daemon() || (w.replicas > 1 && w.pinned_node().is_none());
        if apart.is_empty() && !spread_alone {
            continue;
        }
        let with = if apart.is_empty() { "its own replicas on other nodes".to_owned() } else { w.other_names(&apart) };
        let distro = w.containers.iter().find_map(Container::distro);
        let peers_note = match w.containers.iter().find(|c| c.env.contains_key("ROS_STATIC_PEERS")) {
            Some(_) if !distro_has_static_peers(distro) => {
                " (ROS_STATIC_PEERS is set, but this distro's rmw predates it: Iron and later read it)"
            }
            _ => "",
        };
        let line = w.spec.get("containers").map_or(w.spec.line(), Node::line);
        out.push(
            w,
            line,
            Severity::Warning,
            "multicast-discovery-across-nodes",
            format!(
                "ROS 2 on the pod network discovers by multicast (SPDP, 239.255.0.1){peers_note}, and it can run on a \
                 different node from {with}: on a CNI that does not carry multicast between nodes — flannel, the \
                 k3s default — they never discover each other (measured on the simulated flannel: 0 across nodes, \
                 every pair on one node delivered); `harness doctor` checks a live cluster"
            ),
            if distro_has_static_peers(distro) {
                "unicast discovery: ROS_STATIC_PEERS with the peers' addresses, a Fast DDS discovery server (ROS_DISCOVERY_SERVER), or Cyclone DDS Peers; or a CNI that carries multicast (`harness matrix` measures each)"
            } else {
                "unicast discovery: a Fast DDS discovery server (ROS_DISCOVERY_SERVER) or Cyclone DDS Peers; or a CNI that carries multicast (`harness matrix` measures each)"
            },
        );
    }
}

/// Discovery that does not rely on multicast, or configuration the lint cannot read.
fn unicast_discovery(c: &Container) -> bool {
    let set = |k: &str| c.env_is(k, |v| !v.trim().is_empty());
    let profile = |config: &Option<Option<String>>, unicast: &[&str]| match config {
        None => false,
        Some(None) => true,
        Some(Some(xml)) => unicast.iter().any(|u| xml.contains(u)),
    };
    let fastdds_unicast = [
        "initialPeersList",
        "<discoveryProtocol>CLIENT",
        "<discoveryProtocol>SUPER_CLIENT",
        "<discoveryProtocol>SERVER",
        "<discoveryProtocol>BACKUP",
    ];
    (set("ROS_STATIC_PEERS") && distro_has_static_peers(c.distro()))
        || set("ROS_DISCOVERY_SERVER")
        || profile(&c.fastdds_profile, &fastdds_unicast)
        || profile(&c.cyclone_config, &["<Peers>", "<Peer "])
        || c.env_is("ROS_AUTOMATIC_DISCOVERY_RANGE", |v| matches!(v, "OFF" | "LOCALHOST"))
        || c.env_is("ROS_LOCALHOST_ONLY", |v| v == "1")
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{fired, run};

    #[test]
    fn peers_or_a_discovery_server_silence_the_multicast_rule() {
        let pods = |env: &str| {
            format!(
                "kind: Pod\nmetadata: {{name: a}}\nspec:\n  containers:\n    - name: t\n      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, talker]\n{env}---\nkind: Pod\nmetadata: {{name: b}}\nspec:\n  containers:\n    - name: l\n      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, listener]\n{env}"
            )
        };
        assert_eq!(fired(&run(&pods("")), "multicast-discovery-across-nodes"), 2);
        let peers = "      env: [{name: ROS_STATIC_PEERS, value: 'a.peers;b.peers'}]\n";
        assert_eq!(fired(&run(&pods(peers)), "multicast-discovery-across-nodes"), 0);
        // From a ConfigMap through envFrom, as real charts do.
        let cm = "---\nkind: ConfigMap\nmetadata: {name: dds}\ndata: {ROS_DISCOVERY_SERVER: 'ds.default.svc:11811'}\n";
        let from = "      envFrom: [{configMapRef: {name: dds}}]\n";
        assert_eq!(fired(&run(&(pods(from) + cm)), "multicast-discovery-across-nodes"), 0);
        // Both pinned to one node: multicast stays on the node.
        let one = pods("").replace("spec:\n  containers:", "spec:\n  nodeName: pi\n  containers:");
        assert_eq!(fired(&run(&one), "multicast-discovery-across-nodes"), 0);
    }
}
