//! `fault-not-observed`: injected faults that left no trace — the simulator did not do what the
//! scenario says (a self-check, run last over every other rule's findings).

use crate::diagnosis::{Finding, Setting, Severity};
use crate::spec::FaultSpec;

/// Injected faults with no symptom at all: the simulator did not do what the scenario says.
pub fn faults_not_seen(hits: &[Finding], setting: &Setting) -> Vec<Finding> {
    setting
        .faults
        .iter()
        .filter(|f| !matches!(f, FaultSpec::Delay { .. }))
        .filter(|f| {
            let described = f.describe();
            !hits.iter().any(|h| h.fault.as_ref().is_some_and(|c| c.injected == described))
        })
        .map(|f| {
            Finding::new(
                "fault-not-observed",
                Severity::Warning,
                format!("injected fault left no trace: {}", f.describe()),
                "check that the fault applies to the pairs you expect (loss and partitions act between nodes; a \
                 kill needs the pod and container names)",
            )
            .evidence("no loss, outage or node death that matches it was measured")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::diagnosis::diagnose;
    use crate::diagnosis::rules::test_support::{pair, setting, summary_of, trial};
    use crate::spec::{FaultNumber, FaultSpec};

    #[test]
    fn an_injected_fault_without_symptom_is_reported() {
        let t = trial(vec![pair("a.talker", "master", "b.listener", "pi", 30)]);
        let mut s = setting();
        s.faults.push(FaultSpec::Loss {
            node: "pi".into(),
            percent: FaultNumber(30.0),
            direction: crate::spec::Direction::In,
        });
        let findings = diagnose(&[&t], &[summary_of(&t, 0)], &s);
        assert!(findings.iter().any(|f| f.rule == "fault-not-observed"), "{findings:#?}");
    }
}
