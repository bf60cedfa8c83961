//! The engine: reads a set of files as one deployment, runs the registry's rules over it in the
//! registry's order, and sorts what they found into a [`LintReport`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::document::{Node, SourceFile};
use super::finding::{LintFinding, Out};
use super::manifest_set::ManifestSet;
use super::rule::Rule;
use super::rules::RULES;

/// What a lint of one set of manifests found, and what it did not look into.
#[derive(Debug, Default)]
pub struct LintReport {
    pub findings: Vec<LintFinding>,
    /// Workloads (pod templates) read.
    pub workloads: usize,
    /// Documents of kinds the lint does not look into, by kind (ConfigMaps are read for the
    /// environment they give, and counted here too).
    pub skipped: BTreeMap<String, usize>,
}

/// Lints a set of files as one deployment: rules that compare workloads (domains, shared
/// nodes, localhost links) see every file.
pub fn lint_set(files: &[SourceFile]) -> LintReport {
    let set = ManifestSet::read(files);
    let mut out = Out { files, findings: Vec::new() };
    run_rules(&set, &mut out);
    let mut findings = out.findings;
    findings.sort_by(|a, b| (&a.file, a.line, a.rule).cmp(&(&b.file, b.line, b.rule)));
    LintReport { findings, workloads: set.workloads.len(), skipped: set.skipped }
}

/// Runs the registry: each per-workload rule, in the registry's order, on the first workload,
/// then on the next, …; then the rules across workloads, in order. The sort that follows is
/// stable, so this order settles findings of one rule on one line.
fn run_rules(set: &ManifestSet, out: &mut Out) {
    for w in &set.workloads {
        for rule in RULES {
            match rule {
                Rule::PerWorkload(check) => check(w, out),
                Rule::PerWorkloadInSet(check) => check(w, set, out),
                Rule::AcrossWorkloads(_) => {}
            }
        }
    }
    for rule in RULES {
        if let Rule::AcrossWorkloads(check) = rule {
            check(&set.workloads, out);
        }
    }
}

/// Lints one file's documents on their own.
pub fn lint(file: &str, docs: &[Node]) -> Vec<LintFinding> {
    lint_set(&[SourceFile { file: file.to_owned(), text: String::new(), docs: docs.to_vec() }]).findings
}

/// The findings as text, one per line.
pub fn text(findings: &[LintFinding]) -> String {
    let mut s = String::new();
    for f in findings {
        let _ = writeln!(s, "{}", f.line_text());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::lint;
    use crate::lint::document::parse_documents;
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, rules, run};
    use proptest::prelude::*;

    /// The seed's pods as the team wrote them.
    const SEED: &str = "apiVersion: v1
kind: Pod
metadata: {name: demo-talkerlistener}
spec:
  nodeSelector: {kubernetes.io/arch: arm64}
  containers:
    - name: talkerlistener
      image: osrf/ros:humble-desktop
      command: [\"/ros_entrypoint.sh\"]
      args: [\"ros2 run demo_nodes_cpp talker && ros2 run demo_nodes_cpp listener\"]
---
apiVersion: v1
kind: Pod
metadata: {name: demo-listener}
spec:
  containers:
    - name: listener
      image: osrf/ros:humble-desktop
      command: [ros2, run, demo_nodes_cpp, listener]
";

    #[test]
    fn the_seed_has_its_two_failures_and_no_logging_claim() {
        let f = run(SEED);
        let r = rules(&f);
        assert!(r.contains(&("shell-operator-without-shell", 10, Severity::Error)), "{r:?}");
        assert_eq!(fired(&f, "multicast-discovery-across-nodes"), 2, "{r:?}");
        // The ROS 2 logger writes to stderr unbuffered: nothing about buffering for ros2 run.
        assert_eq!(fired(&f, "stdout-buffered"), 0, "{r:?}");
        let m = f.iter().find(|x| x.rule == "multicast-discovery-across-nodes").expect("present");
        // Humble has no ROS_STATIC_PEERS: the fix does not offer it.
        assert!(!m.fix.contains("ROS_STATIC_PEERS") && m.message.contains("flannel"), "{m:?}");
    }

    proptest! {
        /// Arbitrary text: read or refused, never a panic.
        #[test]
        fn arbitrary_text_never_panics(text in "(?s).{0,400}") {
            if let Ok(docs) = parse_documents("p.yaml", &text) {
                let _ = lint("p.yaml", &docs);
            }
        }

        /// YAML-shaped text with the keys the lint looks into.
        #[test]
        fn yaml_shaped_text_never_panics(parts in proptest::collection::vec(prop_oneof![
            Just("kind: Pod\n"), Just("spec:\n"), Just("  containers:\n"), Just("    - name: c\n"),
            Just("      args: [\"a && b\"]\n"), Just("      env:\n"), Just("        - {name: ROS_DOMAIN_ID, value: 3}\n"),
            Just("  hostNetwork: true\n"), Just("---\n"), Just("- x\n"), Just("&a b: *a\n"), Just("  image: ros:humble\n"),
            Just("kind: List\nitems:\n"), Just("      ports: [{containerPort: 80}]\n"), Just("  nodeName: n\n"),
        ], 0..20)) {
            let text: String = parts.concat();
            if let Ok(docs) = parse_documents("p.yaml", &text) {
                let _ = lint("p.yaml", &docs);
            }
        }
    }
}
