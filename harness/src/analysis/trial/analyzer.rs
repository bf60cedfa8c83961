//! The streaming half of a trial: [`TrialAnalyzer`] takes one record at a time (on one clock,
//! where measured offsets apply) into each node's facts and each pair's constant-memory
//! accumulator. A receipt is judged inside or before its pair's window as soon as the window is
//! known; until then (its talker's start record not seen yet, a start barrier still waiting for
//! a node) it is held, bounded, and judged once it is known or when the trial finishes.

use std::collections::{BTreeMap, HashMap};

use chatter::record::RecordRef;
use chatter::{PayloadKind, RecordKind, Role};

use super::facts::{ListenerFacts, NodeFacts, TalkerFacts};
use crate::analysis::clocks::ClockCorrection;
use crate::analysis::pair::PairAcc;
use crate::analysis::roster::{Roster, ANONYMOUS};
use crate::analysis::sends::SendLog;
use crate::timing::window_opens;

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

#[derive(Debug, Default)]
pub(super) struct TalkerState {
    pub(super) facts: TalkerFacts,
    pub(super) sends: SendLog,
    /// Reader GUID → when this writer first matched it.
    pub(super) matched: HashMap<String, u64>,
}

impl TalkerState {
    /// Mean time between its messages (0: fewer than two sent), for what counts as an outage.
    pub(super) fn period_ns(&self) -> u64 {
        match (self.sends.last_ns(), self.facts.node.start_ns) {
            (Some(last), Some(start)) if self.facts.sent > 1 => last.saturating_sub(start) / self.facts.sent,
            _ => 0,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct ListenerState {
    pub(super) facts: ListenerFacts,
    /// Writer GUID → when this reader first matched it.
    pub(super) matched: HashMap<String, u64>,
}

/// A receipt whose talker's window is not known yet.
#[derive(Debug)]
pub(super) struct Pending {
    pub(super) listener: String,
    pub(super) talker: String,
    pub(super) seq: u64,
    pub(super) recv_ns: u64,
    pub(super) sent_ns: Option<u64>,
}

/// Accumulates one trial.
#[derive(Debug)]
pub struct TrialAnalyzer<'r> {
    pub(super) roster: std::borrow::Cow<'r, Roster>,
    pub(super) settings: AnalysisSettings,
    pub(super) talkers: HashMap<String, TalkerState>,
    pub(super) listeners: HashMap<String, ListenerState>,
    /// listener → talker → accumulator (nested so look-ups by `&str` need no allocation).
    pub(super) pairs: HashMap<String, HashMap<String, PairAcc>>,
    pub(super) pending: Vec<Pending>,
    /// Receipts of demo payloads ("Hello World: N", no talker id) while the plan has stock demo
    /// talkers: attributed by send time at the end.
    pub(super) demo_heard: Vec<(String, u64, u64)>,
    pub(super) stray: u64,
    /// Offsets that put the nodes' own clocks on one (nodes without a shared clock).
    pub(super) clocks: Option<ClockCorrection>,
    /// The harness opened every window early, here (every expected pair had matched).
    opened_ns: Option<u64>,
    /// Every pair's window opens at the start barrier (see the module's header).
    pub(super) barrier: bool,
    /// Nodes of the roster that printed their start record, and the latest such start.
    started: usize,
    last_start_ns: Option<u64>,
    /// Receipts that may be inside the barrier's window, held until every node has started.
    pub(super) held: Vec<Pending>,
}

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
    pub(super) fn opening(&self, both_up: u64) -> u64 {
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

    pub(super) fn arrive(&mut self, listener: &str, talker: &str, seq: u64, recv_ns: u64, sent_ns: Option<u64>) {
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
}

/// Remembers when each remote endpoint in a `matched` record was first matched.
fn note_matched(matched: &mut HashMap<String, u64>, r: &RecordRef<'_>) {
    for g in r.remote.iter().flatten() {
        if !matched.contains_key(g.as_ref()) {
            matched.insert(g.clone().into_owned(), r.t_ns);
        }
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;
    use crate::analysis::trial::PairReport;
    use crate::analysis::Member;
    use crate::analysis::TrialMeta;
    use chatter::Record;

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;
    /// The Pi's clock runs this far ahead of the master's.
    const AHEAD: u64 = 40 * MS;

    /// A talker on the Pi, a listener on the master, every message 1 ms on the wire; each
    /// stamps with its own clock. Without offsets: untrusted, receipts "before" their sends;
    /// with the doctor's offsets: 1 ms, trusted, ± the offset's uncertainty.
    fn cross_node(clocks: Option<ClockCorrection>) -> PairReport {
        let member = |id: &str, node: &str| Member {
            id: id.into(),
            pod: id.into(),
            node: node.into(),
            demo: false,
            message_type: None,
        };
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
        let member =
            |id: &str| Member { id: id.into(), pod: id.into(), node: "pi".into(), demo: false, message_type: None };
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
    use crate::analysis::trial::PairReport;
    use crate::analysis::Member;
    use crate::analysis::TrialMeta;
    use chatter::{payload, Record};

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;

    fn guid(c: char) -> String {
        c.to_string().repeat(32)
    }

    /// A talker and a listener, both up at 1 s, with a 1 s warm-up; ten messages 100 ms apart
    /// from 1.2 s, each heard 1 ms later.
    fn pair(matches: &[(Role, char)], open_at: Option<u64>) -> (bool, PairReport) {
        let member =
            |id: &str| Member { id: id.into(), pod: id.into(), node: "n".into(), demo: false, message_type: None };
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
mod barrier_tests {
    use super::*;
    use crate::analysis::trial::{PairReport, TrialReport};
    use crate::analysis::Member;
    use crate::analysis::TrialMeta;
    use chatter::{payload, Record};

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;

    fn roster() -> Roster {
        let member = |id: &str, node: &str| Member {
            id: id.into(),
            pod: id.into(),
            node: node.into(),
            demo: false,
            message_type: None,
        };
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

#[cfg(test)]
mod topic_tests {
    use super::*;
    use crate::analysis::{Member, TrialMeta};

    const S: u64 = 1_000_000_000;

    /// A camera (sensor_msgs/msg/Image) and a chatter talker, a viewer and a chatter listener:
    /// two pairs, each on its own topic — never a chatter listener expecting the camera's frames.
    #[test]
    fn talkers_and_listeners_of_different_message_types_make_no_pair() {
        let member = |id: &str, t: Option<&str>| Member {
            id: id.into(),
            pod: id.into(),
            node: "n".into(),
            demo: false,
            message_type: t.map(str::to_owned),
        };
        let image = Some("sensor_msgs/msg/Image");
        let roster = Roster {
            talkers: vec![member("cam", image), member("chat", None)],
            listeners: vec![member("viewer", image), member("l", None)],
        };
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: 0, shared_clock: true });
        for (id, role) in
            [("cam", Role::Talker), ("chat", Role::Talker), ("viewer", Role::Listener), ("l", Role::Listener)]
        {
            acc.push(&testkit::start_record(S, id, role, "n", None).view());
        }
        let (report, _) =
            acc.finish(TrialMeta { trial: 1, start_ns: S, end_ns: 3 * S, interrupted: false, opened_ns: None });
        let pairs: Vec<(&str, &str)> = report.pairs.iter().map(|p| (p.talker.as_str(), p.listener.as_str())).collect();
        assert_eq!(pairs, [("cam", "viewer"), ("chat", "l")]);
        // Every listener heard every talker of its topic: all heard all.
        let mut heard = report.pairs.clone();
        heard.iter_mut().for_each(|p| p.delivery = crate::analysis::Delivery::Delivered);
        let talkers = ["cam".to_owned(), "chat".to_owned()];
        assert_eq!(crate::analysis::trial::outcome_label(&["viewer", "l"], &talkers, &heard), "all heard all");
        heard[0].delivery = crate::analysis::Delivery::None;
        assert_eq!(
            crate::analysis::trial::outcome_label(&["viewer", "l"], &talkers, &heard),
            "viewer ← none · l ← all"
        );
    }
}
