//! `zenoh-bridge-unconnected` (warning): Zenoh bridges in router mode (the bridge's default)
//! that connect to nothing, where no bridge of the set connects anywhere either — routers wait
//! for connections and do not find each other by scouting, so nothing is bridged.

use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;
use crate::lint::zenoh::bridge_of;

/// Bridges of the set, all routers without `-e/--connect` (or a `-c` config file that may set
/// it): each one, since none connects to another.
pub(super) fn check(all: &[Workload], out: &mut Out) {
    let bridges: Vec<(&Workload, &crate::lint::container::Container, crate::lint::zenoh::Bridge)> =
        all.iter().flat_map(|w| w.containers.iter().filter_map(move |c| bridge_of(c).map(|b| (w, c, b)))).collect();
    // Peers and clients connect too (to what multicast scouting finds); a config file may say.
    let anyone_connects = bridges.iter().any(|(_, _, b)| !b.connect.is_empty() || b.config_file || b.mode != "router");
    if anyone_connects {
        return;
    }
    for (w, c, _) in &bridges {
        let spread = if w.daemon() { " (one per node, each alone)" } else { "" };
        out.push(
            w,
            c.node.line(),
            Severity::Warning,
            "zenoh-bridge-unconnected",
            format!(
                "container {}: a Zenoh bridge in router mode with no endpoint to connect to (-e/--connect), and no \
                 bridge here connects to it{spread}: routers only listen (tcp/7447) and do not connect to each \
                 other by scouting, so no ROS traffic is bridged",
                c.name
            ),
            "give the bridges on the robots `-e tcp/<the central bridge's address>:7447` (the central one listens), or run them as peers (-m peer) where multicast scouting reaches",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{fired, rules, run};

    fn bridges(robot_args: &str) -> String {
        format!(
            "apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: zenoh-robots}}
spec:
  template:
    spec:
      hostNetwork: true
      containers:
        - name: z
          image: eclipse/zenoh-bridge-ros2dds:1.10.2
{robot_args}---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: zenoh-master}}
spec:
  template:
    spec:
      hostNetwork: true
      containers:
        - name: z
          image: ghcr.io/chatter-harness/bridge:1
          command: [chatter-zenoh-bridge, --listen, 'tcp/0.0.0.0:7447']
"
        )
    }

    #[test]
    fn routers_that_nobody_connects_are_warned() {
        let none = run(&bridges(""));
        assert_eq!(fired(&none, "zenoh-bridge-unconnected"), 2, "{:?}", rules(&none));
        let connected = run(&bridges("          args: [-e, 'tcp/master:7447']\n"));
        assert_eq!(fired(&connected, "zenoh-bridge-unconnected"), 0, "{:?}", rules(&connected));
        // Peers scout for routers and connect; a config file may hold the endpoints.
        assert_eq!(fired(&run(&bridges("          args: [-m, peer]\n")), "zenoh-bridge-unconnected"), 0);
        assert_eq!(fired(&run(&bridges("          args: [-c, /etc/zenoh.json5]\n")), "zenoh-bridge-unconnected"), 0);
    }
}
