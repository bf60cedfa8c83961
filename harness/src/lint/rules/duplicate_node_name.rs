//! `duplicate-node-name` (note): two ROS 2 nodes of one name on one graph — a fixed name in a
//! replicated workload, or in two places.

use std::collections::BTreeMap;

use crate::lint::container::Container;
use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// Two ROS 2 nodes with one name on a graph (fixed names with replicas, or in two places).
pub(super) fn check(all: &[Workload], out: &mut Out) {
    /// (domain, namespace, name) → where it runs.
    type Names<'w, 'a> = BTreeMap<(String, String, String), Vec<(&'w Workload<'a>, &'w Container<'a>)>>;
    let mut seen: Names = BTreeMap::new();
    for w in all {
        for c in w.containers.iter().filter(|c| c.dds()) {
            let Some(name) = node_name(c) else { continue };
            let ns = c.words.iter().find_map(|x| x.strip_prefix("__ns:=")).unwrap_or("/").to_owned();
            let domain = c.env.get("ROS_DOMAIN_ID").map_or("0".to_owned(), |(v, _)| v.clone());
            seen.entry((domain, ns, name)).or_default().push((w, c));
        }
    }
    for ((_, ns, name), at) in &seen {
        let replicated: Vec<&(&Workload, &Container)> =
            at.iter().filter(|(w, _)| w.replicas > 1 || w.daemon()).collect();
        if at.len() < 2 && replicated.is_empty() {
            continue;
        }
        for (w, c) in at {
            let elsewhere: Vec<String> = at
                .iter()
                .filter(|(ow, oc)| !(std::ptr::eq(*ow, *w) && std::ptr::eq(*oc, *c)))
                .map(|(ow, oc)| format!("{} container {}", ow.label, oc.name))
                .collect();
            let many = if elsewhere.is_empty() {
                "in every replica".to_owned()
            } else {
                format!("also in {}", elsewhere.join(", "))
            };
            let full = if ns == "/" { format!("/{name}") } else { format!("{ns}/{name}") };
            out.push(
                w,
                c.node.line(),
                Severity::Note,
                "duplicate-node-name",
                format!(
                    "container {}: ROS node name {full} {many}: ROS 2 does not support two nodes of one name — `ros2 node`, `ros2 param` and the node's services reach only one of them (topics still flow)",
                    c.name
                ),
                "give each a name of its own (`--ros-args -r __node:=<name>`, or a namespace per replica)",
            );
        }
    }
}

/// The node name the container's ROS node gets, where the command fixes it.
fn node_name(c: &Container) -> Option<String> {
    if let Some(n) = c.words.iter().find_map(|w| w.strip_prefix("__node:=")) {
        return Some(n.to_owned());
    }
    // `ros2 run demo_nodes_cpp talker`: the demo nodes' names are their executables'.
    let i = c.words.iter().position(|w| *w == "run")?;
    let (pkg, exe) = (c.words.get(i + 1)?, c.words.get(i + 2)?);
    (pkg.starts_with("demo_nodes_") && matches!(*exe, "talker" | "listener")).then(|| (*exe).to_owned())
}

#[cfg(test)]
mod tests {
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, rules, run, ONE_POD_AND_TWO_SERVERS_APART, REPLICATED_TALKER_BRIDGE_AND_SERVER};

    #[test]
    fn fixed_node_names_in_replicas_are_noted() {
        let f = run(REPLICATED_TALKER_BRIDGE_AND_SERVER);
        let r = rules(&f);
        assert!(r.contains(&("duplicate-node-name", 9, Severity::Note)), "{r:?}");
        // One replica, the port in its own pod, two servers apart: silent.
        let ok = run(ONE_POD_AND_TWO_SERVERS_APART);
        let r = rules(&ok);
        let rule = "duplicate-node-name";
        assert_eq!(fired(&ok, rule), 0, "{rule}: {r:?}");
    }
}
