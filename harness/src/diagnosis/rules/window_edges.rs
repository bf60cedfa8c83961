//! `missed-window-edges`: a pair whose windows missed messages only before its first or after
//! its last receipt — a late first message or an early end, not loss between messages.

use super::words::ms_words;
use crate::analysis::trial::PairReport;
use crate::analysis::{Delivery, PairSummary, DELIVERED_RATIO};
use crate::diagnosis::{Finding, Setting, Severity};

/// A pair whose window missed messages only before its first or after its last receipt.
pub(super) fn missed_window_edges(
    s: &PairSummary,
    rows: &[&PairReport],
    edges: u64,
    expected: u64,
    setting: &Setting,
) -> Finding {
    let warmup_ms = setting.warmup_s * 1000.0;
    let mut evidence: Vec<String> = rows
        .iter()
        .filter(|p| p.lost > 0)
        .map(|p| {
            let first = p
                .first_message_ms
                .filter(|_| p.clock_trusted)
                .map_or(String::new(), |f| format!(", first message {} after both ends were up", ms_words(f)));
            format!("trial {}: {} of {} missed, none between received messages{first}", p.trial, p.lost, p.expected)
        })
        .collect();
    evidence.push(format!("warm-up {}", ms_words(warmup_ms)));
    let partial = rows.iter().any(|p| p.delivery == Delivery::Partial) || s.ratio < DELIVERED_RATIO;
    let mut f = Finding::new(
        "missed-window-edges",
        if partial { Severity::Failure } else { Severity::Warning },
        format!(
            "{} missed {edges} of {expected} messages of its windows, all before its first message or after its last — \
             a late first message (slow discovery or start-up) or an early end, not loss between messages",
            s.name()
        ),
        "see late-discovery for a late first message; raise trials.warmupS if discovery is slow but steady, or find \
         why the node started late or ended early",
    )
    .pair(s.name());
    f.evidence = evidence;
    f.trials = rows.iter().filter(|p| p.lost > 0).map(|p| p.trial).collect();
    f
}

#[cfg(test)]
mod tests {
    use crate::analysis::Delivery;
    use crate::diagnosis::rules::loss;
    use crate::diagnosis::rules::test_support::{pair, setting, summary_of, trial};

    /// The seed's static-peers variant under load: a pair first heard 5.15 s after both ends
    /// were up (warm-up 3 s) missed the window's first 8 messages and none after — a late
    /// first message, never reported as random loss "(mean run 8.0, longest 0)".
    #[test]
    fn a_late_first_message_is_not_loss() {
        let mut t = trial(vec![pair("a.talker", "master", "b.listener", "pi", 0)]);
        let p = &mut t.pairs[0];
        (p.expected, p.received, p.lost, p.lost_in_gaps, p.loss_runs, p.longest_gap) = (20, 12, 8, 0, 0, 0);
        (p.first_message_ms, p.clock_trusted, p.delivery) = (Some(5150.0), true, Delivery::Partial);
        let summary = summary_of(&t, 0);
        let hits = loss(&[&t], std::slice::from_ref(&summary), &setting());
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].rule, "missed-window-edges");
        assert!(
            hits[0].cause.contains("8 of 20") && hits[0].cause.contains("not loss between messages"),
            "{}",
            hits[0].cause
        );
        assert!(hits[0].evidence[0].contains("first message 5.15 s after both ends were up"), "{:?}", hits[0].evidence);
        // Some in gaps as well: loss, counting only those, and saying what else went missing.
        t.pairs[0].lost_in_gaps = 3;
        let hits = loss(&[&t], &[summary], &setting());
        assert_eq!(hits[0].rule, "loss");
        assert!(
            hits[0].evidence[0].starts_with("3 of 20") && hits[0].evidence[0].contains("5 more missing"),
            "{:?}",
            hits[0].evidence
        );
    }
}
