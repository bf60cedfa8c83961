//! The files of one invocation read as one deployment: their documents (`List`s opened), the
//! workloads among them, the Services they name, and the documents of kinds the lint skips.

use std::collections::{BTreeMap, BTreeSet};

use super::context::Context;
use super::document::{flatten, Node, SourceFile};
use super::workload::{Workload, WORKLOAD_KINDS};

/// What the set of files holds, as the rules see it.
pub(super) struct ManifestSet<'a> {
    /// The workloads (pod templates), in file and document order.
    pub(super) workloads: Vec<Workload<'a>>,
    /// The names of the set's Services.
    pub(super) services: BTreeSet<&'a str>,
    /// Documents of kinds the lint does not look into, by kind.
    pub(super) skipped: BTreeMap<String, usize>,
}

impl<'a> ManifestSet<'a> {
    /// Reads every document of `files`: ConfigMaps and Kustomizations first, for what they give
    /// the workloads.
    pub(super) fn read(files: &'a [SourceFile]) -> Self {
        let docs = documents(files);
        let cx = Context::read(&docs);
        let mut set = ManifestSet { workloads: Vec::new(), services: services(&docs), skipped: BTreeMap::new() };
        for &(file, d) in &docs {
            match Workload::read(file, d, &cx) {
                Some(w) => set.workloads.push(w),
                None => {
                    let kind = d.get("kind").and_then(Node::str).unwrap_or("(no kind)");
                    if !WORKLOAD_KINDS.contains(&kind) || d.get("kind").is_none() {
                        *set.skipped.entry(kind.to_owned()).or_default() += 1;
                    }
                }
            }
        }
        set
    }
}

/// Every document of the set with the file it is in, `List`s opened.
fn documents(files: &[SourceFile]) -> Vec<(&str, &Node)> {
    let mut docs = Vec::new();
    for f in files {
        let mut d = Vec::new();
        flatten(&f.docs, &mut d);
        docs.extend(d.into_iter().map(|d| (f.file.as_str(), d)));
    }
    docs
}

/// The names of the set's Services.
fn services<'a>(docs: &[(&'a str, &'a Node)]) -> BTreeSet<&'a str> {
    docs.iter()
        .filter(|(_, d)| d.get("kind").and_then(Node::str) == Some("Service"))
        .filter_map(|(_, d)| d.at(&["metadata", "name"]).and_then(Node::str))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::lint::document::SourceFile;
    use crate::lint::engine::lint_set;
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, rules, run};

    /// Helm's rendered output: `# Source:` comments, empty documents, CRDs beside workloads.
    #[test]
    fn helm_output_is_read() {
        let f = run("---\n# Source: robot/templates/crd.yaml\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: missions.example.com}\n---\n---\n# Source: robot/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: nav}\nspec:\n  template:\n    spec:\n      containers:\n        - name: nav\n          image: ros:jazzy\n          args: ['ros2 launch nav2_bringup navigation_launch.py; sleep infinity']\n");
        assert!(rules(&f).contains(&("shell-operator-without-shell", 18, Severity::Error)), "{:?}", rules(&f));
    }

    #[test]
    fn lists_are_opened_and_other_kinds_counted() {
        let files = [SourceFile::parse(
            "l.yaml",
            "kind: List\nitems:\n  - kind: Pod\n    metadata: {name: p}\n    spec:\n      containers:\n        - {name: c, image: x, args: ['a && b']}\n  - kind: Service\n    metadata: {name: s}\n---\nkind: CustomThing\n".into(),
        )
        .expect("present")];
        let r = lint_set(&files);
        assert_eq!(r.workloads, 1);
        assert_eq!(fired(&r.findings, "shell-operator-without-shell"), 1);
        assert_eq!(r.skipped.get("Service"), Some(&1));
        assert_eq!(r.skipped.get("CustomThing"), Some(&1));
    }
}
