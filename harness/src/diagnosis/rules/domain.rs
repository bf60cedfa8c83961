//! `domain-mismatch`: the two ends started on different DDS domains, so they can never
//! discover each other.

use crate::diagnosis::{Context, Finding, Severity};

pub fn domain_mismatch(c: &Context<'_>) -> Option<Finding> {
    let (t, l) = (c.talker?.node.domain?, c.listener?.node.domain?);
    (t != l).then(|| {
        Finding::new(
            "domain-mismatch",
            Severity::Failure,
            "different DDS domains: the two can never discover each other",
            "set the same ROS_DOMAIN_ID in every pod",
        )
        .evidence(format!("start records: {} on domain {t}, {} on domain {l}", c.pair.talker, c.pair.listener))
    })
}

#[cfg(test)]
mod tests {
    use crate::diagnosis::rules::test_support::{seed, setting, silent_rule};

    #[test]
    fn domains_differ() {
        let mut t = seed();
        t.listeners[1].node.domain = Some(7);
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("domain-mismatch"));
    }
}
