//! `matched-but-no-data`: discovery matched, yet nothing arrived — the data path fails.

use crate::diagnosis::{Context, Finding, Severity};

pub fn matched_but_no_data(c: &Context<'_>) -> Option<Finding> {
    let matched = match c.pair.listener_matched {
        Some(m) => m,
        // Without per-pair facts: both ends matched something.
        None => c.talker?.node.max_peers > 0 && c.listener?.node.max_peers > 0,
    };
    matched.then(|| {
        Finding::new(
            "matched-but-no-data",
            Severity::Failure,
            "discovery matched but no data arrived: the data path fails (e.g. unicast data ports blocked, or \
             Fast DDS shared memory between processes that share a network namespace but not /dev/shm)",
            "check that UDP 7400–7500 passes between the pods; on Fast DDS, try FASTDDS_BUILTIN_TRANSPORTS=UDPv4",
        )
        .evidence(format!(
            "trial {}: {} sent {} in the window, none arrived",
            c.trial.meta.trial, c.pair.talker, c.pair.expected
        ))
    })
}

#[cfg(test)]
mod tests {
    use crate::diagnosis::rules::test_support::{seed, setting, silent_rule};

    #[test]
    fn matched_per_pair_but_no_data() {
        let mut t = seed();
        t.pairs[1].listener_matched = Some(true);
        assert_eq!(
            silent_rule(&t, &setting()).as_deref(),
            Some("matched-but-no-data"),
            "discovery worked, data did not"
        );
    }
}
