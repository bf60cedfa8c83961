//! `talker-sent-nothing`: the talker started but published nothing.

use crate::diagnosis::{Context, Finding, Severity};

pub fn talker_sent_nothing(c: &Context<'_>) -> Option<Finding> {
    let t = c.talker?;
    (t.sent == 0).then(|| {
        Finding::new(
            "talker-sent-nothing",
            Severity::Failure,
            format!("talker `{}` published nothing", c.pair.talker),
            "check the talker's logs; it started but did not publish",
        )
        .evidence(format!(
            "trial {}: sent 0, {}",
            c.trial.meta.trial,
            t.node.stop_reason.as_deref().map_or("no stop record".to_owned(), |r| format!("stop reason: {r}"))
        ))
    })
}

#[cfg(test)]
mod tests {
    use crate::diagnosis::rules::test_support::{pair, setting, silent_rule, trial};

    #[test]
    fn silent_talker() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "pi", 0)]);
        t.talkers[0].sent = 0;
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("talker-sent-nothing"));
    }
}
