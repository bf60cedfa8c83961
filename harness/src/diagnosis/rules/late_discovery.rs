//! `late-discovery`: a delivering pair that matched (or, without match records, first heard
//! a message after losing some) only after the warm-up, so its window opened before discovery.

use super::words::ms_words;
use crate::diagnosis::{Context, Finding, Severity};

/// When the pair's listener matched its talker, in ms after both ends were up, if that was
/// after the warm-up (on a clock that can tell).
pub(super) fn matched_after_warmup(c: &Context<'_>) -> Option<f64> {
    c.pair.matched_ms.filter(|&m| m > c.setting.warmup_s * 1000.0 && c.pair.clock_trusted)
}

pub fn late_discovery(c: &Context<'_>) -> Option<Finding> {
    let warmup_ms = c.setting.warmup_s * 1000.0;
    let (what, ms) = match (c.pair.matched_ms, c.pair.first_message_ms) {
        (Some(m), _) => ("matched", m),
        // Without a match record the first message stands in, and it also waits for the
        // talker's first send (a stock node's start-up is in it): late only if the window
        // lost messages before it.
        (None, Some(f)) if c.pair.lost > c.pair.lost_in_gaps => ("first message", f),
        _ => return None,
    };
    if ms <= warmup_ms || !c.pair.clock_trusted {
        return None;
    }
    Some(
        Finding::new(
            "late-discovery",
            Severity::Warning,
            if what == "matched" {
                "late discovery: the pair matched only after the warm-up, so its window opened before discovery"
            } else {
                "late first message: the pair heard its first message only after the warm-up, and the window lost \
                 messages before it (slow discovery, or a talker that started publishing late)"
            },
            "messages sent before the match are lost to this listener; look at why discovery is slow (SPDP \
             announcement period, multicast reaching only some interfaces) or raise trials.warmupS",
        )
        .pair(c.pair.name())
        .trial(c.trial.meta.trial)
        .evidence(format!(
            "trial {}: {} {what} {} after both ends were up (warm-up {})",
            c.trial.meta.trial,
            c.pair.name(),
            ms_words(ms),
            ms_words(warmup_ms)
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::rules::test_support::{pair, setting, trial};

    #[test]
    fn discovery_after_the_warmup_is_late() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "master", 25)]);
        t.pairs[0].matched_ms = Some(1800.0);
        let hit = late_discovery(&Context::new(&t.pairs[0], &t, &setting())).expect("late");
        assert!(hit.evidence[0].contains("1.80 s"), "{:?}", hit.evidence);
        t.pairs[0].matched_ms = Some(300.0);
        assert!(late_discovery(&Context::new(&t.pairs[0], &t, &setting())).is_none());
    }

    /// Without a match record (stock nodes), a first message after the warm-up is late only if
    /// the window lost messages before it: a stock talker that first published just before the
    /// window opened, heard at once, is not late discovery.
    #[test]
    fn a_first_message_after_the_warmup_is_late_only_if_the_window_missed_some() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "master", 30)]);
        (t.pairs[0].matched_ms, t.pairs[0].first_message_ms) = (None, Some(1010.0));
        assert!(late_discovery(&Context::new(&t.pairs[0], &t, &setting())).is_none());
        let p = &mut t.pairs[0];
        (p.received, p.lost, p.lost_in_gaps, p.first_message_ms) = (22, 8, 0, Some(5150.0));
        let hit = late_discovery(&Context::new(&t.pairs[0], &t, &setting())).expect("late");
        assert!(hit.evidence[0].contains("first message 5.15 s"), "{:?}", hit.evidence);
    }
}
