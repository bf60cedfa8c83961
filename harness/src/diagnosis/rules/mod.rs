//! The rules. For a pair that delivered nothing, [`SILENT_RULES`] in priority order (the first
//! that fires explains it); for a pair that delivered something, [`LATE_RULES`]; per trial,
//! [`TRIAL_RULES`] ([`containers_failed`], [`nodes_died`], [`outages`], [`link_saturated`]); over the run,
//! [`RUN_RULES`] ([`loss`]); and [`faults_not_seen`] for injected faults that left no trace.
//!
//! One file per rule (or per family of rules that share a fact), its tests beside it. To add a
//! rule: write it in a new file here — a pair rule is `fn(&Context) -> Option<Finding>`, with a
//! rule id of its own and a cause that names no trial-specific numbers (so findings group) —
//! declare it below, and add it to its list in `registry.rs` at its place in the priority order;
//! then give it a case in `plain_words.rs`, whose test counts the rules.

mod containers;
mod domain;
mod faults;
mod fragment_loss;
mod initial_peers_range;
mod kernel;
mod late_discovery;
mod late_joiner;
mod link_saturated;
mod loss;
mod matched_no_data;
mod multicast;
mod no_discovery;
mod node_died;
mod not_started;
mod outage;
mod qos;
mod receive_buffer;
mod registry;
mod shared_memory;
mod silent_talker;
mod why_silent;
mod window_edges;
mod words;

pub use containers::containers_failed;
pub use domain::domain_mismatch;
pub use faults::faults_not_seen;
pub use fragment_loss::fragment_loss;
pub use initial_peers_range::initial_peers_range;
pub use late_discovery::late_discovery;
pub use late_joiner::late_joiner;
pub use link_saturated::link_saturated;
pub use loss::loss;
pub use matched_no_data::matched_but_no_data;
pub use multicast::no_discovery_across_nodes;
pub use no_discovery::no_discovery;
pub use node_died::nodes_died;
pub use not_started::{listener_not_started, talker_not_started};
pub use outage::outages;
pub use qos::qos_incompatible;
pub use receive_buffer::receive_buffer_overrun;
pub use registry::{LATE_RULES, RUN_RULES, SILENT_RULES, TRIAL_RULES};
pub use shared_memory::fastdds_shared_memory;
pub use silent_talker::talker_sent_nothing;
pub use why_silent::why_silent;

#[cfg(test)]
pub(crate) mod test_support;
