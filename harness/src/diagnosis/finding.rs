//! What a diagnosis says: a [`Finding`] (one cause, with the pairs and trials it explains),
//! how bad it is ([`Severity`]) and whether it matches an injected fault ([`FaultCheck`]), with
//! the builder the rules write findings with.

use serde::{Deserialize, Serialize};

/// How bad a finding is. Only failures make a run `degraded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Messages did not arrive (or an end died).
    Failure,
    /// Something worth knowing that cost little or nothing.
    Warning,
    /// By design, not a fault (e.g. a late joiner on volatile durability).
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Failure => "failure",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Whether an observed symptom matches a fault the scenario injected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCheck {
    pub injected: String,
    pub observed: String,
    pub matches: bool,
}

/// One cause, with every pair and trial it explains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule id, e.g. `domain-mismatch`.
    pub rule: String,
    pub severity: Severity,
    pub cause: String,
    /// `talker → listener`, each once.
    pub pairs: Vec<String>,
    pub trials: Vec<u32>,
    pub evidence: Vec<String>,
    pub advice: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultCheck>,
}

/// Rules build findings one pair (or node) and trial at a time; [`group`](super::group) merges
/// those with the same rule and cause. A rule's cause must not name trial-specific numbers, so
/// they group.
impl Finding {
    pub fn new(rule: &str, severity: Severity, cause: impl Into<String>, advice: impl Into<String>) -> Finding {
        Finding {
            rule: rule.to_owned(),
            severity,
            cause: cause.into(),
            pairs: Vec::new(),
            trials: Vec::new(),
            evidence: Vec::new(),
            advice: advice.into(),
            fault: None,
        }
    }

    pub fn pair(mut self, name: String) -> Finding {
        self.pairs.push(name);
        self
    }

    pub fn trial(mut self, trial: u32) -> Finding {
        self.trials.push(trial);
        self
    }

    pub fn evidence(mut self, line: impl Into<String>) -> Finding {
        self.evidence.push(line.into());
        self
    }

    pub fn fault(mut self, check: Option<FaultCheck>) -> Finding {
        self.fault = check;
        self
    }
}
