//! `no-discovery-across-nodes`: a cross-node pair that never matched while same-node delivery
//! worked — SPDP multicast does not cross nodes on the pod network — unless the setting rules
//! multicast out ([`multicast_excuse`], which the last silent rule, `no-discovery`, cites too).

use crate::analysis::trial::PairReport;
use crate::analysis::{Delivery, Relation};
use crate::diagnosis::{Context, Finding, Severity};

/// Same-node or same-pod delivery to this listener, or from this talker, in the same trial.
fn local_delivery<'a>(c: &Context<'a>) -> Option<&'a PairReport> {
    c.trial.pairs.iter().find(|p| {
        matches!(p.relation, Relation::SamePod | Relation::SameNode)
            && p.delivery != Delivery::None
            && (p.listener == c.pair.listener || p.talker == c.pair.talker)
    })
}

/// Why multicast cannot be what failed between these two, if it cannot.
pub(super) fn multicast_excuse(c: &Context<'_>) -> Option<String> {
    let s = c.setting;
    if !s.separate_nodes {
        return Some(format!("the {} backend runs every pod in one network: no node boundary to cross", s.backend));
    }
    if s.multicast_between_nodes {
        return Some("the scenario lets multicast cross between nodes (network.multicastBetweenNodes)".into());
    }
    if s.on_host_network(&c.pair.talker) && s.on_host_network(&c.pair.listener) {
        return Some("both pods are on the host network, which carries multicast between nodes".into());
    }
    let (tn, ln) = (c.pair.talker_node.as_deref()?, c.pair.listener_node.as_deref()?);
    if let Some(f) = s.partitions_between(tn, ln).first() {
        return Some(format!("a fault was injected between these nodes: {}", f.describe()));
    }
    None
}

pub fn no_discovery_across_nodes(c: &Context<'_>) -> Option<Finding> {
    if c.pair.relation != Relation::CrossNode || c.pair.listener_matched == Some(true) || multicast_excuse(c).is_some()
    {
        return None;
    }
    let local = local_delivery(c)?;
    let doctor = c.setting.doctor.as_ref().and_then(|d| {
        let (from, to) = (c.pair.talker_node.as_deref()?, c.pair.listener_node.as_deref()?);
        d.multicast_words(from, to)
    });
    // On Fast DDS with shared memory, hostNetwork alone trades this failure for another
    // (pods of one node lose each other to shared memory: measured, 0 of 3 trials).
    let fastdds = c.setting.shm.contains_key(&c.pair.talker) && c.setting.shm.contains_key(&c.pair.listener);
    let fix = if fastdds {
        "configure unicast discovery: ROS_STATIC_PEERS with the peers' addresses (Jazzy and later) or a Fast DDS \
         discovery server (ROS_DISCOVERY_SERVER); hostNetwork: true only with FASTDDS_BUILTIN_TRANSPORTS=UDPv4 (or \
         hostIPC), since alone it loses pods of one node to shared memory; `harness matrix` measures each"
    } else {
        "use hostNetwork: true for ROS pods, configure unicast discovery peers (CYCLONEDDS_URI Peers / Fast DDS \
         initial peers), or run a Fast DDS discovery server"
    };
    let finding = Some(
        Finding::new(
            "no-discovery-across-nodes",
            Severity::Failure,
            "no discovery across nodes while same-node delivery works: SPDP multicast (239.255.0.1) does not cross \
             nodes on the pod network (flannel VXLAN drops multicast)",
            fix,
        )
        .evidence(format!(
            "trial {}: meanwhile {} ({}) delivered {} of {}",
            c.trial.meta.trial,
            local.name(),
            local.relation.as_str(),
            local.received,
            local.expected
        )),
    );
    finding.map(|f| match doctor {
        Some(words) => f.evidence(words),
        None => f,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::diagnosis::rules::test_support::{pair, seed, setting, silent_rule, trial};
    use crate::diagnosis::rules::why_silent;
    use crate::diagnosis::Context;
    use crate::spec::{FaultNumber, FaultSpec};

    #[test]
    fn cross_node_silence_with_working_local_pairs_is_multicast_and_says_so_per_pair() {
        let t = seed();
        let p = &t.pairs[1];
        let hit = why_silent(&Context::new(p, &t, &setting())).expect("explained");
        assert_eq!(hit.rule, "no-discovery-across-nodes");
        // The evidence agrees with the title: this listener never matched *this* talker.
        assert!(hit.evidence[0].contains("never matched this talker's writer"), "{:?}", hit.evidence);
        assert!(hit.evidence.iter().all(|e| !e.contains("yes")), "{:?}", hit.evidence);
        assert!(hit.advice.starts_with("use hostNetwork: true"), "{}", hit.advice);
        // On Fast DDS with shared memory, hostNetwork alone is not offered as the fix.
        let mut s = setting();
        for (id, pod) in [(p.talker.as_str(), "tl"), (p.listener.as_str(), "l")] {
            s.shm.insert(id.into(), crate::diagnosis::ShmEnd { pod: pod.into(), host_ipc: false });
        }
        let hit = why_silent(&Context::new(p, &t, &s)).expect("explained");
        assert!(hit.advice.contains("only with FASTDDS_BUILTIN_TRANSPORTS=UDPv4"), "{}", hit.advice);
        assert!(!hit.advice.starts_with("use hostNetwork"), "{}", hit.advice);
    }

    #[test]
    fn no_multicast_blame_where_multicast_cannot_be_missing() {
        let t = seed();
        let mut s = setting();
        s.host_network = BTreeMap::from([("tl.talker".into(), true), ("l.listener".into(), true)]);
        assert_eq!(silent_rule(&t, &s).as_deref(), Some("no-discovery"), "host network carries multicast");
        let mut s = setting();
        s.multicast_between_nodes = true;
        assert_eq!(silent_rule(&t, &s).as_deref(), Some("no-discovery"));
        let mut s = setting();
        s.faults.push(FaultSpec::Partition {
            between: ["master".into(), "pi".into()],
            from_s: FaultNumber(0.0),
            to_s: FaultNumber(10.0),
        });
        assert_eq!(silent_rule(&t, &s).as_deref(), Some("no-discovery"));
        let mut s = setting();
        s.separate_nodes = false;
        assert_eq!(silent_rule(&t, &s).as_deref(), Some("no-discovery"), "local backend: one network");
    }

    #[test]
    fn cross_node_without_local_reference_is_not_blamed_on_multicast() {
        let t = trial(vec![pair("a.talker", "pi", "b.listener", "master", 0)]);
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("no-discovery"));
    }
}
