//! `node-died`: talkers and listeners that ended without a stop record, checked against an
//! injected kill.

use super::containers::container_failed;
use crate::analysis::trial::{PairReport, TrialReport};
use crate::diagnosis::{FaultCheck, Finding, Setting, Severity};
use crate::spec::FaultSpec;
use crate::timing::FAULT_TOLERANCE;

/// Talkers and listeners that ended without a stop record.
pub fn nodes_died(trial: &TrialReport, setting: &Setting) -> Vec<Finding> {
    let ends = trial
        .talkers
        .iter()
        .map(|t| ("talker", &t.id, &t.node))
        .chain(trial.listeners.iter().map(|l| ("listener", &l.id, &l.node)));
    let mut hits = Vec::new();
    for (role, id, node) in ends {
        if !node.died() || container_failed(trial, id) {
            continue;
        }
        let at = node.last_ns.map(|t| trial.at_s(t));
        let pairs: Vec<String> = trial
            .pairs
            .iter()
            .filter(|p| (&p.talker == id || &p.listener == id) && p.expected > 0)
            .map(PairReport::name)
            .collect();
        let fault = kill_fault(setting, id).map(|(f, at_s)| FaultCheck {
            injected: f.describe(),
            observed: at.map_or("no record at all".into(), |a| format!("last record at {a:.2} s")),
            matches: at.is_some_and(|a| a <= at_s + FAULT_TOLERANCE.as_secs_f64() && a >= at_s - 1.0),
        });
        let mut h = Finding::new(
            "node-died",
            Severity::Failure,
            format!("{role} `{id}` died mid-trial: it ended without a stop record (killed or crashed)"),
            "look at the container's exit: OOMKilled, a crash, or an external kill; messages it would have sent \
             or received after that are not counted as network loss",
        )
        .trial(trial.meta.trial)
        .evidence(format!(
            "trial {}: last record at {}",
            trial.meta.trial,
            at.map_or("?".into(), |a| format!("{a:.2} s"))
        ))
        .fault(fault);
        h.pairs = pairs;
        hits.push(h);
    }
    hits
}

/// The injected kill of container id `pod.container`, and its time.
fn kill_fault<'s>(setting: &'s Setting, id: &str) -> Option<(&'s FaultSpec, f64)> {
    setting.faults.iter().find_map(|f| match f {
        FaultSpec::Kill { pod, container, at_s } if format!("{pod}.{container}") == id => Some((f, at_s.0)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::rules::test_support::{pair, setting, trial};
    use crate::spec::FaultNumber;

    #[test]
    fn a_talker_without_stop_record_died_when_the_kill_said() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "pi", 30)]);
        t.talkers[0].node.stop_reason = None;
        t.talkers[0].node.last_ns = Some(2_450_000_000);
        let mut s = setting();
        s.faults.push(FaultSpec::Kill { pod: "a".into(), container: "talker".into(), at_s: FaultNumber(2.5) });
        let hits = nodes_died(&t, &s);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].cause.contains("talker `a.talker` died"), "{}", hits[0].cause);
        assert!(hits[0].evidence[0].contains("2.45 s"));
        assert!(hits[0].fault.as_ref().expect("kill fault").matches);
        s.faults[0] = FaultSpec::Kill { pod: "a".into(), container: "talker".into(), at_s: FaultNumber(3.5) };
        assert!(!nodes_died(&t, &s)[0].fault.as_ref().expect("kill fault").matches, "1 s early is not the kill");
    }
}
