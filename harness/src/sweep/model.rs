//! What a sweep found: per size and pair relation, delivery, latency and goodput, taken from
//! each size's own run report; the threshold a relation is held to; and the size where its
//! delivery first drops below it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::swept::Swept;
use crate::analysis::Relation;
use crate::summary::{RunReport, VerdictKind};

/// Version of `sweep.json`.
pub const SWEEP_SCHEMA: u32 = 1;
/// The delivery a relation is held to when the scenario's `expect` sets no `minDelivery`.
pub const DEFAULT_MIN_DELIVERY: f64 = 0.95;

/// What delivery and latency a relation is held to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// Fraction of the messages sent in the window (0..=1).
    pub min_delivery: f64,
    /// `min_delivery` is the scenario's `expect.minDelivery` (else the default).
    pub from_expect: bool,
    /// The scenario's `expect.maxP99LatencyMs`, if any.
    pub max_p99_latency_ms: Option<f64>,
}

impl Threshold {
    pub fn of(expect: Option<&crate::spec::ExpectSpec>) -> Threshold {
        let min = expect.and_then(|e| e.min_delivery).map(|f| f.0);
        Threshold {
            min_delivery: min.unwrap_or(DEFAULT_MIN_DELIVERY),
            from_expect: min.is_some(),
            max_p99_latency_ms: expect.and_then(|e| e.max_p99_latency_ms).map(|v| v.0),
        }
    }

    /// Where the delivery threshold comes from, in one sentence.
    pub fn words(&self) -> String {
        let pct = percent(self.min_delivery);
        if self.from_expect {
            format!("The threshold, {pct} delivered, is the scenario's expect.minDelivery.")
        } else {
            format!("The threshold, {pct} delivered, is the default: the scenario's expect sets no minDelivery.")
        }
    }
}

/// One pair relation at one size, over the complete trials of that size's run and the pairs
/// whose talker the sweep sized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationRow {
    pub relation: Relation,
    /// Distinct talker→listener pairs.
    pub pairs: usize,
    /// Pair-trials counted (pairs × complete trials).
    pub pair_trials: u32,
    /// Messages sent inside the pairs' windows, and those of them that arrived.
    pub expected: u64,
    pub received: u64,
    /// `received / expected`; `None` when nothing was expected.
    pub delivered: Option<f64>,
    /// Over every message of the relation's pairs (their latency histograms merged).
    pub latency_p50_us: Option<u64>,
    pub latency_p99_us: Option<u64>,
    /// Every pair's two ends stamp on one clock (or clocks corrected by measurement).
    pub clock_trusted: bool,
    /// Payload bytes delivered per second of a pair's window, on average over its pair-trials.
    pub goodput_bytes_per_s: Option<f64>,
}

/// What one size gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum SizeOutcome {
    Ran {
        /// Its run directory, relative to the sweep directory.
        dir: String,
        verdict: VerdictKind,
        headline: String,
        rows: Vec<RelationRow>,
    },
    Failed {
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeResult {
    pub bytes: u32,
    pub outcome: SizeOutcome,
}

impl SizeResult {
    pub fn rows(&self) -> &[RelationRow] {
        match &self.outcome {
            SizeOutcome::Ran { rows, .. } => rows,
            SizeOutcome::Failed { .. } => &[],
        }
    }

    pub fn row(&self, relation: Relation) -> Option<&RelationRow> {
        self.rows().iter().find(|r| r.relation == relation)
    }
}

/// The whole sweep (`sweep.json`); `sizes` grows as each size finishes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    pub schema: u32,
    pub sweep_id: String,
    pub scenario: String,
    pub backend: String,
    /// Every size asked for, smallest first.
    pub planned: Vec<u32>,
    pub threshold: Threshold,
    pub swept: Swept,
    pub sizes: Vec<SizeResult>,
}

/// Where a relation's delivery first fell below the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Break {
    /// At this size, delivering this fraction (after the sizes before it held).
    At { bytes: u32, delivered: f64 },
    /// Held at every size measured, the largest being this one.
    Held { up_to: u32 },
}

/// The first point (sizes ascending) whose delivery is below `min`; points without a figure
/// (the size failed, or nothing was expected) are skipped. `None` when no point has a figure.
pub fn first_below(points: &[(u32, Option<f64>)], min: f64) -> Option<Break> {
    let mut measured = points.iter().filter_map(|(b, d)| d.map(|d| (*b, d))).peekable();
    measured.peek()?;
    let mut up_to = 0;
    for (bytes, delivered) in measured {
        if delivered < min {
            return Some(Break::At { bytes, delivered });
        }
        up_to = bytes;
    }
    Some(Break::Held { up_to })
}

/// Accumulates one relation's pair-trials.
#[derive(Default)]
struct Acc {
    pairs: BTreeSet<(String, String)>,
    pair_trials: u32,
    expected: u64,
    received: u64,
    window_s: f64,
    buckets: Vec<(u64, u64)>,
    clock_trusted: bool,
    any_latency: bool,
}

/// The relation rows of one size's run: its complete trials' pairs whose talker is swept,
/// grouped by relation (same pod, same node, cross node; pairs of unknown relation left out).
pub fn rows_of(report: &RunReport, bytes: u32, swept: &Swept) -> Vec<RelationRow> {
    let mut by: BTreeMap<Relation, Acc> = BTreeMap::new();
    let counted = |relation: Relation, talker: &str| relation != Relation::Unknown && swept.covers(talker);
    for p in report.complete().flat_map(|t| &t.pairs).filter(|p| counted(p.relation, &p.talker)) {
        let a = by.entry(p.relation).or_insert_with(|| Acc { clock_trusted: true, ..Acc::default() });
        a.pairs.insert((p.talker.clone(), p.listener.clone()));
        a.pair_trials += 1;
        a.expected += p.expected;
        a.received += p.received;
        if let (Some(from), Some(to)) = (p.window_from_s, p.window_to_s) {
            a.window_s += (to - from).max(0.0);
        }
    }
    for p in report.pairs.iter().filter(|p| counted(p.relation, &p.talker)) {
        if let Some(a) = by.get_mut(&p.relation) {
            a.buckets.extend_from_slice(&p.latency_buckets);
            a.clock_trusted &= p.clock_trusted;
            a.any_latency |= !p.latency_buckets.is_empty();
        }
    }
    by.into_iter()
        .map(|(relation, mut a)| {
            a.buckets.sort_unstable();
            RelationRow {
                relation,
                pairs: a.pairs.len(),
                pair_trials: a.pair_trials,
                expected: a.expected,
                received: a.received,
                delivered: (a.expected > 0).then(|| (a.received as f64 / a.expected as f64).min(1.0)),
                latency_p50_us: quantile(&a.buckets, 0.5),
                latency_p99_us: quantile(&a.buckets, 0.99),
                clock_trusted: a.clock_trusted || !a.any_latency,
                goodput_bytes_per_s: (a.window_s > 0.0).then(|| a.received as f64 * f64::from(bytes) / a.window_s),
            }
        })
        .collect()
}

/// The value at quantile `q` of histogram buckets (value, count) sorted by value: the smallest
/// value with at least `q` of the count at or below it, as hdrhistogram reads a quantile.
pub fn quantile(sorted: &[(u64, u64)], q: f64) -> Option<u64> {
    let total: u64 = sorted.iter().map(|b| b.1).sum();
    if total == 0 {
        return None;
    }
    let want = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut acc = 0;
    sorted
        .iter()
        .find(|b| {
            acc += b.1;
            acc >= want
        })
        .map(|b| b.0)
}

impl SweepReport {
    /// The relations any size measured, in order (same pod, same node, cross node).
    pub fn relations(&self) -> Vec<Relation> {
        let set: BTreeSet<Relation> = self.sizes.iter().flat_map(|s| s.rows().iter().map(|r| r.relation)).collect();
        set.into_iter().collect()
    }

    /// Each relation's break (see [`first_below`]).
    pub fn breaks(&self) -> Vec<(Relation, Option<Break>)> {
        self.relations()
            .into_iter()
            .map(|rel| {
                let points: Vec<(u32, Option<f64>)> =
                    self.sizes.iter().map(|s| (s.bytes, s.row(rel).and_then(|r| r.delivered))).collect();
                (rel, first_below(&points, self.threshold.min_delivery))
            })
            .collect()
    }

    /// The answer in one sentence per relation: where delivery first drops below the threshold
    /// (and where the threshold comes from); then why sizes failed to run.
    pub fn findings(&self) -> Vec<String> {
        let words = percent(self.threshold.min_delivery);
        let mut out: Vec<String> = self
            .breaks()
            .into_iter()
            .map(|(rel, b)| match b {
                Some(Break::At { bytes, delivered }) => format!(
                    "{}: delivery first drops below {words} at {} ({} delivered).",
                    capital(rel.as_str()),
                    super::size::label(bytes),
                    percent(delivered)
                ),
                Some(Break::Held { up_to }) => format!(
                    "{}: delivery stays at or above {words} at every size measured, up to {}.",
                    capital(rel.as_str()),
                    super::size::label(up_to)
                ),
                None => format!("{}: no size measured any delivery.", capital(rel.as_str())),
            })
            .collect();
        if out.is_empty() {
            out.push("No size measured a pair of the swept talkers.".into());
        }
        out.push(self.threshold.words());
        if let Some(max) = self.threshold.max_p99_latency_ms {
            out.extend(self.latency_findings(max));
        }
        for s in &self.sizes {
            if let SizeOutcome::Failed { error } = &s.outcome {
                out.push(format!("{} could not be measured: {error}", super::size::label(s.bytes)));
            }
        }
        out
    }

    /// Where each relation's p99 latency first exceeds the scenario's `maxP99LatencyMs`.
    fn latency_findings(&self, max_ms: f64) -> Vec<String> {
        let mut out = Vec::new();
        for rel in self.relations() {
            let over = self.sizes.iter().find_map(|s| {
                let p99 = s.row(rel)?.latency_p99_us? as f64 / 1000.0;
                (p99 > max_ms).then_some((s.bytes, p99))
            });
            if let Some((bytes, p99)) = over {
                out.push(format!(
                    "{}: p99 latency first exceeds the scenario's expect.maxP99LatencyMs ({max_ms} ms) at {} ({p99:.1} ms).",
                    capital(rel.as_str()),
                    super::size::label(bytes)
                ));
            }
        }
        out
    }

    /// Whether some relation's delivery fell below the threshold at some size.
    pub fn broke(&self) -> bool {
        self.breaks().iter().any(|(_, b)| matches!(b, Some(Break::At { .. })))
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// `95.0 %`.
pub fn percent(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_below_finds_the_first_failing_size() {
        let pts = [(1024, Some(1.0)), (65_536, Some(0.96)), (262_144, Some(0.5)), (1 << 20, Some(0.99))];
        assert_eq!(first_below(&pts, 0.95), Some(Break::At { bytes: 262_144, delivered: 0.5 }));
        // Exactly at the threshold holds.
        assert_eq!(first_below(&pts[..2], 0.96), Some(Break::Held { up_to: 65_536 }));
        // A failed size (no figure) is skipped, not a break.
        let gap = [(1024, Some(1.0)), (65_536, None), (262_144, Some(0.97))];
        assert_eq!(first_below(&gap, 0.95), Some(Break::Held { up_to: 262_144 }));
        assert_eq!(first_below(&[(1024, None)], 0.95), None);
        assert_eq!(first_below(&[(1024, Some(0.2))], 0.95), Some(Break::At { bytes: 1024, delivered: 0.2 }));
    }

    #[test]
    fn quantiles_of_merged_buckets() {
        let b = [(100, 50), (200, 40), (900, 9), (5000, 1)];
        assert_eq!(quantile(&b, 0.5), Some(100));
        assert_eq!(quantile(&b, 0.51), Some(200));
        assert_eq!(quantile(&b, 0.99), Some(900));
        assert_eq!(quantile(&b, 1.0), Some(5000));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn rows_per_relation_from_a_run() {
        let r = crate::analysis::fixture::report();
        let all = Swept {
            talkers: vec!["pi-pod.talker".into(), "master-talker.talker".into()],
            kept: Vec::new(),
            all: true,
            own_programs: Vec::new(),
        };
        let rows = rows_of(&r, 1000, &all);
        let rels: Vec<Relation> = rows.iter().map(|r| r.relation).collect();
        assert_eq!(rels, [Relation::SamePod, Relation::SameNode, Relation::CrossNode]);
        // Cross node: two pairs over two trials, 11 messages in each window; both lose seq 15
        // in each trial (10 + 10 + 10), and trial 2 cuts the Pi talker from the master listener
        // (0).
        let cross = &rows[2];
        assert_eq!((cross.pairs, cross.pair_trials, cross.expected, cross.received), (2, 4, 44, 30));
        assert_eq!(cross.delivered, Some(30.0 / 44.0));
        // Same node / same pod lose nothing; their latency is 0.3 ms + 10 µs per seq, cross node
        // 0.9 ms more.
        assert_eq!(rows[0].delivered, Some(1.0));
        let p50 = |r: &RelationRow| r.latency_p50_us.expect("latency");
        assert!(p50(&rows[0]) < 600 && p50(cross) > 1100, "{rows:?}");
        // Goodput: windows of 2.5 s; same pod 22 × 1000 B in 5 s, cross node 30 × 1000 B over
        // four windows (10 s).
        let g = |r: &RelationRow| r.goodput_bytes_per_s.expect("goodput");
        assert!((g(&rows[0]) - 4400.0).abs() < 1e-6 && (g(cross) - 3000.0).abs() < 1e-6, "{rows:?}");
        // Only swept talkers count.
        let one = Swept { talkers: vec!["master-talker.talker".into()], ..all };
        let rows = rows_of(&r, 1000, &one);
        assert_eq!(rows.iter().map(|r| r.pairs).sum::<usize>(), 2, "{rows:?}");
    }
}
