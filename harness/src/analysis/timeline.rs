//! Receive timelines: for a few chosen trials, per listener, when each talker's messages
//! arrived, which ones were lost, and when the listener matched the talker — the picture of
//! what happened inside one trial.
//!
//! Unlike the streaming analysis this keeps messages, so it is built only for the trials a
//! report shows (the first failing one and one typical one), from their records, and each lane
//! keeps at most [`MAX_TICKS`] arrivals and lost messages (evenly thinned beyond that).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chatter::{Record, RecordKind, Role};
use serde::{Deserialize, Serialize};

use super::roster::ANONYMOUS;
use super::trial::TrialReport;

/// What one listener received from one talker: the sequence numbers, and when (s).
type Received = (BTreeSet<u64>, Vec<f64>);

/// Most ticks of one kind a lane keeps.
pub const MAX_TICKS: usize = 1500;

/// One talker as one listener saw it in one trial. Times in s from the trial's origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lane {
    pub talker: String,
    /// Receive times.
    pub received: Vec<f64>,
    /// Send times of messages expected in the window that never arrived.
    pub lost: Vec<f64>,
    /// When the listener matched this talker's writer.
    pub matched_s: Option<f64>,
    pub window_from_s: Option<f64>,
    pub window_to_s: Option<f64>,
}

/// One listener in one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub trial: u32,
    /// Why this trial is shown (`first failing trial`, `typical trial`).
    pub why: String,
    pub listener: String,
    pub lanes: Vec<Lane>,
    /// Outages on this listener's pairs (from, to), s.
    pub outages: Vec<(f64, f64)>,
    /// The trial's end, s.
    pub end_s: f64,
}

/// Most outcomes drawn.
const MAX_OUTCOMES: usize = 3;

/// Which trials to draw: the first trial of each outcome (most common first, at most three), and
/// the first trial that lost messages or went silent if none of those did.
pub fn pick(trials: &[TrialReport], dist: &[super::OutcomeShare]) -> Vec<(u32, String)> {
    let complete = || trials.iter().filter(|t| !t.meta.interrupted);
    let mut out: Vec<(u32, String)> = Vec::new();
    for (i, o) in dist.iter().take(MAX_OUTCOMES).enumerate() {
        if let Some(t) = complete().find(|t| t.outcome == o.outcome) {
            let why =
                if i == 0 { format!("outcome {}, the most common", o.letter) } else { format!("outcome {}", o.letter) };
            out.push((t.meta.trial, why));
        }
    }
    let troubled = |t: &&TrialReport| !t.silences.is_empty() || t.pairs.iter().any(|p| p.lost > 0);
    if let Some(t) = complete().find(troubled) {
        if !out.iter().any(|(n, _)| *n == t.meta.trial) {
            out.push((t.meta.trial, "first trial that lost messages".into()));
        }
    }
    out
}

/// Keeps at most [`MAX_TICKS`] values, evenly spaced.
fn thin(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    if v.len() <= MAX_TICKS {
        return v;
    }
    let step = v.len() as f64 / MAX_TICKS as f64;
    (0..MAX_TICKS).map(|i| v[(i as f64 * step) as usize]).collect()
}

/// Builds the timelines of one trial from its records (in any order).
pub fn build<'a>(trial: &TrialReport, why: &str, records: impl IntoIterator<Item = &'a Record>) -> Vec<Timeline> {
    let at = |t: u64| trial.at_s(t);
    // talker → seq → send time; (listener, talker) → seqs and times received; listener → guid → first match.
    let mut sent: HashMap<&str, BTreeMap<u64, u64>> = HashMap::new();
    let mut got: HashMap<(&str, &str), Received> = HashMap::new();
    let mut matched: HashMap<&str, HashMap<&str, u64>> = HashMap::new();
    for r in records {
        match (r.kind, r.role) {
            (RecordKind::Sent, Role::Talker) => {
                sent.entry(&r.node).or_default().insert(r.seq.unwrap_or(0), r.t_ns);
            }
            (RecordKind::Recv, Role::Listener) => {
                let talker = r.talker.as_deref().unwrap_or(ANONYMOUS);
                let e = got.entry((&r.node, talker)).or_default();
                if let Some(seq) = r.seq {
                    e.0.insert(seq);
                }
                e.1.push(at(r.t_ns));
            }
            (RecordKind::Matched, Role::Listener) => {
                let m = matched.entry(&r.node).or_default();
                for g in r.remote.iter().flatten() {
                    m.entry(g.as_str()).or_insert(r.t_ns);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for l in &trial.listeners {
        let mut lanes = Vec::new();
        for p in trial.pairs.iter().filter(|p| p.listener == l.id) {
            let (seqs, times) = got.remove(&(l.id.as_str(), p.talker.as_str())).unwrap_or_default();
            let window =
                |t: f64| p.window_from_s.is_none_or(|from| t >= from) && p.window_to_s.is_none_or(|to| t <= to);
            let lost: Vec<f64> = sent
                .get(p.talker.as_str())
                .map(|s| {
                    s.iter()
                        .filter(|(seq, _)| !seqs.contains(seq))
                        .map(|(_, t)| at(*t))
                        .filter(|t| window(*t))
                        .collect()
                })
                .unwrap_or_default();
            let guid = trial.talker(&p.talker).and_then(|t| t.node.guid.as_deref());
            let matched_s = guid.and_then(|g| matched.get(l.id.as_str()).and_then(|m| m.get(g))).map(|t| at(*t));
            lanes.push(Lane {
                talker: p.talker.clone(),
                received: thin(times),
                lost: thin(lost),
                matched_s,
                window_from_s: p.window_from_s,
                window_to_s: p.window_to_s,
            });
        }
        let outages =
            trial.silences.iter().filter(|s| s.listener == l.id).map(|s| (s.from_s, s.to_s)).collect::<Vec<_>>();
        out.push(Timeline {
            trial: trial.meta.trial,
            why: why.to_owned(),
            listener: l.id.clone(),
            lanes,
            outages,
            end_s: at(trial.meta.end_ns),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_the_ends_and_the_bound() {
        let v: Vec<f64> = (0..10_000).map(f64::from).collect();
        let t = thin(v);
        assert_eq!(t.len(), MAX_TICKS);
        assert_eq!(t[0], 0.0);
        assert!(t[MAX_TICKS - 1] > 9_990.0);
        assert_eq!(thin(vec![2.0, 1.0]), [1.0, 2.0]);
    }

    #[test]
    fn lanes_show_arrivals_losses_and_the_match() {
        let r = super::super::fixture::report();
        // Trial 2: the Pi talker never reaches the master listener.
        let trial = r.trials.iter().find(|t| t.meta.trial == 2).expect("trial 2");
        let records = super::super::fixture::records(2);
        let tls = build(trial, "outcome B", &records);
        let master = tls.iter().find(|t| t.listener == "master-listener.listener").expect("timeline");
        let cut = master.lanes.iter().find(|l| l.talker == "pi-pod.talker").expect("lane");
        assert!(cut.received.is_empty() && cut.matched_s.is_none());
        assert_eq!(cut.lost.len(), 11, "seqs 10..=20 were in its window");
        let own = master.lanes.iter().find(|l| l.talker == "master-talker.talker").expect("lane");
        assert_eq!(own.received.len(), 20);
        assert!(own.lost.is_empty());
        assert!((own.matched_s.expect("matched") - 0.25).abs() < 1e-9);
    }
}
