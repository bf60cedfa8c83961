//! Backends execute a [`Plan`]; they decide nothing about placement or analysis. Each trial
//! starts every container fresh, forwards every stdout line it prints, and stops it cleanly.

pub mod drive;
pub mod kube;
pub mod local;
pub mod netns;
pub mod process;

use std::collections::BTreeMap;
use std::path::PathBuf;

use tokio::sync::{mpsc, watch};

use crate::placement::{Node, Plan};
use crate::spec::Scenario;
use serde::{Deserialize, Serialize};

/// One line a container printed, with where it came from; or (with `event`) the moment its
/// process started or its output ended, which containers that print no records of their own
/// (the stock demo nodes) need for their start and stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub pod: String,
    pub container: String,
    pub text: String,
    pub event: Option<Lifecycle>,
}

/// A container's process started, or its output ended (it exited or was stopped); or the
/// cluster placed a pod (`container` empty) on `node` — before any of its records, so the
/// analysis reads them with the node they really came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    Started { t_ns: u64 },
    Ended { t_ns: u64 },
    Placed { node: String },
}

impl Line {
    pub fn text(pod: &str, container: &str, text: String) -> Line {
        Line { pod: pod.to_owned(), container: container.to_owned(), text, event: None }
    }

    pub fn event(pod: &str, container: &str, event: Lifecycle) -> Line {
        Line { pod: pod.to_owned(), container: container.to_owned(), text: String::new(), event: Some(event) }
    }
}

/// A line of output as text: bytes that are not UTF-8 are replaced, never fatal, and the line
/// ending is dropped.
pub fn lossy_line(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

/// Which trial to run. The backend stamps the trial's origin itself, once its setup is done
/// (see [`TrialMeta`]); measurement windows come from the nodes' own start records.
#[derive(Debug, Clone)]
pub struct TrialStart {
    pub trial: u32,
    /// Becomes `Some(t_ns)` when the harness opens the measurement window early (every pair it
    /// expects has matched, before the warm-up ran out): a backend that
    /// [opens windows early](Backend::opens_windows_early) tells the talkers to publish the
    /// window's length from then on.
    pub open: watch::Receiver<Option<u64>>,
    /// The harness holds the trial's windows at a start barrier: `open` becomes `Some` when the
    /// warm-up after the last node's start ran out (or earlier, every pair matched). The
    /// backend's talkers then publish until the window's length after that, however late the
    /// last node came up (see [`crate::timing::BARRIER_BOUND`]).
    pub barrier: bool,
}

/// The timing facts of one trial, as the backend that ran it measured them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialMeta {
    /// 1-based.
    pub trial: u32,
    /// Origin of the trial's timeline (wall clock, ns): when the backend began starting the
    /// containers, after its setup. Fault times and reported times count from here.
    pub start_ns: u64,
    pub end_ns: u64,
    /// The trial was cut short (Ctrl-C), or the backend failed during it.
    pub interrupted: bool,
    /// When the window opened early (every expected pair had matched), wall clock ns; absent
    /// when the warm-up ran out first (or the backend cannot open it early).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_ns: Option<u64>,
}

impl TrialMeta {
    /// A trial that began at `origin_ns` and ends now.
    pub fn ended(trial: u32, origin_ns: u64, interrupted: bool) -> TrialMeta {
        TrialMeta { trial, start_ns: origin_ns, end_ns: chatter::now_ns(), interrupted, opened_ns: None }
    }
}

/// What a backend saw of one trial beyond the nodes' records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialFacts {
    /// Where each pod actually ran (pod → node), when the cluster's scheduler decided rather
    /// than placement; empty when the plan's placement held.
    pub placement: BTreeMap<String, String>,
    /// Containers that ended badly or restarted during the trial.
    pub containers: Vec<ContainerExit>,
    /// Why the trial's records are incomplete (a container's log stream broke): the runner
    /// marks the trial interrupted, so its missing records are not read as message loss.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}

/// A container that did not run the trial through: how it ended, as the cluster reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerExit {
    /// `pod.container`, as in the records.
    pub id: String,
    pub node: String,
    /// The node's architecture, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Kubernetes' reason: `OOMKilled`, `Error`, `StartError`, `ContainerCannotRun`, …
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    #[serde(default)]
    pub restarts: i32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The binary could not be executed on this node's CPU (`exec format error`, or an image
    /// without a build for its architecture).
    #[serde(default)]
    pub wrong_arch: bool,
    /// When it ended, ms since the trial's start (processes on this machine: the harness reaped
    /// it then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    /// Its last lines on stderr, oldest first (bounded: [`process::STDERR_TAIL`] lines).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stderr: Vec<String>,
}

impl ContainerExit {
    /// A process on this machine that ended by itself, as `drive` saw it end: `trial_start_ns`
    /// is the trial's origin.
    pub fn of_process(
        id: String,
        node: String,
        arch: Option<String>,
        end: process::Ended,
        trial_start_ns: u64,
    ) -> Self {
        let reason = match (end.code, end.signal) {
            (Some(0), _) => "Completed",
            (_, Some(_)) => "Signaled",
            _ => "Error",
        };
        ContainerExit {
            id,
            node,
            arch,
            reason: reason.to_owned(),
            exit_code: end.code,
            signal: end.signal,
            restarts: 0,
            message: String::new(),
            wrong_arch: end.stderr.iter().any(|l| l.contains("Exec format error") || l.contains("exec format error")),
            at_ms: Some(end.t_ns.saturating_sub(trial_start_ns) / 1_000_000),
            stderr: end.stderr,
        }
    }

    /// How a process on this machine ended, in words — `exited with status 1 at 0.02 s`,
    /// `was killed by signal 11 (SIGSEGV) at 1.30 s` — or `None` for a container the cluster
    /// reported (no time of its own).
    pub fn ended(&self) -> Option<String> {
        let at = self.at_ms? as f64 / 1000.0;
        Some(match (self.exit_code, self.signal) {
            (_, Some(sig)) => {
                let name = nix::sys::signal::Signal::try_from(sig).map(|s| format!(" ({s})")).unwrap_or_default();
                format!("was killed by signal {sig}{name} at {at:.2} s")
            }
            (Some(code), None) => format!("exited with status {code} at {at:.2} s"),
            (None, None) => format!("ended at {at:.2} s"),
        })
    }

    /// The last stderr line, where it printed one.
    pub fn last_words(&self) -> Option<&str> {
        self.stderr.last().map(String::as_str)
    }

    /// One line: `demo-talker.talker on pi (arm64): OOMKilled, exit 137`, or for a process on
    /// this machine `demo-talker.talker on master: exited with status 1 at 0.02 s: error: …`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} on {}", self.id, self.node);
        if let Some(a) = &self.arch {
            s.push_str(&format!(" ({a})"));
        }
        if let Some(how) = self.ended() {
            s.push_str(&format!(": {how}"));
            if self.wrong_arch {
                s.push_str(", wrong architecture: the binary is not for this node's CPU");
            }
            if let Some(words) = self.last_words() {
                s.push_str(&format!(": {words}"));
            }
            return s;
        }
        s.push_str(&format!(": {}", self.reason));
        if let Some(c) = self.exit_code {
            s.push_str(&format!(", exit {c}"));
        }
        if let Some(sig) = self.signal {
            s.push_str(&format!(", signal {sig}"));
        }
        if self.restarts > 0 {
            s.push_str(&format!(", restarted {} time(s)", self.restarts));
        }
        if self.wrong_arch {
            s.push_str(", wrong architecture: the image has no build for this node's CPU");
        }
        if !self.message.is_empty() {
            s.push_str(&format!(" ({})", self.message.trim()));
        }
        s
    }
}

/// Backend failures.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Sandbox(#[from] chatter_sandbox::SandboxError),
    #[error("could not start {what}: {source}")]
    Spawn { what: String, source: std::io::Error },
    #[error("node binary not found: {} (pass --node-bin-dir, or run the harness binary itself)", .0.display())]
    MissingBinary(PathBuf),
    /// Refused before anything started: the machine or the scenario cannot do this.
    #[error("{0}")]
    Unsupported(String),
    #[error("`{command}` failed: {detail}")]
    Setup { command: String, detail: String },
    #[error("Kubernetes API: {what}: {source}")]
    Kube { what: String, source: Box<::kube::Error> },
    /// An API error explained: forbidden, conflict, rejected object.
    #[error("Kubernetes API: {what}: {detail}")]
    Api { what: String, detail: String },
    #[error("Kubernetes API: {what}: {source}")]
    Wait { what: String, source: Box<::kube::runtime::wait::Error> },
    #[error("pod {pod} cannot run: {reason}")]
    Pod { pod: String, reason: String },
}

/// How a backend runs node processes: which program, with which leading arguments, for a role
/// (`talker`/`listener`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeCommand {
    /// This harness binary's hidden `node` subcommand (`harness node talker …`).
    SelfExe(PathBuf),
    /// Separate `talker` and `listener` binaries in a directory.
    BinDir(PathBuf),
}

impl NodeCommand {
    /// Program and leading arguments for `binary` (`talker` or `listener`).
    pub fn resolve(&self, binary: &str) -> Result<(PathBuf, Vec<String>), BackendError> {
        match self {
            NodeCommand::SelfExe(exe) => Ok((exe.clone(), vec!["node".into(), binary.into()])),
            NodeCommand::BinDir(dir) => {
                let path = dir.join(binary);
                if path.is_file() {
                    Ok((path, Vec::new()))
                } else {
                    Err(BackendError::MissingBinary(path))
                }
            }
        }
    }
}

/// Appends to `cmd` (a wrapper such as `nsenter … --`) what runs container `c`: your own
/// `command` + `args` with its environment, or the harness's node (under qemu-aarch64 from
/// `arm64_bin_dir` when given).
pub fn program(
    cmd: &mut tokio::process::Command,
    nodes: &NodeCommand,
    pod: &crate::placement::PlacedPod,
    c: &crate::placement::PlannedContainer,
    arm64_bin_dir: Option<&std::path::Path>,
) -> Result<(), BackendError> {
    cmd.env("POD_NAME", &pod.name).envs(&c.env);
    if let Some(stand_in) = &c.stand_in {
        cmd.args(stand_in);
        return Ok(());
    }
    if let Some(command) = &c.command {
        cmd.args(command).args(&c.args);
        return Ok(());
    }
    match arm64_bin_dir {
        Some(dir) => {
            cmd.arg("qemu-aarch64").args(["-L", AARCH64_SYSROOT]).arg(dir.join(c.binary()));
        }
        None => {
            let (program, lead) = nodes.resolve(c.binary())?;
            cmd.arg(program).args(lead);
        }
    }
    cmd.args(&c.args);
    Ok(())
}

/// Sysroot of Debian's aarch64 cross libc, for qemu's dynamic loader.
pub const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// On this machine a container runs a program, not an image: one that names only an image
/// cannot run here.
pub fn check_commands(plan: &Plan) -> Result<(), BackendError> {
    match plan.containers().find(|(_, c)| c.image.is_some() && c.command.is_none() && c.stand_in.is_none()) {
        Some((p, c)) => Err(BackendError::Unsupported(format!(
            "container {}/{} names an image but no command: on this machine the harness runs programs, not \
             images; give it `standIn:` (e.g. tests/peers/demo_nodes.py for the stock demo nodes) or `command:` or use --backend kube",
            p.name, c.name
        ))),
        None => Ok(()),
    }
}

/// A way to run trials.
#[allow(async_fn_in_trait)] // used generically within this crate, never as a trait object
pub trait Backend {
    fn name(&self) -> &'static str;

    /// What a reader of the report must know: the backend's fidelity, faults injected.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Checks and builds what the trials need, after placement and before the first trial.
    /// Anything the scenario asks for that this backend cannot do is refused here.
    async fn prepare(&mut self, scenario: &Scenario, plan: &Plan, run_id: &str) -> Result<(), BackendError> {
        let _ = (scenario, plan, run_id);
        Ok(())
    }

    /// Every node stamps its records with one clock (processes on this machine), so one-way
    /// latency between nodes is real.
    fn shared_clock(&self) -> bool {
        true
    }

    /// What the backend saw of trial `trial` beyond the records (called once, after it ran).
    fn trial_facts(&mut self, trial: u32) -> TrialFacts {
        let _ = trial;
        TrialFacts::default()
    }

    /// Another instance of this backend that runs trials beside this one, on resources of its
    /// own (netns: a simulated cluster of its own), for `--parallel`; `None` when trials here
    /// cannot run at once (they would share nodes and network). It is prepared and cleaned up
    /// like this one.
    fn sibling(&self, slot: usize) -> Option<Self>
    where
        Self: Sized,
    {
        let _ = slot;
        None
    }

    /// Whether it can open a trial's window before the warm-up runs out (see
    /// [`TrialStart::open`]): it starts the talkers itself and can signal them.
    fn opens_windows_early(&self) -> bool {
        false
    }

    /// The nodes placement may use.
    async fn nodes(&mut self, scenario: &Scenario) -> Result<Vec<Node>, BackendError>;

    /// Runs one trial of `plan`, sending every line the containers print to `lines`. Returns
    /// early, with `interrupted` set, when `stop` becomes true.
    async fn run_trial(
        &mut self,
        plan: &Plan,
        start: TrialStart,
        lines: mpsc::UnboundedSender<Line>,
        stop: watch::Receiver<bool>,
    ) -> Result<TrialMeta, BackendError>;

    /// Removes whatever the backend created. Called at the end, after errors and after Ctrl-C.
    async fn cleanup(&mut self) -> Result<(), BackendError>;
}
