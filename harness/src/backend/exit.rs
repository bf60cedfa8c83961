//! How a container that did not run its trial through ended ([`ContainerExit`]): as the
//! cluster reported it, or as the harness saw a process on this machine end, and in words for
//! the report.

use serde::{Deserialize, Serialize};

use super::process;

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
