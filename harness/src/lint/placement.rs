//! Where the scheduler may put a workload's pods, as its spec says: `nodeName`, `nodeSelector`,
//! a required node affinity, and required pod anti-affinity on the hostname.

use std::collections::{BTreeMap, BTreeSet};

use super::document::Node;

/// Where the scheduler may put a workload's pods: key → allowed values.
#[derive(Default)]
pub(super) struct Placement {
    pub(super) node_name: Option<String>,
    pub(super) constraints: BTreeMap<String, BTreeSet<String>>,
    /// Label sets this workload refuses to share a node with (required pod anti-affinity on
    /// the hostname topology).
    pub(super) anti: Vec<BTreeMap<String, String>>,
}

/// The placement `spec` (a pod spec) asks for.
pub(super) fn placement_of(spec: &Node) -> Placement {
    let mut p =
        Placement { node_name: spec.get("nodeName").and_then(Node::str).map(str::to_owned), ..Placement::default() };
    let mut allow = |key: &str, values: BTreeSet<String>| {
        let entry = p.constraints.entry(key.to_owned()).or_insert_with(|| values.clone());
        *entry = entry.intersection(&values).cloned().collect();
    };
    for (k, v) in spec.get("nodeSelector").map(Node::entries).unwrap_or_default() {
        allow(k, v.str().into_iter().map(str::to_owned).collect());
    }
    let required = ["affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"];
    let terms = spec.at(&required).map(Node::items).unwrap_or_default();
    // Terms are ORed: only a single term narrows the placement for certain.
    if let [term] = terms {
        for e in term.get("matchExpressions").map(Node::items).unwrap_or_default() {
            let (Some(key), Some("In")) = (e.get("key").and_then(Node::str), e.get("operator").and_then(Node::str))
            else {
                continue;
            };
            allow(
                key,
                e.get("values")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::str)
                    .map(str::to_owned)
                    .collect(),
            );
        }
    }
    let anti = ["affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"];
    for term in spec.at(&anti).map(Node::items).unwrap_or_default() {
        if term.get("topologyKey").and_then(Node::str) != Some("kubernetes.io/hostname") {
            continue;
        }
        let labels = term.at(&["labelSelector", "matchLabels"]).map(Node::entries).unwrap_or_default();
        let sel: BTreeMap<String, String> =
            labels.iter().filter_map(|(k, v)| Some((k.clone(), v.str()?.to_owned()))).collect();
        if !sel.is_empty() {
            p.anti.push(sel);
        }
    }
    p
}
