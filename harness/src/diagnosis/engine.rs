//! The diagnosis run: every rule over every complete trial and the run ([`diagnose`]), then the
//! hits with one cause merged into one finding each ([`group`]).

use super::{rules, Context, FaultCheck, Finding, Setting};
use crate::analysis::trial::TrialReport;
use crate::analysis::PairSummary;

/// At most this many evidence lines per finding; the rest are counted.
const MAX_EVIDENCE: usize = 8;

/// Explains the complete trials of a run.
pub fn diagnose(trials: &[&TrialReport], pairs: &[PairSummary], setting: &Setting) -> Vec<Finding> {
    let mut hits = Vec::new();
    for trial in trials {
        for pair in &trial.pairs {
            let ctx = Context::new(pair, trial, setting);
            if pair.delivery == crate::analysis::Delivery::None {
                hits.extend(rules::why_silent(&ctx));
            } else {
                hits.extend(rules::LATE_RULES.iter().filter_map(|rule| rule(&ctx)));
            }
        }
        hits.extend(rules::TRIAL_RULES.iter().flat_map(|rule| rule(trial, setting)));
    }
    hits.extend(rules::RUN_RULES.iter().flat_map(|rule| rule(trials, pairs, setting)));
    hits.extend(rules::faults_not_seen(&hits, setting));
    group(hits)
}

/// Merges findings with one rule and cause; failures first, then in the order causes appeared.
pub fn group(hits: Vec<Finding>) -> Vec<Finding> {
    let mut findings: Vec<(Finding, usize)> = Vec::new();
    for h in hits {
        let at = findings.iter().position(|(f, _)| f.rule == h.rule && f.cause == h.cause);
        let (f, dropped) = match at {
            Some(i) => &mut findings[i],
            None => {
                findings.push((Finding::new(&h.rule, h.severity, h.cause.clone(), h.advice.clone()), 0));
                let last = findings.len() - 1;
                &mut findings[last]
            }
        };
        f.severity = f.severity.min(h.severity);
        for p in h.pairs {
            if !f.pairs.contains(&p) {
                f.pairs.push(p);
            }
        }
        for t in h.trials {
            if !f.trials.contains(&t) {
                f.trials.push(t);
            }
        }
        for e in h.evidence {
            if f.evidence.contains(&e) {
                continue;
            }
            if f.evidence.len() < MAX_EVIDENCE {
                f.evidence.push(e);
            } else {
                *dropped += 1;
            }
        }
        if let Some(check) = h.fault {
            f.fault = Some(match f.fault.take() {
                // A fault matches only if every trial's symptom does.
                Some(prev) => FaultCheck {
                    matches: prev.matches && check.matches,
                    observed: if prev.observed.contains(&check.observed) {
                        prev.observed
                    } else {
                        format!("{}; {}", prev.observed, check.observed)
                    },
                    injected: prev.injected,
                },
                None => check,
            });
        }
    }
    let mut out: Vec<Finding> = findings
        .into_iter()
        .map(|(mut f, dropped)| {
            if dropped > 0 {
                f.evidence.push(format!("… and {dropped} more like these"));
            }
            f.trials.sort_unstable();
            f
        })
        .collect();
    out.sort_by_key(|f| f.severity);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::rules::test_support::{pair, setting, trial};

    #[test]
    fn findings_with_one_cause_are_grouped() {
        // Two silent cross-node pairs in two trials: one finding listing both pairs.
        let t1 = trial(vec![
            pair("tl.talker", "pi", "tl.listener", "pi", 30),
            pair("tl.talker", "pi", "l.listener", "master", 0),
            pair("t.talker", "pi", "l.listener", "master", 0),
            pair("t.talker", "pi", "tl.listener", "pi", 30),
        ]);
        let mut t2 = t1.clone();
        t2.meta.trial = 2;
        let findings = diagnose(&[&t1, &t2], &[], &setting());
        let multicast: Vec<_> = findings.iter().filter(|f| f.rule == "no-discovery-across-nodes").collect();
        assert_eq!(multicast.len(), 1, "{findings:#?}");
        assert_eq!(multicast[0].pairs.len(), 2);
        assert_eq!(multicast[0].trials, [1, 2]);
    }
}
