//! `late-joiner`: a listener that came up after its talker was already publishing — by design
//! on volatile durability, not loss; checked against a configured start delay.

use chatter::Durability;

use crate::diagnosis::{Context, FaultCheck, Finding, Severity};
use crate::timing::{FAULT_TOLERANCE, LATE_JOIN};

/// When `listener` came up relative to `talker`, s (positive: later).
fn start_lag_s(c: &Context<'_>) -> Option<f64> {
    let (t, l) = (c.talker?.node.start_ns?, c.listener?.node.start_ns?);
    Some((l as f64 - t as f64) / 1e9)
}

pub fn late_joiner(c: &Context<'_>) -> Option<Finding> {
    let lag = start_lag_s(c)?;
    if lag < c.setting.warmup_s.max(LATE_JOIN.as_secs_f64()) {
        return None;
    }
    let t = c.talker?;
    let missed = t.sent.saturating_sub(c.pair.expected);
    let by_design = match c.setting.durability {
        Durability::Volatile => "volatile durability: a new reader gets nothing sent before it joined".to_owned(),
        Durability::TransientLocal => format!(
            "transient-local durability: a new reader gets at most the last {} (history depth); {} arrived",
            c.setting.depth, c.pair.before_window
        ),
    };
    let configured = c.setting.start_delays.get(&c.pair.listener).copied();
    let fault = configured.map(|d| FaultCheck {
        injected: format!("{} startDelayS {d} s", c.pair.listener),
        observed: format!("started {lag:.2} s after {}", c.pair.talker),
        // The start record comes after the participant is up: allow for that.
        matches: (lag - d).abs() <= FAULT_TOLERANCE.as_secs_f64() + 0.2,
    });
    Some(
        Finding::new(
            "late-joiner",
            Severity::Info,
            format!("listener `{}` joined late, after the talker was already publishing", c.pair.listener),
            "not loss: the window counts only what was sent while the listener was up; use transient-local \
             durability if late joiners must get recent messages",
        )
        .pair(c.pair.name())
        .trial(c.trial.meta.trial)
        .evidence(format!(
            "trial {}: started {lag:.2} s after {}; {missed} message(s) sent before its window are not expected ({by_design})",
            c.trial.meta.trial, c.pair.talker
        ))
        .fault(fault),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Delivery;
    use crate::diagnosis::rules::test_support::{pair, setting, trial, S};

    #[test]
    fn late_listener_is_a_late_joiner_not_loss() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "pi", 20)]);
        t.pairs[0].expected = 20;
        t.pairs[0].lost = 0;
        t.pairs[0].delivery = Delivery::Delivered;
        t.listeners[0].node.start_ns = Some(2 * S);
        let mut s = setting();
        s.start_delays.insert("b.listener".into(), 2.0);
        let hit = late_joiner(&Context::new(&t.pairs[0], &t, &s)).expect("late joiner");
        assert_eq!(hit.severity, Severity::Info);
        assert!(
            hit.evidence[0].contains("20 message(s) sent before its window are not expected"),
            "{:?}",
            hit.evidence
        );
        assert!(hit.fault.expect("configured delay").matches);
        t.listeners[0].node.start_ns = Some(S / 10);
        assert!(late_joiner(&Context::new(&t.pairs[0], &t, &s)).is_none(), "a 0.1 s lag is not late");
    }
}
