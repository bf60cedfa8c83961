//! Scenario files: the serde model of an experiment, loaded strictly (unknown fields are
//! errors) and then validated. Every error names the file and, where the YAML parser or the
//! locator can tell, the line and column.
//!
//! Field names follow Kubernetes (`nodeSelector`, `hostNetwork`) so a scenario reads like the
//! pods it describes.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use chatter::{Durability, Reliability};
use serde::{Deserialize, Serialize};

/// A whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Simulated cluster nodes (local and netns backends); the kube backend reads the cluster.
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    pub pods: Vec<PodSpec>,
    #[serde(default)]
    pub trials: TrialSpec,
    #[serde(default)]
    pub dds: DdsSpec,
    /// Simulated pod network (netns backend).
    #[serde(default)]
    pub network: NetworkSpec,
    /// Faults to inject (netns backend).
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub expect: Option<ExpectSpec>,
}

/// How the simulated cluster network behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkSpec {
    /// Let multicast cross between nodes' pod networks (flannel VXLAN does not).
    #[serde(default)]
    pub multicast_between_nodes: bool,
}

/// A fault injected during every trial (times are seconds from the trial's start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum FaultSpec {
    /// Drop this percentage of packets arriving at `node` from the other nodes.
    #[serde(rename_all = "camelCase")]
    Loss { node: String, percent: Fraction100 },
    /// Delay (and jitter) packets leaving `node` (needs `tc netem` in the kernel).
    #[serde(rename_all = "camelCase")]
    Delay {
        node: String,
        ms: PositiveF64,
        #[serde(default)]
        jitter_ms: Option<NonNegativeF64>,
    },
    /// Cut all traffic between two nodes from `fromS` to `toS`.
    #[serde(rename_all = "camelCase")]
    Partition { between: [String; 2], from_s: NonNegativeF64, to_s: PositiveF64 },
    /// SIGKILL one container at `atS`.
    #[serde(rename_all = "camelCase")]
    Kill { pod: String, container: String, at_s: NonNegativeF64 },
}

impl FaultSpec {
    /// One line a report reader understands.
    pub fn describe(&self) -> String {
        match self {
            FaultSpec::Loss { node, percent } => {
                format!("{} % packet loss into node {node} from other nodes", percent.0)
            }
            FaultSpec::Delay { node, ms, jitter_ms } => {
                format!("{} ms delay (± {} ms) on packets leaving node {node}", ms.0, jitter_ms.map_or(0.0, |j| j.0))
            }
            FaultSpec::Partition { between, from_s, to_s } => {
                format!("partition between {} and {} from {} s to {} s", between[0], between[1], from_s.0, to_s.0)
            }
            FaultSpec::Kill { pod, container, at_s } => format!("SIGKILL {pod}/{container} at {} s", at_s.0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSpec {
    pub name: String,
    /// Node labels; `kubernetes.io/hostname` defaults to the node name.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Node taints, as `kubectl taint` sets them (a simulated node can carry them too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
}

/// A node taint: pods that do not tolerate it are not scheduled there (`NoSchedule`,
/// `NoExecute`); `PreferNoSchedule` only discourages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Taint {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub effect: String,
}

impl Taint {
    /// Whether the scheduler keeps pods that do not tolerate it off the node.
    pub fn repels(&self) -> bool {
        matches!(self.effect.as_str(), "NoSchedule" | "NoExecute")
    }

    pub fn describe(&self) -> String {
        match &self.value {
            Some(v) => format!("{}={v}:{}", self.key, self.effect),
            None => format!("{}:{}", self.key, self.effect),
        }
    }
}

/// A pod toleration, with Kubernetes' matching rules: `operator: Exists` matches any value
/// (and, with no key, any taint); `Equal` (the default) needs the same value; no effect
/// matches every effect.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Toleration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<TolerationOperator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TolerationOperator {
    Exists,
    Equal,
}

impl Toleration {
    pub fn tolerates(&self, taint: &Taint) -> bool {
        let exists = self.operator == Some(TolerationOperator::Exists);
        let key_ok = match &self.key {
            None => exists,
            Some(k) => k == &taint.key,
        };
        let value_ok = exists || self.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("");
        let effect_ok = self.effect.as_deref().is_none_or(|e| e.is_empty() || e == taint.effect);
        key_ok && value_ok && effect_ok
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSpec {
    pub name: String,
    /// Every label must match a node's label (Kubernetes semantics); empty = any node.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub host_network: bool,
    /// Taints this pod tolerates (Kubernetes semantics).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    pub containers: Vec<ContainerSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerRole {
    Talker,
    Listener,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerSpec {
    pub name: String,
    pub role: ContainerRole,
    /// Overrides `dds.domain` for this container.
    #[serde(default)]
    pub domain: Option<u16>,
    /// Overrides `trials.rateHz` (talkers).
    #[serde(default)]
    pub rate_hz: Option<PositiveF64>,
    /// Pad messages to at least this many bytes (talkers).
    #[serde(default)]
    pub payload_bytes: Option<u32>,
    /// Overrides `dds.reliability`.
    #[serde(default)]
    pub reliability: Option<Reliability>,
    /// Start this long after the trial starts.
    #[serde(default)]
    pub start_delay_s: Option<NonNegativeF64>,
    /// Your own container image (kube), e.g. `ros:humble`; default: ours for the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The program and its leading arguments, as in a pod spec. On local and netns it runs on
    /// this machine, inside the pod's network namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Arguments after `command` (instead of the ones the harness gives its own nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// What runs this container on local and netns, where its image cannot (e.g. the Cyclone
    /// stand-in for the stock demo nodes, `tests/peers/demo_nodes.py`): a whole command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stand_in: Option<Vec<String>>,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// How to read what the container prints.
    #[serde(default)]
    pub output: Output,
}

impl ContainerSpec {
    /// Runs something other than the harness's own node.
    pub fn is_custom(&self) -> bool {
        self.image.is_some() || self.command.is_some() || self.stand_in.is_some()
    }
}

/// How a container's output is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// The harness's JSON-line records (its own talker and listener).
    #[default]
    ChatterRecords,
    /// The console lines of the stock `demo_nodes_cpp`/`demo_nodes_py` talker and listener.
    DemoNodes,
}

/// Which DDS the scenario's own containers use (their RMW), for fixes that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rmw {
    /// Cyclone DDS: unicast peers through `CYCLONEDDS_URI`.
    #[serde(rename = "rmw_cyclonedds_cpp")]
    Cyclonedds,
    /// Fast DDS (the default of Humble and Jazzy): discovery server, `ROS_STATIC_PEERS` on Jazzy+.
    #[serde(rename = "rmw_fastrtps_cpp")]
    Fastdds,
}

impl Rmw {
    pub fn as_str(self) -> &'static str {
        match self {
            Rmw::Cyclonedds => "rmw_cyclonedds_cpp",
            Rmw::Fastdds => "rmw_fastrtps_cpp",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrialSpec {
    #[serde(default = "TrialSpec::default_count")]
    pub count: u32,
    /// Measured part of a trial.
    #[serde(default = "TrialSpec::default_duration")]
    pub duration_s: PositiveF64,
    /// Discovery time before measurement starts; messages sent in it are not expected.
    #[serde(default = "TrialSpec::default_warmup")]
    pub warmup_s: NonNegativeF64,
    /// After the talkers stop, how long listeners keep listening for messages in flight.
    #[serde(default = "TrialSpec::default_drain")]
    pub drain_s: NonNegativeF64,
    /// Talker rate.
    #[serde(default = "TrialSpec::default_rate")]
    pub rate_hz: PositiveF64,
    /// Place every pod afresh each trial, on a random node among those its selector allows
    /// (as the scheduler may on every `kubectl apply`); otherwise placement is fixed.
    #[serde(default)]
    pub reschedule: bool,
    /// Seed of the rescheduling draws, so a run can be repeated exactly.
    #[serde(default)]
    pub seed: u64,
}

impl TrialSpec {
    fn default_count() -> u32 {
        5
    }
    fn default_duration() -> PositiveF64 {
        PositiveF64(5.0)
    }
    fn default_warmup() -> NonNegativeF64 {
        NonNegativeF64(1.0)
    }
    fn default_drain() -> NonNegativeF64 {
        NonNegativeF64(0.5)
    }
    fn default_rate() -> PositiveF64 {
        PositiveF64(10.0)
    }
}

impl Default for TrialSpec {
    fn default() -> Self {
        TrialSpec {
            count: Self::default_count(),
            duration_s: Self::default_duration(),
            warmup_s: Self::default_warmup(),
            drain_s: Self::default_drain(),
            rate_hz: Self::default_rate(),
            reschedule: false,
            seed: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DdsSpec {
    #[serde(default)]
    pub domain: u16,
    #[serde(default)]
    pub reliability: Reliability,
    #[serde(default)]
    pub durability: Durability,
    #[serde(default = "DdsSpec::default_depth")]
    pub depth: u32,
    #[serde(default)]
    pub transport: Transport,
    /// The RMW of containers that run your own `command`/`image` (sets RMW_IMPLEMENTATION);
    /// absent: they are the harness's own nodes (RustDDS, or r2r's default RMW).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmw: Option<Rmw>,
}

impl DdsSpec {
    fn default_depth() -> u32 {
        10
    }
}

impl Default for DdsSpec {
    fn default() -> Self {
        DdsSpec {
            domain: 0,
            reliability: Reliability::default(),
            durability: Durability::default(),
            depth: Self::default_depth(),
            rmw: None,
            transport: Transport::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Rustdds,
    Ros,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Rustdds => "rustdds",
            Transport::Ros => "ros",
        }
    }
}

/// Thresholds that make `harness run` exit 1 when missed (for CI gating).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpectSpec {
    /// Every talker→listener pair must deliver at least this fraction (0..=1) over the run.
    #[serde(default)]
    pub min_delivery: Option<Fraction>,
    /// Every pair's p99 latency must stay below this many milliseconds.
    #[serde(default)]
    pub max_p99_latency_ms: Option<PositiveF64>,
}

macro_rules! checked_f64 {
    ($name:ident, $check:expr, $what:literal) => {
        #[doc = concat!("An `f64` that must be ", $what, "; checked while parsing so the error has a location.")]
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = f64::deserialize(d)?;
                let ok: fn(f64) -> bool = $check;
                if v.is_finite() && ok(v) {
                    Ok($name(v))
                } else {
                    Err(serde::de::Error::custom(format!(concat!("must be ", $what, ", got {}"), v)))
                }
            }
        }
    };
}
checked_f64!(PositiveF64, |v| v > 0.0, "a positive number");
checked_f64!(NonNegativeF64, |v| v >= 0.0, "zero or more");
checked_f64!(Fraction, |v| (0.0..=1.0).contains(&v), "between 0 and 1");
checked_f64!(Fraction100, |v| (0.0..=100.0).contains(&v), "a percentage between 0 and 100");

/// Where in a file something is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{path}: cannot read scenario: {source}", path = path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{at}: {message}")]
    Syntax { at: Location, message: String },
    #[error("{at}: {field}: {message}")]
    Invalid { at: Location, field: String, message: String },
}

impl SpecError {
    pub fn location(&self) -> Option<&Location> {
        match self {
            SpecError::Read { .. } => None,
            SpecError::Syntax { at, .. } | SpecError::Invalid { at, .. } => Some(at),
        }
    }
}

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read { path: path.to_owned(), source })?;
    parse(&text, path)
}

/// Parses and validates scenario text; `path` is only used in errors.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, SpecError> {
    let scenario: Scenario = serde_yaml::from_str(text).map_err(|e| {
        let loc = e.location();
        SpecError::Syntax {
            at: Location {
                path: path.to_owned(),
                line: loc.as_ref().map(|l| l.line()),
                column: loc.as_ref().map(|l| l.column()),
            },
            message: e.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
        }
    })?;
    validate(&scenario).map_err(|v| SpecError::Invalid {
        at: Location {
            path: path.to_owned(),
            line: locate(text, &v.anchor).map(|(l, _)| l),
            column: locate(text, &v.anchor).map(|(_, c)| c),
        },
        field: v.field,
        message: v.message,
    })?;
    Ok(scenario)
}

/// A validation failure before it is placed in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Path of the offending field, e.g. `pods[1].containers[0].name`.
    pub field: String,
    pub message: String,
    /// Text to look for (in order) to find the line: e.g. `["pods:", "name: demo-talker"]`.
    anchor: Vec<String>,
}

fn violation(field: String, message: String, anchor: Vec<String>) -> Violation {
    Violation { field, message, anchor }
}

/// Finds `needle` at or after `from`, not followed by more of a name (so `name: a` does not
/// match `name: ab`).
fn find_word(text: &str, from: usize, needle: &str) -> Option<usize> {
    let mut start = from;
    loop {
        let at = start + text[start..].find(needle)?;
        let next = text[at + needle.len()..].chars().next();
        if !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
            return Some(at);
        }
        start = at + needle.len();
    }
}

/// Finds the line and column of the last anchor, each anchor searched after the previous one.
fn locate(text: &str, anchor: &[String]) -> Option<(usize, usize)> {
    let mut from = 0;
    let mut found = None;
    for needle in anchor {
        let at = find_word(text, from, needle)?;
        let line = text[..at].matches('\n').count() + 1;
        let col = at - text[..at].rfind('\n').map_or(0, |p| p + 1) + 1;
        found = Some((line, col));
        from = at + needle.len();
    }
    found
}

/// Anchor for the `(earlier + 1)`-th `name: <name>` after `section`.
fn nth_anchor(section: &str, name: &str, earlier: usize) -> Vec<String> {
    std::iter::once(section.to_owned()).chain(std::iter::repeat_n(format!("name: {name}"), earlier + 1)).collect()
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Checks what the types cannot: names, uniqueness, references, roles.
pub fn validate(s: &Scenario) -> Result<(), Violation> {
    if s.pods.is_empty() {
        return Err(violation("pods".into(), "a scenario needs at least one pod".into(), vec!["pods:".into()]));
    }
    let mut node_names = HashSet::new();
    for (i, n) in s.nodes.iter().enumerate() {
        let anchor = nth_anchor("nodes:", &n.name, s.nodes[..i].iter().filter(|m| m.name == n.name).count());
        if !is_dns_label(&n.name) {
            return Err(violation(
                format!("nodes[{i}].name"),
                format!("`{}` is not a DNS label (lowercase letters, digits, '-')", n.name),
                anchor,
            ));
        }
        if !node_names.insert(&n.name) {
            return Err(violation(format!("nodes[{i}].name"), format!("node `{}` is declared twice", n.name), anchor));
        }
    }
    let mut pod_names = HashSet::new();
    let (mut talkers, mut listeners) = (0, 0);
    for (i, p) in s.pods.iter().enumerate() {
        let anchor = nth_anchor("pods:", &p.name, s.pods[..i].iter().filter(|q| q.name == p.name).count());
        if !is_dns_label(&p.name) {
            return Err(violation(
                format!("pods[{i}].name"),
                format!("`{}` is not a DNS label (lowercase letters, digits, '-')", p.name),
                anchor,
            ));
        }
        if !pod_names.insert(&p.name) {
            return Err(violation(format!("pods[{i}].name"), format!("pod `{}` is declared twice", p.name), anchor));
        }
        if p.containers.is_empty() {
            return Err(violation(
                format!("pods[{i}].containers"),
                "a pod needs at least one container".into(),
                anchor,
            ));
        }
        let mut container_names = HashSet::new();
        for (j, c) in p.containers.iter().enumerate() {
            let mut anchor = anchor.clone();
            anchor.push(format!("name: {}", c.name));
            let field = format!("pods[{i}].containers[{j}]");
            if !is_dns_label(&c.name) {
                return Err(violation(format!("{field}.name"), format!("`{}` is not a DNS label", c.name), anchor));
            }
            if !container_names.insert(&c.name) {
                return Err(violation(
                    format!("{field}.name"),
                    format!("container `{}` appears twice in pod `{}`", c.name, p.name),
                    anchor,
                ));
            }
            if c.args.is_some() && !c.is_custom() {
                return Err(violation(
                    format!("{field}.args"),
                    "args replace a program's arguments: set `command` (or `image` on kube) too; the harness's own \
                     nodes get theirs from the scenario"
                        .into(),
                    anchor,
                ));
            }
            if c.output == Output::DemoNodes && !c.is_custom() {
                return Err(violation(
                    format!("{field}.output"),
                    "`output: demo-nodes` reads a stock demo node's console: set the `command` (or `image`) that runs it"
                        .into(),
                    anchor,
                ));
            }
            if c.command.as_ref().is_some_and(Vec::is_empty) {
                return Err(violation(format!("{field}.command"), "command must name a program".into(), anchor));
            }
            let talkers_end = s.trials.warmup_s.0 + s.trials.duration_s.0;
            if let Some(d) = c.start_delay_s.filter(|d| d.0 >= talkers_end) {
                return Err(violation(
                    format!("{field}.startDelayS"),
                    format!(
                        "starts at {} s, when the talkers have stopped (warmupS + durationS = {talkers_end} s): it would \
                         never take part; start it earlier or lengthen the trial",
                        d.0
                    ),
                    anchor,
                ));
            }
            if c.stand_in.as_ref().is_some_and(Vec::is_empty) {
                return Err(violation(format!("{field}.standIn"), "standIn must name a program".into(), anchor));
            }
            match c.role {
                ContainerRole::Talker => talkers += 1,
                ContainerRole::Listener => {
                    listeners += 1;
                    if c.rate_hz.is_some() || c.payload_bytes.is_some() {
                        return Err(violation(field, "rateHz and payloadBytes apply to talkers only".into(), anchor));
                    }
                }
            }
        }
    }
    if talkers == 0 || listeners == 0 {
        return Err(violation("pods".into(), format!("an experiment needs at least one talker and one listener (found {talkers} talker(s), {listeners} listener(s))"), vec!["pods:".into()]));
    }
    let node_known = |n: &str| s.nodes.iter().any(|d| d.name == n);
    for (i, f) in s.faults.iter().enumerate() {
        let field = format!("faults[{i}]");
        let anchor = vec!["faults:".into(), "kind:".into()];
        let unknown =
            |n: &str| violation(field.clone(), format!("node `{n}` is not declared under nodes"), anchor.clone());
        match f {
            FaultSpec::Loss { node, .. } | FaultSpec::Delay { node, .. } if !node_known(node) => {
                return Err(unknown(node))
            }
            FaultSpec::Partition { between, from_s, to_s } => {
                if let Some(n) = between.iter().find(|n| !node_known(n)) {
                    return Err(unknown(n));
                }
                if between[0] == between[1] {
                    return Err(violation(field, "a partition needs two different nodes".into(), anchor));
                }
                if to_s.0 <= from_s.0 {
                    return Err(violation(
                        field,
                        format!("toS ({}) must be after fromS ({})", to_s.0, from_s.0),
                        anchor,
                    ));
                }
            }
            FaultSpec::Kill { pod, container, .. }
                if !s.pods.iter().any(|p| &p.name == pod && p.containers.iter().any(|c| &c.name == container)) =>
            {
                return Err(violation(field, format!("no container `{container}` in a pod `{pod}`"), anchor));
            }
            _ => {}
        }
    }
    if s.trials.count == 0 {
        return Err(violation(
            "trials.count".into(),
            "must be at least 1".into(),
            vec!["trials:".into(), "count:".into()],
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "\
name: t
nodes:
  - name: master
  - name: pi
    labels: {kubernetes.io/arch: arm64}
pods:
  - name: a
    nodeSelector: {kubernetes.io/arch: arm64}
    containers:
      - {name: talker, role: talker}
      - {name: listener, role: listener}
";

    fn err(text: &str) -> SpecError {
        parse(text, Path::new("s.yaml")).expect_err("should fail")
    }

    #[test]
    fn parses_with_defaults() {
        let s = parse(OK, Path::new("s.yaml")).expect("valid");
        assert_eq!(s.trials.count, 5);
        assert_eq!(s.dds.depth, 10);
        assert_eq!(s.pods[0].containers[1].role, ContainerRole::Listener);
    }

    #[test]
    fn unknown_field_has_line_and_column() {
        let e = err(&OK.replace("    nodeSelector:", "    nodeSelectr:"));
        assert_eq!(e.location().map(|l| (l.line, l.column)), Some((Some(8), Some(5))), "{e}");
        assert!(e.to_string().starts_with("s.yaml:8:5: pods[0]: unknown field `nodeSelectr`"), "{e}");
    }

    #[test]
    fn bad_value_is_located() {
        let e = err(&format!("{OK}trials: {{rateHz: -3}}\n"));
        assert!(e.to_string().contains("must be a positive number, got -3"), "{e}");
        assert_eq!(e.location().and_then(|l| l.line), Some(12));
    }

    /// A container started after the talkers stop would be silently dropped and then reported as
    /// "never started": refused, naming the field.
    #[test]
    fn start_delay_past_the_talkers_end_is_refused() {
        let text = OK.replace("{name: listener, role: listener}", "{name: listener, role: listener, startDelayS: 7}");
        let text = format!("{text}trials: {{warmupS: 1, durationS: 5}}\n");
        let e = err(&text);
        assert!(
            matches!(e, SpecError::Invalid { ref field, .. } if field == "pods[0].containers[1].startDelayS"),
            "{e}"
        );
        assert!(
            e.to_string().contains("starts at 7 s, when the talkers have stopped (warmupS + durationS = 6 s)"),
            "{e}"
        );
        let ok = format!(
            "{}trials: {{warmupS: 1, durationS: 5}}\n",
            OK.replace("{name: listener, role: listener}", "{name: listener, role: listener, startDelayS: 5.5}")
        );
        parse(&ok, Path::new("s.yaml")).expect("a start inside the trial is fine");
    }

    #[test]
    fn duplicate_pod_points_at_second_declaration() {
        let text = format!("{OK}  - name: a\n    containers: [{{name: l, role: listener}}]\n");
        let e = err(&text);
        assert!(matches!(e, SpecError::Invalid { ref field, .. } if field == "pods[1].name"), "{e}");
        assert!(e.to_string().contains("pod `a` is declared twice"));
        assert_eq!(e.location().and_then(|l| l.line), Some(12));
    }

    #[test]
    fn needs_talker_and_listener() {
        let e = err(&OK.replace("      - {name: listener, role: listener}\n", ""));
        assert!(e.to_string().contains("at least one talker and one listener"), "{e}");
    }

    #[test]
    fn faults_parse_and_reference_known_nodes() {
        let text = format!("{OK}faults:\n  - {{kind: loss, node: pi, percent: 30}}\n  - {{kind: partition, between: [master, pi], fromS: 1, toS: 2}}\n  - {{kind: kill, pod: a, container: talker, atS: 1}}\n");
        let s = parse(&text, Path::new("s.yaml")).expect("valid");
        assert_eq!(s.faults.len(), 3);
        assert_eq!(s.faults[0].describe(), "30 % packet loss into node pi from other nodes");
        let e = err(&format!("{OK}faults:\n  - {{kind: loss, node: moon, percent: 30}}\n"));
        assert!(e.to_string().contains("faults[0]: node `moon` is not declared"), "{e}");
        let e = err(&format!("{OK}faults:\n  - {{kind: loss, node: pi, percent: 130}}\n"));
        assert!(e.to_string().contains("percentage between 0 and 100"), "{e}");
        let e = err(&format!("{OK}faults:\n  - {{kind: partition, between: [pi, master], fromS: 3, toS: 2}}\n"));
        assert!(e.to_string().contains("toS (2) must be after fromS (3)"), "{e}");
        let e = err(&format!("{OK}faults:\n  - {{kind: flood, node: pi}}\n"));
        assert!(e.to_string().contains("unknown variant `flood`"), "{e}");
    }

    #[test]
    fn invalid_names_rejected() {
        let e = err(&OK.replace("name: pi", "name: Pi_4"));
        assert!(e.to_string().contains("nodes[1].name: `Pi_4` is not a DNS label"), "{e}");
        assert_eq!(e.location().and_then(|l| l.line), Some(4));
    }
}
