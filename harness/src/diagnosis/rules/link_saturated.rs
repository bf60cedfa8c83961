//! `link-saturated`: more was offered to a node's link than its rate cap carries (a bandwidth
//! fault): what it offered per second against the cap, both in Mbit/s, and the cross-node
//! pairs through it that lost messages.

use crate::analysis::trial::TrialReport;
use crate::analysis::Relation;
use crate::backend::KernelCounters;
use crate::diagnosis::{FaultCheck, Finding, Setting, Severity};

/// Offered at 95 % of the cap or more: the link's queue fills (a sender that backs off, TCP,
/// offers just under the cap, never above it).
const SATURATED: f64 = 0.95;

/// Each capped link of the trial that was offered its cap or more, each way.
pub fn link_saturated(trial: &TrialReport, setting: &Setting) -> Vec<Finding> {
    let mut hits = Vec::new();
    for k in &trial.kernel {
        let Some(link) = k.link else { continue };
        for (outbound, offered, cap) in [(true, link.out, link.cap_out_kbit), (false, link.into, link.cap_in_kbit)] {
            let Some(cap) = cap else { continue };
            let (mbit, cap_mbit) = (k.mbit_per_s(offered.bytes), cap as f64 / 1000.0);
            if mbit < SATURATED * cap_mbit {
                continue;
            }
            hits.push(saturated(trial, setting, k, outbound, mbit, cap_mbit));
        }
    }
    hits
}

/// The finding for `k`'s link one way: `mbit` offered against `cap_mbit`.
fn saturated(
    trial: &TrialReport,
    setting: &Setting,
    k: &KernelCounters,
    outbound: bool,
    mbit: f64,
    cap_mbit: f64,
) -> Finding {
    let way = if outbound { "out of" } else { "into" };
    let through = |p: &&crate::analysis::trial::PairReport| {
        let end = if outbound { &p.talker_node } else { &p.listener_node };
        p.relation == Relation::CrossNode && end.as_deref() == Some(k.node.as_str())
    };
    let lossy: Vec<_> =
        trial.pairs.iter().filter(through).filter(|p| p.expected > 0 && p.received < p.expected).collect();
    let mut f = Finding::new(
        "link-saturated",
        if lossy.is_empty() { Severity::Warning } else { Severity::Failure },
        format!("node {}'s link saturated {way} the node: more was offered than its rate cap carries", k.node),
        "send less (lower rates, smaller or compressed samples, best effort + keep-last 1 for sensor streams) or give \
         the link more bandwidth",
    )
    .trial(trial.meta.trial)
    .evidence(format!(
        "trial {}: {:.1} Mbit/s offered {way} node {} against a cap of {cap_mbit} Mbit/s ({:.0} % of it; IP bytes \
         over {:.1} s)",
        trial.meta.trial,
        mbit,
        k.node,
        100.0 * mbit / cap_mbit,
        k.ms as f64 / 1e3
    ));
    for p in &lossy {
        f = f.pair(p.name());
    }
    if !lossy.is_empty() {
        let words: Vec<String> =
            lossy.iter().map(|p| format!("{} {} of {}", p.name(), p.received, p.expected)).collect();
        f = f.evidence(format!("trial {}: through it {}", trial.meta.trial, words.join(", ")));
    }
    let injected = setting.faults.iter().find(|f| f.cap_mbit(&k.node, outbound).is_some());
    f.fault(injected.map(|i| FaultCheck {
        injected: i.describe(),
        observed: format!("{mbit:.1} Mbit/s offered {way} node {}", k.node),
        matches: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Counted, LinkOffered};
    use crate::diagnosis::rules::test_support::{pair, setting, trial};
    use crate::spec::{Direction, FaultNumber, FaultSpec};

    fn capped(offered_bytes: u64) -> TrialReport {
        let mut t = trial(vec![pair("cam.talker", "pi", "l.listener", "master", 12)]);
        t.kernel.push(KernelCounters {
            node: "pi".into(),
            ms: 4000,
            link: Some(LinkOffered {
                out: Counted { packets: 1, bytes: offered_bytes },
                cap_out_kbit: Some(10_000),
                ..Default::default()
            }),
            ..Default::default()
        });
        t
    }

    #[test]
    fn offered_above_the_cap_names_both_rates_and_the_pairs_through_it() {
        let mut s = setting();
        s.faults.push(FaultSpec::Bandwidth { node: "pi".into(), mbit: FaultNumber(10.0), direction: Direction::Out });
        // 10 MB in 4 s: 20 Mbit/s against 10.
        let hits = link_saturated(&capped(10_000_000), &s);
        assert_eq!(hits.len(), 1);
        let h = &hits[0];
        assert_eq!(h.severity, Severity::Failure);
        assert!(
            h.evidence[0].contains("20.0 Mbit/s offered out of node pi against a cap of 10 Mbit/s (200 %"),
            "{:?}",
            h.evidence
        );
        assert_eq!(h.pairs, ["cam.talker → l.listener"]);
        assert!(h.fault.as_ref().expect("the cap").matches);
        // 4 Mbit/s against 10: not saturated.
        assert!(link_saturated(&capped(2_000_000), &s).is_empty());
    }
}
