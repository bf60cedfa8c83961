//! Across trials: pair totals, the outcome distribution with Wilson 95 % intervals, and the
//! verdict with the evidence that triggered it.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::pair::latency_histogram;
use super::trial::TrialReport;
use super::{Delivery, Relation, Roster};
use crate::diagnosis::{self, Finding};
use crate::spec::ExpectSpec;

/// Version of `summary.json`.
pub const SUMMARY_SCHEMA: u32 = 1;

/// One pair over the whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairSummary {
    pub talker: String,
    pub listener: String,
    pub relation: Relation,
    pub expected: u64,
    pub received: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub ratio: f64,
    pub trials_delivered: u32,
    pub trials_partial: u32,
    pub trials_none: u32,
    /// Median over trials of the discovery time, ms.
    pub discovery_median_ms: Option<f64>,
    pub latency_p50_us: Option<u64>,
    pub latency_p90_us: Option<u64>,
    pub latency_p99_us: Option<u64>,
    pub latency_max_us: Option<u64>,
}

/// One outcome's share of the trials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeShare {
    pub outcome: String,
    pub trials: u32,
    pub share: f64,
    pub wilson_low: f64,
    pub wilson_high: f64,
}

/// What the distribution says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictKind {
    /// Every trial ended the same way, and every pair delivered something.
    Consistent,
    /// Trials ended differently: who hears whom depends on the run.
    Race,
    /// Some pair delivered nothing in every trial.
    NoDelivery,
    /// No complete trial to judge.
    Inconclusive,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Consistent => "consistent",
            VerdictKind::Race => "race",
            VerdictKind::NoDelivery => "no-delivery",
            VerdictKind::Inconclusive => "inconclusive",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub evidence: Vec<String>,
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
    /// Caveats about the backend's fidelity.
    pub notes: Vec<String>,
    pub roster: Roster,
    pub trials: Vec<TrialReport>,
    pub pairs: Vec<PairSummary>,
    pub distribution: Vec<OutcomeShare>,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    pub expectations: Vec<ExpectationResult>,
}

impl RunReport {
    pub fn expectations_met(&self) -> bool {
        self.expectations.iter().all(|e| e.passed)
    }
}

/// Wilson score interval for `k` of `n` at 95 %.
pub fn wilson(k: u32, n: u32) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let (k, n) = (f64::from(k), f64::from(n));
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * ((p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt()) / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Accumulates trial reports and the run-level latency histograms (one per pair).
#[derive(Debug, Default)]
pub struct RunAnalyzer {
    trials: Vec<TrialReport>,
    latency: BTreeMap<(String, String), Histogram<u64>>,
}

impl RunAnalyzer {
    pub fn add(&mut self, trial: TrialReport, hists: super::trial::PairLatencies) {
        for (key, h) in hists {
            let acc = self.latency.entry(key).or_insert_with(latency_histogram);
            // Same bounds on both sides, so adding cannot fail.
            let _ = acc.add(&h);
        }
        self.trials.push(trial);
    }

    pub fn trials(&self) -> &[TrialReport] {
        &self.trials
    }

    /// The report over every trial so far.
    pub fn report(
        &self,
        run_id: &str,
        scenario: &str,
        backend: &str,
        roster: &Roster,
        expect: Option<&ExpectSpec>,
    ) -> RunReport {
        let pairs = self.pair_summaries();
        let complete: Vec<&TrialReport> = self.trials.iter().filter(|t| !t.meta.interrupted).collect();
        let distribution = distribution(&complete);
        let findings = diagnosis::diagnose(&complete, &pairs);
        let verdict = verdict(&complete, &pairs, &distribution, &findings);
        let expectations = expect.map(|e| check(e, &pairs)).unwrap_or_default();
        RunReport {
            schema: SUMMARY_SCHEMA,
            run_id: run_id.to_owned(),
            scenario: scenario.to_owned(),
            backend: backend.to_owned(),
            notes: Vec::new(),
            roster: roster.clone(),
            trials: {
                let mut t = self.trials.clone();
                t.sort_by_key(|t| t.meta.trial);
                t
            },
            pairs,
            distribution,
            verdict,
            findings,
            expectations,
        }
    }

    fn pair_summaries(&self) -> Vec<PairSummary> {
        let mut order: Vec<(String, String)> = Vec::new();
        let mut by: BTreeMap<(String, String), Vec<&super::trial::PairReport>> = BTreeMap::new();
        for t in &self.trials {
            for p in &t.pairs {
                let key = (p.talker.clone(), p.listener.clone());
                if !by.contains_key(&key) {
                    order.push(key.clone());
                }
                by.entry(key).or_default().push(p);
            }
        }
        order
            .into_iter()
            .map(|key| {
                let ps = &by[&key];
                let sum = |f: fn(&super::trial::PairReport) -> u64| ps.iter().map(|p| f(p)).sum::<u64>();
                let (expected, received) = (sum(|p| p.expected), sum(|p| p.received));
                let count =
                    |d: Delivery| u32::try_from(ps.iter().filter(|p| p.delivery == d).count()).unwrap_or(u32::MAX);
                let mut disc: Vec<f64> = ps.iter().filter_map(|p| p.discovery_ms).collect();
                disc.sort_by(f64::total_cmp);
                let h = self.latency.get(&key).filter(|h| !h.is_empty());
                PairSummary {
                    talker: key.0.clone(),
                    listener: key.1.clone(),
                    relation: if ps.iter().all(|p| p.relation == ps[0].relation) {
                        ps[0].relation
                    } else {
                        Relation::Varies
                    },
                    expected,
                    received,
                    lost: sum(|p| p.lost),
                    duplicates: sum(|p| p.duplicates),
                    reordered: sum(|p| p.reordered),
                    ratio: if expected == 0 {
                        if received > 0 {
                            1.0
                        } else {
                            0.0
                        }
                    } else {
                        received as f64 / expected as f64
                    },
                    trials_delivered: count(Delivery::Delivered),
                    trials_partial: count(Delivery::Partial),
                    trials_none: count(Delivery::None),
                    discovery_median_ms: (!disc.is_empty()).then(|| disc[disc.len() / 2]),
                    latency_p50_us: h.map(|h| h.value_at_quantile(0.5)),
                    latency_p90_us: h.map(|h| h.value_at_quantile(0.9)),
                    latency_p99_us: h.map(|h| h.value_at_quantile(0.99)),
                    latency_max_us: h.map(Histogram::max),
                }
            })
            .collect()
    }
}

fn distribution(trials: &[&TrialReport]) -> Vec<OutcomeShare> {
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for t in trials {
        *counts.entry(t.outcome.as_str()).or_default() += 1;
    }
    let n = u32::try_from(trials.len()).unwrap_or(u32::MAX);
    let mut shares: Vec<OutcomeShare> = counts
        .into_iter()
        .map(|(outcome, k)| {
            let (lo, hi) = wilson(k, n);
            OutcomeShare {
                outcome: outcome.to_owned(),
                trials: k,
                share: f64::from(k) / f64::from(n),
                wilson_low: lo,
                wilson_high: hi,
            }
        })
        .collect();
    shares.sort_by(|a, b| b.trials.cmp(&a.trials).then_with(|| a.outcome.cmp(&b.outcome)));
    shares
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

fn verdict(trials: &[&TrialReport], pairs: &[PairSummary], dist: &[OutcomeShare], findings: &[Finding]) -> Verdict {
    let n = trials.len();
    if n == 0 {
        return Verdict { kind: VerdictKind::Inconclusive, evidence: vec!["no trial completed".into()] };
    }
    let shares = |d: &[OutcomeShare]| -> Vec<String> {
        d.iter()
            .map(|s| {
                format!(
                    "`{}` in {}/{n} trials ({}, 95 % CI {}–{})",
                    s.outcome,
                    s.trials,
                    pct(s.share),
                    pct(s.wilson_low),
                    pct(s.wilson_high)
                )
            })
            .collect()
    };
    if dist.len() > 1 {
        let mut evidence = vec![format!("{} different outcomes over {n} trials:", dist.len())];
        evidence.extend(shares(dist));
        for p in pairs
            .iter()
            .filter(|p| p.trials_none > 0 && p.trials_none < p.trials_delivered + p.trials_partial + p.trials_none)
        {
            evidence.push(format!(
                "{} → {} ({}): delivered in {} trial(s), nothing in {}",
                p.talker,
                p.listener,
                p.relation.as_str(),
                p.trials_delivered + p.trials_partial,
                p.trials_none
            ));
        }
        return Verdict { kind: VerdictKind::Race, evidence };
    }
    let dead: Vec<&PairSummary> = pairs.iter().filter(|p| p.trials_none as usize == n).collect();
    if !dead.is_empty() {
        let mut evidence: Vec<String> = dead
            .iter()
            .map(|p| {
                format!(
                    "{} → {} ({}): 0 of {} messages in every one of {n} trials",
                    p.talker,
                    p.listener,
                    p.relation.as_str(),
                    p.expected
                )
            })
            .collect();
        for f in findings {
            let line = format!("likely cause: {}", f.cause);
            if !evidence.contains(&line) {
                evidence.push(line);
            }
        }
        return Verdict { kind: VerdictKind::NoDelivery, evidence };
    }
    Verdict { kind: VerdictKind::Consistent, evidence: shares(dist) }
}

fn check(e: &ExpectSpec, pairs: &[PairSummary]) -> Vec<ExpectationResult> {
    let mut out = Vec::new();
    if let Some(min) = e.min_delivery {
        let worst = pairs.iter().min_by(|a, b| a.ratio.total_cmp(&b.ratio));
        out.push(ExpectationResult {
            what: format!("every pair delivers ≥ {}", pct(min.0)),
            passed: pairs.iter().all(|p| p.ratio >= min.0),
            detail: worst.map_or("no pairs".into(), |p| {
                format!("worst: {} → {} at {:.1} %", p.talker, p.listener, p.ratio * 100.0)
            }),
        });
    }
    if let Some(max) = e.max_p99_latency_ms {
        let limit_us = max.0 * 1000.0;
        let worst = pairs.iter().filter_map(|p| p.latency_p99_us.map(|v| (p, v))).max_by_key(|(_, v)| *v);
        out.push(ExpectationResult {
            what: format!("every pair's p99 latency < {} ms", max.0),
            passed: pairs.iter().all(|p| p.latency_p99_us.is_some_and(|v| (v as f64) < limit_us)),
            detail: worst.map_or("no latency measured".into(), |(p, v)| {
                format!("worst: {} → {} at {:.2} ms", p.talker, p.listener, v as f64 / 1000.0)
            }),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_reference_values() {
        // Reference: 8 of 10 → [0.490, 0.943]; 0 of 5 → [0, 0.434].
        let (lo, hi) = wilson(8, 10);
        assert!((lo - 0.4902).abs() < 1e-3 && (hi - 0.9433).abs() < 1e-3, "{lo} {hi}");
        let (lo, hi) = wilson(0, 5);
        assert!(lo == 0.0 && (hi - 0.4345).abs() < 1e-3, "{hi}");
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }
}
