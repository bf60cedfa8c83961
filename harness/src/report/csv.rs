//! `pairs.csv` (one row per trial and pair) and `trials.csv` (one row per trial). Rows are
//! `#[derive(Serialize)]` structs, so header and values cannot drift apart.

use std::io::{self, Write};

use serde::Serialize;

use super::Exporter;
use crate::analysis::{Delivery, Relation, RunReport};

#[derive(Debug, Serialize)]
pub struct PairRow<'a> {
    pub trial: u32,
    pub talker: &'a str,
    pub listener: &'a str,
    pub talker_node: &'a str,
    pub listener_node: &'a str,
    pub relation: Relation,
    pub delivery: Delivery,
    pub expected: u64,
    pub received: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub before_window: u64,
    pub first_seq: Option<u64>,
    pub longest_gap: u64,
    pub max_silence_ms: Option<f64>,
    pub discovery_ms: Option<f64>,
    pub latency_p50_us: Option<u64>,
    pub latency_p90_us: Option<u64>,
    pub latency_p99_us: Option<u64>,
    pub latency_max_us: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct TrialRow<'a> {
    pub trial: u32,
    pub start_ns: u64,
    pub window_start_ns: u64,
    pub end_ns: u64,
    pub interrupted: bool,
    pub outcome: &'a str,
    pub pairs_delivered: usize,
    pub pairs_partial: usize,
    pub pairs_none: usize,
    pub stray_lines: u64,
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
        let mut w = ::csv::Writer::from_writer(out);
        for t in &report.trials {
            for p in &t.pairs {
                w.serialize(PairRow {
                    trial: t.meta.trial,
                    talker: &p.talker,
                    listener: &p.listener,
                    talker_node: p.talker_node.as_deref().unwrap_or(""),
                    listener_node: p.listener_node.as_deref().unwrap_or(""),
                    relation: p.relation,
                    delivery: p.delivery,
                    expected: p.expected,
                    received: p.received,
                    lost: p.lost,
                    duplicates: p.duplicates,
                    reordered: p.reordered,
                    before_window: p.before_window,
                    first_seq: p.first_seq,
                    longest_gap: p.longest_gap,
                    max_silence_ms: p.max_silence_ms,
                    discovery_ms: p.discovery_ms,
                    latency_p50_us: p.latency_p50_us,
                    latency_p90_us: p.latency_p90_us,
                    latency_p99_us: p.latency_p99_us,
                    latency_max_us: p.latency_max_us,
                })
                .map_err(csv_err)?;
            }
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
            w.serialize(TrialRow {
                trial: t.meta.trial,
                start_ns: t.meta.start_ns,
                window_start_ns: t.meta.window_start_ns,
                end_ns: t.meta.end_ns,
                interrupted: t.meta.interrupted,
                outcome: &t.outcome,
                pairs_delivered: count(Delivery::Delivered),
                pairs_partial: count(Delivery::Partial),
                pairs_none: count(Delivery::None),
                stray_lines: t.stray,
            })
            .map_err(csv_err)?;
        }
        w.flush()
    }
}
