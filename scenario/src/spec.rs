//! Scenario files: the serde model of an experiment, loaded strictly (unknown fields and
//! duplicate keys are errors; serde-saphyr, the maintained YAML deserializer kube already
//! brings, in place of the deprecated serde_yaml) and then validated against real ranges. Every
//! error names `file:line:col` of the offending value and its field path, both from the YAML
//! parser's own positions ([`crate::yaml`]).
//!
//! Field names follow Kubernetes (`nodeSelector`, `hostNetwork`) so a scenario reads like the
//! pods it describes.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use chatter::{Durability, Reliability};
use serde::{Deserialize, Serialize};

use crate::yaml::{join_key, Pos, Positions};

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
    Loss { node: String, percent: FaultNumber },
    /// Delay (and jitter) packets leaving `node` (needs `tc netem` in the kernel).
    #[serde(rename_all = "camelCase")]
    Delay {
        node: String,
        ms: FaultNumber,
        #[serde(default)]
        jitter_ms: Option<FaultNumber>,
    },
    /// Cut all traffic between two nodes from `fromS` to `toS`.
    #[serde(rename_all = "camelCase")]
    Partition { between: [String; 2], from_s: FaultNumber, to_s: FaultNumber },
    /// SIGKILL one container at `atS`.
    #[serde(rename_all = "camelCase")]
    Kill { pod: String, container: String, at_s: FaultNumber },
}

/// A number in a fault. Its range is checked by [`validate`], not while parsing: a fault's
/// fields are read through its `kind` tag, which loses their positions, so only validation
/// can name the field (`faults[2].percent`) and its line.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FaultNumber(pub f64);

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
    /// Shares the node's IPC namespace, so its /dev/shm is the node's (Kubernetes `hostIPC`);
    /// otherwise the pod has a /dev/shm of its own, shared by its containers only.
    #[serde(default, rename = "hostIPC", skip_serializing_if = "std::ops::Not::not")]
    pub host_ipc: bool,
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
    /// Neither: a program the others need (e.g. a Fast DDS discovery server), run from its
    /// `command` before the talkers and listeners of its trial and stopped with the listeners.
    /// Its output is not read.
    Process,
}

impl ContainerRole {
    /// As a scenario spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerRole::Talker => "talker",
            ContainerRole::Listener => "listener",
            ContainerRole::Process => "process",
        }
    }
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
    /// Overrides `dds.rmw` for this container (your own programs and the stock nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmw: Option<Rmw>,
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
    /// `confident`: instead of `count` trials, run until the verdict can no longer change at
    /// 95 % (see the harness's stop rule), at most `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Until>,
    /// The most trials `until: confident` runs.
    #[serde(default = "TrialSpec::default_max")]
    pub max: u32,
}

/// When a run stops early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Until {
    /// When the verdict can no longer change at 95 %.
    Confident,
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
    fn default_max() -> u32 {
        50
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
            until: None,
            max: Self::default_max(),
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

/// Where in a file something is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    /// `pos` in the file at `path` (only the path when the position is unknown).
    pub fn at(path: &Path, pos: Option<Pos>) -> Location {
        Location { path: path.to_owned(), line: pos.map(|p| p.line), column: pos.map(|p| p.col) }
    }
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
    /// Not YAML, or not a scenario's shape (a wrong type, an unknown field, a value out of its
    /// range): where the parser stopped, and the field there when there is one.
    #[error("{at}: {}{message}", field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default())]
    Syntax { at: Location, field: Option<String>, message: String },
    #[error("{at}: {field}: {message}")]
    Invalid { at: Location, field: String, message: String },
    /// Every error a scenario has, in file order, one a line (two or more).
    #[error("{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many { errors: Vec<SpecError> },
}

impl SpecError {
    /// Where the (first) error is.
    pub fn location(&self) -> Option<&Location> {
        match self {
            SpecError::Read { .. } => None,
            SpecError::Syntax { at, .. } | SpecError::Invalid { at, .. } => Some(at),
            SpecError::Many { errors } => errors.first().and_then(SpecError::location),
        }
    }

    /// The offending field's path (`pods[1].containers[0].name`) of the (first) error, where
    /// known.
    pub fn field(&self) -> Option<&str> {
        match self {
            SpecError::Read { .. } => None,
            SpecError::Syntax { field, .. } => field.as_deref(),
            SpecError::Invalid { field, .. } => Some(field),
            SpecError::Many { errors } => errors.first().and_then(SpecError::field),
        }
    }

    /// Each error on its own (one, unless this is [`SpecError::Many`]).
    pub fn errors(&self) -> Vec<&SpecError> {
        match self {
            SpecError::Many { errors } => errors.iter().collect(),
            e => vec![e],
        }
    }
}

/// Scenarios are small; anything bigger is not one (and is refused before it is parsed).
pub const MAX_SCENARIO_BYTES: u64 = 1 << 20;

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, SpecError> {
    let read = |source| SpecError::Read { path: path.to_owned(), source };
    let at_start = |message: String| SpecError::Syntax {
        at: Location::at(path, Some(Pos { line: 1, col: 1 })),
        field: None,
        message,
    };
    let len = std::fs::metadata(path).map_err(read)?.len();
    if len > MAX_SCENARIO_BYTES {
        return Err(at_start(format!(
            "the file is {len} bytes; a scenario is at most {MAX_SCENARIO_BYTES} bytes (is this the right file?)"
        )));
    }
    let bytes = std::fs::read(path).map_err(read)?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            let col = good.len() - good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
            return Err(SpecError::Syntax {
                at: Location::at(path, Some(Pos { line, col })),
                field: None,
                message: "not UTF-8 text (is this the right file?)".into(),
            });
        }
    };
    parse(&text, path)
}

/// Parses and validates scenario text; `path` is only used in errors. Every error names the
/// line and column of the offending value and its field path, from the YAML parser's positions
/// (see [`crate::yaml`]), and every error the scenario has is reported, in file order, as
/// compilers do: after a parse error the offending entry is blanked out (its characters turned
/// to spaces, so every other position stays where it was) and the text parsed again; an error
/// that only follows from a blanked entry (the missing field it leaves) is not reported again.
/// Validation then runs on what parsed, leaving out what depends on a blanked field.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, SpecError> {
    let at = |pos: Option<Pos>| Location::at(path, pos);
    if text.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(SpecError::Syntax {
            at: at(Some(Pos { line: 1, col: 1 })),
            field: None,
            message: format!("{} bytes; a scenario is at most {MAX_SCENARIO_BYTES} bytes", text.len()),
        });
    }
    let positions = Positions::of_text(text);
    let mut patched: Vec<char> = text.chars().collect();
    let mut errors = Vec::new();
    let mut blanked: Vec<String> = Vec::new();
    let mut scenario = None;
    for _ in 0..MAX_PASSES {
        let options = serde_saphyr::options! { duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error };
        let e = match serde_saphyr::from_str_with_options::<Scenario>(&patched.iter().collect::<String>(), options) {
            Ok(s) => {
                scenario = Some(s);
                break;
            }
            Err(e) => e,
        };
        let (error, mapping) = syntax_error(&e, &positions, path);
        let Some(field) = error.field().map(str::to_owned) else {
            errors.push(error);
            break;
        };
        // What follows from an entry already blanked: the field it was, or what holds it.
        if !blanked.iter().any(|b| b == &field || holds(&field, b)) {
            errors.push(error);
        }
        // A missing field cannot be blanked: its mapping is.
        let target = mapping.unwrap_or(field);
        let Some((from, to)) = positions.span(&target).filter(|_| !target.is_empty() && !blanked.contains(&target))
        else {
            break;
        };
        blank(&mut patched, from, to);
        blanked.push(target);
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    if let Some(s) = &scenario {
        // Fields of what parsed, as they are in the original (blanked items shift indices).
        let now = if blanked.is_empty() { None } else { Some(Positions::of_text(&patched.iter().collect::<String>())) };
        for v in violations(s) {
            let field = now.as_ref().map_or_else(|| v.field.clone(), |now| original_field(&v.field, now, &positions));
            let broken = |f: &str| blanked.iter().any(|b| b == f || holds(b, f) || matches_pattern(b, f));
            if broken(&field) || v.about.iter().any(|a| broken(a)) {
                continue;
            }
            errors.push(SpecError::Invalid { at: at(positions.of(&field)), field, message: v.message });
        }
    }
    if errors.is_empty() {
        return scenario.ok_or_else(|| SpecError::Syntax {
            at: at(Some(Pos { line: 1, col: 1 })),
            field: None,
            message: "not a scenario".into(),
        });
    }
    // In file order (a missing field is reported where its mapping starts).
    let key = |e: &SpecError| e.location().map(|l| (l.line.unwrap_or(0), l.column.unwrap_or(0)));
    errors.sort_by_key(key);
    errors.dedup_by(|a, b| a.to_string() == b.to_string());
    if errors.len() == 1 {
        return Err(errors.remove(0));
    }
    Err(SpecError::Many { errors })
}

/// At most this many errors are listed, and the text parsed this many times.
const MAX_ERRORS: usize = 50;
const MAX_PASSES: usize = 200;

/// A parse error at its field; for a missing field, also the mapping that lacks it.
fn syntax_error(e: &serde_saphyr::Error, positions: &Positions, path: &Path) -> (SpecError, Option<String>) {
    let at = |pos: Option<Pos>| Location::at(path, pos);
    let pos = e.location().map(|l| Pos {
        line: usize::try_from(l.line()).unwrap_or(usize::MAX),
        col: usize::try_from(l.column()).unwrap_or(usize::MAX),
    });
    let message = e.without_snippet().to_string();
    // The message ends with the position, which the location already says.
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    };
    let here = pos.and_then(|p| positions.field_at(p));
    // At a key (a flow mapping's first, say): the mapping is the one the key is in.
    let in_mapping = pos.and_then(|p| positions.key_at(p)).filter(|k| Some(*k) == here).map(crate::yaml::parent);
    match here.and_then(|f| missing_field(positions, in_mapping.unwrap_or(f), &message)) {
        // Reported where the mapping that lacks it is.
        Some((field, mapping)) => {
            let error = SpecError::Syntax { at: at(positions.of(&mapping)), field: Some(field), message };
            (error, Some(mapping))
        }
        None => (SpecError::Syntax { at: at(pos), field: here.map(|f| refine_field(f, &message)), message }, None),
    }
}

/// Turns the characters `from..to` into spaces (newlines stay, so every position after them
/// does too), with the comma that separated them in a flow collection.
fn blank(text: &mut [char], from: usize, to: usize) {
    let to = to.min(text.len());
    for c in &mut text[from.min(to)..to] {
        if *c != '\n' {
            *c = ' ';
        }
    }
    let next = (to..text.len()).find(|&i| !text[i].is_whitespace());
    let prev = (0..from.min(text.len())).rev().find(|&i| !text[i].is_whitespace());
    if let Some(i) = next.filter(|&i| text[i] == ',') {
        text[i] = ' ';
    } else if let Some(i) = prev.filter(|&i| text[i] == ',') {
        text[i] = ' ';
    }
}

/// Whether `outer` holds `inner` (`pods[0]` holds `pods[0].name`; the document holds all).
fn holds(outer: &str, inner: &str) -> bool {
    outer.is_empty() || inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// Whether `field` is, or holds, what `pattern` names (`pods[*].name`: every pod's name).
fn matches_pattern(field: &str, pattern: &str) -> bool {
    let segments = |p: &str| p.split(['.', '[']).map(str::to_owned).collect::<Vec<_>>();
    let (f, p) = (segments(field), segments(pattern));
    f.len() <= p.len() && f.iter().zip(&p).all(|(a, b)| a == b || (b == "*]" && a.ends_with(']')))
}

/// `field` of the blanked text, named as in the original: the longest part of it that the
/// blanked text has is looked up at its position in the original.
fn original_field(field: &str, now: &Positions, original: &Positions) -> String {
    let mut cut = field.len();
    loop {
        let prefix = &field[..cut];
        if let Some(o) = now.value_pos(prefix).and_then(|p| original.value_at(p)) {
            return format!("{o}{}", &field[cut..]);
        }
        match prefix.rfind(['.', '[']) {
            Some(i) => cut = i,
            None => return field.to_owned(),
        }
    }
}

/// Where `field` is in the scenario file at `path` (for failures found after loading, such as a
/// pod that fits no node); only the path when the file cannot be read again.
pub fn locate(path: &Path, field: &str) -> Location {
    let pos = std::fs::read_to_string(path).ok().and_then(|text| Positions::of_text(&text).of(field));
    Location::at(path, pos)
}

/// For "missing field `x`" reported at `at`: the missing field's path and its mapping's.
fn missing_field(positions: &Positions, at: &str, message: &str) -> Option<(String, String)> {
    let name = message.strip_prefix("missing field `")?.split('`').next()?;
    let mapping = positions.enclosing_collection(at).to_owned();
    Some((join_key(&mapping, name), mapping))
}

/// An unknown field is reported at its mapping (or at its key): name the field itself.
fn refine_field(at: &str, message: &str) -> String {
    match message.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next()) {
        Some(name) if at != name && !at.ends_with(&format!(".{name}")) => join_key(at, name),
        _ => at.to_owned(),
    }
}

/// A validation failure: the field (its path) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Path of the offending field, e.g. `pods[1].containers[0].name`.
    pub field: String,
    pub message: String,
    /// Other fields the check read (`pods[*].name`: every pod's name): a violation is not
    /// reported when one of them could not be parsed.
    pub about: Vec<String>,
}

fn violation(field: impl Into<String>, message: impl Into<String>) -> Violation {
    Violation { field: field.into(), message: message.into(), about: Vec::new() }
}

impl Violation {
    fn about(mut self, fields: &[&str]) -> Violation {
        self.about.extend(fields.iter().map(|f| (*f).to_owned()));
        self
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// The highest ROS domain id: DDS maps domain `d` to UDP ports 7400 + 250·d + 0…11, which must
/// stay below 65 536 (and above 101 they run into Linux's ephemeral port range, see
/// `harness lint`).
pub const MAX_DOMAIN: u16 = 232;
/// Bounds that keep a run something one machine and one report can hold.
const MAX_TRIALS: u32 = 10_000;
const MAX_RATE_HZ: f64 = 10_000.0;
const MAX_DURATION_S: f64 = 86_400.0;
const MAX_WARMUP_S: f64 = 3_600.0;
const MAX_DEPTH: u32 = 100_000;
const MAX_PAYLOAD_BYTES: u32 = 16 << 20;
const MAX_DELAY_MS: f64 = 60_000.0;

/// Checks what the types cannot: names, uniqueness, references, roles, real ranges; the first
/// violation (see [`violations`] for all).
pub fn validate(s: &Scenario) -> Result<(), Violation> {
    violations(s).into_iter().next().map_or(Ok(()), Err)
}

/// Every violation of what the types cannot check, in the order of the scenario's sections.
pub fn violations(s: &Scenario) -> Vec<Violation> {
    let mut out = Vec::new();
    let t = &s.trials;
    if t.count == 0 || t.count > MAX_TRIALS {
        out.push(violation("trials.count", format!("must be between 1 and {MAX_TRIALS}, got {}", t.count)));
    }
    if t.max == 0 || t.max > MAX_TRIALS {
        out.push(violation("trials.max", format!("must be between 1 and {MAX_TRIALS}, got {}", t.max)));
    }
    let at_most = |field: &str, v: f64, max: f64, unit: &str| {
        if v > max {
            Err(violation(field, format!("{v} {unit} is more than the {max} {unit} a trial can use")))
        } else {
            Ok(())
        }
    };
    out.extend(at_most("trials.durationS", t.duration_s.0, MAX_DURATION_S, "s").err());
    out.extend(at_most("trials.warmupS", t.warmup_s.0, MAX_WARMUP_S, "s").err());
    out.extend(at_most("trials.drainS", t.drain_s.0, MAX_WARMUP_S, "s").err());
    out.extend(at_most("trials.rateHz", t.rate_hz.0, MAX_RATE_HZ, "Hz").err());
    let domain = |field: String, d: u16| {
        if d > MAX_DOMAIN {
            Err(violation(
                field,
                format!(
                    "domain {d} is out of range: DDS maps domain d to UDP ports 7400 + 250·d + 0…11, which must stay \
                     below 65536, so the highest domain is {MAX_DOMAIN}"
                ),
            ))
        } else {
            Ok(())
        }
    };
    out.extend(domain("dds.domain".into(), s.dds.domain).err());
    if s.dds.depth == 0 || s.dds.depth > MAX_DEPTH {
        out.push(violation(
            "dds.depth",
            format!("a keep-last history holds 1 to {MAX_DEPTH} samples, got {}", s.dds.depth),
        ));
    }
    if s.pods.is_empty() {
        out.push(violation("pods", "a scenario needs at least one pod"));
    }
    let mut node_names = HashSet::new();
    for (i, n) in s.nodes.iter().enumerate() {
        let field = format!("nodes[{i}].name");
        if !is_dns_label(&n.name) {
            out.push(violation(field, format!("`{}` is not a DNS label (lowercase letters, digits, '-')", n.name)));
        } else if !node_names.insert(&n.name) {
            out.push(violation(field, format!("node `{}` is declared twice", n.name)));
        }
    }
    let mut pod_names = HashSet::new();
    let (mut talkers, mut listeners) = (0, 0);
    let talkers_end = t.warmup_s.0 + t.duration_s.0;
    for (i, p) in s.pods.iter().enumerate() {
        if !is_dns_label(&p.name) {
            out.push(violation(
                format!("pods[{i}].name"),
                format!("`{}` is not a DNS label (lowercase letters, digits, '-')", p.name),
            ));
        } else if !pod_names.insert(&p.name) {
            out.push(violation(format!("pods[{i}].name"), format!("pod `{}` is declared twice", p.name)));
        }
        if p.containers.is_empty() {
            let all = format!("pods[{i}].containers[*]");
            out.push(violation(format!("pods[{i}].containers"), "a pod needs at least one container").about(&[&all]));
        }
        let mut container_names = HashSet::new();
        for (j, c) in p.containers.iter().enumerate() {
            let field = format!("pods[{i}].containers[{j}]");
            let sub = |name: &str| format!("{field}.{name}");
            if !is_dns_label(&c.name) {
                out.push(violation(sub("name"), format!("`{}` is not a DNS label", c.name)));
            } else if !container_names.insert(&c.name) {
                out.push(violation(sub("name"), format!("container `{}` appears twice in pod `{}`", c.name, p.name)));
            }
            if let Some(d) = c.domain {
                out.extend(domain(sub("domain"), d).err());
            }
            if let Some(r) = c.rate_hz {
                out.extend(at_most(&sub("rateHz"), r.0, MAX_RATE_HZ, "Hz").err());
            }
            if let Some(b) = c.payload_bytes.filter(|b| *b > MAX_PAYLOAD_BYTES) {
                out.push(violation(sub("payloadBytes"), format!("{b} bytes is more than {MAX_PAYLOAD_BYTES}")));
            }
            if c.args.is_some() && !c.is_custom() {
                out.push(violation(
                    sub("args"),
                    "args replace a program's arguments: set `command` (or `image` on kube) too; the harness's own \
                     nodes get theirs from the scenario",
                ));
            }
            if c.output == Output::DemoNodes && !c.is_custom() {
                out.push(violation(
                    sub("output"),
                    "`output: demo-nodes` reads a stock demo node's console: set the `command` (or `image`) that runs it",
                ));
            }
            if c.command.as_ref().is_some_and(Vec::is_empty) {
                out.push(violation(sub("command"), "command must name a program"));
            }
            if let Some(d) = c.start_delay_s.filter(|d| d.0 >= talkers_end) {
                out.push(violation(
                    sub("startDelayS"),
                    format!(
                        "starts at {} s, when the talkers have stopped (warmupS + durationS = {talkers_end} s): it would \
                         never take part; start it earlier or lengthen the trial",
                        d.0
                    ),
                )
                .about(&["trials.warmupS", "trials.durationS"]));
            }
            if c.stand_in.as_ref().is_some_and(Vec::is_empty) {
                out.push(violation(sub("standIn"), "standIn must name a program"));
            }
            match c.role {
                ContainerRole::Talker => talkers += 1,
                ContainerRole::Listener | ContainerRole::Process => {
                    if c.role == ContainerRole::Listener {
                        listeners += 1;
                    }
                    if c.rate_hz.is_some() || c.payload_bytes.is_some() {
                        let which = if c.rate_hz.is_some() { "rateHz" } else { "payloadBytes" };
                        out.push(violation(sub(which), "rateHz and payloadBytes apply to talkers only"));
                    }
                }
            }
            if c.role == ContainerRole::Process {
                if c.command.is_none() && c.stand_in.is_none() {
                    out.push(violation(
                        sub("role"),
                        "`role: process` runs your own program: set its `command` (or `standIn`)",
                    ));
                }
                if c.output == Output::DemoNodes {
                    out.push(violation(sub("output"), "a process's output is not read: drop `output: demo-nodes`"));
                }
            }
        }
    }
    if talkers == 0 || listeners == 0 {
        out.push(
            violation(
                "pods",
                format!(
                    "an experiment needs at least one talker and one listener (found {talkers} talker(s), {listeners} \
                 listener(s))"
                ),
            )
            .about(&["pods[*].containers[*].role"]),
        );
    }
    let node_known = |n: &str| s.nodes.iter().any(|d| d.name == n);
    let trial_end = talkers_end + t.drain_s.0;
    for (i, f) in s.faults.iter().enumerate() {
        let sub = |name: &str| format!("faults[{i}].{name}");
        let unknown = |field: String, n: &str| {
            violation(field, format!("node `{n}` is not declared under nodes")).about(&["nodes[*].name"])
        };
        let during = |field: String, at: f64| {
            if at >= trial_end {
                Err(violation(field, format!("{at} s is after the trial ends ({trial_end} s): it would never happen"))
                    .about(&["trials.warmupS", "trials.durationS", "trials.drainS"]))
            } else {
                Ok(())
            }
        };
        let range = |name: &str, v: FaultNumber, ok: fn(f64) -> bool, what: &str| {
            if v.0.is_finite() && ok(v.0) {
                Ok(())
            } else {
                Err(violation(sub(name), format!("must be {what}, got {}", v.0)))
            }
        };
        match f {
            FaultSpec::Loss { percent, .. } => out.extend(
                range("percent", *percent, |v| (0.0..=100.0).contains(&v), "a percentage between 0 and 100").err(),
            ),
            FaultSpec::Delay { ms, jitter_ms, .. } => {
                out.extend(range("ms", *ms, |v| v > 0.0, "a positive number").err());
                if let Some(j) = jitter_ms {
                    out.extend(range("jitterMs", *j, |v| v >= 0.0, "zero or more").err());
                }
            }
            FaultSpec::Partition { from_s, to_s, .. } => {
                out.extend(range("fromS", *from_s, |v| v >= 0.0, "zero or more").err());
                out.extend(range("toS", *to_s, |v| v > 0.0, "a positive number").err());
            }
            FaultSpec::Kill { at_s, .. } => out.extend(range("atS", *at_s, |v| v >= 0.0, "zero or more").err()),
        }
        match f {
            FaultSpec::Loss { node, .. } | FaultSpec::Delay { node, .. } if !node_known(node) => {
                out.push(unknown(sub("node"), node))
            }
            FaultSpec::Delay { ms, jitter_ms, .. } => {
                out.extend(at_most(&sub("ms"), ms.0, MAX_DELAY_MS, "ms").err());
                if let Some(j) = jitter_ms.filter(|j| j.0 > ms.0) {
                    out.push(violation(
                        sub("jitterMs"),
                        format!("jitter {} ms is more than the delay {} ms", j.0, ms.0),
                    ));
                }
            }
            FaultSpec::Partition { between, from_s, to_s } => {
                if let Some(k) = between.iter().position(|n| !node_known(n)) {
                    out.push(unknown(format!("faults[{i}].between[{k}]"), &between[k]));
                }
                if between[0] == between[1] {
                    out.push(violation(sub("between"), "a partition needs two different nodes"));
                }
                if to_s.0 <= from_s.0 {
                    out.push(violation(sub("toS"), format!("toS ({}) must be after fromS ({})", to_s.0, from_s.0)));
                }
                out.extend(during(sub("fromS"), from_s.0).err());
            }
            FaultSpec::Kill { pod, container, at_s } => {
                let Some(p) = s.pods.iter().find(|p| &p.name == pod) else {
                    out.push(violation(sub("pod"), format!("no pod `{pod}`")).about(&["pods[*].name"]));
                    continue;
                };
                if !p.containers.iter().any(|c| &c.name == container) {
                    out.push(
                        violation(sub("container"), format!("no container `{container}` in pod `{pod}`"))
                            .about(&["pods[*].containers[*].name"]),
                    );
                }
                out.extend(during(sub("atS"), at_s.0).err());
            }
            FaultSpec::Loss { .. } => {}
        }
    }
    out
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

    /// `hostIPC`, spelled as Kubernetes spells it (not `hostIpc`), off unless asked.
    #[test]
    fn host_ipc_is_spelled_as_in_kubernetes() {
        let s = parse(OK, Path::new("s.yaml")).expect("valid");
        assert!(!s.pods[0].host_ipc);
        let s = parse(&OK.replace("    nodeSelector:", "    hostIPC: true\n    nodeSelector:"), Path::new("s.yaml"))
            .expect("valid");
        assert!(s.pods[0].host_ipc);
        let e = err(&OK.replace("    nodeSelector:", "    hostIpc: true\n    nodeSelector:"));
        assert!(e.to_string().contains("pods[0].hostIpc: unknown field `hostIpc`"), "{e}");
        let e = err(&OK.replace("    nodeSelector:", "    hostIPC: sometimes\n    nodeSelector:"));
        assert!(e.to_string().contains("pods[0].hostIPC"), "{e}");
    }

    /// A process (a discovery server) is neither talker nor listener: it must say what it runs,
    /// and it does not count as the experiment's talker or listener.
    #[test]
    fn a_process_runs_its_own_command_and_is_no_listener() {
        let with = |c: &str| {
            OK.replace(
                "      - {name: listener, role: listener}\n",
                &format!("      - {{name: listener, role: listener}}\n      - {c}\n"),
            )
        };
        let s = parse(&with("{name: server, role: process, command: [fastdds, discovery]}"), Path::new("s.yaml"))
            .expect("valid");
        assert_eq!(s.pods[0].containers[2].role, ContainerRole::Process);
        let e = err(&with("{name: server, role: process}"));
        assert!(e.to_string().contains("pods[0].containers[2].role: `role: process` runs your own program"), "{e}");
        let e = err(&with("{name: server, role: process, command: [x], output: demo-nodes}"));
        assert!(e.to_string().contains("containers[2].output"), "{e}");
        let e = err(&OK.replace("role: listener}", "role: process, command: [x]}"));
        assert!(e.to_string().contains("found 1 talker(s), 0 listener(s)"), "{e}");
    }

    #[test]
    fn unknown_field_has_line_and_column() {
        let e = err(&OK.replace("    nodeSelector:", "    nodeSelectr:"));
        assert_eq!(e.location().map(|l| (l.line, l.column)), Some((Some(8), Some(5))), "{e}");
        assert!(e.to_string().starts_with("s.yaml:8:5: pods[0].nodeSelectr: unknown field `nodeSelectr`"), "{e}");
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
        assert!(e.to_string().contains("s.yaml:13:24: faults[0].node: node `moon` is not declared"), "{e}");
        let e = err(&format!("{OK}faults:\n  - {{kind: loss, node: pi, percent: 130}}\n"));
        assert!(e.to_string().contains("percentage between 0 and 100"), "{e}");
        let e = err(&format!("{OK}faults:\n  - {{kind: partition, between: [pi, master], fromS: 3, toS: 2}}\n"));
        assert!(e.to_string().contains("toS (2) must be after fromS (3)"), "{e}");
        let e = err(&format!("{OK}faults:\n  - {{kind: flood, node: pi}}\n"));
        assert!(e.to_string().contains("unknown variant `flood`"), "{e}");
    }

    fn all(text: &str) -> Vec<String> {
        err(text).errors().iter().map(ToString::to_string).collect()
    }

    /// Two mistakes, two errors, in file order: a wrong type and an unknown field (parse
    /// errors), a bad value and a missing reference (validation), and one of each.
    #[test]
    fn every_error_is_reported_in_file_order() {
        let two = OK
            .replace("  - name: pi\n", "  - name: pi\n    colour: red\n")
            .replace("role: listener}", "role: listener, domain: seven}");
        assert_eq!(
            all(&two),
            [
                "s.yaml:5:5: nodes[1].colour: unknown field `colour`, expected one of name, labels, taints",
                "s.yaml:12:50: pods[0].containers[1].domain: invalid u16",
            ],
            "{}",
            err(&two)
        );
        let semantic = format!("{OK}trials: {{count: 0}}\nfaults: [{{kind: loss, node: moon, percent: 5}}]\n");
        let got = all(&semantic);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].starts_with("s.yaml:12:17: trials.count: must be between 1"), "{got:#?}");
        assert!(got[1].starts_with("s.yaml:13:29: faults[0].node: node `moon`"), "{got:#?}");
        let mixed = format!(
            "{}faults: [{{kind: kill, pod: a, container: ghost, atS: 1}}]\n",
            OK.replace("    nodeSelector:", "    nodeSelectr:")
        );
        let got = all(&mixed);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].starts_with("s.yaml:8:5: pods[0].nodeSelectr: unknown field"), "{got:#?}");
        assert!(got[1].contains("faults[0].container: no container `ghost` in pod `a`"), "{got:#?}");
        // One error is itself, not a list of one.
        assert!(matches!(err(&OK.replace("name: pi", "name: Pi_4")), SpecError::Invalid { .. }));
    }

    /// What only follows from a reported mistake is not reported again: an unknown role leaves
    /// no "missing field `role`" and no "needs a talker"; an unparsable pod name no "no pod".
    #[test]
    fn consequences_of_a_mistake_are_not_reported() {
        let got =
            all(&format!("{OK}  - name: b\n    containers: [{{name: l, role: shouter}}, {{name: m, role: x}}]\n"));
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got.iter().all(|e| e.contains("unknown variant")), "{got:#?}");
        assert!(got[0].contains("s.yaml:13:34: pods[1].containers[0].role"), "{got:#?}");
        assert!(got[1].contains("s.yaml:13:60: pods[1].containers[1].role"), "{got:#?}");
        let text = OK.replace("{name: talker, role: talker}", "{name: talker, role: talker, rateHz: fast}");
        let text = format!("{text}faults: [{{kind: kill, pod: a, container: talker, atS: 1}}, {{kind: kill, pod: b, container: x, atS: 1}}]\n");
        let got = all(&text);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].contains("pods[0].containers[0].rateHz"), "{got:#?}");
        assert!(got[1].contains("faults[1].pod: no pod `b`"), "{got:#?}");
        // A blanked item shifts the ones after it: errors still name the original index.
        let text = format!(
            "{OK}  - {{containers: [{{name: l, role: listener}}]}}\n  - name: c\n    containers: [{{name: UP, role: listener}}]\n"
        );
        let got = all(&text);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].starts_with("s.yaml:12:5: pods[1].name: missing field `name`"), "{got:#?}");
        assert!(got[1].starts_with("s.yaml:14:25: pods[2].containers[0].name: `UP`"), "{got:#?}");
    }

    #[test]
    fn spans_cover_an_entry_from_key_or_dash_to_the_end_of_its_value() {
        let p = Positions::of_text(OK);
        let chars: Vec<char> = OK.chars().collect();
        let text = |f: &str| p.span(f).map(|(a, b)| chars[a..b].iter().collect::<String>());
        assert_eq!(text("name").as_deref(), Some("name: t"));
        assert_eq!(text("nodes[1]").as_deref(), Some("- name: pi\n    labels: {kubernetes.io/arch: arm64}"));
        assert_eq!(text("pods[0].containers[0]").as_deref(), Some("- {name: talker, role: talker}"));
        assert_eq!(text("pods[0].containers[0].role").as_deref(), Some("role: talker"));
    }

    #[test]
    fn invalid_names_rejected() {
        let e = err(&OK.replace("name: pi", "name: Pi_4"));
        assert!(e.to_string().contains("nodes[1].name: `Pi_4` is not a DNS label"), "{e}");
        assert_eq!(e.location().and_then(|l| l.line), Some(4));
    }
}
