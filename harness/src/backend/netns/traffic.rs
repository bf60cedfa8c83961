//! Counting each node's DDS traffic on the simulated cluster: an nftables table in every pod
//! namespace and every node namespace (where its hostNetwork pods run) counts the UDP its
//! processes send (output hook) and receive (input hook) to RTPS discovery and data ports (see
//! [`crate::backend::traffic`]). Forwarded traffic (a node routing its pods' packets) passes
//! neither hook, so every packet counts once on each side. Reset as a trial starts, read (and
//! reset) as it ends.

use std::fmt::Write as _;

use super::commands::{nft, setup_err};
use super::topology::Topology;
use crate::backend::traffic::{rtps_ports, Counted, NodeTraffic};
use crate::backend::BackendError;

const TABLE: &str = "chatter_traffic";
const COUNTERS: [&str; 4] = ["disc_out", "disc_in", "data_out", "data_in"];

/// The counting table for `domains`' ports.
pub(super) fn ruleset(domains: &[u16]) -> String {
    let (meta, data) = rtps_ports(domains);
    // nft rejects `elements = { }`: a set with no ports (a doctor run names no domain) is
    // declared empty and its counters stay at zero.
    let elements = |ports: &[u16]| {
        if ports.is_empty() {
            String::new()
        } else {
            format!(" elements = {{ {} }};", ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", "))
        }
    };
    let mut t = format!("table inet {TABLE} {{\n");
    for c in COUNTERS {
        let _ = writeln!(t, "\tcounter {c} {{ }}");
    }
    let _ = writeln!(t, "\tset disc {{ type inet_service;{} }}", elements(&meta));
    let _ = writeln!(t, "\tset data {{ type inet_service;{} }}", elements(&data));
    t.push_str(
        "\tchain out { type filter hook output priority -10; udp dport @disc counter name \"disc_out\"; \
         udp dport @data counter name \"data_out\"; }\n\
         \tchain in { type filter hook input priority -10; udp dport @disc counter name \"disc_in\"; \
         udp dport @data counter name \"data_in\"; }\n}\n",
    );
    t
}

/// Every namespace whose processes are counted, with its node's index: each pod-network pod's
/// and each node's.
fn counted(topo: &Topology) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = (0..topo.nodes.len()).map(|i| (topo.node_ns(i), i)).collect();
    for p in topo.pods.iter().filter(|p| !p.host_network) {
        if let Some(ns) = topo.pod_ns(&p.name) {
            out.push((ns, p.node));
        }
    }
    out
}

/// Puts the counting table in every counted namespace. Blocking.
pub(super) fn install(topo: &Topology) -> Result<(), BackendError> {
    let rules = ruleset(&topo.domains);
    counted(topo).iter().try_for_each(|(ns, _)| nft(ns, &rules))
}

/// Reads and zeroes every counter: per node, what its namespaces counted since the last call,
/// over `ms`. Blocking.
pub(super) fn take(topo: &Topology, ms: u64) -> Result<Vec<NodeTraffic>, BackendError> {
    let mut per: Vec<NodeTraffic> = topo
        .nodes
        .iter()
        .map(|n| NodeTraffic {
            node: n.clone(),
            ms,
            discovery_sent: Counted::default(),
            discovery_received: Counted::default(),
            data_sent: Counted::default(),
            data_received: Counted::default(),
        })
        .collect();
    for (ns, node) in counted(topo) {
        let t = &mut per[node];
        for (name, c) in reset(&ns, "inet", TABLE)? {
            match name.as_str() {
                "disc_out" => t.discovery_sent += c,
                "disc_in" => t.discovery_received += c,
                "data_out" => t.data_sent += c,
                "data_in" => t.data_received += c,
                _ => {}
            }
        }
    }
    Ok(per)
}

/// Reads and zeroes the named counters of table `family` `table` in namespace `ns`. Blocking.
pub(super) fn reset(ns: &str, family: &str, table: &str) -> Result<Vec<(String, Counted)>, BackendError> {
    let line = format!("ip netns exec {ns} nft -j reset counters table {family} {table}");
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", ns, "nft", "-j", "reset", "counters", "table", family, table])
        .output()
        .map_err(|e| setup_err(&line, e.to_string()))?;
    if !out.status.success() {
        return Err(setup_err(&line, String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    parse(&String::from_utf8_lossy(&out.stdout)).map_err(|e| setup_err(&line, e))
}

/// The named counters of `nft -j` output.
fn parse(json: &str) -> Result<Vec<(String, Counted)>, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("nft output: {e}"))?;
    let items = v["nftables"].as_array().ok_or("nft output: no `nftables` list")?;
    Ok(items
        .iter()
        .filter_map(|i| {
            let c = i.get("counter")?;
            let n = |k: &str| c[k].as_u64().unwrap_or(0);
            Some((c["name"].as_str()?.to_owned(), Counted { packets: n("packets"), bytes: n("bytes") }))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::{parse, ruleset};
    use crate::backend::Counted;

    #[test]
    fn the_table_counts_both_ways_and_its_output_is_read() {
        let t = ruleset(&[0]);
        assert!(t.contains("elements = { 11811, 7400, 7410, 7412"), "{t}");
        assert!(t.contains("hook output") && t.contains("hook input") && t.contains("counter name \"data_in\""));
        let json = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"counter": {"family": "inet",
            "name": "disc_out", "table": "chatter_traffic", "handle": 2, "packets": 3, "bytes": 384}}]}"#;
        assert_eq!(parse(json).expect("parsed"), vec![("disc_out".to_owned(), Counted { packets: 3, bytes: 384 })]);
        assert!(parse("not json").is_err());
    }

    #[test]
    fn with_no_domain_the_sets_are_declared_empty() {
        // Only a discovery server's port is counted; the data set has no element to list.
        let t = ruleset(&[]);
        assert!(t.contains("set disc { type inet_service; elements = { 11811 }; }"), "{t}");
        assert!(t.contains("set data { type inet_service; }"), "{t}");
    }
}
