//! Across trials: pair totals (split by relation where a pod moved between nodes), and the
//! outcome distribution with Wilson 95 % intervals. Interrupted trials are kept (and shown)
//! but left out of both, consistently.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::delivery::Delivery;
use super::pair::latency_histogram;
use super::roster::Relation;
use super::trial::{ratio, PairLatencies, PairReport, TrialReport};

/// One pair over the whole run, in one relation: a pair whose ends were on one node in some
/// trials and on two in others has two summaries, never a pooled one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairSummary {
    pub talker: String,
    pub listener: String,
    pub relation: Relation,
    /// Trials (complete ones) with this pair in this relation.
    pub trials: u32,
    /// Node placements of the two ends, `talker node → listener node`, with trial counts.
    pub placements: BTreeMap<String, u32>,
    pub expected: u64,
    pub received: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub ratio: f64,
    pub trials_delivered: u32,
    pub trials_partial: u32,
    pub trials_none: u32,
    /// Trials in which the listener matched this talker (`None`: not known per pair).
    pub trials_matched: Option<u32>,
    /// Median over trials of the time to match, ms after both ends were up.
    pub matched_median_ms: Option<f64>,
    /// Median over trials of the time to the first message, ms after both ends were up.
    pub first_message_median_ms: Option<f64>,
    pub latency_p50_us: Option<u64>,
    pub latency_p90_us: Option<u64>,
    pub latency_p99_us: Option<u64>,
    pub latency_max_us: Option<u64>,
    pub negative_latency: u64,
    /// Latency and discovery times come from one clock (or clocks put on one by measured
    /// offsets).
    pub clock_trusted: bool,
    /// Put on one clock by measured offsets: times are known to within ± this (the largest
    /// over the trials).
    #[serde(default)]
    pub clock_uncertainty_ms: Option<f64>,
    /// The latency histogram (µs): (upper bound of the bucket, count), for others' plots.
    pub latency_buckets: Vec<(u64, u64)>,
}

impl PairSummary {
    pub fn name(&self) -> String {
        format!("{} → {}", self.talker, self.listener)
    }

    /// Trials in which anything arrived.
    pub fn trials_heard(&self) -> u32 {
        self.trials_delivered + self.trials_partial
    }
}

/// One outcome's share of the complete trials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeShare {
    /// `A`, `B`, … in order of frequency: the short name reports use.
    pub letter: String,
    pub outcome: String,
    pub trials: u32,
    pub share: f64,
    pub wilson_low: f64,
    pub wilson_high: f64,
}

/// Wilson score interval for `k` of `n` at 95 %.
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * ((p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt()) / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

type PairKey = (String, String, Relation);

/// Accumulates trial reports and the run-level latency histograms (one per pair and relation).
#[derive(Debug, Default)]
pub struct RunAnalyzer {
    trials: Vec<TrialReport>,
    latency: BTreeMap<PairKey, Histogram<u64>>,
}

impl RunAnalyzer {
    pub fn add(&mut self, trial: TrialReport, hists: PairLatencies) {
        // Interrupted trials are reported but do not count: their latencies neither.
        if !trial.meta.interrupted {
            for (key, h) in hists {
                let acc = self.latency.entry(key).or_insert_with(latency_histogram);
                // Same bounds on both sides, so adding cannot fail.
                let _ = acc.add(&h);
            }
        }
        self.trials.push(trial);
    }

    /// Every trial so far, in trial order.
    pub fn trials(&self) -> Vec<TrialReport> {
        let mut t = self.trials.clone();
        t.sort_by_key(|t| t.meta.trial);
        t
    }

    /// The trials that ran to their end.
    pub fn complete(&self) -> Vec<&TrialReport> {
        let mut t: Vec<&TrialReport> = self.trials.iter().filter(|t| !t.meta.interrupted).collect();
        t.sort_by_key(|t| t.meta.trial);
        t
    }

    /// Per pair and relation, over the complete trials, in the order pairs first appear.
    pub fn pair_summaries(&self) -> Vec<PairSummary> {
        let mut order: Vec<PairKey> = Vec::new();
        let mut by: BTreeMap<PairKey, Vec<&PairReport>> = BTreeMap::new();
        for t in self.complete() {
            for p in &t.pairs {
                let key = (p.talker.clone(), p.listener.clone(), p.relation);
                if !by.contains_key(&key) {
                    order.push(key.clone());
                }
                by.entry(key).or_default().push(p);
            }
        }
        // Pairs in roster order, relations in a fixed order within a pair.
        let pos = |k: &PairKey| order.iter().position(|o| o.0 == k.0 && o.1 == k.1).unwrap_or(usize::MAX);
        let mut keys = order.clone();
        keys.sort_by_key(|k| (pos(k), relation_rank(k.2)));
        keys.into_iter()
            .map(|key| {
                let ps = &by[&key];
                let h = self.latency.get(&key).filter(|h| !h.is_empty());
                summarise(&key, ps, h)
            })
            .collect()
    }

    /// Outcome shares over the complete trials, most frequent first, lettered.
    pub fn distribution(&self) -> Vec<OutcomeShare> {
        distribution(&self.complete())
    }
}

fn relation_rank(r: Relation) -> u8 {
    match r {
        Relation::SamePod => 0,
        Relation::SameNode => 1,
        Relation::CrossNode => 2,
        Relation::Unknown => 3,
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

fn summarise(key: &PairKey, ps: &[&PairReport], h: Option<&Histogram<u64>>) -> PairSummary {
    let sum = |f: fn(&PairReport) -> u64| ps.iter().map(|p| f(p)).sum::<u64>();
    let (expected, received) = (sum(|p| p.expected), sum(|p| p.received));
    let count = |d: Delivery| u32::try_from(ps.iter().filter(|p| p.delivery == d).count()).unwrap_or(u32::MAX);
    let mut placements = BTreeMap::new();
    for p in ps {
        let at = format!("{} → {}", p.talker_node.as_deref().unwrap_or("?"), p.listener_node.as_deref().unwrap_or("?"));
        *placements.entry(at).or_default() += 1;
    }
    let known: Vec<bool> = ps.iter().filter_map(|p| p.listener_matched).collect();
    PairSummary {
        talker: key.0.clone(),
        listener: key.1.clone(),
        relation: key.2,
        trials: u32::try_from(ps.len()).unwrap_or(u32::MAX),
        placements,
        expected,
        received,
        lost: sum(|p| p.lost),
        duplicates: sum(|p| p.duplicates),
        reordered: sum(|p| p.reordered),
        ratio: ratio(received, expected),
        trials_delivered: count(Delivery::Delivered),
        trials_partial: count(Delivery::Partial),
        trials_none: count(Delivery::None),
        trials_matched: (known.len() == ps.len())
            .then(|| u32::try_from(known.iter().filter(|m| **m).count()).unwrap_or(u32::MAX)),
        matched_median_ms: median(ps.iter().filter_map(|p| p.matched_ms).collect()),
        first_message_median_ms: median(ps.iter().filter_map(|p| p.first_message_ms).collect()),
        latency_p50_us: h.map(|h| h.value_at_quantile(0.5)),
        latency_p90_us: h.map(|h| h.value_at_quantile(0.9)),
        latency_p99_us: h.map(|h| h.value_at_quantile(0.99)),
        latency_max_us: h.map(Histogram::max),
        negative_latency: sum(|p| p.negative_latency),
        clock_trusted: ps.iter().all(|p| p.clock_trusted),
        clock_uncertainty_ms: ps.iter().filter_map(|p| p.clock_uncertainty_ms).reduce(f64::max),
        latency_buckets: h
            .map(|h| {
                h.iter_recorded().map(|v| (h.highest_equivalent(v.value_iterated_to()), v.count_at_value())).collect()
            })
            .unwrap_or_default(),
    }
}

/// The outcome letter for an index: A…Z, then AA, AB, ….
fn letter(i: usize) -> String {
    let l = |n: usize| char::from(b'A' + u8::try_from(n % 26).unwrap_or(0));
    if i < 26 {
        l(i).to_string()
    } else {
        format!("{}{}", l(i / 26 - 1), l(i))
    }
}

fn distribution(trials: &[&TrialReport]) -> Vec<OutcomeShare> {
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for t in trials {
        *counts.entry(t.outcome.as_str()).or_default() += 1;
    }
    let n = trials.len() as u64;
    let mut shares: Vec<OutcomeShare> = counts
        .into_iter()
        .map(|(outcome, k)| {
            let (lo, hi) = wilson(u64::from(k), n);
            OutcomeShare {
                letter: String::new(),
                outcome: outcome.to_owned(),
                trials: k,
                share: f64::from(k) / n as f64,
                wilson_low: lo,
                wilson_high: hi,
            }
        })
        .collect();
    shares.sort_by(|a, b| b.trials.cmp(&a.trials).then_with(|| a.outcome.cmp(&b.outcome)));
    for (i, s) in shares.iter_mut().enumerate() {
        s.letter = letter(i);
    }
    shares
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

    #[test]
    fn letters_run_past_z() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert_eq!(letter(27), "AB");
    }
}
