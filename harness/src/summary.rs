//! The verdict over trials, and the [`RunReport`] every exporter renders. Above analysis and
//! diagnosis (it uses both; neither uses it).
//!
//! Trials are grouped by placement — where each pod actually ran — before anything is called a
//! race: if every placement always gave one outcome, the run is `placement-determined`, and the
//! report says which placement gives which outcome. Only the same placement giving different
//! outcomes is a `race`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::{OutcomeShare, PairSummary, Roster, RunAnalyzer, TrialReport};
use crate::diagnosis::{self, Finding, Setting, Severity};
use crate::spec::ExpectSpec;

/// Version of `summary.json`.
pub const SUMMARY_SCHEMA: u32 = 2;

/// What the trials say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictKind {
    /// Every trial ended the same way, every pair delivered fully, nothing failed.
    Consistent,
    /// Outcomes differ, but each placement always gave the same one: not a timing race.
    PlacementDetermined,
    /// The same placement gave different outcomes.
    Race,
    /// Every pair delivered something, but messages were lost, links went silent or an end died.
    Degraded,
    /// Some pair delivered nothing in any trial.
    NoDelivery,
    /// No complete trial to judge.
    Inconclusive,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Consistent => "consistent",
            VerdictKind::PlacementDetermined => "placement-determined",
            VerdictKind::Race => "race",
            VerdictKind::Degraded => "degraded",
            VerdictKind::NoDelivery => "no-delivery",
            VerdictKind::Inconclusive => "inconclusive",
        }
    }
}

/// The trials that ran with one placement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacementGroup {
    /// In words, naming only the pods that moved between trials (`demo-talker on pi`).
    pub label: String,
    /// pod → node.
    pub placement: BTreeMap<String, String>,
    pub trials: Vec<u32>,
    /// Outcome letter → trials.
    pub outcomes: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    /// One sentence a reader can act on.
    pub headline: String,
    pub evidence: Vec<String>,
    pub groups: Vec<PlacementGroup>,
}

/// A threshold from `expect` and whether the run met it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationResult {
    pub what: String,
    pub passed: bool,
    pub detail: String,
}

/// Everything a run found; what every exporter renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub schema: u32,
    pub run_id: String,
    pub scenario: String,
    pub backend: String,
    /// Caveats about the backend's fidelity, the clock, the scenario's choices.
    pub notes: Vec<String>,
    /// The planned roster (per-trial placement is in each trial).
    pub roster: Roster,
    /// Every trial, interrupted ones included (they count nowhere else).
    pub trials: Vec<TrialReport>,
    pub pairs: Vec<PairSummary>,
    pub distribution: Vec<OutcomeShare>,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    pub expectations: Vec<ExpectationResult>,
    /// Receive timelines of the trials a report draws (built from their records; see
    /// [`crate::analysis::timeline`]).
    #[serde(default)]
    pub timelines: Vec<crate::analysis::timeline::Timeline>,
}

impl RunReport {
    pub fn expectations_met(&self) -> bool {
        self.expectations.iter().all(|e| e.passed)
    }

    /// Trials that ran to their end.
    pub fn complete(&self) -> impl Iterator<Item = &TrialReport> {
        self.trials.iter().filter(|t| !t.meta.interrupted)
    }

    /// The letter of an outcome label.
    pub fn letter_of(&self, outcome: &str) -> Option<&str> {
        self.distribution.iter().find(|o| o.outcome == outcome).map(|o| o.letter.as_str())
    }
}

/// Identity and context of a run, for [`summarize`].
#[derive(Debug, Clone, Copy)]
pub struct RunInfo<'a> {
    pub run_id: &'a str,
    pub scenario: &'a str,
    pub backend: &'a str,
    pub roster: &'a Roster,
    pub setting: &'a Setting,
    pub expect: Option<&'a ExpectSpec>,
}

/// The report over every trial so far.
pub fn summarize(info: RunInfo<'_>, analyzer: &RunAnalyzer, notes: Vec<String>) -> RunReport {
    let pairs = analyzer.pair_summaries();
    let complete = analyzer.complete();
    let distribution = analyzer.distribution();
    let findings = diagnosis::diagnose(&complete, &pairs, info.setting);
    let verdict = verdict(&complete, &pairs, &distribution, &findings);
    let expectations = info.expect.map(|e| check(e, &pairs)).unwrap_or_default();
    RunReport {
        schema: SUMMARY_SCHEMA,
        run_id: info.run_id.to_owned(),
        scenario: info.scenario.to_owned(),
        backend: info.backend.to_owned(),
        notes,
        roster: info.roster.clone(),
        trials: analyzer.trials(),
        pairs,
        distribution,
        verdict,
        findings,
        expectations,
        timelines: Vec::new(),
    }
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

/// Groups trials by where every pod ran, naming only the pods that moved.
pub fn placement_groups(trials: &[&TrialReport], dist: &[OutcomeShare]) -> Vec<PlacementGroup> {
    let moved: Vec<&String> = trials
        .first()
        .map(|first| {
            first
                .placement
                .iter()
                .filter(|(pod, node)| trials.iter().any(|t| t.placement.get(*pod) != Some(*node)))
                .map(|(pod, _)| pod)
                .collect()
        })
        .unwrap_or_default();
    let mut groups: Vec<PlacementGroup> = Vec::new();
    for t in trials {
        let letter = dist.iter().find(|o| o.outcome == t.outcome).map_or("?".to_owned(), |o| o.letter.clone());
        let g = match groups.iter_mut().position(|g| g.placement == t.placement) {
            Some(i) => &mut groups[i],
            None => {
                let label = if moved.is_empty() {
                    "one placement".to_owned()
                } else {
                    moved
                        .iter()
                        .map(|pod| format!("{pod} on {}", t.placement.get(*pod).map_or("?", String::as_str)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                groups.push(PlacementGroup {
                    label,
                    placement: t.placement.clone(),
                    trials: Vec::new(),
                    outcomes: BTreeMap::new(),
                });
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        g.trials.push(t.meta.trial);
        *g.outcomes.entry(letter).or_default() += 1;
    }
    groups
}

/// Trials a placement needs, all with one outcome, before that outcome counts as settled: with
/// 5 of 5, the low end of the Wilson 95 % interval (57 %) is past one half.
pub const SETTLED_TRIALS: usize = 5;
/// A placement whose outcomes differ is settled once its leading outcome's Wilson 95 % interval
/// is at most this wide (the share of a race is then known to ± 15 points).
pub const SETTLED_WIDTH: f64 = 0.3;

/// Why the verdict can no longer change at 95 % (`trials.until: confident`), or `None` while it
/// still can: every placement seen gave one outcome in at least [`SETTLED_TRIALS`] trials, or
/// its leading outcome's Wilson interval is at most [`SETTLED_WIDTH`] wide.
pub fn confident(groups: &[PlacementGroup]) -> Option<String> {
    if groups.is_empty() {
        return None;
    }
    let mut words = Vec::new();
    for g in groups {
        let n = g.trials.len();
        let (letter, k) = g.outcomes.iter().max_by_key(|(_, k)| **k).map(|(l, k)| (l.as_str(), *k as usize))?;
        let (low, high) = crate::analysis::run::wilson(k as u64, n as u64);
        let settled = if g.outcomes.len() == 1 { n >= SETTLED_TRIALS } else { high - low <= SETTLED_WIDTH };
        if !settled {
            return None;
        }
        words.push(format!("{} → {letter} {k}/{n} ({} – {})", g.label, pct(low), pct(high)));
    }
    Some(words.join("; "))
}

fn outcome_words(dist: &[OutcomeShare]) -> Vec<String> {
    dist.iter()
        .map(|s| {
            format!(
                "{}: {} — {}/{} trials ({}, 95 % CI {}–{})",
                s.letter,
                s.outcome,
                s.trials,
                dist.iter().map(|d| d.trials).sum::<u32>(),
                pct(s.share),
                pct(s.wilson_low),
                pct(s.wilson_high)
            )
        })
        .collect()
}

fn group_words(g: &PlacementGroup) -> String {
    let n = g.trials.len();
    let outs: Vec<String> = g.outcomes.iter().map(|(l, k)| format!("{l} in {k}/{n}")).collect();
    format!("{} → {}", g.label, outs.join(", "))
}

/// The verdict over the complete trials, checked in order: no trial to judge; the same
/// placement giving different outcomes (a race); outcomes that differ only with placement; a
/// pair that never delivered; failures; otherwise consistent.
pub fn verdict(trials: &[&TrialReport], pairs: &[PairSummary], dist: &[OutcomeShare], findings: &[Finding]) -> Verdict {
    let n = trials.len();
    let groups = placement_groups(trials, dist);
    if n == 0 {
        return Verdict {
            kind: VerdictKind::Inconclusive,
            headline: "no trial completed: nothing to judge".into(),
            evidence: Vec::new(),
            groups,
        };
    }
    if groups.iter().any(|g| g.outcomes.len() > 1) {
        return race(groups, pairs, dist, n);
    }
    if dist.len() > 1 {
        return placement_determined(groups, dist);
    }
    let dead: Vec<&PairSummary> = pairs.iter().filter(|p| p.trials_heard() == 0 && p.trials > 0).collect();
    if !dead.is_empty() {
        return no_delivery(groups, &dead, findings);
    }
    let failures: Vec<&Finding> = findings.iter().filter(|f| f.severity == Severity::Failure).collect();
    if !failures.is_empty() {
        return Verdict {
            kind: VerdictKind::Degraded,
            headline: format!(
                "every pair delivered, but not fully: {}",
                failures.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>().join(", ")
            ),
            evidence: failures.iter().map(|f| format!("[{}] {}", f.rule, f.cause)).collect(),
            groups,
        };
    }
    Verdict {
        kind: VerdictKind::Consistent,
        headline: format!("every listener heard every talker it should, in all {n} trial(s)"),
        evidence: outcome_words(dist),
        groups,
    }
}

/// A race: some placement gave different outcomes over `n` trials; the evidence names those
/// placements and the pairs that delivered in some trials and nothing in others.
fn race(groups: Vec<PlacementGroup>, pairs: &[PairSummary], dist: &[OutcomeShare], n: usize) -> Verdict {
    let mut evidence = vec!["the same placement gave different outcomes:".to_owned()];
    evidence.extend(groups.iter().filter(|g| g.outcomes.len() > 1).map(group_words));
    evidence.extend(outcome_words(dist));
    for p in pairs.iter().filter(|p| p.trials_none > 0 && p.trials_heard() > 0) {
        evidence.push(format!(
            "{} ({}): delivered in {} trial(s), nothing in {}",
            p.name(),
            p.relation.as_str(),
            p.trials_heard(),
            p.trials_none
        ));
    }
    Verdict {
        kind: VerdictKind::Race,
        headline: format!(
            "a race: with the pods in the same places, who hears whom changed between trials ({} outcomes over {n} trials)",
            dist.len()
        ),
        evidence,
        groups,
    }
}

/// Outcomes differ, but each placement always gave one: placement decides, not timing.
fn placement_determined(groups: Vec<PlacementGroup>, dist: &[OutcomeShare]) -> Verdict {
    let mut evidence: Vec<String> = groups.iter().map(group_words).collect();
    evidence.extend(outcome_words(dist));
    if groups.iter().any(|g| g.trials.len() == 1) {
        evidence.push("a placement seen in one trial only cannot show a race; run more trials to be sure".into());
    }
    Verdict {
        kind: VerdictKind::PlacementDetermined,
        headline: format!(
            "not a timing race: the outcome is determined by placement — {}",
            groups.iter().map(group_words).collect::<Vec<_>>().join("; ")
        ),
        evidence,
        groups,
    }
}

/// Pairs that delivered nothing in any trial, with the failures' causes as evidence.
fn no_delivery(groups: Vec<PlacementGroup>, dead: &[&PairSummary], findings: &[Finding]) -> Verdict {
    let mut evidence: Vec<String> = dead
        .iter()
        .map(|p| {
            format!(
                "{} ({}): 0 of {} messages in every one of {} trial(s)",
                p.name(),
                p.relation.as_str(),
                p.expected,
                p.trials
            )
        })
        .collect();
    for f in findings.iter().filter(|f| f.severity == Severity::Failure) {
        evidence.push(format!("cause [{}]: {}", f.rule, f.cause));
    }
    Verdict {
        kind: VerdictKind::NoDelivery,
        headline: format!(
            "{} pair(s) never delivered, in every trial, with the same outcome each time (not a race)",
            dead.len()
        ),
        evidence,
        groups,
    }
}

fn check(e: &ExpectSpec, pairs: &[PairSummary]) -> Vec<ExpectationResult> {
    let mut out = Vec::new();
    if let Some(min) = e.min_delivery {
        let worst = pairs.iter().min_by(|a, b| a.ratio.total_cmp(&b.ratio));
        out.push(ExpectationResult {
            what: format!("every pair delivers ≥ {}", pct(min.0)),
            passed: pairs.iter().all(|p| p.ratio >= min.0),
            detail: worst.map_or("no pairs".into(), |p| format!("worst: {} at {:.1} %", p.name(), p.ratio * 100.0)),
        });
    }
    if let Some(max) = e.max_p99_latency_ms {
        let limit_us = max.0 * 1000.0;
        let worst = pairs.iter().filter_map(|p| p.latency_p99_us.map(|v| (p, v))).max_by_key(|(_, v)| *v);
        out.push(ExpectationResult {
            what: format!("every pair's p99 latency < {} ms", max.0),
            passed: pairs.iter().all(|p| p.latency_p99_us.is_some_and(|v| (v as f64) < limit_us)),
            detail: worst.map_or("no latency measured".into(), |(p, v)| {
                format!("worst: {} at {:.2} ms", p.name(), v as f64 / 1000.0)
            }),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::TrialMeta;

    fn trial(n: u32, talker_on: &str, outcome: &str) -> TrialReport {
        TrialReport {
            meta: TrialMeta { trial: n, start_ns: 0, end_ns: 1, interrupted: false, opened_ns: None },
            placement: BTreeMap::from([
                ("demo-listener".into(), "master".into()),
                ("demo-talker".into(), talker_on.into()),
                ("demo-talkerlistener".into(), "pi".into()),
            ]),
            talkers: Vec::new(),
            listeners: Vec::new(),
            pairs: Vec::new(),
            silences: Vec::new(),
            outcome: outcome.into(),
            stray: 0,
            containers: Vec::new(),
            incomplete: Vec::new(),
            warmup_ends_ns: None,
            last_started_ns: None,
            participants: Vec::new(),
            traffic: Vec::new(),
            kernel: Vec::new(),
        }
    }

    fn judge(trials: &[TrialReport]) -> Verdict {
        let mut a = RunAnalyzer::default();
        for t in trials {
            a.add(t.clone(), Vec::new());
        }
        verdict(&a.complete(), &[], &a.distribution(), &[])
    }

    #[test]
    fn outcomes_explained_by_placement_are_not_a_race() {
        let mut trials = Vec::new();
        for n in 1..=10 {
            let on_pi = n % 3 != 0;
            trials.push(trial(
                n,
                if on_pi { "pi" } else { "master" },
                if on_pi { "pi hears all" } else { "each hears its node" },
            ));
        }
        let v = judge(&trials);
        assert_eq!(v.kind, VerdictKind::PlacementDetermined, "{v:?}");
        assert!(v.headline.starts_with("not a timing race"), "{}", v.headline);
        assert!(v.headline.contains("demo-talker on pi → A in 7/7"), "{}", v.headline);
        assert!(v.headline.contains("demo-talker on master → B in 3/3"), "{}", v.headline);
        assert_eq!(v.groups.len(), 2);
    }

    #[test]
    fn one_placement_with_two_outcomes_is_a_race() {
        let trials = vec![trial(1, "pi", "x"), trial(2, "pi", "y"), trial(3, "master", "x")];
        let v = judge(&trials);
        assert_eq!(v.kind, VerdictKind::Race, "{v:?}");
        assert!(v.evidence.iter().any(|e| e.contains("demo-talker on pi → A in 1/2, B in 1/2")), "{:?}", v.evidence);
    }

    /// The stop rule of `until: confident`: each placement needs five trials of one outcome,
    /// or, when its outcomes differ, a leading share known to ± 15 points.
    #[test]
    fn confident_once_every_placement_is_settled() {
        let groups_of = |trials: &[TrialReport]| judge(trials).groups;
        let mut ts: Vec<TrialReport> = (1..=4).map(|n| trial(n, "pi", "x")).collect();
        assert_eq!(confident(&groups_of(&ts)), None, "4 of 4 is not yet enough");
        ts.push(trial(5, "pi", "x"));
        let why = confident(&groups_of(&ts)).expect("5 of 5");
        assert!(why.contains("5/5"), "{why}");
        // A second placement, seen once: not settled.
        ts.push(trial(6, "master", "y"));
        assert_eq!(confident(&groups_of(&ts)), None);
        ts.extend((7..=10).map(|n| trial(n, "master", "y")));
        assert!(confident(&groups_of(&ts)).is_some(), "both placements 5/5");
        // A race within one placement: settled only when its share is narrow.
        let race: Vec<TrialReport> = (1..=10).map(|n| trial(n, "pi", if n % 2 == 0 { "x" } else { "y" })).collect();
        assert_eq!(confident(&groups_of(&race)), None);
        let race: Vec<TrialReport> = (1..=50).map(|n| trial(n, "pi", if n % 2 == 0 { "x" } else { "y" })).collect();
        assert!(confident(&groups_of(&race)).is_some(), "25/50: Wilson width 0.27");
    }

    #[test]
    fn interrupted_trials_do_not_count() {
        let mut t = trial(2, "master", "y");
        t.meta.interrupted = true;
        let v = judge(&[trial(1, "pi", "x"), t]);
        assert_eq!(v.kind, VerdictKind::Consistent, "{v:?}");
        assert_eq!(v.groups.len(), 1);
    }

    #[test]
    fn nothing_complete_is_inconclusive() {
        let mut t = trial(1, "pi", "x");
        t.meta.interrupted = true;
        assert_eq!(judge(&[t]).kind, VerdictKind::Inconclusive);
    }
}
