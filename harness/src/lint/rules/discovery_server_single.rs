//! `discovery-server-single` (warning): a Fast DDS discovery server with no second one, or whose
//! replicas can all land on one node.

use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// A Fast DDS discovery server with no second one: when its node goes, nothing new discovers.
pub(super) fn check(w: &Workload, out: &mut Out) {
    let Some(c) = w.containers.iter().find(|c| {
        c.words.iter().any(|x| x.ends_with("fast-discovery-server") || x.ends_with("fastdds-discovery-server"))
            || c.words.windows(2).any(|x| x == ["fastdds", "discovery"])
    }) else {
        return;
    };
    let (message, severity) = if w.replicas <= 1 && !w.daemon() {
        ("one discovery server and no second: while its node is down or the pod restarts, no ROS node discovers a new peer", Severity::Warning)
    } else if w.replicas_share_node() {
        ("discovery server replicas without pod anti-affinity on kubernetes.io/hostname: they can all land on one node, which then takes discovery down with it", Severity::Warning)
    } else {
        return;
    };
    out.push(
        w,
        c.node.line(),
        severity,
        "discovery-server-single",
        format!("container {}: {message}", c.name),
        "run a second server on another node (required pod anti-affinity on kubernetes.io/hostname) and list both in ROS_DISCOVERY_SERVER (`a;b`)",
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, rules, run, ONE_POD_AND_TWO_SERVERS_APART, REPLICATED_TALKER_BRIDGE_AND_SERVER};

    #[test]
    fn a_single_discovery_server_is_flagged() {
        let f = run(REPLICATED_TALKER_BRIDGE_AND_SERVER);
        let r = rules(&f);
        assert!(r.contains(&("discovery-server-single", 27, Severity::Warning)), "{r:?}");
        // One replica, the port in its own pod, two servers apart: silent.
        let ok = run(ONE_POD_AND_TWO_SERVERS_APART);
        let r = rules(&ok);
        let rule = "discovery-server-single";
        assert_eq!(fired(&ok, rule), 0, "{rule}: {r:?}");
    }
}
