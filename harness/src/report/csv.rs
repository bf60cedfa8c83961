//! `pairs.csv` (one row per trial and pair) and `trials.csv` (one row per trial). Rows are
//! `#[derive(Serialize)]` structs, so header and values cannot drift apart.

use std::io::{self, Write};

use serde::Serialize;

use super::exporter::Exporter;
use crate::analysis::Delivery;
use crate::summary::RunReport;

#[derive(Debug, Serialize)]
pub struct TrialRow<'a> {
    pub trial: u32,
    pub start_ns: u64,
    pub end_ns: u64,
    pub interrupted: bool,
    /// When the measurement window opened because every pair had matched both ways, seconds
    /// into the trial; empty when the warm-up ran out first.
    pub all_matched_s: Option<f64>,
    /// When the last node of the trial started (its start record), seconds into the trial.
    pub last_started_s: Option<f64>,
    /// When the warm-up after the last node's start ran out, seconds into the trial: where the
    /// window would have opened without per-pair discovery.
    pub warmup_ends_s: Option<f64>,
    /// Where each pod ran, `pod=node` separated by spaces.
    pub placement: String,
    /// The outcome's letter (as in the reports); empty for interrupted trials.
    pub letter: &'a str,
    pub outcome: &'a str,
    pub pairs_delivered: usize,
    pub pairs_partial: usize,
    pub pairs_none: usize,
    pub stray_lines: u64,
    /// What the kernel counted in every namespace of the trial, summed (empty where the backend
    /// reads no counters): IP fragments made, reassembly failures, datagrams dropped for a full
    /// socket receive buffer.
    pub frag_creates: Option<u64>,
    pub reasm_fails: Option<u64>,
    pub rcvbuf_errors: Option<u64>,
}

fn csv_err(e: ::csv::Error) -> io::Error {
    io::Error::other(e)
}

#[derive(Debug)]
pub struct PairsCsv;

impl Exporter for PairsCsv {
    fn file_name(&self) -> &'static str {
        "pairs.csv"
    }

    fn export(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        // One row per trial and pair: the analysis's own struct, so columns cannot drift.
        let mut w = ::csv::Writer::from_writer(out);
        for p in report.trials.iter().flat_map(|t| &t.pairs) {
            w.serialize(p).map_err(csv_err)?;
        }
        w.flush()
    }
}

#[derive(Debug)]
pub struct TrialsCsv;

impl Exporter for TrialsCsv {
    fn file_name(&self) -> &'static str {
        "trials.csv"
    }

    fn export(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        let mut w = ::csv::Writer::from_writer(out);
        for t in &report.trials {
            let count = |d: Delivery| t.pairs.iter().filter(|p| p.delivery == d).count();
            let kernel = |f: fn(&crate::backend::KernelCounters) -> u64| {
                (!t.kernel.is_empty()).then(|| t.kernel.iter().map(f).sum())
            };
            w.serialize(TrialRow {
                trial: t.meta.trial,
                start_ns: t.meta.start_ns,
                end_ns: t.meta.end_ns,
                interrupted: t.meta.interrupted,
                all_matched_s: t.meta.opened_ns.map(|o| crate::timing::secs_since(t.meta.start_ns, o)),
                last_started_s: t.last_started_ns.map(|w| crate::timing::secs_since(t.meta.start_ns, w)),
                warmup_ends_s: t.warmup_ends_ns.map(|w| crate::timing::secs_since(t.meta.start_ns, w)),
                placement: t.placement.iter().map(|(p, n)| format!("{p}={n}")).collect::<Vec<_>>().join(" "),
                letter: if t.meta.interrupted { "" } else { report.letter_of(&t.outcome).unwrap_or("") },
                outcome: &t.outcome,
                pairs_delivered: count(Delivery::Delivered),
                pairs_partial: count(Delivery::Partial),
                pairs_none: count(Delivery::None),
                stray_lines: t.stray,
                frag_creates: kernel(|k| k.ip.frag_creates),
                reasm_fails: kernel(|k| k.ip.reasm_fails),
                rcvbuf_errors: kernel(|k| k.udp.rcvbuf_errors),
            })
            .map_err(csv_err)?;
        }
        w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::render;

    #[test]
    fn pairs_csv() {
        insta::assert_snapshot!(render(&PairsCsv));
    }

    #[test]
    fn trials_csv() {
        insta::assert_snapshot!(render(&TrialsCsv));
    }
}
