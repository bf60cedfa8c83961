//! Fixtures for the rules' tests: a trial built from pair reports (no records), the seed's
//! shape, the test setting, and the rule that explains a silent pair.

use std::collections::BTreeMap;

use super::why_silent;
use crate::analysis::trial::{ListenerFacts, NodeFacts, PairReport, TalkerFacts, TrialReport};
use crate::analysis::{Delivery, PairSummary, Relation, TrialMeta};
use crate::diagnosis::{Context, Setting};

pub(crate) const S: u64 = 1_000_000_000;

fn up() -> NodeFacts {
    NodeFacts {
        started: true,
        start_ns: Some(0),
        domain: Some(0),
        reliability: Some(chatter::Reliability::Reliable),
        max_peers: 1,
        stop_reason: Some("duration".into()),
        last_ns: Some(4 * S),
        ..NodeFacts::default()
    }
}

pub(crate) fn setting() -> Setting {
    Setting::netns_flannel()
}

/// `t` on node `tn` → `l` on node `ln`, `received` of 30.
pub(crate) fn pair(t: &str, tn: &str, l: &str, ln: &str, received: u64) -> PairReport {
    let pod = |id: &str| id.split('.').next().unwrap_or(id).to_owned();
    let relation = if pod(t) == pod(l) {
        Relation::SamePod
    } else if tn == ln {
        Relation::SameNode
    } else {
        Relation::CrossNode
    };
    PairReport {
        trial: 1,
        talker: t.into(),
        listener: l.into(),
        talker_node: Some(tn.into()),
        listener_node: Some(ln.into()),
        relation,
        window_from_s: Some(1.0),
        window_to_s: Some(4.0),
        expected: 30,
        received,
        lost: 30 - received,
        lost_in_gaps: 30 - received,
        duplicates: 0,
        reordered: 0,
        before_window: 0,
        first_seq: None,
        longest_gap: 0,
        loss_runs: 0,
        max_silence_ms: None,
        outages: 0,
        listener_matched: Some(received > 0),
        talker_matched: Some(received > 0),
        matched_ms: (received > 0).then_some(120.0),
        first_message_ms: (received > 0).then_some(130.0),
        latency_p50_us: None,
        latency_p90_us: None,
        latency_p99_us: None,
        latency_max_us: None,
        negative_latency: 0,
        clock_trusted: true,
        clock_uncertainty_ms: None,
        delivery: Delivery::classify(received, 30),
    }
}

pub(crate) fn trial(pairs: Vec<PairReport>) -> TrialReport {
    let mut talkers: Vec<TalkerFacts> = Vec::new();
    let mut listeners: Vec<ListenerFacts> = Vec::new();
    for p in &pairs {
        if talkers.iter().all(|t| t.id != p.talker) {
            talkers.push(TalkerFacts { id: p.talker.clone(), node: up(), sent: 40, last_seq: 40 });
        }
        if listeners.iter().all(|l| l.id != p.listener) {
            listeners.push(ListenerFacts { id: p.listener.clone(), node: up(), ..Default::default() });
        }
    }
    TrialReport {
        meta: TrialMeta { trial: 1, start_ns: 0, end_ns: 5 * S, interrupted: false, opened_ns: None },
        placement: BTreeMap::new(),
        talkers,
        listeners,
        pairs,
        silences: Vec::new(),
        outcome: String::new(),
        stray: 0,
        containers: Vec::new(),
        incomplete: Vec::new(),
        warmup_ends_ns: None,
        last_started_ns: None,
        participants: Vec::new(),
        traffic: Vec::new(),
        kernel: Vec::new(),
    }
}

pub(crate) fn silent_rule(t: &TrialReport, s: &Setting) -> Option<String> {
    let p = t.pairs.iter().find(|p| p.delivery == Delivery::None)?;
    why_silent(&Context::new(p, t, s)).map(|h| h.rule)
}

/// The seed: the Pi talker's pod reaches its own listener, not the master's.
pub(crate) fn seed() -> TrialReport {
    trial(vec![pair("tl.talker", "pi", "tl.listener", "pi", 30), pair("tl.talker", "pi", "l.listener", "master", 0)])
}

pub(crate) fn summary_of(t: &TrialReport, i: usize) -> PairSummary {
    let mut a = crate::analysis::RunAnalyzer::default();
    a.add(t.clone(), Vec::new());
    a.pair_summaries()
        .into_iter()
        .find(|s| s.talker == t.pairs[i].talker && s.listener == t.pairs[i].listener)
        .expect("summary")
}
