//! One trial: records in, [`TrialReport`] out.

use std::collections::HashMap;

use chatter::record::RecordRef;
use chatter::{PayloadKind, RecordKind, Reliability, Role};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::pair::PairAcc;
use super::{Delivery, Relation, Roster, TrialMeta, ANONYMOUS};

/// What any node said about itself: start, matching, stop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeFacts {
    pub started: bool,
    pub start_ns: Option<u64>,
    pub domain: Option<u32>,
    pub reliability: Option<Reliability>,
    /// Most remote endpoints matched at once.
    pub max_peers: u32,
    pub first_matched_ns: Option<u64>,
    pub stop_reason: Option<String>,
}

impl NodeFacts {
    /// Takes what `start`, `matched` and `stop` records say; other kinds are the caller's.
    fn note(&mut self, r: &RecordRef<'_>) {
        match r.kind {
            RecordKind::Start => {
                self.started = true;
                self.start_ns = Some(r.t_ns);
                self.domain = r.domain;
                self.reliability = r.reliability;
            }
            RecordKind::Matched => {
                let peers = r.peers.unwrap_or(0);
                self.max_peers = self.max_peers.max(peers);
                if peers > 0 {
                    self.first_matched_ns.get_or_insert(r.t_ns);
                }
            }
            RecordKind::Stop => self.stop_reason = r.reason.as_deref().map(str::to_owned),
            RecordKind::Sent | RecordKind::Recv => {}
        }
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
    /// First sequence number sent inside the measurement window.
    pub first_window_seq: Option<u64>,
    pub last_seq: u64,
}

impl TalkerFacts {
    /// Messages sent inside the measurement window.
    pub fn expected(&self) -> u64 {
        self.first_window_seq.map_or(0, |first| (self.last_seq + 1).saturating_sub(first))
    }
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

/// One talker→listener pair in one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairReport {
    pub trial: u32,
    pub talker: String,
    pub listener: String,
    /// Nodes the two ran on in this trial.
    pub talker_node: Option<String>,
    pub listener_node: Option<String>,
    pub relation: Relation,
    pub expected: u64,
    pub received: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub before_window: u64,
    pub first_seq: Option<u64>,
    pub longest_gap: u64,
    pub max_silence_ms: Option<f64>,
    /// First message after both ends existed, in ms.
    pub discovery_ms: Option<f64>,
    pub latency_p50_us: Option<u64>,
    pub latency_p90_us: Option<u64>,
    pub latency_p99_us: Option<u64>,
    pub latency_max_us: Option<u64>,
    pub delivery: Delivery,
}

impl PairReport {
    pub fn ratio(&self) -> f64 {
        if self.expected == 0 {
            if self.received > 0 {
                1.0
            } else {
                0.0
            }
        } else {
            self.received as f64 / self.expected as f64
        }
    }
}

/// One trial's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialReport {
    pub meta: TrialMeta,
    pub talkers: Vec<TalkerFacts>,
    pub listeners: Vec<ListenerFacts>,
    pub pairs: Vec<PairReport>,
    /// Which listeners heard which talkers, as a stable label.
    pub outcome: String,
    /// Records that could not be attributed (unknown node ids, unparseable lines).
    pub stray: u64,
}

/// Each pair's latency histogram of one trial, keyed by (talker, listener).
pub type PairLatencies = Vec<((String, String), Histogram<u64>)>;

/// Accumulates one trial.
#[derive(Debug)]
pub struct TrialAnalyzer<'r> {
    roster: &'r Roster,
    window_start_ns: u64,
    talkers: HashMap<String, TalkerFacts>,
    listeners: HashMap<String, ListenerFacts>,
    /// listener → talker → accumulator (nested so look-ups by `&str` need no allocation).
    pairs: HashMap<String, HashMap<String, PairAcc>>,
    stray: u64,
}

impl<'r> TrialAnalyzer<'r> {
    /// Starts a trial whose measurement window opens at `window_start_ns`.
    pub fn new(roster: &'r Roster, window_start_ns: u64) -> Self {
        let talkers = roster
            .talkers
            .iter()
            .map(|m| (m.id.clone(), TalkerFacts { id: m.id.clone(), ..TalkerFacts::default() }))
            .collect();
        let listeners = roster
            .listeners
            .iter()
            .map(|m| (m.id.clone(), ListenerFacts { id: m.id.clone(), ..ListenerFacts::default() }))
            .collect();
        TrialAnalyzer { roster, window_start_ns, talkers, listeners, pairs: HashMap::new(), stray: 0 }
    }

    /// Counts a line that was not a record.
    pub fn stray(&mut self) {
        self.stray += 1;
    }

    pub fn push(&mut self, r: &RecordRef<'_>) {
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
        t.node.note(r);
        match r.kind {
            RecordKind::Sent => {
                let seq = r.seq.unwrap_or(0);
                t.sent = t.sent.max(seq);
                t.last_seq = t.last_seq.max(seq);
                if r.t_ns >= self.window_start_ns && t.first_window_seq.is_none() {
                    t.first_window_seq = Some(seq);
                }
            }
            RecordKind::Stop => {
                let count = r.count.unwrap_or(0);
                // Without per-message records, the whole run is the window.
                if t.last_seq == 0 && count > 0 {
                    t.first_window_seq = Some(1);
                    t.last_seq = count;
                }
                t.sent = t.sent.max(count);
            }
            RecordKind::Recv => self.stray += 1,
            RecordKind::Start | RecordKind::Matched => {}
        }
    }

    fn push_listener(&mut self, r: &RecordRef<'_>) {
        let Some(l) = self.listeners.get_mut(r.node.as_ref()) else {
            self.stray += 1;
            return;
        };
        l.node.note(r);
        match r.kind {
            RecordKind::Recv => {
                l.received += 1;
                let (Some(seq), Some(PayloadKind::Chatter | PayloadKind::Demo)) = (r.seq, r.payload) else {
                    l.foreign += 1;
                    return;
                };
                let talker = r.talker.as_deref().unwrap_or(ANONYMOUS);
                let by_talker = match self.pairs.get_mut(r.node.as_ref()) {
                    Some(m) => m,
                    None => self.pairs.entry(r.node.clone().into_owned()).or_default(),
                };
                let acc = match by_talker.get_mut(talker) {
                    Some(a) => a,
                    None => by_talker.entry(talker.to_owned()).or_default(),
                };
                if r.sent_ns.is_some_and(|s| s < self.window_start_ns) {
                    acc.arrive_before_window(r.t_ns);
                } else {
                    acc.arrive(seq, r.t_ns, r.sent_ns);
                }
            }
            RecordKind::Sent => self.stray += 1,
            RecordKind::Start | RecordKind::Matched | RecordKind::Stop => {}
        }
    }

    /// Closes the trial: its report, and each pair's latency histogram for run-level merging.
    pub fn finish(mut self, meta: TrialMeta) -> (TrialReport, PairLatencies) {
        let mut talker_ids: Vec<String> = self.roster.talkers.iter().map(|m| m.id.clone()).collect();
        // Talkers heard but not planned (anonymous demo talkers, strays) get pairs too.
        let mut extra: Vec<String> =
            self.pairs.values().flat_map(|m| m.keys()).filter(|t| !talker_ids.contains(t)).cloned().collect();
        extra.sort();
        extra.dedup();
        talker_ids.extend(extra);

        let mut pairs = Vec::new();
        let mut hists = Vec::new();
        for l in &self.roster.listeners {
            let listener = self.listeners.get(&l.id);
            let mut by_talker = self.pairs.remove(&l.id).unwrap_or_default();
            for t in &talker_ids {
                let talker = self.talkers.get(t);
                let acc = by_talker.remove(t).unwrap_or_default();
                let expected = talker.map_or(acc.received, TalkerFacts::expected);
                let both_up = match (talker.and_then(|t| t.node.start_ns), listener.and_then(|l| l.node.start_ns)) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (None, Some(b)) => Some(b),
                    _ => None,
                };
                let discovery_ms =
                    acc.first_any_ns.zip(both_up).map(|(first, up)| first.saturating_sub(up) as f64 / 1e6);
                let h = &acc.latency_us;
                let pct = |q: f64| (!h.is_empty()).then(|| h.value_at_quantile(q));
                pairs.push(PairReport {
                    trial: meta.trial,
                    talker: t.clone(),
                    listener: l.id.clone(),
                    talker_node: self.roster.node_of(t).map(str::to_owned),
                    listener_node: Some(l.node.clone()),
                    relation: Relation::between(self.roster, t, &l.id),
                    expected,
                    received: acc.received,
                    lost: expected.saturating_sub(acc.received),
                    duplicates: acc.duplicates,
                    reordered: acc.reordered,
                    before_window: acc.before_window,
                    first_seq: acc.first_seq,
                    longest_gap: acc.longest_gap,
                    max_silence_ms: (acc.received > 1).then(|| acc.max_silence_ns as f64 / 1e6),
                    discovery_ms,
                    latency_p50_us: pct(0.5),
                    latency_p90_us: pct(0.9),
                    latency_p99_us: pct(0.99),
                    latency_max_us: (!h.is_empty()).then(|| h.max()),
                    delivery: Delivery::classify(acc.received, expected),
                });
                hists.push(((t.clone(), l.id.clone()), acc.latency_us));
            }
        }
        let outcome = outcome_label(
            &self.roster.listeners.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
            &talker_ids,
            &pairs,
        );
        let mut talkers: Vec<TalkerFacts> = self.talkers.into_values().collect();
        talkers.sort_by(|a, b| a.id.cmp(&b.id));
        let mut listeners: Vec<ListenerFacts> = self.listeners.into_values().collect();
        listeners.sort_by(|a, b| a.id.cmp(&b.id));
        let report = TrialReport { meta, talkers, listeners, pairs, outcome, stray: self.stray };
        (report, hists)
    }
}

/// A stable label of who heard whom: `all heard all`, `none heard`, or per listener the talkers
/// it heard (`a.l ← t1, t2 | b.l ← none`).
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
        .join(" | ")
}
