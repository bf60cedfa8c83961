//! One trial: records in, [`TrialReport`] out.
//!
//! Each pair's window comes from the nodes' own records (see [`crate::timing`]); discovery is
//! per pair: a talker's `start` record names its writer GUID, a listener's `matched` records
//! list the writers it is matched with, so "did this listener ever match *that* talker" has an
//! answer (and the same the other way round).
//!
//! Held at a start barrier ([`TrialAnalyzer::with_barrier`], local and netns), every pair's
//! window opens at once: the warm-up after the *last* node of the trial started (or when the
//! harness opened it early, every pair matched). Until every node has started, a receipt that
//! may fall inside that window waits; if some node never starts, each pair falls back to its
//! own window.
//!
//! - `facts`: what a trial found ([`TrialReport`]: per-node facts, per-pair reports,
//!   silences).
//! - `analyzer`: the streaming half ([`TrialAnalyzer`]): one record at a time into per-node
//!   facts and per-pair accumulators, windows judged as soon as they are known.
//! - `demo`: receipts of stock demo talkers (no talker id), attributed by send time.
//! - `finish`: closing the trial: every pair's report, the outcome label.

mod analyzer;
mod demo;
mod facts;
mod finish;

pub use analyzer::{AnalysisSettings, TrialAnalyzer};
pub use facts::{ratio, ListenerFacts, NodeFacts, PairLatencies, PairReport, Silence, TalkerFacts, TrialReport};
pub use finish::outcome_label;
