//! Placement: which pod runs on which node, and with which arguments. A pure function of the
//! scenario and the cluster's nodes; backends only execute its [`Plan`].
//!
//! Node selection follows Kubernetes: a pod fits a node when every `nodeSelector` label is on
//! the node with the same value. Among fitting nodes the one with the fewest pods placed so far
//! wins, ties going to the earlier node — deterministic, roughly what the default scheduler's
//! spreading does.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::spec::{ContainerRole, ContainerSpec, DdsSpec, PodSpec, Scenario, Taint, Toleration, TrialSpec};
pub use crate::timing::TrialTiming;

/// Label every node carries (Kubernetes sets it to the node name).
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
/// Architecture label (`amd64`, `arm64`).
pub const ARCH_LABEL: &str = "kubernetes.io/arch";

/// A cluster node as placement sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Taints that keep pods without a matching toleration away.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
}

impl Node {
    /// Its architecture label, if any.
    pub fn arch(&self) -> Option<&str> {
        self.labels.get(ARCH_LABEL).map(String::as_str)
    }

    /// Its `kubernetes.io/hostname` label (what a hostname pin must select), else its name.
    pub fn hostname(&self) -> &str {
        self.labels.get(HOSTNAME_LABEL).map_or(self.name.as_str(), String::as_str)
    }
}

/// The architecture of this machine in Kubernetes' words.
pub fn local_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The simulated nodes a scenario declares, with `kubernetes.io/hostname` filled in; a
/// scenario with no nodes gets one node named `local` of this machine's architecture.
pub fn declared_nodes(scenario: &Scenario) -> Vec<Node> {
    if scenario.nodes.is_empty() {
        let labels = BTreeMap::from([
            (HOSTNAME_LABEL.to_owned(), "local".to_owned()),
            (ARCH_LABEL.to_owned(), local_arch().to_owned()),
        ]);
        return vec![Node { name: "local".into(), labels, taints: Vec::new() }];
    }
    scenario
        .nodes
        .iter()
        .map(|n| {
            let mut labels = n.labels.clone();
            labels.entry(HOSTNAME_LABEL.to_owned()).or_insert_with(|| n.name.clone());
            Node { name: n.name.clone(), labels, taints: n.taints.clone() }
        })
        .collect()
}

/// What to run for one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedContainer {
    pub name: String,
    /// Id the node reports in its records: `<pod>.<container>`.
    pub id: String,
    pub role: ContainerRole,
    /// Arguments for the `talker` / `listener` binary.
    pub args: Vec<String>,
    pub start_delay: Duration,
    /// DDS domain (`ROS_DOMAIN_ID`) it runs on.
    #[serde(default)]
    pub domain: u16,
    /// Which transport its binary uses (the `ros` one needs the ROS-flavour image).
    #[serde(default)]
    pub transport: crate::spec::Transport,
    /// Your own image (kube) instead of ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Your own program (and its leading arguments) instead of ours; then `args` follow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// What runs it on this machine (local, netns) instead of `command` + `args`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stand_in: Option<Vec<String>>,
    /// Environment: the scenario's, plus, for your own programs, what makes their logs
    /// readable (unbuffered, uncoloured) and the RMW.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// How its output is read.
    #[serde(default)]
    pub output: crate::spec::Output,
    /// Extra start delay on this machine (local, netns) that staggers stock demo talkers, so
    /// their "Hello World: N" messages, which name no talker, can be told apart by send time.
    #[serde(default, skip_serializing_if = "Duration::is_zero")]
    pub stagger: Duration,
    /// A stock node's message type (`messageType`), which decides its topic's pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<crate::spec::MessageType>,
    /// A program's own `payloadBytes` (a stock node's rclpy stand-in publishes that size); the
    /// harness's own talkers have theirs in `args`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_bytes: Option<u32>,
}

/// The stagger between successive stock demo talkers (local, netns): far above a message's
/// latency, so that the last send of "Hello World: N" before a receipt is its sender's.
pub const DEMO_STAGGER: Duration = Duration::from_millis(150);

/// What the harness sets for containers that run the stock demo nodes and your own programs:
/// Python's `print` to a pipe is block-buffered (the Cyclone stand-in prints), colour codes get
/// in the way of reading the lines, and RCUTILS_LOGGING_BUFFERED_STREAM=0 restates rcutils'
/// default (ROS 2 loggers write to stderr unbuffered: measured on Jazzy, a SIGKILLed rclpy
/// talker had every line out) — never the reason a log was missing.
pub const UNBUFFERED_ENV: [(&str, &str); 3] =
    [("RCUTILS_LOGGING_BUFFERED_STREAM", "0"), ("PYTHONUNBUFFERED", "1"), ("RCUTILS_COLORIZED_OUTPUT", "0")];

impl PlannedContainer {
    /// Runs something other than the harness's own node.
    pub fn is_custom(&self) -> bool {
        self.image.is_some() || self.command.is_some() || self.stand_in.is_some()
    }

    /// Name of the binary this container runs.
    pub fn binary(&self) -> &'static str {
        match self.role {
            ContainerRole::Talker => "talker",
            // Always your own program (validation): it has no binary of ours.
            ContainerRole::Listener | ContainerRole::Process => "listener",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedPod {
    pub name: String,
    pub node: String,
    /// The scenario's selector (a real cluster's scheduler sees it too).
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    pub host_network: bool,
    /// `hostIPC`: the pod's /dev/shm is its node's, not one of its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub host_ipc: bool,
    /// The scenario's tolerations (applied to the pod on a real cluster).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// The scenario's sysctls, set in the pod's own network namespace (netns) or by the kubelet
    /// (kube: `securityContext.sysctls`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    pub containers: Vec<PlannedContainer>,
}

/// Everything a backend needs to run the trials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub scenario: String,
    pub nodes: Vec<Node>,
    pub pods: Vec<PlacedPod>,
    pub timing: TrialTiming,
}

impl Plan {
    pub fn containers(&self) -> impl Iterator<Item = (&PlacedPod, &PlannedContainer)> {
        self.pods.iter().flat_map(|p| p.containers.iter().map(move |c| (p, c)))
    }
}

/// A pod that fits no node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pod `{pod}` fits no node: nodeSelector {selector} — {why}")]
pub struct PlacementError {
    pub pod: String,
    pub selector: String,
    pub why: String,
}

/// A selector in plain words: `kubernetes.io/arch=arm64, gpu=yes`, `(none)` when empty.
fn selector_words(selector: &BTreeMap<String, String>) -> String {
    if selector.is_empty() {
        return "(none)".into();
    }
    selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// Ok when every selector label is on the node and every repelling taint is tolerated;
/// otherwise what differs, e.g. `pi has kubernetes.io/arch=arm64, no label gpu`.
fn fits(selector: &BTreeMap<String, String>, tolerations: &[Toleration], node: &Node) -> Result<(), String> {
    let mut misses: Vec<String> = selector
        .iter()
        .filter_map(|(k, v)| match node.labels.get(k) {
            Some(have) if have == v => None,
            Some(have) => Some(format!("{k}={have}")),
            None => Some(format!("no label {k}")),
        })
        .collect();
    misses.extend(
        node.taints
            .iter()
            .filter(|t| t.repels() && !tolerations.iter().any(|tol| tol.tolerates(t)))
            .map(|t| format!("untolerated taint {}", t.describe())),
    );
    if misses.is_empty() {
        Ok(())
    } else {
        Err(format!("{} has {}", node.name, misses.join(", ")))
    }
}

fn secs(d: Duration) -> String {
    format!("{}", d.as_secs_f64())
}

/// How a pod that fits several nodes gets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The least-loaded node, ties to the earlier one (deterministic).
    Spread,
    /// A pseudo-random fitting node, drawn from `seed` (reproducible).
    Random { seed: u64 },
}

/// splitmix64: a small, well-mixed deterministic generator for placement draws.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Places every pod of `scenario` on one of `nodes` and works out each container's arguments.
pub fn place(scenario: &Scenario, nodes: &[Node]) -> Result<Plan, PlacementError> {
    place_with(scenario, nodes, Choice::Spread)
}

/// The placement for one trial: with `trials.reschedule`, drawn afresh per trial (from
/// `trials.seed` and the trial number); otherwise the fixed placement of [`place`].
pub fn place_trial(scenario: &Scenario, nodes: &[Node], trial: u32) -> Result<Plan, PlacementError> {
    if scenario.trials.reschedule {
        let seed = splitmix64(scenario.trials.seed ^ (u64::from(trial) << 32));
        place_with(scenario, nodes, Choice::Random { seed })
    } else {
        place(scenario, nodes)
    }
}

/// [`place`] with an explicit [`Choice`].
pub fn place_with(scenario: &Scenario, nodes: &[Node], choice: Choice) -> Result<Plan, PlacementError> {
    let timing = trial_timing(&scenario.trials);
    let mut load: BTreeMap<&str, usize> = nodes.iter().map(|n| (n.name.as_str(), 0)).collect();
    let mut demo_talkers = 0u32;
    let mut pods = Vec::with_capacity(scenario.pods.len());
    for pod in &scenario.pods {
        let node = pick_node(pod, nodes, choice, &load, pods.len())?;
        *load.entry(node.name.as_str()).or_default() += 1;
        let containers =
            pod.containers.iter().map(|c| plan_container(scenario, pod, c, &timing, &mut demo_talkers)).collect();
        pods.push(PlacedPod {
            name: pod.name.clone(),
            node: node.name.clone(),
            node_selector: pod.node_selector.clone(),
            host_network: pod.host_network,
            host_ipc: pod.host_ipc,
            tolerations: pod.tolerations.clone(),
            sysctls: pod.sysctls.clone(),
            containers,
        });
    }
    Ok(Plan { scenario: scenario.name.clone(), nodes: nodes.to_vec(), pods, timing })
}

/// The phases of every trial, from the scenario's `trials`.
fn trial_timing(t: &TrialSpec) -> TrialTiming {
    TrialTiming {
        warmup: Duration::from_secs_f64(t.warmup_s.0),
        duration: Duration::from_secs_f64(t.duration_s.0),
        drain: Duration::from_secs_f64(t.drain_s.0),
    }
}

/// The node `pod` goes to among those it fits, as `choice` says (`load`: pods placed on each
/// node so far; `placed`: how many pods are placed, which varies the random draw per pod); or
/// why it fits none.
fn pick_node<'a>(
    pod: &PodSpec,
    nodes: &'a [Node],
    choice: Choice,
    load: &BTreeMap<&str, usize>,
    placed: usize,
) -> Result<&'a Node, PlacementError> {
    let mut why = Vec::new();
    let candidates: Vec<&Node> = nodes
        .iter()
        .filter(|n| fits(&pod.node_selector, &pod.tolerations, n).map_err(|e| why.push(e)).is_ok())
        .collect();
    let picked = match choice {
        Choice::Spread => candidates.iter().min_by_key(|n| load.get(n.name.as_str()).copied().unwrap_or(0)),
        Choice::Random { seed } => {
            let draw = splitmix64(seed.wrapping_add(placed as u64));
            candidates.get(usize::try_from(draw % candidates.len().max(1) as u64).unwrap_or(0))
        }
    };
    picked.copied().ok_or_else(|| PlacementError {
        pod: pod.name.clone(),
        selector: selector_words(&pod.node_selector),
        why: if nodes.is_empty() { "the cluster has no nodes".into() } else { why.join("; ") },
    })
}

/// What to run for container `c` of `pod`: its arguments, environment and start. Stock demo
/// talkers are staggered in the order they come (`demo_talkers` counts them).
fn plan_container(
    scenario: &Scenario,
    pod: &PodSpec,
    c: &ContainerSpec,
    timing: &TrialTiming,
    demo_talkers: &mut u32,
) -> PlannedContainer {
    let id = format!("{}.{}", pod.name, c.name);
    let delay = Duration::from_secs_f64(c.start_delay_s.map_or(0.0, |d| d.0));
    let dds = &scenario.dds;
    let domain = c.domain.unwrap_or(dds.domain);
    let args =
        if c.is_custom() { c.args.clone().unwrap_or_default() } else { node_args(scenario, c, &id, timing, delay) };
    PlannedContainer {
        name: c.name.clone(),
        id,
        role: c.role,
        args,
        start_delay: delay,
        domain,
        transport: dds.transport,
        image: c.image.clone(),
        command: c.command.clone(),
        stand_in: c.stand_in.clone(),
        env: container_env(c, dds, domain),
        output: c.output,
        stagger: if c.output == crate::spec::Output::DemoNodes && c.role == ContainerRole::Talker {
            *demo_talkers += 1;
            DEMO_STAGGER * (*demo_talkers - 1)
        } else {
            Duration::ZERO
        },
        message_type: c.message_type,
        payload_bytes: c.payload_bytes.filter(|_| c.is_custom()),
    }
}

/// The arguments of the harness's own `talker`/`listener` binary for container `c` (`id`,
/// started `delay` into the trial).
fn node_args(scenario: &Scenario, c: &ContainerSpec, id: &str, timing: &TrialTiming, delay: Duration) -> Vec<String> {
    let dds = &scenario.dds;
    let mut args = vec![
        "--id".into(),
        id.to_owned(),
        "--domain".into(),
        c.domain.unwrap_or(dds.domain).to_string(),
        "--reliability".into(),
        c.reliability.unwrap_or(dds.reliability).to_string(),
        "--durability".into(),
        dds.durability.to_string(),
        "--depth".into(),
        c.depth.unwrap_or(dds.depth).to_string(),
        "--transport".into(),
        dds.transport.as_str().into(),
    ];
    match c.role {
        ContainerRole::Talker => {
            args.extend([
                "--rate-hz".into(),
                c.rate_hz.unwrap_or(scenario.trials.rate_hz).0.to_string(),
                "--duration".into(),
                secs(timing.talker_runs_for(delay)),
                "--log-sent".into(),
                "--linger".into(),
                secs(timing.talker_linger()),
            ]);
            if let Some(b) = c.payload_bytes {
                args.extend(["--payload-bytes".into(), b.to_string()]);
            }
        }
        // A process runs its own command with its own arguments (validation).
        ContainerRole::Process => {}
        ContainerRole::Listener => {
            // The harness stops listeners; this bound only ends an orphan.
            args.extend(["--duration".into(), secs(timing.listener_bound())]);
        }
    }
    args
}

/// Container `c`'s environment: the scenario's `env`, after what your own programs get.
fn container_env(c: &ContainerSpec, dds: &DdsSpec, domain: u16) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    if c.is_custom() {
        // Your program gets what a ROS 2 node reads: its domain, its RMW, and logs that reach
        // the harness line by line.
        env.insert("ROS_DOMAIN_ID".to_owned(), domain.to_string());
        if let Some(rmw) = c.rmw.or(dds.rmw) {
            env.insert("RMW_IMPLEMENTATION".to_owned(), rmw.as_str().to_owned());
        }
        if c.output == crate::spec::Output::DemoNodes {
            env.extend(UNBUFFERED_ENV.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        }
    }
    env.extend(c.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario(pods: &str) -> Scenario {
        let text = format!(
            "name: t\nnodes:\n  - name: master\n    labels: {{kubernetes.io/arch: amd64}}\n  - name: pi\n    labels: {{kubernetes.io/arch: arm64}}\npods:\n{pods}"
        );
        crate::spec::parse(&text, Path::new("t.yaml")).expect("valid scenario")
    }

    const SEED: &str = "  - name: demo-listener
    containers: [{name: listener, role: listener}]
  - name: demo-talkerlistener
    nodeSelector: {kubernetes.io/arch: arm64}
    containers: [{name: talker, role: talker}, {name: listener, role: listener}]
  - name: demo-talker
    containers: [{name: talker, role: talker}]
";

    #[test]
    fn selector_and_spreading() {
        let s = scenario(SEED);
        let plan = place(&s, &declared_nodes(&s)).expect("placeable");
        let at: Vec<(&str, &str)> = plan.pods.iter().map(|p| (p.name.as_str(), p.node.as_str())).collect();
        assert_eq!(at, [("demo-listener", "master"), ("demo-talkerlistener", "pi"), ("demo-talker", "master")]);
        assert_eq!(crate::analysis::Roster::from_plan(&plan).node_of("demo-talkerlistener.talker"), Some("pi"));
    }

    #[test]
    fn hostname_label_is_implicit() {
        let s = scenario("  - name: a\n    nodeSelector: {kubernetes.io/hostname: pi}\n    containers: [{name: t, role: talker}, {name: l, role: listener}]\n");
        let plan = place(&s, &declared_nodes(&s)).expect("placeable");
        assert_eq!(plan.pods[0].node, "pi");
    }

    #[test]
    fn host_network_and_host_ipc_are_carried_to_the_plan() {
        let s = scenario("  - name: a\n    hostNetwork: true\n    hostIPC: true\n    containers: [{name: t, role: talker}]\n  - name: b\n    hostNetwork: true\n    containers: [{name: l, role: listener}]\n");
        let plan = place(&s, &declared_nodes(&s)).expect("placeable");
        let flags: Vec<(bool, bool)> = plan.pods.iter().map(|p| (p.host_network, p.host_ipc)).collect();
        assert_eq!(flags, [(true, true), (true, false)]);
    }

    #[test]
    fn all_labels_must_match() {
        let s = scenario("  - name: a\n    nodeSelector: {kubernetes.io/arch: arm64, gpu: \"yes\"}\n    containers: [{name: t, role: talker}, {name: l, role: listener}]\n");
        let err = place(&s, &declared_nodes(&s)).expect_err("no node has gpu");
        assert_eq!(err.pod, "a");
        assert!(err.why.contains("pi has no label gpu"), "{err}");
        assert!(err.why.contains("master has no label gpu, kubernetes.io/arch=amd64"), "{err}");
    }

    #[test]
    fn args_carry_overrides() {
        let s = scenario("  - name: a\n    containers:\n      - {name: t, role: talker, rateHz: 50, payloadBytes: 512, startDelayS: 1}\n      - {name: l, role: listener, domain: 7, reliability: best-effort}\n");
        let plan = place(&s, &declared_nodes(&s)).expect("placeable");
        let t = &plan.pods[0].containers[0];
        let joined = t.args.join(" ");
        assert!(joined.contains("--rate-hz 50 --duration 5 "), "{joined}");
        assert!(joined.contains("--payload-bytes 512"));
        assert_eq!(t.start_delay, Duration::from_secs(1));
        let l = plan.pods[0].containers[1].args.join(" ");
        assert!(l.contains("--domain 7 --reliability best-effort"), "{l}");
        assert!(joined.contains("--depth 10 "), "the scenario's depth by default: {joined}");
        let s = scenario("  - name: a\n    containers:\n      - {name: t, role: talker, depth: 1}\n      - {name: l, role: listener}\n");
        let plan = place(&s, &declared_nodes(&s)).expect("placeable");
        assert!(plan.pods[0].containers[0].args.join(" ").contains("--depth 1 "), "a container's own depth");
    }

    #[test]
    fn rescheduling_draws_fitting_nodes_reproducibly() {
        let mut s = scenario(SEED);
        s.trials.reschedule = true;
        let nodes = declared_nodes(&s);
        let mut talker_nodes = std::collections::BTreeSet::new();
        for trial in 1..=20 {
            let plan = place_trial(&s, &nodes, trial).expect("placeable");
            assert_eq!(plan, place_trial(&s, &nodes, trial).expect("placeable"), "same trial, same draw");
            assert_eq!(plan.pods[1].node, "pi", "the selector still holds");
            talker_nodes.insert(plan.pods[2].node.clone());
        }
        assert_eq!(talker_nodes.len(), 2, "an unpinned pod lands on both nodes over 20 trials");
        s.trials.reschedule = false;
        assert_eq!(place_trial(&s, &nodes, 7).expect("placeable"), place(&s, &nodes).expect("placeable"));
    }

    #[test]
    fn taints_repel_pods_that_do_not_tolerate_them() {
        let text = "name: t\nnodes:\n  - name: master\n    taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]\n  - name: pi\n    taints: [{key: dedicated, value: robot, effect: NoExecute}, {key: soft, effect: PreferNoSchedule}]\npods:\n  - name: a\n    containers: [{name: t, role: talker}]\n  - name: b\n    tolerations: [{key: dedicated, operator: Equal, value: robot}]\n    containers: [{name: l, role: listener}]\n  - name: c\n    tolerations: [{operator: Exists}]\n    nodeSelector: {kubernetes.io/hostname: master}\n    containers: [{name: l, role: listener}]\n";
        let s = crate::spec::parse(text, Path::new("t.yaml")).expect("valid");
        let err = place(&s, &declared_nodes(&s)).expect_err("pod a tolerates nothing");
        assert_eq!(err.pod, "a");
        assert!(
            err.why.contains("master has untolerated taint node-role.kubernetes.io/control-plane:NoSchedule"),
            "{err}"
        );
        assert!(err.why.contains("pi has untolerated taint dedicated=robot:NoExecute"), "{err}");
        assert!(!err.why.contains("soft"), "PreferNoSchedule does not repel: {err}");
        let mut s = s;
        s.pods.remove(0);
        let plan = place(&s, &declared_nodes(&s)).expect("b tolerates pi's taint, c tolerates everything");
        assert_eq!(plan.pods[0].node, "pi");
        assert_eq!(plan.pods[1].node, "master");
        let wrong_value = crate::spec::Toleration { value: Some("other".into()), ..s.pods[0].tolerations[0].clone() };
        assert!(!wrong_value.tolerates(&declared_nodes(&s)[1].taints[0]));
    }

    #[test]
    fn no_declared_nodes_means_one_local_node() {
        let text = "name: t\npods:\n  - name: a\n    nodeSelector: {kubernetes.io/hostname: local}\n    containers: [{name: t, role: talker}, {name: l, role: listener}]\n";
        let s = crate::spec::parse(text, Path::new("t.yaml")).expect("valid");
        let plan = place(&s, &declared_nodes(&s)).expect("placeable");
        assert_eq!(plan.pods[0].node, "local");
    }
}
