//! A workload: the pod template of a Pod, Deployment, DaemonSet, StatefulSet, ReplicaSet, Job or
//! CronJob with its replicas, labels, host namespaces, placement and containers, and what rules
//! ask of it (does it run ROS 2, can two of its pods meet on one node, …).

use std::collections::{BTreeMap, BTreeSet};

use super::container::{containers_of, Container};
use super::context::Context;
use super::document::{is_true, Node};
use super::placement::{placement_of, Placement};

/// The kinds that hold a pod template.
pub(super) const WORKLOAD_KINDS: [&str; 7] =
    ["Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob"];

/// One workload of the set.
pub(super) struct Workload<'a> {
    pub(super) file: &'a str,
    kind: &'a str,
    pub(super) namespace: String,
    pub(super) label: String,
    pub(super) spec: &'a Node,
    labels: BTreeMap<String, String>,
    pub(super) replicas: u64,
    pub(super) host_network: Option<&'a Node>,
    pub(super) host_ipc: Option<&'a Node>,
    pub(super) host_pid: Option<&'a Node>,
    pub(super) placement: Placement,
    pub(super) containers: Vec<Container<'a>>,
}

impl Workload<'_> {
    pub(super) fn host_network(&self) -> bool {
        is_true(self.host_network)
    }
    pub(super) fn host_ipc(&self) -> bool {
        is_true(self.host_ipc)
    }
    pub(super) fn ros2(&self) -> bool {
        self.containers.iter().any(Container::dds)
    }
    pub(super) fn fast_dds(&self) -> bool {
        self.containers.iter().any(Container::fast_dds)
    }
    pub(super) fn daemon(&self) -> bool {
        self.kind == "DaemonSet"
    }
    pub(super) fn pinned_node(&self) -> Option<&str> {
        if let Some(n) = &self.placement.node_name {
            return Some(n);
        }
        let h = self.placement.constraints.get("kubernetes.io/hostname")?;
        (h.len() == 1).then(|| h.iter().next().map(String::as_str)).flatten()
    }
    pub(super) fn arch(&self) -> Option<&BTreeSet<String>> {
        self.placement.constraints.get("kubernetes.io/arch")
    }
    fn refuses(&self, other: &Workload) -> bool {
        self.placement.anti.iter().any(|sel| sel.iter().all(|(k, v)| other.labels.get(k) == Some(v)))
    }
    /// Two pods of these workloads can run on one node (the manifests do not rule it out).
    pub(super) fn may_share_node(&self, other: &Workload) -> bool {
        if let (Some(a), Some(b)) = (&self.placement.node_name, &other.placement.node_name) {
            if a != b {
                return false;
            }
        }
        let (a, b) = (&self.placement.constraints, &other.placement.constraints);
        if a.iter().any(|(k, va)| b.get(k).is_some_and(|vb| va.is_disjoint(vb))) {
            return false;
        }
        !(self.refuses(other) || other.refuses(self))
    }
    /// Two pods of these workloads can run on different nodes.
    pub(super) fn may_split(&self, other: &Workload) -> bool {
        match (self.pinned_node(), other.pinned_node()) {
            (Some(a), Some(b)) => a != b,
            _ => true,
        }
    }
    /// Several pods of this one workload can share a node.
    pub(super) fn replicas_share_node(&self) -> bool {
        self.replicas > 1 && !self.daemon() && !self.refuses(self)
    }
    pub(super) fn other_names(&self, others: &[&Workload]) -> String {
        others.iter().map(|o| o.label.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl<'a> Workload<'a> {
    /// The workload `doc` (in `file`) describes, or `None` when it holds no pod template.
    pub(super) fn read(file: &'a str, doc: &'a Node, cx: &Context) -> Option<Self> {
        let kind = doc.get("kind").and_then(Node::str)?;
        let name = doc.at(&["metadata", "name"]).and_then(Node::str).unwrap_or("?");
        let namespace = doc.at(&["metadata", "namespace"]).and_then(Node::str).unwrap_or("default").to_owned();
        let (meta, spec) = pod_template(kind, doc)?;
        let containers = containers_of(spec, &namespace, cx);
        Some(Workload {
            file,
            kind,
            label: format!("{kind}/{name}"),
            namespace,
            spec,
            labels: labels_of(meta),
            replicas: replicas_of(kind, doc),
            host_network: spec.get("hostNetwork"),
            host_ipc: spec.get("hostIPC"),
            host_pid: spec.get("hostPID"),
            placement: placement_of(spec),
            containers,
        })
    }
}

/// The metadata and spec of the pod template in a `kind` document; `None` for a kind without
/// one, or when the spec is missing.
fn pod_template<'a>(kind: &str, doc: &'a Node) -> Option<(Option<&'a Node>, &'a Node)> {
    let template = match kind {
        "Pod" => (doc.get("metadata"), doc.get("spec")?),
        "Deployment" | "DaemonSet" | "StatefulSet" | "ReplicaSet" | "Job" => {
            (doc.at(&["spec", "template", "metadata"]), doc.at(&["spec", "template", "spec"])?)
        }
        "CronJob" => (
            doc.at(&["spec", "jobTemplate", "spec", "template", "metadata"]),
            doc.at(&["spec", "jobTemplate", "spec", "template", "spec"])?,
        ),
        _ => return None,
    };
    Some(template)
}

/// How many pods a `kind` document asks for at once: `replicas`, a Job's `parallelism`, else 1.
fn replicas_of(kind: &str, doc: &Node) -> u64 {
    match kind {
        "Deployment" | "StatefulSet" | "ReplicaSet" => {
            doc.at(&["spec", "replicas"]).and_then(Node::str).and_then(|r| r.parse().ok()).unwrap_or(1)
        }
        "Job" => doc.at(&["spec", "parallelism"]).and_then(Node::str).and_then(|r| r.parse().ok()).unwrap_or(1),
        _ => 1,
    }
}

/// The labels of a pod template's metadata.
fn labels_of(meta: Option<&Node>) -> BTreeMap<String, String> {
    meta.and_then(|m| m.get("labels"))
        .map(Node::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.str()?.to_owned())))
        .collect()
}
