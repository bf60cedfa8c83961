//! Reading pods and nodes as the cluster reports them: why a pod cannot run, which containers
//! ended badly, the wait conditions of a trial, and whether a node may take pods.

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Node as KubeNode, Pod};
use kube::api::{Api, ListParams};
use kube::runtime::wait::Condition;
use kube::{Client, ResourceExt};

use crate::backend::ContainerExit;
use crate::placement::Node;

/// Hints for failures whose message shows an image built for another CPU.
fn arch_words(message: &str) -> bool {
    message.contains("exec format error") || message.contains("no matching manifest")
}

/// Why a pod cannot run, if it cannot: unschedulable, image pull failures, a failed pod.
pub fn pod_problem(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    for c in status.conditions.iter().flatten() {
        if c.type_ == "PodScheduled" && c.status == "False" && c.reason.as_deref() == Some("Unschedulable") {
            return Some(format!("Unschedulable: {}", c.message.as_deref().unwrap_or("no node fits")));
        }
    }
    for cs in status.container_statuses.iter().flatten() {
        if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let reason = w.reason.as_deref().unwrap_or("");
            if matches!(
                reason,
                "ErrImagePull"
                    | "ImagePullBackOff"
                    | "InvalidImageName"
                    | "CreateContainerConfigError"
                    | "CreateContainerError"
                    | "RunContainerError"
                    | "CrashLoopBackOff"
            ) {
                let message = w.message.as_deref().unwrap_or("");
                let arch =
                    if arch_words(message) { " — the image has no build for this node's architecture" } else { "" };
                return Some(format!("container {}: {reason}: {message}{arch}", cs.name));
            }
        }
    }
    if status.phase.as_deref() == Some("Failed") {
        let exits: Vec<String> = container_exits(pod, None).iter().map(ContainerExit::describe).collect();
        return Some(format!(
            "pod failed: {}{}",
            status.message.as_deref().unwrap_or(""),
            if exits.is_empty() { String::new() } else { exits.join("; ") }
        ));
    }
    None
}

/// The containers of `pod` that ended badly or restarted: terminated with a non-zero exit, a
/// signal or OOMKilled (now or before a restart), or unable to start.
pub fn container_exits(pod: &Pod, node: Option<&Node>) -> Vec<ContainerExit> {
    let node_name = pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_else(|| "?".into());
    let arch = node.and_then(Node::arch).map(str::to_owned);
    let statuses: &[ContainerStatus] =
        pod.status.as_ref().and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
    statuses
        .iter()
        .filter_map(|cs| {
            let term = cs
                .state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .or_else(|| cs.last_state.as_ref().and_then(|s| s.terminated.as_ref()));
            let bad_term = term.filter(|t| t.exit_code != 0 || t.reason.as_deref() == Some("OOMKilled"));
            if bad_term.is_none() && cs.restart_count == 0 {
                return None;
            }
            let (reason, exit_code, signal, message) = match bad_term.or(term) {
                Some(t) => (
                    t.reason.clone().unwrap_or_else(|| "Error".into()),
                    Some(t.exit_code),
                    t.signal,
                    t.message.clone().unwrap_or_default(),
                ),
                None => ("Restarted".into(), None, None, String::new()),
            };
            Some(ContainerExit {
                id: format!("{}.{}", pod.name_any(), cs.name),
                node: node_name.clone(),
                arch: arch.clone(),
                wrong_arch: arch_words(&message),
                reason,
                exit_code,
                signal,
                restarts: cs.restart_count,
                message,
                at_ms: None,
                stderr: Vec::new(),
            })
        })
        .collect()
}

/// Running, finished, or unable to run: waiting is over.
pub(super) fn started_or_stuck() -> impl Condition<Pod> {
    |pod: Option<&Pod>| {
        pod.is_some_and(|p| {
            pod_problem(p).is_some()
                || matches!(
                    p.status.as_ref().and_then(|s| s.phase.as_deref()),
                    Some("Running" | "Succeeded" | "Failed")
                )
        })
    }
}

/// Every listed container has terminated.
pub(super) fn terminated(containers: Vec<String>) -> impl Condition<Pod> {
    move |pod: Option<&Pod>| {
        let Some(statuses) = pod.and_then(|p| p.status.as_ref()).and_then(|s| s.container_statuses.as_ref()) else {
            return pod.is_none();
        };
        containers.iter().all(|name| {
            statuses.iter().any(|cs| &cs.name == name && cs.state.as_ref().is_some_and(|s| s.terminated.is_some()))
        })
    }
}

/// What a pod that did not start was waiting for: container waiting reasons and its last
/// events, for the error a user reads.
pub(super) async fn why_waiting(client: &Client, ns: &str, pod: Option<&Pod>, name: &str) -> String {
    let mut parts = Vec::new();
    if let Some(status) = pod.and_then(|p| p.status.as_ref()) {
        parts.push(format!("phase {}", status.phase.as_deref().unwrap_or("?")));
        for cs in status.container_statuses.iter().flatten() {
            if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
                parts.push(format!("container {} waiting: {}", cs.name, w.reason.as_deref().unwrap_or("?")));
            }
        }
    }
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().fields(&format!("involvedObject.name={name}"));
    if let Ok(list) = events.list(&lp).await {
        let mut items = list.items;
        items.sort_by_key(|e| e.last_timestamp.clone().map(|t| t.0));
        for e in items.iter().rev().take(5).rev() {
            parts.push(format!(
                "event {}: {}",
                e.reason.as_deref().unwrap_or("?"),
                e.message.as_deref().unwrap_or("").trim()
            ));
        }
    }
    parts.join("; ")
}

/// Whether a node may take pods: Ready and not cordoned. Otherwise why not.
pub(super) fn node_unusable(n: &KubeNode) -> Option<String> {
    if n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        return Some("cordoned".into());
    }
    let ready =
        n.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    match ready {
        Some(c) if c.status == "True" => None,
        Some(c) => Some(format!("NotReady ({})", c.reason.as_deref().unwrap_or(&c.status))),
        None => Some("NotReady (no Ready condition)".into()),
    }
}
