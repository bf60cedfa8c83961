//! An end that never started: no start record from the listener (`listener-not-started`) or
//! the talker (`talker-not-started`) of a silent pair.

use crate::diagnosis::{Context, Finding, Severity};

pub fn listener_not_started(c: &Context<'_>) -> Option<Finding> {
    if c.listener.is_some_and(|l| l.node.started) {
        return None;
    }
    Some(
        Finding::new(
            "listener-not-started",
            Severity::Failure,
            format!("listener `{}` never started (it printed no start record)", c.pair.listener),
            "check the container's command and args: `ros2 run a b && ros2 run c d` in `args` without a shell runs \
             nothing; use one process per container or `command: [sh, -c]`",
        )
        .evidence(format!("trial {}: no records from {}", c.trial.meta.trial, c.pair.listener)),
    )
}

pub fn talker_not_started(c: &Context<'_>) -> Option<Finding> {
    match c.talker {
        Some(t) if !t.node.started => Some(
            Finding::new(
                "talker-not-started",
                Severity::Failure,
                format!("talker `{}` never started (it printed no start record)", c.pair.talker),
                "check the talker container's command and args (see listener-not-started)",
            )
            .evidence(format!("trial {}: no records from {}", c.trial.meta.trial, c.pair.talker)),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::trial::NodeFacts;
    use crate::diagnosis::rules::test_support::{pair, seed, setting, silent_rule, trial};

    #[test]
    fn listener_that_never_started() {
        let mut t = seed();
        t.listeners[1].node = NodeFacts::default();
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("listener-not-started"));
    }

    #[test]
    fn talker_that_never_started() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "pi", 0)]);
        t.talkers[0].node = NodeFacts::default();
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("talker-not-started"));
    }
}
