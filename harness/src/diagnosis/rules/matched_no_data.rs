//! `matched-but-no-data`: discovery matched, yet nothing arrived — the data path fails. Unless
//! the match came only after the warm-up: then discovery was late (measured: a discovery server
//! with 100 clients on 2 cores matched 6.5–9.7 s after start, past a 4 s warm-up, and no pair's
//! window had data), and the finding says so (`late-discovery`) instead of blaming the data path.

use super::late_discovery::matched_after_warmup;
use super::words::ms_words;
use crate::diagnosis::{Context, Finding, Severity};

pub fn matched_but_no_data(c: &Context<'_>) -> Option<Finding> {
    let matched = match c.pair.listener_matched {
        Some(m) => m,
        // Without per-pair facts: both ends matched something.
        None => c.talker?.node.max_peers > 0 && c.listener?.node.max_peers > 0,
    };
    if matched {
        if let Some(ms) = matched_after_warmup(c) {
            return Some(
                Finding::new(
                    "late-discovery",
                    Severity::Failure,
                    "late discovery: the listener matched this talker only after the warm-up, and nothing arrived in \
                     the window — discovery too slow for the window, not a failing data path",
                    "give discovery time (raise trials.warmupS) and look at why it is slow: many participants per \
                     network (discovery traffic grows with their square), a loaded discovery server, slow start-up",
                )
                .evidence(format!(
                    "trial {}: {} matched {} after both ends were up (warm-up {}); {} sent {} in the window, none \
                     arrived",
                    c.trial.meta.trial,
                    c.pair.name(),
                    ms_words(ms),
                    ms_words(c.setting.warmup_s * 1000.0),
                    c.pair.talker,
                    c.pair.expected
                )),
            );
        }
    }
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

    #[test]
    fn a_match_after_the_warmup_is_late_discovery_not_a_data_path() {
        let mut t = seed();
        t.pairs[1].listener_matched = Some(true);
        t.pairs[1].matched_ms = Some(setting().warmup_s * 1000.0 + 4000.0);
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("late-discovery"));
        t.pairs[1].matched_ms = Some(setting().warmup_s * 1000.0 / 2.0);
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("matched-but-no-data"));
    }
}
