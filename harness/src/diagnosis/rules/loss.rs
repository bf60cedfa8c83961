//! `loss`: messages lost between received ones on pairs that delivered (outages explain their
//! own), with a confidence interval, whether it came in bursts, and a check against an
//! injected loss; a pair that missed only its windows' edges goes to
//! [`missed_window_edges`](super::window_edges::missed_window_edges) instead, unless what the
//! kernel counted explains it (`fragment-loss`, `receive-buffer-overrun`).

use super::window_edges::missed_window_edges;
use super::words::pct;
use crate::analysis::run::wilson;
use crate::analysis::trial::{PairReport, TrialReport};
use crate::analysis::{Delivery, PairSummary, Relation, DELIVERED_RATIO};
use crate::diagnosis::{FaultCheck, Finding, Setting, Severity};
use crate::spec::FaultSpec;

/// Messages lost on pairs that delivered (outside outages, which explain their own losses).
pub fn loss(trials: &[&TrialReport], pairs: &[PairSummary], setting: &Setting) -> Vec<Finding> {
    let mut hits = Vec::new();
    for s in pairs {
        let rows = delivered_rows(trials, s);
        let (all_lost, expected) = rows.iter().fold((0, 0), |(l, e), p| (l + p.lost, e + p.expected));
        // Loss in transit is what went missing between received messages; what the window
        // missed before the first or after the last is a late start or discovery, or an early
        // end, and says nothing about the link.
        let lost: u64 = rows.iter().map(|p| p.lost_in_gaps.min(p.lost)).sum();
        let edges = all_lost - lost;
        if all_lost == 0 || expected == 0 {
            continue;
        }
        if lost == 0 {
            // Large samples lost to lost frames or a full socket buffer sit at the edges too
            // when one arrived whole: what the kernel counted explains them, not a late start.
            if !explained_by_the_kernel(trials, &rows, setting) {
                hits.push(missed_window_edges(s, &rows, edges, expected, setting));
            }
            continue;
        }
        hits.push(lost_in_transit(trials, s, &rows, lost, expected, edges, setting));
    }
    hits
}

/// Whether `fragment-loss` or `receive-buffer-overrun` explains the pair in one of `rows`' trials.
fn explained_by_the_kernel(trials: &[&TrialReport], rows: &[&PairReport], setting: &Setting) -> bool {
    rows.iter().any(|p| {
        trials.iter().filter(|t| t.meta.trial == p.trial).any(|t| {
            let c = crate::diagnosis::Context::new(p, t, setting);
            super::fragment_loss(&c).is_some() || super::receive_buffer_overrun(&c).is_some()
        })
    })
}

/// The trials' reports of pair `s` where it delivered something and had no outage.
fn delivered_rows<'a>(trials: &[&'a TrialReport], s: &PairSummary) -> Vec<&'a PairReport> {
    trials
        .iter()
        .flat_map(|t| &t.pairs)
        .filter(|p| p.talker == s.talker && p.listener == s.listener && p.relation == s.relation)
        .filter(|p| p.delivery != Delivery::None && p.outages == 0)
        .collect()
}

/// The `loss` finding of pair `s` over `rows`: `lost` of `expected` messages went missing
/// between received ones, and `edges` more before the first or after the last.
fn lost_in_transit(
    trials: &[&TrialReport],
    s: &PairSummary,
    rows: &[&PairReport],
    lost: u64,
    expected: u64,
    edges: u64,
    setting: &Setting,
) -> Finding {
    let rate = lost as f64 / expected as f64;
    let (lo, hi) = wilson(lost, expected);
    let reliability = talker_reliability(trials, s);
    let partial = rows.iter().any(|p| p.delivery == Delivery::Partial) || s.ratio < DELIVERED_RATIO;
    let fault = loss_check(setting, s, rate, lo, hi);
    let mut h = Finding::new(
        "loss",
        if partial { Severity::Failure } else { Severity::Warning },
        format!("{} lost {} of messages (95 % CI {}–{}), {reliability} QoS", s.name(), pct(rate), pct(lo), pct(hi)),
        loss_advice(reliability),
    )
    .pair(s.name())
    .evidence(format!(
        "{lost} of {expected} messages lost between received ones over {} trial(s) ({}); loss is {}{}",
        rows.len(),
        s.relation.as_str(),
        spread_words(rows, lost, rate),
        if edges > 0 {
            format!("; {edges} more missing before the first or after the last message received, not counted as loss")
        } else {
            String::new()
        }
    ))
    .fault(fault);
    h.trials = rows.iter().map(|p| p.trial).collect();
    h
}

/// Whether the loss came in bursts or at random, with its run lengths, e.g. "random (mean run
/// 1.3 message(s), longest 4)".
fn spread_words(rows: &[&PairReport], lost: u64, rate: f64) -> String {
    let runs: u64 = rows.iter().map(|p| p.loss_runs).sum::<u64>().max(1);
    let longest = rows.iter().map(|p| p.longest_gap).max().unwrap_or(0);
    // Independent (Bernoulli) loss at rate p has runs of mean length 1 / (1 - p).
    let mean_run = lost as f64 / runs as f64;
    let bursty = mean_run > 2.0 / (1.0 - rate).max(0.05) && longest >= 5;
    format!("{} (mean run {mean_run:.1} message(s), longest {longest})", if bursty { "bursty" } else { "random" })
}

/// The QoS the talker of pair `s` started with (reliable, ROS 2's default, when it said none).
fn talker_reliability(trials: &[&TrialReport], s: &PairSummary) -> chatter::Reliability {
    trials
        .iter()
        .find_map(|t| t.talker(&s.talker).and_then(|f| f.node.reliability))
        .unwrap_or(chatter::Reliability::Reliable)
}

/// What to do about loss, by why the QoS let it happen.
fn loss_advice(reliability: chatter::Reliability) -> &'static str {
    match reliability {
        chatter::Reliability::BestEffort => {
            "best-effort QoS does not retransmit: a lost packet is a lost message; use reliable QoS, or find the \
             lossy link (Wi-Fi, an overloaded Pi)"
        }
        chatter::Reliability::Reliable => {
            "reliable QoS lost messages: the writer's history (keep-last depth) was overwritten before the reader \
             acknowledged; raise the depth, lower the rate, or find the lossy link"
        }
    }
}

/// Whether measured loss on a pair into node X (or out of it) matches an injected loss fault on
/// X's link in that direction.
fn loss_check(setting: &Setting, s: &PairSummary, rate: f64, lo: f64, hi: f64) -> Option<FaultCheck> {
    setting.faults.iter().find_map(|f| match f {
        FaultSpec::Loss { percent, .. } if s.relation == Relation::CrossNode => {
            // Every placement of the pair (`talker node → listener node`) crosses the lossy link.
            let crosses =
                s.placements.keys().all(|k| k.split_once(" → ").is_some_and(|(tn, ln)| f.drops_frames(tn, ln)));
            crosses.then(|| {
                let p = percent.0 / 100.0;
                FaultCheck {
                    injected: f.describe(),
                    observed: format!("{} lost on {}", pct(rate), s.name()),
                    // Inside the interval, or within 5 points (packets are not messages).
                    matches: (lo..=hi).contains(&p) || (rate - p).abs() <= 0.05,
                }
            })
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::rules::test_support::{pair, setting, summary_of, trial};
    use crate::spec::{Direction, FaultNumber};

    #[test]
    fn partial_delivery_gets_a_loss_finding_that_checks_the_injected_rate() {
        let mut t = trial(vec![pair("a.talker", "master", "b.listener", "pi", 0)]);
        let p = &mut t.pairs[0];
        (p.expected, p.received, p.lost, p.loss_runs, p.longest_gap) = (400, 284, 116, 90, 4);
        p.lost_in_gaps = 116;
        p.delivery = Delivery::Partial;
        t.talkers[0].node.reliability = Some(chatter::Reliability::BestEffort);
        let summary = summary_of(&t, 0);
        let mut s = setting();
        s.faults.push(FaultSpec::Loss { node: "pi".into(), percent: FaultNumber(30.0), direction: Direction::In });
        let hits = loss(&[&t], std::slice::from_ref(&summary), &s);
        assert_eq!(hits.len(), 1);
        let h = &hits[0];
        assert_eq!(h.severity, Severity::Failure);
        assert!(h.cause.contains("lost 29.0 %") && h.cause.contains("best-effort"), "{}", h.cause);
        assert!(h.evidence[0].contains("random"), "{:?}", h.evidence);
        assert!(h.fault.as_ref().expect("loss fault").matches);
        s.faults[0] = FaultSpec::Loss { node: "pi".into(), percent: FaultNumber(60.0), direction: Direction::In };
        assert!(!loss(&[&t], std::slice::from_ref(&summary), &s)[0].fault.as_ref().expect("loss fault").matches);
        // Frames leaving the Pi are not this pair's (master → pi); leaving the master are.
        s.faults[0] = FaultSpec::Loss { node: "pi".into(), percent: FaultNumber(30.0), direction: Direction::Out };
        assert!(loss(&[&t], std::slice::from_ref(&summary), &s)[0].fault.is_none());
        s.faults[0] = FaultSpec::Loss { node: "master".into(), percent: FaultNumber(30.0), direction: Direction::Out };
        assert!(loss(&[&t], &[summary], &s)[0].fault.as_ref().expect("loss fault").matches);
    }
    /// One 256 KiB sample of thirty arrived whole, and the listener's kernel failed to
    /// reassemble the rest: not a late first message (`fragment-loss` explains it).
    #[test]
    fn edges_the_kernel_explains_are_not_missed_window_edges() {
        let mut t = trial(vec![pair("cam.talker", "master", "l.listener", "pi", 1)]);
        (t.pairs[0].lost_in_gaps, t.pairs[0].listener_matched) = (0, Some(true));
        let summary = summary_of(&t, 0);
        let mut s = setting();
        s.payload_bytes.insert("cam.talker".into(), 262_144);
        assert_eq!(loss(&[&t], std::slice::from_ref(&summary), &s)[0].rule, "missed-window-edges");
        t.kernel.push(crate::backend::KernelCounters {
            node: "pi".into(),
            pod: Some("l".into()),
            ip: crate::backend::IpCounters { reasm_fails: 900, ..Default::default() },
            ..Default::default()
        });
        assert!(loss(&[&t], &[summary], &s).is_empty());
    }

    #[test]
    fn long_loss_runs_are_bursty() {
        let mut t = trial(vec![pair("a.talker", "master", "b.listener", "pi", 0)]);
        let p = &mut t.pairs[0];
        (p.expected, p.received, p.lost, p.loss_runs, p.longest_gap) = (400, 340, 60, 2, 40);
        p.lost_in_gaps = 60;
        p.delivery = Delivery::Partial;
        let summary = summary_of(&t, 0);
        let hits = loss(&[&t], &[summary], &setting());
        assert!(hits[0].evidence[0].contains("bursty"), "{:?}", hits[0].evidence);
    }
}
