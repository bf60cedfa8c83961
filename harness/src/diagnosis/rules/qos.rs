//! `qos-incompatible`: a best-effort publisher cannot serve a reliable subscription.

use crate::diagnosis::{Context, Finding, Severity};

pub fn qos_incompatible(c: &Context<'_>) -> Option<Finding> {
    use chatter::Reliability::{BestEffort, Reliable};
    let (t, l) = (c.talker?.node.reliability?, c.listener?.node.reliability?);
    (t == BestEffort && l == Reliable).then(|| {
        Finding::new(
            "qos-incompatible",
            Severity::Failure,
            "incompatible QoS: a best-effort publisher cannot serve a reliable subscription",
            "make the listener best-effort or the talker reliable",
        )
        .evidence(format!("{} is best-effort, {} requests reliable", c.pair.talker, c.pair.listener))
    })
}

#[cfg(test)]
mod tests {
    use crate::diagnosis::rules::test_support::{pair, setting, silent_rule, trial};

    #[test]
    fn best_effort_talker_reliable_listener() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "pi", 0)]);
        t.talkers[0].node.reliability = Some(chatter::Reliability::BestEffort);
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("qos-incompatible"));
    }
}
