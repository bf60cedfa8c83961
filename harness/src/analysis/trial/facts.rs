//! What one trial found: each node's facts about itself, each talker→listener pair's report
//! (window, delivery, loss, discovery, latency), the outage-length silences, and the
//! [`TrialReport`] holding them all. Plain data: the analyzer fills it, exporters and the
//! diagnosis read it.

use std::collections::BTreeMap;

use chatter::record::RecordRef;
use chatter::{RecordKind, Reliability};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::analysis::delivery::Delivery;
use crate::analysis::roster::Relation;
use crate::analysis::TrialMeta;
use crate::timing::secs_since;

/// What any node said about itself: start, matching, stop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeFacts {
    pub started: bool,
    pub start_ns: Option<u64>,
    pub domain: Option<u32>,
    pub reliability: Option<Reliability>,
    /// Its own DDS endpoint GUID (from the start record), where the transport tells.
    #[serde(default)]
    pub guid: Option<String>,
    /// Most remote endpoints matched at once.
    pub max_peers: u32,
    pub first_matched_ns: Option<u64>,
    /// `matched` records listed which endpoints (per-pair discovery is known).
    #[serde(default)]
    pub lists_endpoints: bool,
    pub stop_reason: Option<String>,
    /// Time of its last record of any kind.
    #[serde(default)]
    pub last_ns: Option<u64>,
}

impl NodeFacts {
    /// Takes what `start`, `matched` and `stop` records say; other kinds are the caller's.
    pub(super) fn note(&mut self, r: &RecordRef<'_>) {
        self.last_ns = Some(self.last_ns.map_or(r.t_ns, |l| l.max(r.t_ns)));
        match r.kind {
            RecordKind::Start => {
                self.started = true;
                self.start_ns = Some(r.t_ns);
                self.domain = r.domain;
                self.reliability = r.reliability;
                self.guid = r.guid.as_deref().map(str::to_owned);
                // A transport that names its own endpoint also lists the ones it matches: from
                // now on, no `matched` record means nothing matched.
                self.lists_endpoints |= r.guid.is_some();
            }
            RecordKind::Matched => {
                let peers = r.peers.unwrap_or(0);
                self.max_peers = self.max_peers.max(peers);
                if peers > 0 {
                    self.first_matched_ns.get_or_insert(r.t_ns);
                }
                self.lists_endpoints |= r.remote.is_some();
            }
            RecordKind::Stop => self.stop_reason = r.reason.as_deref().map(str::to_owned),
            RecordKind::Sent | RecordKind::Recv => {}
        }
    }

    /// When the node stopped being up: its stop record, or its last record if it died.
    pub fn end_ns(&self) -> Option<u64> {
        self.last_ns
    }

    /// It started, and ended without a stop record: killed or crashed.
    pub fn died(&self) -> bool {
        self.started && self.stop_reason.is_none()
    }
}

/// What a talker said about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TalkerFacts {
    pub id: String,
    #[serde(flatten)]
    pub node: NodeFacts,
    /// Messages sent over the whole trial.
    pub sent: u64,
    pub last_seq: u64,
}

/// What a listener said about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerFacts {
    pub id: String,
    #[serde(flatten)]
    pub node: NodeFacts,
    pub received: u64,
    pub foreign: u64,
}

/// One talker→listener pair in one trial. Times in ms count from the trial's origin
/// ([`TrialMeta::start_ns`]) unless they say otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairReport {
    pub trial: u32,
    pub talker: String,
    pub listener: String,
    /// Nodes the two ran on in this trial.
    pub talker_node: Option<String>,
    pub listener_node: Option<String>,
    pub relation: Relation,
    /// When the window opened (warm-up after both ends were up), s from the trial's origin.
    pub window_from_s: Option<f64>,
    /// When it closed (the listener's end), s from the trial's origin.
    pub window_to_s: Option<f64>,
    /// Messages the talker sent inside the window.
    pub expected: u64,
    pub received: u64,
    pub lost: u64,
    /// Of `lost`, those missing between the first and the last message received (the rest
    /// were before the first or after the last: a late start or discovery, an early end).
    #[serde(default)]
    pub lost_in_gaps: u64,
    pub duplicates: u64,
    pub reordered: u64,
    /// Messages sent before the window (warm-up, or before the listener was up) that arrived.
    pub before_window: u64,
    pub first_seq: Option<u64>,
    pub longest_gap: u64,
    /// Runs of consecutive lost messages.
    pub loss_runs: u64,
    pub max_silence_ms: Option<f64>,
    /// Silences long enough to be an outage (see [`TrialReport::silences`]).
    pub outages: u32,
    /// The listener matched this talker's writer (`None`: the transport did not say which
    /// writers it matched).
    pub listener_matched: Option<bool>,
    /// The talker's writer matched this listener's reader (`None`: not known).
    pub talker_matched: Option<bool>,
    /// The listener matched this talker, ms after both were up.
    pub matched_ms: Option<f64>,
    /// First message (warm-up included), ms after both were up.
    pub first_message_ms: Option<f64>,
    pub latency_p50_us: Option<u64>,
    pub latency_p90_us: Option<u64>,
    pub latency_p99_us: Option<u64>,
    pub latency_max_us: Option<u64>,
    /// Messages stamped as received before they were sent (the clocks disagree).
    pub negative_latency: u64,
    /// Both ends stamp with one clock (same machine, or the backend shares one clock), so
    /// latency and discovery times are real.
    pub clock_trusted: bool,
    /// Trusted through measured clock offsets: times between the two nodes are known to
    /// within ± this (the offsets' uncertainties added).
    #[serde(default)]
    pub clock_uncertainty_ms: Option<f64>,
    pub delivery: Delivery,
}

impl PairReport {
    pub fn ratio(&self) -> f64 {
        ratio(self.received, self.expected)
    }

    pub fn name(&self) -> String {
        format!("{} → {}", self.talker, self.listener)
    }
}

/// `received / expected`, with 0 expected meaning "all" if anything arrived.
pub fn ratio(received: u64, expected: u64) -> f64 {
    if expected == 0 {
        if received > 0 {
            1.0
        } else {
            0.0
        }
    } else {
        received as f64 / expected as f64
    }
}

/// A silence on one pair long enough to be an outage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub talker: String,
    pub listener: String,
    /// Seconds from the trial's origin.
    pub from_s: f64,
    pub to_s: f64,
    /// The silence runs to the end of the window (nothing arrived after it).
    pub open_ended: bool,
}

/// One trial's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialReport {
    pub meta: TrialMeta,
    /// Where each pod ran in this trial (pod → node).
    pub placement: BTreeMap<String, String>,
    pub talkers: Vec<TalkerFacts>,
    pub listeners: Vec<ListenerFacts>,
    pub pairs: Vec<PairReport>,
    /// Outage-length silences, by pair.
    pub silences: Vec<Silence>,
    /// Which listeners heard which talkers, as a stable label.
    pub outcome: String,
    /// Records that could not be attributed (unknown node ids, unparseable lines).
    pub stray: u64,
    /// Containers that ended badly, as the backend saw them (kube: OOMKilled, exit codes, a
    /// wrong-architecture image).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<crate::backend::ContainerExit>,
    /// The DDS participant each process was (see [`crate::backend::participants`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<crate::backend::Participant>,
    /// Each node's DDS traffic (see [`crate::backend::traffic`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traffic: Vec<crate::backend::NodeTraffic>,
    /// Each network namespace's kernel counters (see [`crate::backend::KernelCounters`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kernel: Vec<crate::backend::KernelCounters>,
    /// Why the trial's records are incomplete (kube: a log stream that broke), so it counts
    /// nowhere, like an interrupted one: its missing records are not message loss.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
    /// When the warm-up after the last node's start ran out (wall clock ns): where every window
    /// would open without per-pair discovery; `meta.opened_ns` is when it did open, where every
    /// pair had matched before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_ends_ns: Option<u64>,
    /// When the last node of the trial printed its start record (wall clock ns): where the
    /// start barrier's warm-up began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_started_ns: Option<u64>,
}

impl TrialReport {
    /// Pairs that measured nothing: their talker sent, but not one message inside the pair's
    /// window, which opened after the talker's last message (its ends came up too far apart —
    /// an emulated node starting seconds late — or the talker ended early). "Nothing received"
    /// says nothing about delivery there, so the trial must not count as a failure to deliver.
    pub fn unmeasured(&self) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|p| p.expected == 0 && p.received == 0 && self.talker(&p.talker).is_some_and(|t| t.sent > 0))
            .filter_map(|p| {
                Some(format!(
                    "{} → {} had no window: it opened {:.2} s into the trial, after the talker's last message, so \
                     nothing was expected of it",
                    p.talker, p.listener, p.window_from_s?
                ))
            })
            .collect()
    }

    pub fn talker(&self, id: &str) -> Option<&TalkerFacts> {
        self.talkers.iter().find(|t| t.id == id)
    }

    pub fn listener(&self, id: &str) -> Option<&ListenerFacts> {
        self.listeners.iter().find(|l| l.id == id)
    }

    /// Seconds from this trial's origin.
    pub fn at_s(&self, t_ns: u64) -> f64 {
        secs_since(self.meta.start_ns, t_ns)
    }
}

/// Each pair's latency histogram of one trial, keyed by (talker, listener, relation).
pub type PairLatencies = Vec<((String, String, Relation), Histogram<u64>)>;

#[cfg(test)]
mod unmeasured_tests {
    use super::*;
    use crate::analysis::trial::{AnalysisSettings, TrialAnalyzer};
    use crate::analysis::Member;
    use crate::analysis::Roster;
    use chatter::Record;
    use chatter::Role;

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;

    /// A talker that sends ten messages in its first second, and a listener that comes up at
    /// `listener_up`, with a 0.5 s warm-up.
    fn trial(listener_up: u64) -> TrialReport {
        let member =
            |id: &str| Member { id: id.into(), pod: id.into(), node: "n".into(), demo: false, message_type: None };
        let roster = Roster { talkers: vec![member("t")], listeners: vec![member("l")] };
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: S / 2, shared_clock: true });
        acc.push(&testkit::start_record(0, "t", Role::Talker, "n", None).view());
        for seq in 1..=10u64 {
            acc.push(&Record::sent(seq * 100 * MS, "t", seq).view());
        }
        acc.push(&testkit::start_record(listener_up, "l", Role::Listener, "n", None).view());
        let totals = chatter::record::ListenerTotals::default();
        acc.push(&Record::listener_stop(listener_up + 2 * S, "l", &totals, "SIGTERM").view());
        acc.finish(TrialMeta { trial: 1, start_ns: 0, end_ns: 4 * S, interrupted: false, opened_ns: None }).0
    }

    #[test]
    fn a_window_after_the_last_message_measures_nothing() {
        // Up at 2 s: its window opens at 2.5 s, the talker's last message went at 1 s.
        let late = trial(2 * S);
        assert_eq!(late.pairs[0].expected, 0);
        let why = late.unmeasured();
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(why[0].starts_with("t → l had no window: it opened 2.50 s into the trial"), "{why:?}");
        // Up at 0.2 s: its window opens at 0.7 s and four messages were sent in it; hearing none
        // of them is a failure to deliver, not "unmeasured".
        let on_time = trial(200 * MS);
        assert_eq!((on_time.pairs[0].expected, on_time.pairs[0].received), (4, 0));
        assert!(on_time.unmeasured().is_empty());
    }
}
