//! Diagnosis: for every pair that failed in any way — delivered nothing, lost messages, went
//! silent, lost an end — the likely cause, from the facts the nodes reported and what the
//! scenario set up. Pure; the rules live in [`rules`], each a small function tested on its own.
//!
//! Rules run on every complete trial, not only the first failing one, and on partial pairs as
//! well as silent ones. Findings with one cause are grouped into one [`Finding`] listing the pairs
//! and trials, so a report says each cause once. Where the scenario injected a fault, the
//! finding says whether the symptom matches it (a self-check of the simulator).

mod plain_words;
pub mod rules;

use std::collections::BTreeMap;

use chatter::Durability;
use serde::{Deserialize, Serialize};

use crate::analysis::trial::{ListenerFacts, PairReport, TalkerFacts, TrialReport};
use crate::analysis::PairSummary;
pub use crate::hosts::{builtin_transports_include_shm, ShmEnd};
use crate::placement::Plan;
use crate::spec::{FaultSpec, Scenario};

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

/// What the scenario set up that a rule must take into account.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub backend: String,
    /// Nodes are separate network stacks (netns, kube); on `local` they share one.
    pub separate_nodes: bool,
    pub multicast_between_nodes: bool,
    /// Talkers and listeners (container ids) whose pod is on the host network.
    pub host_network: BTreeMap<String, bool>,
    pub durability: Durability,
    pub depth: u32,
    pub warmup_s: f64,
    pub faults: Vec<FaultSpec>,
    /// Configured `startDelayS` per container id.
    pub start_delays: BTreeMap<String, f64>,
    /// The doctor's probes before the run (`--preflight`): the rules cite them.
    pub doctor: Option<crate::doctor::DoctorReport>,
    /// Talkers and listeners (container ids) whose Fast DDS may send data through shared
    /// memory (see [`ShmEnd::of`]), with their pod.
    pub shm: BTreeMap<String, ShmEnd>,
    /// Talkers and listeners that are stock nodes read from their console (`output:
    /// demo-nodes`): they say nothing about discovery.
    pub stock: std::collections::BTreeSet<String>,
}

#[cfg(test)]
impl Setting {
    /// The rules' test setting: two nodes on netns, flannel (no multicast between them), the
    /// pod network, volatile depth 10, 1 s of warm-up, no faults.
    pub(crate) fn netns_flannel() -> Self {
        Setting {
            backend: "netns".into(),
            separate_nodes: true,
            multicast_between_nodes: false,
            host_network: BTreeMap::new(),
            durability: Durability::Volatile,
            depth: 10,
            warmup_s: 1.0,
            faults: Vec::new(),
            start_delays: BTreeMap::new(),
            doctor: None,
            shm: BTreeMap::new(),
            stock: Default::default(),
        }
    }
}

impl Setting {
    pub fn new(scenario: &Scenario, plan: &Plan, backend: &str) -> Setting {
        Setting {
            backend: backend.to_owned(),
            separate_nodes: backend != "local",
            multicast_between_nodes: scenario.network.multicast_between_nodes,
            host_network: plan.containers().map(|(p, c)| (c.id.clone(), p.host_network)).collect(),
            durability: scenario.dds.durability,
            depth: scenario.dds.depth,
            warmup_s: plan.timing.warmup.as_secs_f64(),
            faults: scenario.faults.clone(),
            start_delays: plan
                .containers()
                .filter(|(_, c)| !c.start_delay.is_zero())
                .map(|(_, c)| (c.id.clone(), c.start_delay.as_secs_f64()))
                .collect(),
            doctor: None,
            shm: plan.containers().filter_map(|(p, c)| Some((c.id.clone(), ShmEnd::of(p, c)?))).collect(),
            stock: plan
                .containers()
                .filter(|(_, c)| c.output == crate::spec::Output::DemoNodes)
                .map(|(_, c)| c.id.clone())
                .collect(),
        }
    }

    /// Whether the pod of talker or listener `id` is on the host network.
    pub fn on_host_network(&self, id: &str) -> bool {
        self.host_network.get(id).copied().unwrap_or(false)
    }

    /// Partition faults between nodes `a` and `b` (either order).
    pub fn partitions_between(&self, a: &str, b: &str) -> Vec<&FaultSpec> {
        self.faults
            .iter()
            .filter(|f| match f {
                FaultSpec::Partition { between, .. } => {
                    (between[0] == a && between[1] == b) || (between[0] == b && between[1] == a)
                }
                _ => false,
            })
            .collect()
    }
}

/// What a pair rule sees: one pair in one trial, its two ends, its trial, the setting.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub pair: &'a PairReport,
    pub talker: Option<&'a TalkerFacts>,
    pub listener: Option<&'a ListenerFacts>,
    pub trial: &'a TrialReport,
    pub setting: &'a Setting,
}

impl<'a> Context<'a> {
    pub fn new(pair: &'a PairReport, trial: &'a TrialReport, setting: &'a Setting) -> Context<'a> {
        Context { pair, talker: trial.talker(&pair.talker), listener: trial.listener(&pair.listener), trial, setting }
    }
}

/// Rules build findings one pair (or node) and trial at a time; [`group`] merges those with
/// the same rule and cause. A rule's cause must not name trial-specific numbers, so they group.
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

/// At most this many evidence lines per finding; the rest are counted.
const MAX_EVIDENCE: usize = 8;

/// Explains the complete trials of a run.
pub fn diagnose(trials: &[&TrialReport], pairs: &[PairSummary], setting: &Setting) -> Vec<Finding> {
    let mut hits = Vec::new();
    for trial in trials {
        for pair in &trial.pairs {
            let ctx = Context::new(pair, trial, setting);
            if pair.delivery == crate::analysis::Delivery::None {
                hits.extend(rules::why_silent(&ctx));
            } else {
                hits.extend(rules::LATE_RULES.iter().filter_map(|rule| rule(&ctx)));
            }
        }
        hits.extend(rules::containers_failed(trial));
        hits.extend(rules::nodes_died(trial, setting));
        hits.extend(rules::outages(trial, setting));
    }
    hits.extend(rules::loss(trials, pairs, setting));
    hits.extend(rules::faults_not_seen(&hits, setting));
    group(hits)
}

/// Merges findings with one rule and cause; failures first, then in the order causes appeared.
pub fn group(hits: Vec<Finding>) -> Vec<Finding> {
    let mut findings: Vec<(Finding, usize)> = Vec::new();
    for h in hits {
        let at = findings.iter().position(|(f, _)| f.rule == h.rule && f.cause == h.cause);
        let (f, dropped) = match at {
            Some(i) => &mut findings[i],
            None => {
                findings.push((Finding::new(&h.rule, h.severity, h.cause.clone(), h.advice.clone()), 0));
                let last = findings.len() - 1;
                &mut findings[last]
            }
        };
        f.severity = f.severity.min(h.severity);
        for p in h.pairs {
            if !f.pairs.contains(&p) {
                f.pairs.push(p);
            }
        }
        for t in h.trials {
            if !f.trials.contains(&t) {
                f.trials.push(t);
            }
        }
        for e in h.evidence {
            if f.evidence.contains(&e) {
                continue;
            }
            if f.evidence.len() < MAX_EVIDENCE {
                f.evidence.push(e);
            } else {
                *dropped += 1;
            }
        }
        if let Some(check) = h.fault {
            f.fault = Some(match f.fault.take() {
                // A fault matches only if every trial's symptom does.
                Some(prev) => FaultCheck {
                    matches: prev.matches && check.matches,
                    observed: if prev.observed.contains(&check.observed) {
                        prev.observed
                    } else {
                        format!("{}; {}", prev.observed, check.observed)
                    },
                    injected: prev.injected,
                },
                None => check,
            });
        }
    }
    let mut out: Vec<Finding> = findings
        .into_iter()
        .map(|(mut f, dropped)| {
            if dropped > 0 {
                f.evidence.push(format!("… and {dropped} more like these"));
            }
            f.trials.sort_unstable();
            f
        })
        .collect();
    out.sort_by_key(|f| f.severity);
    out
}
