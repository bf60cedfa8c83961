//! `ros-domain-mismatch` (warning): different `ROS_DOMAIN_ID`s in one namespace, whose nodes never
//! discover each other.

use std::collections::{BTreeMap, BTreeSet};

use crate::lint::container::Container;
use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// Different `ROS_DOMAIN_ID`s in one namespace: those nodes never discover each other.
pub(super) fn check(all: &[Workload], out: &mut Out) {
    let mut by_ns: BTreeMap<&str, Vec<(&Workload, &Container, String, usize)>> = BTreeMap::new();
    for w in all {
        for c in &w.containers {
            if c.dds() || c.env.contains_key("ROS_DOMAIN_ID") {
                let (d, l) =
                    c.env.get("ROS_DOMAIN_ID").map_or(("0".to_owned(), c.node.line()), |(v, l)| (v.clone(), *l));
                by_ns.entry(&w.namespace).or_default().push((w, c, d, l));
            }
        }
    }
    for set in by_ns.values() {
        let distinct: BTreeSet<&str> = set.iter().map(|(_, _, d, _)| d.as_str()).collect();
        if distinct.len() < 2 {
            continue;
        }
        let all: Vec<String> = set.iter().map(|(w, c, d, _)| format!("{} container {}={d}", w.label, c.name)).collect();
        for (w, c, d, line) in set {
            out.push(
                w,
                *line,
                Severity::Warning,
                "ros-domain-mismatch",
                format!(
                    "container {}: ROS_DOMAIN_ID {d}, while others in namespace {} use another ({}): different domains never discover each other",
                    c.name,
                    w.namespace,
                    all.join(", ")
                ),
                "use one ROS_DOMAIN_ID for every node on a topic (or `# harness-lint: allow ros-domain-mismatch` where the split is meant)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{fired, rules, run, set};

    #[test]
    fn domains_differ_only_within_a_namespace_and_unless_allowed() {
        let pod = |name: &str, ns: &str, d: &str, comment: &str| {
            format!("---\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  nodeName: n\n  containers:\n    - name: c\n      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, talker, --ros-args, -r, __node:={name}]\n      env:\n        {comment}\n        - {{name: ROS_DOMAIN_ID, value: \"{d}\"}}\n")
        };
        let f = run(&(pod("a", "x", "1", "") + &pod("b", "x", "2", "")));
        assert_eq!(fired(&f, "ros-domain-mismatch"), 2, "{:?}", rules(&f));
        assert_eq!(f.iter().find(|x| x.rule == "ros-domain-mismatch").expect("present").line, 12);
        let f = run(&(pod("a", "x", "1", "") + &pod("b", "y", "2", "")));
        assert_eq!(fired(&f, "ros-domain-mismatch"), 0, "{:?}", rules(&f));
        let allow = "# harness-lint: allow ros-domain-mismatch";
        let f = run(&(pod("a", "x", "1", allow) + &pod("b", "x", "2", allow)));
        assert_eq!(fired(&f, "ros-domain-mismatch"), 0, "{:?}", rules(&f));
        // Across files of one set.
        let f = set(&[("a.yaml", &pod("a", "x", "1", "")), ("b.yaml", &pod("b", "x", "2", ""))]);
        assert_eq!(fired(&f, "ros-domain-mismatch"), 2, "{:?}", rules(&f));
    }
}
