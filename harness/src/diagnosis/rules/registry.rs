//! The rules in the order they run: which rule explains a silent pair, what else is said about
//! a delivering one, and the trial- and run-wide rules. The order is the priority: for a silent
//! pair the first of [`SILENT_RULES`] that fires explains it, most specific first.

use super::{
    containers_failed, domain_mismatch, fastdds_shared_memory, fragment_loss, initial_peers_range, late_discovery,
    late_joiner, link_saturated, listener_not_started, loss, matched_but_no_data, no_discovery,
    no_discovery_across_nodes, nodes_died, outages, qos_incompatible, receive_buffer_overrun, talker_not_started,
    talker_sent_nothing,
};
use crate::analysis::trial::TrialReport;
use crate::analysis::PairSummary;
use crate::diagnosis::{Context, Finding, Setting};

/// A rule about one pair in one trial.
type PairRule = fn(&Context<'_>) -> Option<Finding>;

/// A rule about one trial as a whole: its containers, its nodes, its silences.
type TrialRule = fn(&TrialReport, &Setting) -> Vec<Finding>;

/// A rule over the run: every complete trial and every pair's summary.
type RunRule = fn(&[&TrialReport], &[PairSummary], &Setting) -> Vec<Finding>;

/// Why a pair delivered nothing, most specific first.
pub const SILENT_RULES: &[PairRule] = &[
    listener_not_started,
    talker_not_started,
    domain_mismatch,
    qos_incompatible,
    talker_sent_nothing,
    fastdds_shared_memory,
    // Matched, then lost large samples (the kernel's counters say how): before anything that
    // blames discovery or the data path.
    fragment_loss,
    receive_buffer_overrun,
    initial_peers_range,
    no_discovery_across_nodes,
    matched_but_no_data,
    no_discovery,
];

/// What else to say about a pair that delivered something.
pub const LATE_RULES: &[PairRule] = &[late_joiner, late_discovery, fragment_loss, receive_buffer_overrun];

/// Per trial, after its pairs.
pub const TRIAL_RULES: &[TrialRule] = &[|trial, _| containers_failed(trial), nodes_died, outages, link_saturated];

/// Over the run, after every trial; [`faults_not_seen`](super::faults_not_seen) comes last,
/// as it reads what all of these found.
pub const RUN_RULES: &[RunRule] = &[loss];
