//! `fastdds-shared-memory`: hostNetwork pods of one node on Fast DDS, which takes them for one
//! host and sends data through shared memory, though each has a /dev/shm of its own.

use crate::analysis::{Delivery, Relation};
use crate::diagnosis::{Context, Finding, Severity};

/// Two pods on the host network of one node share its network namespace, so Fast DDS (whose
/// host id comes from the network interfaces) takes them for one host and sends data through
/// shared memory — but each pod has a /dev/shm of its own (Kubernetes gives every pod one,
/// unless both are `hostIPC`), so it never arrives. Containers of one pod share theirs.
pub fn fastdds_shared_memory(c: &Context<'_>) -> Option<Finding> {
    let s = c.setting;
    let (p, tid, lid) = (c.pair, c.pair.talker.as_str(), c.pair.listener.as_str());
    if !s.separate_nodes || p.relation != Relation::SameNode || !s.on_host_network(tid) || !s.on_host_network(lid) {
        return None;
    }
    let (t, l) = (s.shm.get(tid)?, s.shm.get(lid)?);
    if t.host_ipc && l.host_ipc {
        return None;
    }
    let node = p.listener_node.as_deref().unwrap_or("?");
    // Unknown (stock nodes, a transport that lists nothing): the placement line says so.
    let discovery = match (p.listener_matched, p.talker_matched) {
        (Some(true), Some(true)) => "; both ends matched (discovery worked over UDP), no data arrived",
        (Some(true), _) => "; the listener matched this talker's writer (discovery worked), no data arrived",
        (Some(false), _) => "; the listener never matched this talker's writer",
        (None, _) => "",
    };
    let mut h = Finding::new(
        "fastdds-shared-memory",
        Severity::Failure,
        "Fast DDS shared memory between pods that share a network namespace but not /dev/shm: hostNetwork pods on \
         one node look like one host to Fast DDS, which then sends data through shared memory, but every pod has a \
         /dev/shm of its own",
        "disable Fast DDS's shared-memory transport in these pods (FASTDDS_BUILTIN_TRANSPORTS=UDPv4, or a profile \
         with UDP transports only), or give both pods hostIPC: true so they share the node's /dev/shm",
    )
    .evidence(format!(
        "trial {}: {} and {} are both on the host network of {node}: one network namespace, two /dev/shm ({}){discovery}",
        c.trial.meta.trial,
        t.pod,
        l.pod,
        match (t.host_ipc, l.host_ipc) {
            (false, false) => "neither pod has hostIPC".to_owned(),
            (true, _) => format!("only {} has hostIPC", t.pod),
            (_, true) => format!("only {} has hostIPC", l.pod),
        }
    ));
    if let Some(other) = c.trial.pairs.iter().find(|o| o.talker == p.talker && o.delivery != Delivery::None) {
        h = h.evidence(format!(
            "trial {}: meanwhile {} ({}) delivered {} of {}",
            c.trial.meta.trial,
            other.name(),
            other.relation.as_str(),
            other.received,
            other.expected
        ));
    }
    Some(h)
}

#[cfg(test)]
mod tests {
    use crate::diagnosis::rules::test_support::{pair, setting, silent_rule, trial};
    use crate::diagnosis::rules::why_silent;
    use crate::diagnosis::{Context, Setting};

    /// Two hostNetwork pods on one node, both on Fast DDS with shared memory.
    fn host_network_fastdds(host_ipc: [bool; 2]) -> Setting {
        let mut s = setting();
        for (id, pod, ipc) in [("t.talker", "t", host_ipc[0]), ("l.listener", "l", host_ipc[1])] {
            s.host_network.insert(id.into(), true);
            s.shm.insert(id.into(), crate::diagnosis::ShmEnd { pod: pod.into(), host_ipc: ipc });
            s.stock.insert(id.into());
        }
        s
    }

    #[test]
    fn host_network_pods_on_one_node_are_a_shared_memory_failure_never_multicast() {
        let mut t = trial(vec![pair("t.talker", "master", "l.listener", "master", 0)]);
        t.pairs[0].listener_matched = None;
        t.pairs[0].talker_matched = None;
        let s = host_network_fastdds([false, false]);
        let hit = why_silent(&Context::new(&t.pairs[0], &t, &s)).expect("a finding");
        assert_eq!(hit.rule, "fastdds-shared-memory");
        assert!(!hit.cause.contains("multicast"), "{}", hit.cause);
        let ev = hit.evidence.join("\n");
        assert!(ev.contains("t and l are both on the host network of master"), "{ev}");
        assert!(ev.contains("(neither pod has hostIPC)") && ev.contains("not observable (the stock nodes"), "{ev}");
        // Matched both ways: discovery worked, data did not.
        t.pairs[0].listener_matched = Some(true);
        t.pairs[0].talker_matched = Some(true);
        let ev = why_silent(&Context::new(&t.pairs[0], &t, &s)).expect("a finding").evidence.join("\n");
        assert!(ev.contains("both ends matched"), "{ev}");
        // Not when both share the node's /dev/shm, nor off the host network, nor on RustDDS.
        assert_ne!(silent_rule(&t, &host_network_fastdds([true, true])).as_deref(), Some("fastdds-shared-memory"));
        assert_eq!(silent_rule(&t, &host_network_fastdds([true, false])).as_deref(), Some("fastdds-shared-memory"));
        let mut pod_network = host_network_fastdds([false, false]);
        pod_network.host_network.clear();
        assert_ne!(silent_rule(&t, &pod_network).as_deref(), Some("fastdds-shared-memory"));
        let mut rustdds = host_network_fastdds([false, false]);
        rustdds.shm.clear();
        assert_ne!(silent_rule(&t, &rustdds).as_deref(), Some("fastdds-shared-memory"));
    }
}
