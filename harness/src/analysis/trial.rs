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

use std::collections::{BTreeMap, HashMap};

use chatter::record::RecordRef;
use chatter::{PayloadKind, RecordKind, Reliability, Role};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::clocks::ClockCorrection;
use super::pair::PairAcc;
use super::sends::SendLog;
use super::{Delivery, Relation, Roster, TrialMeta, ANONYMOUS};
use crate::timing::{outage_threshold_ns, secs_since, window_opens};

/// Receipts held back until their talker's `start` record is seen (the two come through
/// different pipes); past this many they are judged with the listener's window alone.
const PENDING_LIMIT: usize = 100_000;

/// How the analysis reads time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalysisSettings {
    /// Warm-up after both ends are up before a pair's window opens.
    pub warmup_ns: u64,
    /// Every node stamps records with one clock (local and netns backends): one-way latency
    /// and discovery times between any two nodes can be trusted. Otherwise only pairs on one
    /// node can (until clock offsets are measured).
    pub shared_clock: bool,
}

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
    fn note(&mut self, r: &RecordRef<'_>) {
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

#[derive(Debug, Default)]
struct TalkerState {
    facts: TalkerFacts,
    sends: SendLog,
    /// Reader GUID → when this writer first matched it.
    matched: HashMap<String, u64>,
}

impl TalkerState {
    /// Mean time between its messages (0: fewer than two sent), for what counts as an outage.
    fn period_ns(&self) -> u64 {
        match (self.sends.last_ns(), self.facts.node.start_ns) {
            (Some(last), Some(start)) if self.facts.sent > 1 => last.saturating_sub(start) / self.facts.sent,
            _ => 0,
        }
    }
}

#[derive(Debug, Default)]
struct ListenerState {
    facts: ListenerFacts,
    /// Writer GUID → when this reader first matched it.
    matched: HashMap<String, u64>,
}

/// A receipt whose talker's window is not known yet.
#[derive(Debug)]
struct Pending {
    listener: String,
    talker: String,
    seq: u64,
    recv_ns: u64,
    sent_ns: Option<u64>,
}

/// Accumulates one trial.
#[derive(Debug)]
pub struct TrialAnalyzer<'r> {
    roster: std::borrow::Cow<'r, Roster>,
    settings: AnalysisSettings,
    talkers: HashMap<String, TalkerState>,
    listeners: HashMap<String, ListenerState>,
    /// listener → talker → accumulator (nested so look-ups by `&str` need no allocation).
    pairs: HashMap<String, HashMap<String, PairAcc>>,
    pending: Vec<Pending>,
    /// Receipts of demo payloads ("Hello World: N", no talker id) while the plan has stock demo
    /// talkers: attributed by send time at the end.
    demo_heard: Vec<(String, u64, u64)>,
    stray: u64,
    /// Offsets that put the nodes' own clocks on one (nodes without a shared clock).
    clocks: Option<ClockCorrection>,
    /// The harness opened every window early, here (every expected pair had matched).
    opened_ns: Option<u64>,
    /// Every pair's window opens at the start barrier (see the module's header).
    barrier: bool,
    /// Nodes of the roster that printed their start record, and the latest such start.
    started: usize,
    last_start_ns: Option<u64>,
    /// Receipts that may be inside the barrier's window, held until every node has started.
    held: Vec<Pending>,
}

/// A demo receipt is attributed to the demo talker whose send of the same number came last
/// before it, within this long; two candidates closer together than [`DEMO_AMBIGUOUS_NS`]
/// leave it anonymous.
const DEMO_ATTRIBUTION_NS: u64 = 2_000_000_000;
const DEMO_AMBIGUOUS_NS: u64 = 200_000;
/// A receipt stamped before its send still matches, within this long, when no send of its
/// number came before it: a console line is stamped when it is logged, and a talker may log
/// after publishing — the ROS 2 tutorial's publisher does (`publish()`, then "Publishing:"),
/// measured here up to 22 ms after the listener had logged the receipt, on a loaded machine —
/// and across clocks the stamps of two machines differ too.
const DEMO_LOG_LAG_NS: u64 = 100_000_000;

impl<'r> TrialAnalyzer<'r> {
    pub fn new(roster: &'r Roster, settings: AnalysisSettings) -> Self {
        let talkers = roster
            .talkers
            .iter()
            .map(|m| {
                let facts = TalkerFacts { id: m.id.clone(), ..TalkerFacts::default() };
                (m.id.clone(), TalkerState { facts, ..TalkerState::default() })
            })
            .collect();
        let listeners = roster
            .listeners
            .iter()
            .map(|m| {
                let facts = ListenerFacts { id: m.id.clone(), ..ListenerFacts::default() };
                (m.id.clone(), ListenerState { facts, ..ListenerState::default() })
            })
            .collect();
        TrialAnalyzer {
            roster: std::borrow::Cow::Borrowed(roster),
            settings,
            talkers,
            listeners,
            pairs: HashMap::new(),
            pending: Vec::new(),
            demo_heard: Vec::new(),
            stray: 0,
            clocks: None,
            opened_ns: None,
            barrier: false,
            started: 0,
            last_start_ns: None,
            held: Vec::new(),
        }
    }

    /// Holds every pair's window at the trial's start barrier (see the module's header): the
    /// harness opened them all at once, the warm-up after the last node's start.
    #[must_use]
    pub fn with_barrier(mut self, barrier: bool) -> Self {
        self.barrier = barrier;
        self
    }

    /// The warm-up after both ends (or, at a barrier, every node) are up.
    pub fn warmup_ns(&self) -> u64 {
        self.settings.warmup_ns
    }

    /// When the last node of the roster started (wall clock ns), once every one has.
    pub fn last_start_ns(&self) -> Option<u64> {
        self.last_start_ns.filter(|_| self.all_started())
    }

    /// Where the start barrier opened every window: the warm-up after the last node's start,
    /// or earlier where the harness opened it early; `None` without a barrier or until every
    /// node has started.
    pub fn barrier_ns(&self) -> Option<u64> {
        if !self.barrier {
            return None;
        }
        let last = self.last_start_ns()?;
        let by_warmup = last.saturating_add(self.settings.warmup_ns);
        Some(self.opened_ns.filter(|o| *o >= last).map_or(by_warmup, |o| o.min(by_warmup)))
    }

    /// The harness opened the measurement window at `t_ns` (wall clock), before the warm-up
    /// ran out: every pair whose ends were both up by then has its window open from there.
    pub fn open_window_at(&mut self, t_ns: Option<u64>) {
        self.opened_ns = t_ns;
    }

    /// Whether every node of the roster has printed its start record.
    pub fn all_started(&self) -> bool {
        self.started == self.talkers.len() + self.listeners.len()
    }

    /// Counts a node's first start record; once the last node has started, the receipts held
    /// for the barrier are judged.
    fn note_started(&mut self, was_started: bool, t_ns: u64) {
        if was_started {
            return;
        }
        self.started += 1;
        self.last_start_ns = Some(self.last_start_ns.map_or(t_ns, |l| l.max(t_ns)));
        if self.all_started() {
            for p in std::mem::take(&mut self.held) {
                self.arrive(&p.listener, &p.talker, p.seq, p.recv_ns, p.sent_ns);
            }
        }
    }

    /// Whether every node of the roster is up and every pair has matched both ways — the
    /// listener's reader matched the talker's writer and the writer the reader (by the GUIDs of
    /// per-pair discovery), so nothing sent from now on is lost to discovery: the window can
    /// open before the warm-up runs out. Never true while per-pair discovery is unknown (a
    /// transport that does not list the endpoints it matched), or for a roster without talkers
    /// or listeners.
    pub fn all_matched(&self) -> bool {
        if self.talkers.is_empty() || self.listeners.is_empty() {
            return false;
        }
        let guid = |n: &NodeFacts| n.start_ns.and(n.guid.clone());
        self.listeners.values().all(|l| {
            self.talkers.values().all(|t| match (guid(&t.facts.node), guid(&l.facts.node)) {
                (Some(writer), Some(reader)) => l.matched.contains_key(&writer) && t.matched.contains_key(&reader),
                _ => false,
            })
        })
    }

    /// When the window of a pair whose ends were both up at `both_up` opens: the warm-up after
    /// that, or earlier where the harness opened it early after both were up.
    fn opening(&self, both_up: u64) -> u64 {
        if let Some(barrier) = self.barrier_ns() {
            return barrier;
        }
        let by_warmup = both_up.saturating_add(self.settings.warmup_ns);
        match self.opened_ns {
            Some(opened) if opened >= both_up => opened.min(by_warmup),
            _ => by_warmup,
        }
    }

    /// Reads every record on the reference clock of `clocks` (the doctor's measured offsets),
    /// when the nodes do not share one clock: latency and discovery times between measured
    /// nodes are then trusted, to within the offsets' uncertainty.
    #[must_use]
    pub fn with_clocks(mut self, clocks: Option<ClockCorrection>) -> Self {
        self.clocks = clocks.filter(|_| !self.settings.shared_clock);
        self
    }

    /// Moves pods to the nodes they actually ran on (`pod → node`), when the cluster's
    /// scheduler, not placement, decided; relations between pairs follow.
    pub fn relocate(&mut self, placement: &BTreeMap<String, String>) {
        if !placement.is_empty() {
            self.roster = std::borrow::Cow::Owned(self.roster.with_nodes(placement));
        }
    }

    /// Counts a line that was not a record.
    pub fn stray(&mut self) {
        self.stray += 1;
    }

    pub fn push(&mut self, r: &RecordRef<'_>) {
        match self.on_reference_clock(r) {
            Some(shifted) => self.push_on_one_clock(&shifted),
            None => self.push_on_one_clock(r),
        }
    }

    /// `r` with its times on the reference clock, where a correction applies: its own time by
    /// its node's offset, a receipt's send time by its talker's node's.
    fn on_reference_clock<'a>(&self, r: &RecordRef<'a>) -> Option<RecordRef<'a>> {
        let clocks = self.clocks.as_ref()?;
        let mut shifted = r.clone();
        if let Some(t) = self.roster.node_of(&r.node).and_then(|n| clocks.to_reference(n, r.t_ns)) {
            shifted.t_ns = t;
        }
        if let (Some(sent), Some(talker)) = (r.sent_ns, r.talker.as_deref()) {
            if let Some(t) = self.roster.node_of(talker).and_then(|n| clocks.to_reference(n, sent)) {
                shifted.sent_ns = Some(t);
            }
        }
        Some(shifted)
    }

    fn push_on_one_clock(&mut self, r: &RecordRef<'_>) {
        match r.role {
            Role::Talker => self.push_talker(r),
            Role::Listener => self.push_listener(r),
        }
    }

    fn push_talker(&mut self, r: &RecordRef<'_>) {
        let Some(t) = self.talkers.get_mut(r.node.as_ref()) else {
            self.stray += 1;
            return;
        };
        let was_started = t.facts.node.start_ns.is_some();
        t.facts.node.note(r);
        match r.kind {
            RecordKind::Start => {
                let id = r.node.clone().into_owned();
                self.note_started(was_started, r.t_ns);
                self.release_pending(&id);
            }
            RecordKind::Matched => note_matched(&mut t.matched, r),
            RecordKind::Sent => {
                let seq = r.seq.unwrap_or(0);
                t.facts.sent = t.facts.sent.max(seq);
                t.facts.last_seq = t.facts.last_seq.max(seq);
                t.sends.push(r.t_ns, seq);
            }
            RecordKind::Stop => t.facts.sent = t.facts.sent.max(r.count.unwrap_or(0)),
            RecordKind::Recv => self.stray += 1,
        }
    }

    fn push_listener(&mut self, r: &RecordRef<'_>) {
        let Some(l) = self.listeners.get_mut(r.node.as_ref()) else {
            self.stray += 1;
            return;
        };
        let was_started = l.facts.node.start_ns.is_some();
        l.facts.node.note(r);
        if r.kind == RecordKind::Start {
            self.note_started(was_started, r.t_ns);
            return;
        }
        match r.kind {
            RecordKind::Recv => {
                l.facts.received += 1;
                let (Some(seq), Some(PayloadKind::Chatter | PayloadKind::Demo)) = (r.seq, r.payload) else {
                    l.facts.foreign += 1;
                    return;
                };
                if r.talker.is_none()
                    && r.payload == Some(PayloadKind::Demo)
                    && self.roster.talkers.iter().any(|t| t.demo)
                    && self.demo_heard.len() < PENDING_LIMIT
                {
                    self.demo_heard.push((r.node.clone().into_owned(), seq, r.t_ns));
                    return;
                }
                let talker = r.talker.as_deref().unwrap_or(ANONYMOUS);
                let known = self.talkers.get(talker).is_some_and(|t| t.facts.node.start_ns.is_some());
                if self.talkers.contains_key(talker) && !known && self.pending.len() < PENDING_LIMIT {
                    self.pending.push(Pending {
                        listener: r.node.clone().into_owned(),
                        talker: talker.to_owned(),
                        seq,
                        recv_ns: r.t_ns,
                        sent_ns: r.sent_ns,
                    });
                    return;
                }
                self.arrive(r.node.as_ref(), talker, seq, r.t_ns, r.sent_ns);
            }
            RecordKind::Matched => note_matched(&mut l.matched, r),
            RecordKind::Sent => self.stray += 1,
            RecordKind::Start | RecordKind::Stop => {}
        }
    }

    /// When the window of `talker` → `listener` opens, as far as known now.
    fn window_opens(&self, listener: &str, talker: &str) -> Option<u64> {
        let l = self.listeners.get(listener)?.facts.node.start_ns?;
        let t = self.talkers.get(talker).and_then(|t| t.facts.node.start_ns).unwrap_or(l);
        Some(self.opening(window_opens(t, l, 0)))
    }

    fn arrive(&mut self, listener: &str, talker: &str, seq: u64, recv_ns: u64, sent_ns: Option<u64>) {
        // At a barrier not known yet (a node still to start), a message sent a warm-up after
        // the latest start so far may be inside the window: it waits for the last start.
        // Before that, it is before the window whatever the last start will be.
        let mut opens = None;
        if self.barrier && !self.all_started() {
            let earliest = self.last_start_ns.map(|l| l.saturating_add(self.settings.warmup_ns));
            match (sent_ns, earliest) {
                (Some(s), Some(e)) if s < e => opens = earliest,
                (Some(_), _) if self.held.len() < PENDING_LIMIT => {
                    let (listener, talker) = (listener.to_owned(), talker.to_owned());
                    self.held.push(Pending { listener, talker, seq, recv_ns, sent_ns });
                    return;
                }
                _ => {}
            }
        }
        let opens = opens.or_else(|| self.window_opens(listener, talker));
        let by_talker = match self.pairs.get_mut(listener) {
            Some(m) => m,
            None => self.pairs.entry(listener.to_owned()).or_default(),
        };
        let acc = match by_talker.get_mut(talker) {
            Some(a) => a,
            None => by_talker.entry(talker.to_owned()).or_default(),
        };
        match (sent_ns, opens) {
            (Some(sent), Some(opens)) if sent < opens => acc.arrive_before_window(recv_ns),
            _ => acc.arrive(seq, recv_ns, sent_ns),
        }
    }

    fn release_pending(&mut self, talker: &str) {
        if self.pending.iter().all(|p| p.talker != talker) {
            return;
        }
        let (ready, rest): (Vec<Pending>, Vec<Pending>) =
            std::mem::take(&mut self.pending).into_iter().partition(|p| p.talker == talker);
        self.pending = rest;
        for p in ready {
            self.arrive(&p.listener, &p.talker, p.seq, p.recv_ns, p.sent_ns);
        }
    }

    /// Attributes the receipts of "Hello World: N" (no talker id) to stock demo talkers: per
    /// listener and N, in receipt order, each receipt to the demo talker whose send of N came
    /// last before it (within [`DEMO_ATTRIBUTION_NS`]) and is not yet taken by an earlier
    /// receipt of that N; where no send of N came before it, to the first one stamped after it
    /// within [`DEMO_LOG_LAG_NS`] (a talker that logs after publishing). Two candidates closer
    /// than [`DEMO_AMBIGUOUS_NS`] leave the receipt anonymous.
    fn attribute_demo(&mut self) {
        let mut heard = std::mem::take(&mut self.demo_heard);
        heard.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
        let demo: Vec<String> = self.roster.talkers.iter().filter(|m| m.demo).map(|m| m.id.clone()).collect();
        let mut taken: Vec<&str> = Vec::new();
        let mut group: Option<(String, u64)> = None;
        let mut decided = Vec::with_capacity(heard.len());
        for (listener, seq, recv_ns) in &heard {
            if group.as_ref().is_none_or(|(l, s)| l != listener || s != seq) {
                group = Some((listener.clone(), *seq));
                taken.clear();
            }
            let candidates = demo.iter().filter(|id| !taken.contains(&id.as_str())).filter_map(|id| {
                let t = self.talkers.get(id)?.sends.time_of(*seq)?;
                let ok =
                    t <= recv_ns.saturating_add(DEMO_LOG_LAG_NS) && recv_ns.saturating_sub(t) <= DEMO_ATTRIBUTION_NS;
                ok.then_some((t, id.as_str()))
            });
            // Sends before the receipt, latest first; else those after it, earliest first.
            let (mut before, mut after): (Vec<_>, Vec<_>) = candidates.partition(|(t, _)| t <= recv_ns);
            before.sort_unstable_by(|a, b| b.cmp(a));
            after.sort_unstable();
            let nearest = if before.is_empty() { after } else { before };
            let pick = match nearest.as_slice() {
                [] => None,
                [(t1, _), (t2, _), ..] if t1.abs_diff(*t2) < DEMO_AMBIGUOUS_NS => None,
                [(t1, best), ..] => Some((*best, *t1)),
            };
            if let Some((best, _)) = pick {
                taken.push(best);
            }
            decided.push((listener.clone(), *seq, *recv_ns, pick.map(|(b, t)| (b.to_owned(), t))));
        }
        for (listener, seq, recv_ns, pick) in decided {
            match pick {
                Some((talker, sent_ns)) => self.arrive(&listener, &talker, seq, recv_ns, Some(sent_ns)),
                None => self.arrive(&listener, ANONYMOUS, seq, recv_ns, None),
            }
        }
    }

    /// Closes the trial: its report, and each pair's latency histogram for run-level merging.
    pub fn finish(mut self, meta: TrialMeta) -> (TrialReport, PairLatencies) {
        self.attribute_demo();
        // Some node never started: the barrier never opened, each pair has its own window.
        self.barrier &= self.all_started();
        for p in std::mem::take(&mut self.held) {
            self.arrive(&p.listener, &p.talker, p.seq, p.recv_ns, p.sent_ns);
        }
        // Receipts whose talker never printed a start record: judged by the listener alone.
        for p in std::mem::take(&mut self.pending) {
            self.arrive(&p.listener, &p.talker, p.seq, p.recv_ns, p.sent_ns);
        }
        let mut talker_ids: Vec<String> = self.roster.talkers.iter().map(|m| m.id.clone()).collect();
        // Talkers heard but not planned (anonymous demo talkers, strays) get pairs too.
        let mut extra: Vec<String> =
            self.pairs.values().flat_map(|m| m.keys()).filter(|t| !talker_ids.contains(t)).cloned().collect();
        extra.sort();
        extra.dedup();
        talker_ids.extend(extra);

        let origin = meta.start_ns;
        let mut pairs = Vec::new();
        let mut silences = Vec::new();
        let mut hists = Vec::new();
        for l in &self.roster.listeners {
            let listener = self.listeners.get(&l.id);
            let lf = listener.map(|l| &l.facts.node);
            let mut by_talker = self.pairs.remove(&l.id).unwrap_or_default();
            for t in &talker_ids {
                let talker = self.talkers.get(t);
                let tf = talker.map(|t| &t.facts.node);
                let acc = by_talker.remove(t).unwrap_or_default();
                let relation = Relation::between(&self.roster, t, &l.id);
                let both_up = match (tf.and_then(|t| t.start_ns), lf.and_then(|l| l.start_ns)) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (None, Some(b)) => Some(b),
                    _ => None,
                };
                let opens = both_up.map(|up| self.opening(up));
                let closes = lf.and_then(NodeFacts::end_ns);
                let expected = match (talker, opens, closes) {
                    // Unplanned (anonymous) talkers: only what arrived is known.
                    (None, _, _) => acc.received,
                    (Some(ts), Some(a), Some(b)) if !ts.sends.is_empty() => ts.sends.count_between(a, b),
                    // No per-message records (a total only), or a listener that never came up
                    // (it should have heard everything): the whole run.
                    (Some(ts), _, _) => ts.facts.sent,
                };
                let after_up = |t_ns: u64| both_up.map(|up| t_ns.saturating_sub(up) as f64 / 1e6);
                // Per-pair discovery: the listener's matched writers include this talker's?
                let listener_matched = match (tf.and_then(|t| t.guid.as_deref()), listener) {
                    (Some(g), Some(ls)) if ls.facts.node.lists_endpoints => Some(ls.matched.get(g).copied()),
                    _ => None,
                };
                let talker_matched = match (lf.and_then(|l| l.guid.as_deref()), talker) {
                    (Some(g), Some(ts)) if ts.facts.node.lists_endpoints => Some(ts.matched.contains_key(g)),
                    _ => None,
                };
                let period_ns = talker.map_or(0, TalkerState::period_ns);
                let threshold = outage_threshold_ns(period_ns);
                let mut outages = 0;
                for g in acc.silences.iter().filter(|g| g.len_ns() >= threshold) {
                    outages += 1;
                    silences.push(Silence {
                        talker: t.clone(),
                        listener: l.id.clone(),
                        from_s: secs_since(origin, g.from_ns),
                        to_s: secs_since(origin, g.to_ns),
                        open_ended: false,
                    });
                }
                // Silence at the end: the talker kept sending, the listener was up, nothing came.
                if let (Some(last), Some(ts)) = (acc.last_recv_ns, talker) {
                    let talker_end = ts.sends.last_ns().unwrap_or(last);
                    let end = closes.map_or(talker_end, |c| c.min(talker_end));
                    if end.saturating_sub(last) >= threshold && acc.received > 0 {
                        outages += 1;
                        silences.push(Silence {
                            talker: t.clone(),
                            listener: l.id.clone(),
                            from_s: secs_since(origin, last),
                            to_s: secs_since(origin, end),
                            open_ended: true,
                        });
                    }
                }
                // Ends on one machine share its clock; measured offsets put two machines on one.
                let same_machine = matches!(relation, Relation::SamePod | Relation::SameNode);
                let corrected = match (&self.clocks, self.roster.node_of(t)) {
                    (Some(c), Some(tn)) if !same_machine => c.uncertainty_ns(tn, &l.node),
                    _ => None,
                };
                let clock_trusted = self.settings.shared_clock || same_machine || corrected.is_some();
                let h = &acc.latency_us;
                let pct = |q: f64| (!h.is_empty()).then(|| h.value_at_quantile(q));
                pairs.push(PairReport {
                    trial: meta.trial,
                    talker: t.clone(),
                    listener: l.id.clone(),
                    talker_node: self.roster.node_of(t).map(str::to_owned),
                    listener_node: Some(l.node.clone()),
                    relation,
                    window_from_s: opens.map(|a| secs_since(origin, a)),
                    window_to_s: closes.map(|b| secs_since(origin, b)),
                    expected,
                    received: acc.received,
                    lost: expected.saturating_sub(acc.received),
                    lost_in_gaps: acc.in_gaps.min(expected.saturating_sub(acc.received)),
                    duplicates: acc.duplicates,
                    reordered: acc.reordered,
                    before_window: acc.before_window,
                    first_seq: acc.first_seq,
                    longest_gap: acc.longest_gap,
                    loss_runs: acc.loss_runs,
                    max_silence_ms: (acc.received > 1).then(|| acc.max_silence_ns as f64 / 1e6),
                    outages,
                    listener_matched: listener_matched.map(|m| m.is_some()),
                    talker_matched,
                    matched_ms: listener_matched.flatten().and_then(after_up),
                    first_message_ms: acc.first_any_ns.and_then(after_up),
                    latency_p50_us: pct(0.5),
                    latency_p90_us: pct(0.9),
                    latency_p99_us: pct(0.99),
                    latency_max_us: (!h.is_empty()).then(|| h.max()),
                    negative_latency: acc.negative_latency,
                    clock_trusted,
                    clock_uncertainty_ms: corrected.map(|u| u as f64 / 1e6),
                    delivery: Delivery::classify(acc.received, expected),
                });
                hists.push(((t.clone(), l.id.clone(), relation), acc.latency_us));
            }
        }
        let outcome = outcome_label(
            &self.roster.listeners.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
            &talker_ids,
            &pairs,
        );
        let mut talkers: Vec<TalkerFacts> = self.talkers.into_values().map(|t| t.facts).collect();
        talkers.sort_by(|a, b| a.id.cmp(&b.id));
        let mut listeners: Vec<ListenerFacts> = self.listeners.into_values().map(|l| l.facts).collect();
        listeners.sort_by(|a, b| a.id.cmp(&b.id));
        let last_start =
            talkers.iter().map(|t| &t.node).chain(listeners.iter().map(|l| &l.node)).filter_map(|n| n.start_ns).max();
        let report = TrialReport {
            meta,
            placement: self.roster.placement(),
            talkers,
            listeners,
            pairs,
            silences,
            outcome,
            stray: self.stray,
            containers: Vec::new(),
            incomplete: Vec::new(),
            warmup_ends_ns: last_start.map(|s| s.saturating_add(self.settings.warmup_ns)),
            last_started_ns: last_start,
        };
        (report, hists)
    }
}

/// Remembers when each remote endpoint in a `matched` record was first matched.
fn note_matched(matched: &mut HashMap<String, u64>, r: &RecordRef<'_>) {
    for g in r.remote.iter().flatten() {
        if !matched.contains_key(g.as_ref()) {
            matched.insert(g.clone().into_owned(), r.t_ns);
        }
    }
}

/// A stable label of who heard whom: `all heard all`, `none heard`, or per listener the talkers
/// it heard (`a.l ← t1, t2 · b.l ← none`). Hearing anything counts; how much is the pairs'
/// business (partial delivery is judged there, not here).
pub fn outcome_label(listeners: &[&str], talkers: &[String], pairs: &[PairReport]) -> String {
    let heard = |l: &str| -> Vec<&str> {
        talkers
            .iter()
            .filter(|t| pairs.iter().any(|p| p.listener == l && &p.talker == *t && p.delivery != Delivery::None))
            .map(String::as_str)
            .collect()
    };
    let per: Vec<(&str, Vec<&str>)> = listeners.iter().map(|l| (*l, heard(l))).collect();
    if per.iter().all(|(_, h)| h.len() == talkers.len()) {
        return "all heard all".into();
    }
    if per.iter().all(|(_, h)| h.is_empty()) {
        return "none heard".into();
    }
    per.iter()
        .map(|(l, h)| {
            let what = if h.len() == talkers.len() {
                "all".to_owned()
            } else if h.is_empty() {
                "none".to_owned()
            } else {
                h.join(", ")
            };
            format!("{l} ← {what}")
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatter::Record;

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;

    fn member(id: &str, node: &str) -> super::super::Member {
        super::super::Member {
            id: id.into(),
            pod: id.split('.').next().unwrap_or(id).into(),
            node: node.into(),
            demo: true,
        }
    }

    /// Two stock talkers publishing "Hello World: N" 4 ms apart, two listeners: the Pi one
    /// hears only its pod's talker, the master one hears both. Receipts carry no talker id;
    /// attribution by send time must recover exactly that.
    #[test]
    fn demo_receipts_are_attributed_by_send_time() {
        let roster = Roster {
            talkers: vec![member("tl.talker", "pi"), member("dt.talker", "master")],
            listeners: vec![
                member("tl.listener", "pi"),
                member("dl.listener", "master"),
                member("m2.listener", "master"),
            ],
        };
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: 0, shared_clock: true });
        let info = |id: &str, role| testkit::start_record(0, id, role, "h", None);
        for (id, role) in [
            ("tl.talker", Role::Talker),
            ("dt.talker", Role::Talker),
            ("tl.listener", Role::Listener),
            ("dl.listener", Role::Listener),
        ] {
            acc.push(&info(id, role).view());
        }
        for n in 1..=10u64 {
            let tl = S + n * 500 * MS;
            let dt = tl + 4 * MS;
            acc.push(&Record::sent(tl, "tl.talker", n).view());
            acc.push(&Record::sent(dt, "dt.talker", n).view());
            let data = format!("Hello World: {n}");
            // The Pi listener: only its own pod's talker, 1 ms later.
            acc.push(&Record::recv(tl + MS, "tl.listener", &data).view());
            // The master listener: both, each 1 ms after its send (so the second receipt of N
            // comes after both sends: it must go to the talker not yet taken).
            acc.push(&Record::recv(tl + MS, "dl.listener", &data).view());
            acc.push(&Record::recv(dt + MS, "dl.listener", &data).view());
            // A second master listener hears only the later talker: both sends precede it.
            acc.push(&Record::recv(dt + MS, "m2.listener", &data).view());
        }
        for id in ["tl.listener", "dl.listener", "m2.listener"] {
            acc.push(&Record::listener_stop(7 * S, id, &chatter::ListenerTotals::default(), "SIGTERM").view());
        }
        let (report, _) =
            acc.finish(TrialMeta { trial: 1, start_ns: 0, end_ns: 7 * S, interrupted: false, opened_ns: None });
        let got = |t: &str, l: &str| report.pairs.iter().find(|p| p.talker == t && p.listener == l).map(|p| p.received);
        assert_eq!(got("tl.talker", "tl.listener"), Some(10));
        assert_eq!(got("dt.talker", "tl.listener"), Some(0), "the later talker's send is after the receipt");
        assert_eq!(got("tl.talker", "dl.listener"), Some(10));
        assert_eq!(got("dt.talker", "dl.listener"), Some(10));
        assert_eq!(got("dt.talker", "m2.listener"), Some(10), "the last send before the receipt");
        assert_eq!(got("tl.talker", "m2.listener"), Some(0));
        assert_eq!(got(ANONYMOUS, "dl.listener"), None, "nothing left unattributed: {:?}", report.pairs);
        let lat =
            report.pairs.iter().find(|p| p.talker == "dt.talker" && p.listener == "dl.listener").expect("present");
        assert!(
            lat.latency_p50_us.is_some_and(|v| (990..=1010).contains(&v)),
            "{:?} {}",
            lat.latency_p50_us,
            "latency from the attributed send"
        );
    }

    /// A talker that logs after publishing (the ROS 2 tutorial's publisher) can have its
    /// "Publishing" line stamped after the listener logged the receipt — measured up to 22 ms on
    /// a loaded machine: the receipt is still its talker's (once 5 of 7 such receipts read as
    /// an anonymous talker's, and the pair as partial).
    #[test]
    fn a_receipt_logged_before_its_send_is_still_its_talkers() {
        let roster = Roster { talkers: vec![member("p.talker", "m")], listeners: vec![member("l.listener", "m")] };
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: 0, shared_clock: true });
        acc.push(&testkit::start_record(0, "l.listener", Role::Listener, "h", None).view());
        for n in 0..4u64 {
            let sent = S + n * 500 * MS;
            acc.push(&Record::sent(sent, "p.talker", n).view());
            // Receipts 22 ms before the stamp, then 1 ms after it, alternately.
            let recv = if n % 2 == 0 { sent - 22 * MS } else { sent + MS };
            acc.push(&Record::recv(recv, "l.listener", &format!("Hello World: {n}")).view());
        }
        let (report, _) =
            acc.finish(TrialMeta { trial: 1, start_ns: 0, end_ns: 4 * S, interrupted: false, opened_ns: None });
        let p = report.pairs.iter().find(|p| p.talker == "p.talker").expect("the pair");
        assert_eq!((p.expected, p.received, p.lost), (4, 4, 0), "{:?}", report.pairs);
        assert!(report.pairs.iter().all(|p| p.talker != ANONYMOUS), "{:?}", report.pairs);
    }

    /// Sends of N closer together than the ambiguity margin leave the receipt anonymous.
    #[test]
    fn indistinguishable_demo_sends_stay_anonymous() {
        let roster = Roster {
            talkers: vec![member("a.talker", "pi"), member("b.talker", "master")],
            listeners: vec![member("l.listener", "pi")],
        };
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: 0, shared_clock: true });
        acc.push(&testkit::start_record(0, "l.listener", Role::Listener, "h", None).view());
        acc.push(&Record::sent(S, "a.talker", 1).view());
        acc.push(&Record::sent(S + 100_000, "b.talker", 1).view());
        acc.push(&Record::recv(S + MS, "l.listener", "Hello World: 1").view());
        let (report, _) =
            acc.finish(TrialMeta { trial: 1, start_ns: 0, end_ns: 2 * S, interrupted: false, opened_ns: None });
        let anon = report.pairs.iter().find(|p| p.talker == ANONYMOUS).expect("an anonymous pair");
        assert_eq!(anon.received, 1);
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;
    use crate::analysis::Member;
    use chatter::Record;

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;
    /// The Pi's clock runs this far ahead of the master's.
    const AHEAD: u64 = 40 * MS;

    /// A talker on the Pi, a listener on the master, every message 1 ms on the wire; each
    /// stamps with its own clock. Without offsets: untrusted, receipts "before" their sends;
    /// with the doctor's offsets: 1 ms, trusted, ± the offset's uncertainty.
    fn cross_node(clocks: Option<ClockCorrection>) -> PairReport {
        let member = |id: &str, node: &str| Member { id: id.into(), pod: id.into(), node: node.into(), demo: false };
        let roster = Roster { talkers: vec![member("t", "pi")], listeners: vec![member("l", "master")] };
        let settings = AnalysisSettings { warmup_ns: 0, shared_clock: false };
        let mut acc = TrialAnalyzer::new(&roster, settings).with_clocks(clocks);
        let guid = |c: char| c.to_string().repeat(32);
        acc.push(&testkit::start_record(S + AHEAD, "t", Role::Talker, "pi", Some(&guid('a'))).view());
        acc.push(&testkit::start_record(S, "l", Role::Listener, "master", Some(&guid('b'))).view());
        // The listener matches the talker 50 ms after both are up.
        acc.push(&Record::matched(S + 50 * MS, "l", Role::Listener, 1, Some(vec![guid('a')])).view());
        for seq in 1..=10 {
            let real = S + 100 * MS * seq;
            acc.push(&Record::sent(real + AHEAD, "t", seq).view());
            let data = chatter::payload::encode(seq, "t", real + AHEAD, 0);
            acc.push(&Record::recv(real + MS, "l", &data).view());
        }
        acc.push(&Record::talker_stop(3 * S + AHEAD, "t", 10, "duration").view());
        acc.push(&Record::listener_stop(3 * S, "l", &chatter::ListenerTotals::default(), "SIGTERM").view());
        let (report, _) =
            acc.finish(TrialMeta { trial: 1, start_ns: S, end_ns: 3 * S, interrupted: false, opened_ns: None });
        report.pairs.into_iter().next().expect("one pair")
    }

    #[test]
    fn measured_offsets_put_two_nodes_on_one_clock() {
        let raw = cross_node(None);
        assert!(!raw.clock_trusted);
        assert_eq!(raw.negative_latency, 10, "the Pi's sends look 39 ms after their receipts");
        assert_eq!(raw.clock_uncertainty_ms, None);

        let pi = crate::doctor::ClockOffset {
            node: "pi".into(),
            offset_ns: 40_000_000,
            uncertainty_ns: 300_000,
            samples: 20,
        };
        let doctor = crate::doctor::DoctorReport {
            clocks: vec![pi],
            ..crate::doctor::DoctorReport::new("s", "kube", 0, Vec::new(), "master", Vec::new())
        };
        let fixed = cross_node(ClockCorrection::from_doctor(&doctor));
        assert!(fixed.clock_trusted);
        assert_eq!(fixed.clock_uncertainty_ms, Some(0.3));
        assert_eq!(fixed.negative_latency, 0);
        assert_eq!(fixed.received, 10);
        let p50 = fixed.latency_p50_us.expect("latency");
        assert!((990..=1010).contains(&p50), "1 ms on the wire, got {p50} µs");
        let matched = fixed.matched_ms.expect("matched");
        assert!((matched - 50.0).abs() < 1e-6, "matched 50 ms after both were up, got {matched}");
    }

    /// On a shared clock nothing moves, even with offsets at hand.
    #[test]
    fn a_shared_clock_is_never_corrected() {
        let member = |id: &str| Member { id: id.into(), pod: id.into(), node: "pi".into(), demo: false };
        let roster = Roster { talkers: vec![member("t")], listeners: vec![member("l")] };
        let c = ClockCorrection { reference: "master".into(), offsets: [("pi".to_owned(), (5, 1))].into() };
        let acc =
            TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: 0, shared_clock: true }).with_clocks(Some(c));
        assert!(acc.clocks.is_none());
    }
}

#[cfg(test)]
mod early_window_tests {
    use super::*;
    use crate::analysis::Member;
    use chatter::{payload, Record};

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;

    fn guid(c: char) -> String {
        c.to_string().repeat(32)
    }

    /// A talker and a listener, both up at 1 s, with a 1 s warm-up; ten messages 100 ms apart
    /// from 1.2 s, each heard 1 ms later.
    fn pair(matches: &[(Role, char)], open_at: Option<u64>) -> (bool, PairReport) {
        let member = |id: &str| Member { id: id.into(), pod: id.into(), node: "n".into(), demo: false };
        let roster = Roster { talkers: vec![member("t")], listeners: vec![member("l")] };
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: S, shared_clock: true });
        acc.push(&testkit::start_record(S, "t", Role::Talker, "n", Some(&guid('a'))).view());
        acc.push(&testkit::start_record(S, "l", Role::Listener, "n", Some(&guid('b'))).view());
        for (role, remote) in matches {
            let who = if *role == Role::Talker { "t" } else { "l" };
            acc.push(&Record::matched(S + 100 * MS, who, *role, 1, Some(vec![guid(*remote)])).view());
        }
        let all = acc.all_matched();
        acc.open_window_at(open_at);
        for seq in 1..=10u64 {
            let sent = S + 200 * MS + (seq - 1) * 100 * MS;
            acc.push(&Record::sent(sent, "t", seq).view());
            acc.push(&Record::recv(sent + MS, "l", &payload::encode(seq, "t", sent, 0)).view());
        }
        let totals = chatter::record::ListenerTotals { received: 10, foreign: 0, talkers: 1 };
        acc.push(&Record::listener_stop(3 * S, "l", &totals, "SIGTERM").view());
        let meta = TrialMeta { trial: 1, start_ns: 0, end_ns: 3 * S, interrupted: false, opened_ns: open_at };
        let (report, _) = acc.finish(meta);
        (all, report.pairs[0].clone())
    }

    #[test]
    fn all_matched_needs_both_ends_of_every_pair() {
        assert!(!pair(&[], None).0);
        assert!(!pair(&[(Role::Listener, 'a')], None).0, "the writer has not matched the reader yet");
        assert!(!pair(&[(Role::Talker, 'b')], None).0, "the reader has not matched the writer yet");
        assert!(pair(&[(Role::Listener, 'a'), (Role::Talker, 'b')], None).0);
    }

    #[test]
    fn an_early_opening_counts_from_then() {
        let both = [(Role::Listener, 'a'), (Role::Talker, 'b')];
        // Warm-up: the window opens at 2 s, so only the messages sent from 2 s count.
        let (_, by_warmup) = pair(&both, None);
        assert_eq!((by_warmup.window_from_s, by_warmup.expected, by_warmup.received), (Some(2.0), 2, 2));
        // Opened at 1.15 s (every pair had matched): all ten count, all ten were heard.
        let (_, early) = pair(&both, Some(S + 150 * MS));
        assert_eq!((early.window_from_s, early.expected, early.received), (Some(1.15), 10, 10));
        // An opening before both ends were up does not apply to the pair: its warm-up does.
        let (_, before) = pair(&both, Some(S / 2));
        assert_eq!(before.window_from_s, Some(2.0));
    }
}

#[cfg(test)]
mod unmeasured_tests {
    use super::*;
    use crate::analysis::Member;
    use chatter::Record;

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;

    /// A talker that sends ten messages in its first second, and a listener that comes up at
    /// `listener_up`, with a 0.5 s warm-up.
    fn trial(listener_up: u64) -> TrialReport {
        let member = |id: &str| Member { id: id.into(), pod: id.into(), node: "n".into(), demo: false };
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

#[cfg(test)]
mod barrier_tests {
    use super::*;
    use crate::analysis::Member;
    use chatter::{payload, Record};

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;

    fn roster() -> Roster {
        let member = |id: &str, node: &str| Member { id: id.into(), pod: id.into(), node: node.into(), demo: false };
        Roster {
            talkers: vec![member("m.talker", "master"), member("p.talker", "pi")],
            listeners: vec![member("m.listener", "master"), member("p.listener", "pi")],
        }
    }

    /// The seed's timing: the master's nodes start at 0, the Pi's at 1 s (emulated), warm-up
    /// 1 s; every talker sends at 10 Hz from 50 ms after its start until 5 s (a whole 3 s
    /// window after the barrier at 2 s), everything is heard 1 ms later, listeners stop at
    /// 5.5 s. The Pi's start records reach the harness only after the receipts of the first
    /// 2.5 s (another pipe), unless `pi_starts` is false (the Pi's nodes never start).
    fn run(barrier: bool, pi_starts: bool) -> TrialReport {
        let roster = roster();
        let mut acc =
            TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: S, shared_clock: true }).with_barrier(barrier);
        let starts = [("m.talker", Role::Talker, 0), ("m.listener", Role::Listener, 0)];
        for (id, role, at) in starts {
            acc.push(&testkit::start_record(at, id, role, "h", None).view());
        }
        let talkers: &[(&str, u64)] = if pi_starts { &[("m.talker", 0), ("p.talker", S)] } else { &[("m.talker", 0)] };
        let listeners: &[&str] = if pi_starts { &["m.listener", "p.listener"] } else { &["m.listener"] };
        let mut events: Vec<(u64, Record)> = Vec::new();
        for (t, up) in talkers {
            let mut seq = 0;
            let mut sent = up + 50 * MS;
            while sent < 5 * S {
                seq += 1;
                events.push((sent, Record::sent(sent, t, seq)));
                for l in listeners {
                    events.push((sent + MS, Record::recv(sent + MS, l, &payload::encode(seq, t, sent, 0))));
                }
                sent += 100 * MS;
            }
        }
        events.sort_by_key(|(at, _)| *at);
        let late = 2 * S + S / 2;
        for (at, r) in events.iter().filter(|(at, _)| *at < late) {
            let _ = at;
            acc.push(&r.view());
        }
        if pi_starts {
            acc.push(&testkit::start_record(S, "p.talker", Role::Talker, "h", None).view());
            acc.push(&testkit::start_record(S, "p.listener", Role::Listener, "h", None).view());
        }
        for (_, r) in events.iter().filter(|(at, _)| *at >= late) {
            acc.push(&r.view());
        }
        let totals = chatter::record::ListenerTotals { received: 0, foreign: 0, talkers: 2 };
        for l in listeners {
            acc.push(&Record::listener_stop(5 * S + S / 2, l, &totals, "SIGTERM").view());
        }
        let meta = TrialMeta { trial: 1, start_ns: 0, end_ns: 6 * S, interrupted: false, opened_ns: None };
        acc.finish(meta).0
    }

    fn pair<'a>(r: &'a TrialReport, t: &str, l: &str) -> &'a PairReport {
        r.pairs.iter().find(|p| p.talker == t && p.listener == l).expect("pair")
    }

    #[test]
    fn every_pair_gets_the_whole_window_after_the_last_start() {
        let r = run(true, true);
        for p in &r.pairs {
            assert_eq!(p.window_from_s, Some(2.0), "{}", p.name());
            assert_eq!((p.expected, p.received, p.lost), (30, 30, 0), "{}", p.name());
        }
        // The master's own pair heard 20 messages before the window, 10 of them judged only once
        // the Pi's late start records came in.
        assert_eq!(pair(&r, "m.talker", "m.listener").before_window, 20);
        assert_eq!(r.last_started_ns, Some(S));
        assert_eq!(r.warmup_ends_ns, Some(2 * S));
    }

    #[test]
    fn without_the_barrier_each_pair_opens_after_its_own_ends() {
        let r = run(false, true);
        let own = pair(&r, "m.talker", "m.listener");
        assert_eq!((own.window_from_s, own.expected), (Some(1.0), 40));
        assert_eq!(pair(&r, "p.talker", "m.listener").expected, 30);
    }

    /// A node that never starts holds no window back: each pair falls back to its own.
    #[test]
    fn a_node_that_never_starts_leaves_each_pair_its_own_window() {
        let r = run(true, false);
        let own = pair(&r, "m.talker", "m.listener");
        assert_eq!((own.window_from_s, own.expected, own.received), (Some(1.0), 40, 40));
        assert_eq!(r.last_started_ns, Some(0), "of the nodes that started");
    }
}
