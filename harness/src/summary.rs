//! The verdict over trials, and the [`RunReport`] every exporter renders. Above analysis and
//! diagnosis (it uses both; neither uses it).
//!
//! Trials are grouped by placement — where each pod actually ran — before anything is called a
//! race: if every placement always gave one outcome, the run is `placement-determined`, and the
//! report says which placement gives which outcome. Only the same placement giving different
//! outcomes is a `race` — unless every pair whose outcome changed crosses a link on which the
//! scenario drops frames at random (a `loss` fault): then the differences are what that loss
//! predicts, and the run is `degraded`, its headline naming the fault.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::{OutcomeShare, PairSummary, Roster, RunAnalyzer, TrialReport};
use crate::diagnosis::{self, Finding, Setting, Severity};
use crate::spec::{ExpectSpec, FaultSpec};

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
    /// The same placement gave different outcomes, and no injected loss explains it.
    Race,
    /// Every pair delivered something, but messages were lost, links went silent or an end died;
    /// or outcomes differ between trials only on pairs whose link drops frames at random (an
    /// injected `loss`), as that loss predicts.
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
    let verdict = verdict(&complete, &pairs, &distribution, &findings, info.setting);
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
/// placement giving different outcomes (a race, unless `setting`'s random loss explains every
/// pair that changed: then degraded, or no-delivery where a pair never delivered); outcomes
/// that differ only with placement; a pair that never delivered; failures; otherwise consistent.
pub fn verdict(
    trials: &[&TrialReport],
    pairs: &[PairSummary],
    dist: &[OutcomeShare],
    findings: &[Finding],
    setting: &Setting,
) -> Verdict {
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
    let dead: Vec<&PairSummary> = pairs.iter().filter(|p| p.trials_heard() == 0 && p.trials > 0).collect();
    if groups.iter().any(|g| g.outcomes.len() > 1) {
        let churn = Churn::of(trials, &groups, setting);
        if !churn.explained_by_loss() {
            return race(groups, dist, n, &churn);
        }
        if !dead.is_empty() {
            let mut v = no_delivery(groups, &dead, findings);
            v.evidence.extend(churn.words());
            return v;
        }
        return lossy(groups, dist, findings, &churn);
    }
    if dist.len() > 1 {
        return placement_determined(groups, dist);
    }
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

/// A pair that delivered in some trials of one placement and nothing in others, and the
/// injected random losses on its way (talker's node to listener's node), if any.
#[derive(Debug)]
struct Varying<'s> {
    name: String,
    relation: crate::analysis::Relation,
    /// `talker node → listener node`.
    nodes: String,
    heard: usize,
    none: usize,
    losses: Vec<&'s FaultSpec>,
}

impl Varying<'_> {
    /// The pair, how often it delivered, and — where the scenario injects loss (`loss_injected`)
    /// — between which nodes and whether a loss lies on its way.
    fn words(&self, loss_injected: bool) -> String {
        let (name, rel) = (&self.name, self.relation.as_str());
        if !loss_injected {
            return format!("{name} ({rel}): delivered in {} trial(s), nothing in {}", self.heard, self.none);
        }
        let how =
            format!("{name} ({rel}, {}): delivered in {} trial(s), nothing in {}", self.nodes, self.heard, self.none);
        if self.losses.is_empty() {
            format!("{how}; no injected loss on its way explains it")
        } else {
            let faults: Vec<String> = self.losses.iter().map(|f| f.describe()).collect();
            format!("{how}; its frames cross {}", faults.join(" and "))
        }
    }
}

/// The pairs whose outcome changed within a placement, from the trials themselves (not the
/// run-wide pair totals, which mix placements).
#[derive(Debug)]
struct Churn<'s> {
    pairs: Vec<Varying<'s>>,
    /// A placement whose outcomes differ without any pair that both delivered and did not.
    unattributed: bool,
    /// The scenario injects a random loss somewhere.
    loss_injected: bool,
}

impl<'s> Churn<'s> {
    fn of(trials: &[&TrialReport], groups: &[PlacementGroup], setting: &'s Setting) -> Churn<'s> {
        let loss_injected = setting.faults.iter().any(|f| matches!(f, FaultSpec::Loss { .. }));
        let mut churn = Churn { pairs: Vec::new(), unattributed: false, loss_injected };
        for g in groups.iter().filter(|g| g.outcomes.len() > 1) {
            let rows: Vec<&crate::analysis::trial::PairReport> =
                trials.iter().filter(|t| g.trials.contains(&t.meta.trial)).flat_map(|t| &t.pairs).collect();
            let before = churn.pairs.len();
            let mut seen: Vec<(&str, &str)> = Vec::new();
            for p in &rows {
                if seen.contains(&(p.talker.as_str(), p.listener.as_str())) {
                    continue;
                }
                seen.push((&p.talker, &p.listener));
                let same: Vec<_> = rows.iter().filter(|q| q.talker == p.talker && q.listener == p.listener).collect();
                let none = same.iter().filter(|q| q.delivery == crate::analysis::Delivery::None).count();
                if none == 0 || none == same.len() {
                    continue;
                }
                let (tn, ln) = (p.talker_node.as_deref(), p.listener_node.as_deref());
                churn.pairs.push(Varying {
                    name: p.name(),
                    relation: p.relation,
                    nodes: format!("{} → {}", tn.unwrap_or("?"), ln.unwrap_or("?")),
                    heard: same.len() - none,
                    none,
                    losses: tn.zip(ln).map(|(tn, ln)| setting.frame_losses(tn, ln)).unwrap_or_default(),
                });
            }
            churn.unattributed |= churn.pairs.len() == before;
        }
        churn
    }

    /// Every pair that changed crosses an injected random loss.
    fn explained_by_loss(&self) -> bool {
        !self.unattributed && !self.pairs.is_empty() && self.pairs.iter().all(|p| !p.losses.is_empty())
    }

    /// The losses that explain the changes, each once, in the order first met.
    fn losses(&self) -> Vec<&'s FaultSpec> {
        let mut out: Vec<&FaultSpec> = Vec::new();
        for f in self.pairs.iter().flat_map(|p| p.losses.iter().copied()) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// One line per pair that changed, saying which loss (or none) lies on its way.
    fn words(&self) -> Vec<String> {
        let mut out = vec!["outcomes differ between trials in the same placement; the pairs that changed:".to_owned()];
        out.extend(self.pairs.iter().map(|p| p.words(self.loss_injected)));
        out
    }
}

/// A race: some placement gave different outcomes over `n` trials; the evidence names those
/// placements and the pairs that delivered in some trials and nothing in others, and, where
/// the scenario injects loss, which of them vary with no loss on their way to explain it.
fn race(groups: Vec<PlacementGroup>, dist: &[OutcomeShare], n: usize, churn: &Churn<'_>) -> Verdict {
    let mut evidence = vec!["the same placement gave different outcomes:".to_owned()];
    evidence.extend(groups.iter().filter(|g| g.outcomes.len() > 1).map(group_words));
    evidence.extend(outcome_words(dist));
    evidence.extend(churn.pairs.iter().map(|p| p.words(churn.loss_injected)));
    let mut headline = format!(
        "a race: with the pods in the same places, who hears whom changed between trials ({} outcomes over {n} trials)",
        dist.len()
    );
    let unexplained: Vec<&str> = churn.pairs.iter().filter(|p| p.losses.is_empty()).map(|p| p.name.as_str()).collect();
    if churn.loss_injected && !unexplained.is_empty() {
        headline.push_str(&format!("; no injected loss explains {}", unexplained.join(", ")));
    }
    Verdict { kind: VerdictKind::Race, headline, evidence, groups }
}

/// Outcomes differ within a placement, but only on pairs whose frames cross an injected random
/// loss: what that loss predicts, not a timing race.
fn lossy(groups: Vec<PlacementGroup>, dist: &[OutcomeShare], findings: &[Finding], churn: &Churn<'_>) -> Verdict {
    let losses: Vec<String> = churn.losses().iter().map(|f| f.short()).collect();
    let predict = if losses.len() == 1 { "predicts" } else { "predict" };
    let pairs: Vec<String> = churn
        .pairs
        .iter()
        .map(|p| format!("{} delivered in {} trial(s), nothing in {}", p.name, p.heard, p.none))
        .collect();
    let mut evidence = churn.words();
    evidence.extend(groups.iter().filter(|g| g.outcomes.len() > 1).map(group_words));
    evidence.extend(outcome_words(dist));
    evidence.extend(
        findings.iter().filter(|f| f.severity == Severity::Failure).map(|f| format!("[{}] {}", f.rule, f.cause)),
    );
    Verdict {
        kind: VerdictKind::Degraded,
        headline: format!(
            "outcomes differ between trials as {} {predict} (not a timing race): {}",
            losses.join(" and "),
            pairs.join("; ")
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
        verdict(&a.complete(), &[], &a.distribution(), &[], &Setting::netns_flannel())
    }

    /// Trial `n` of one placement: a camera on the Pi to a viewer on the master that heard
    /// `camera` of 30 frames, and a chatter talker on the master to a listener on the Pi that
    /// heard `chatter` of 30.
    fn sensor_trial(n: u32, camera: u64, chatter: u64) -> TrialReport {
        use crate::diagnosis::rules::test_support::{pair, trial as of_pairs};
        let mut t = of_pairs(vec![
            pair("cam.camera", "pi", "viewer.viewer", "master", camera),
            pair("chat.talker", "master", "l.listener", "pi", chatter),
        ]);
        t.meta.trial = n;
        for p in &mut t.pairs {
            p.trial = n;
        }
        t.placement = BTreeMap::from([
            ("cam".into(), "pi".into()),
            ("chat".into(), "master".into()),
            ("l".into(), "pi".into()),
            ("viewer".into(), "master".into()),
        ]);
        let heard: Vec<&str> = t.pairs.iter().filter(|p| p.received > 0).map(|p| p.listener.as_str()).collect();
        t.outcome = format!("heard: {}", heard.join(", "));
        t
    }

    fn loss(node: &str, percent: f64, direction: crate::spec::Direction) -> FaultSpec {
        FaultSpec::Loss { node: node.into(), percent: crate::spec::FaultNumber(percent), direction }
    }

    /// The verdict over `trials` (their pair totals and findings as a run computes them) with
    /// `faults` injected.
    fn judge_with(trials: &[TrialReport], faults: Vec<FaultSpec>) -> Verdict {
        let mut a = RunAnalyzer::default();
        for t in trials {
            a.add(t.clone(), Vec::new());
        }
        let mut setting = Setting::netns_flannel();
        setting.faults = faults;
        let pairs = a.pair_summaries();
        let findings = diagnosis::diagnose(&a.complete(), &pairs, &setting);
        verdict(&a.complete(), &pairs, &a.distribution(), &findings, &setting)
    }

    /// Frames dropped at random on the Pi's link: some of the camera's samples get through in
    /// one trial and none in the next. That is the loss, not a timing race.
    #[test]
    fn outcomes_that_differ_where_an_injected_loss_crosses_are_degraded_by_it() {
        use crate::spec::Direction;
        let trials = [sensor_trial(1, 3, 30), sensor_trial(2, 0, 30), sensor_trial(3, 0, 30)];
        let v = judge_with(&trials, vec![loss("pi", 2.0, Direction::Both)]);
        assert_eq!(v.kind, VerdictKind::Degraded, "{v:#?}");
        assert_eq!(
            v.headline,
            "outcomes differ between trials as the 2 % frame loss on pi's link predicts (not a timing race): \
             cam.camera → viewer.viewer delivered in 1 trial(s), nothing in 2"
        );
        let ev = v.evidence.join("\n");
        assert!(
            ev.contains(
                "cam.camera → viewer.viewer (cross node, pi → master): delivered in 1 trial(s), nothing in 2; its \
                 frames cross 2 % frame loss on node pi's link, both ways"
            ),
            "{ev}"
        );
        assert!(!ev.contains("chat.talker"), "the chatter pair did not change: {ev}");
        // Frames out of the Pi are what the camera's samples cross: `out` explains it too.
        let v = judge_with(&trials, vec![loss("pi", 5.0, Direction::Out)]);
        assert_eq!(v.kind, VerdictKind::Degraded, "{v:#?}");
        assert!(v.headline.contains("as the 5 % frame loss out of pi predicts"), "{}", v.headline);
    }

    /// A loss that does not lie on the changing pair's way (frames into the Pi, while the
    /// camera's go out of it; another node's link) explains nothing: still a race, and the
    /// verdict says which pair varies with no loss to explain it.
    #[test]
    fn a_pair_that_changes_without_crossing_the_loss_is_still_a_race() {
        use crate::spec::Direction;
        let trials = [sensor_trial(1, 3, 30), sensor_trial(2, 0, 30)];
        for fault in [loss("pi", 2.0, Direction::In), loss("arm", 2.0, Direction::Both)] {
            let v = judge_with(&trials, vec![fault]);
            assert_eq!(v.kind, VerdictKind::Race, "{v:#?}");
            assert!(v.headline.ends_with("; no injected loss explains cam.camera → viewer.viewer"), "{}", v.headline);
            assert!(
                v.evidence.iter().any(|e| e.starts_with("cam.camera → viewer.viewer (cross node, pi → master)")
                    && e.ends_with("no injected loss on its way explains it")),
                "{:#?}",
                v.evidence
            );
        }
        // Two pairs change; the loss into the Pi explains the chatter's, not the camera's.
        let both = [sensor_trial(1, 3, 30), sensor_trial(2, 0, 0)];
        let v = judge_with(&both, vec![loss("pi", 2.0, Direction::In)]);
        assert_eq!(v.kind, VerdictKind::Race, "{v:#?}");
        assert!(v.headline.ends_with("; no injected loss explains cam.camera → viewer.viewer"), "{}", v.headline);
        assert!(
            v.evidence.iter().any(|e| e.starts_with("chat.talker → l.listener") && e.contains("its frames cross 2 %")),
            "{:#?}",
            v.evidence
        );
    }

    /// Without any injected fault, the same placement giving different outcomes is a race, in
    /// the words it always had.
    #[test]
    fn without_a_fault_differing_outcomes_stay_a_race() {
        let v = judge_with(&[sensor_trial(1, 3, 30), sensor_trial(2, 0, 30)], Vec::new());
        assert_eq!(v.kind, VerdictKind::Race, "{v:#?}");
        assert_eq!(
            v.headline,
            "a race: with the pods in the same places, who hears whom changed between trials (2 outcomes over 2 trials)"
        );
        assert!(
            v.evidence
                .contains(&"cam.camera → viewer.viewer (cross node): delivered in 1 trial(s), nothing in 1".to_owned()),
            "{:#?}",
            v.evidence
        );
    }

    /// Changes the loss explains, beside a pair that never delivered: the dead pair decides.
    #[test]
    fn a_pair_that_never_delivered_outranks_the_changes_a_loss_explains() {
        use crate::spec::Direction;
        let trials = [sensor_trial(1, 3, 0), sensor_trial(2, 0, 0)];
        let v = judge_with(&trials, vec![loss("pi", 2.0, Direction::Out)]);
        assert_eq!(v.kind, VerdictKind::NoDelivery, "{v:#?}");
        assert!(v.evidence.iter().any(|e| e.contains("cam.camera → viewer.viewer (cross node, pi → master)")));
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
