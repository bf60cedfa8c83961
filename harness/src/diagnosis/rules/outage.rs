//! `outage`: silences of outage length, grouped when they overlap in time and named by what
//! they share (a link, a node, a talker), checked against an injected partition.

use crate::analysis::trial::{PairReport, TrialReport};
use crate::analysis::Relation;
use crate::diagnosis::{FaultCheck, Finding, Setting, Severity};
use crate::spec::FaultSpec;
use crate::timing::FAULT_TOLERANCE;

/// Outage-length silences, grouped when they overlap in time, named by what they share.
pub fn outages(trial: &TrialReport, setting: &Setting) -> Vec<Finding> {
    let mut silences: Vec<&crate::analysis::trial::Silence> = trial.silences.iter().collect();
    silences.sort_by(|a, b| a.from_s.total_cmp(&b.from_s));
    // Cluster by overlap.
    let mut clusters: Vec<Vec<&crate::analysis::trial::Silence>> = Vec::new();
    for s in silences {
        match clusters.last_mut() {
            Some(c) if c.iter().any(|o| s.from_s <= o.to_s) => c.push(s),
            _ => clusters.push(vec![s]),
        }
    }
    let pair_of =
        |talker: &str, listener: &str| trial.pairs.iter().find(|p| p.talker == talker && p.listener == listener);
    let mut hits = Vec::new();
    for cluster in clusters {
        let pairs: Vec<&PairReport> = cluster.iter().filter_map(|s| pair_of(&s.talker, &s.listener)).collect();
        let from = cluster.iter().map(|s| s.from_s).fold(f64::INFINITY, f64::min);
        let to = cluster.iter().map(|s| s.to_s).fold(f64::NEG_INFINITY, f64::max);
        let open = cluster.iter().all(|s| s.open_ended);
        let nodes =
            |p: &PairReport| (p.talker_node.clone().unwrap_or_default(), p.listener_node.clone().unwrap_or_default());
        let cross = pairs.iter().all(|p| p.relation == Relation::CrossNode);
        let mut link: Vec<String> = pairs
            .iter()
            .flat_map(|p| {
                let (a, b) = nodes(p);
                [a, b]
            })
            .collect();
        link.sort();
        link.dedup();
        let common_node = link.iter().find(|n| pairs.iter().all(|p| nodes(p).0 == **n || nodes(p).1 == **n)).cloned();
        let talkers: Vec<&str> = pairs.iter().map(|p| p.talker.as_str()).collect();
        let what = if cross && link.len() == 2 {
            format!("the link between nodes {} and {}", link[0], link[1])
        } else if cross && common_node.is_some() {
            format!("node {} (unreachable from the other nodes)", common_node.clone().unwrap_or_default())
        } else if pairs.len() > 1 && talkers.iter().all(|t| *t == talkers[0]) {
            format!("talker `{}` (silent to every listener)", talkers[0])
        } else if pairs.len() == 1 {
            format!("the pair {}", pairs[0].name())
        } else {
            "several pairs at once".into()
        };
        let ends = if open { "and did not resume" } else { "then resumed" };
        let lost: u64 = pairs.iter().map(|p| p.lost).sum();
        let fault = partition_check(setting, &link, cross, from, to);
        let mut h = Finding::new(
            "outage",
            Severity::Failure,
            format!("outage on {what}: messages stopped {ends}"),
            "a link or node went away for a while: look at the node (network, power, CPU starvation) for that \
             time; with reliable QoS, a history depth that covers the outage lets messages be recovered",
        )
        .trial(trial.meta.trial)
        .evidence(format!(
            "trial {}: silent from {from:.2} s to {to:.2} s ({:.2} s) on {}; {lost} message(s) lost on these pair(s)",
            trial.meta.trial,
            to - from,
            pairs.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
        ))
        .fault(fault);
        h.pairs = pairs.iter().map(|p| p.name()).collect();
        hits.push(h);
    }
    hits
}

/// Whether an outage on cross-node `link` from `from` to `to` matches an injected partition.
fn partition_check(setting: &Setting, link: &[String], cross: bool, from: f64, to: f64) -> Option<FaultCheck> {
    if !cross || link.len() != 2 {
        return None;
    }
    let f = setting.partitions_between(&link[0], &link[1]).into_iter().next()?;
    let FaultSpec::Partition { from_s, to_s, .. } = f else { return None };
    let tol = FAULT_TOLERANCE.as_secs_f64();
    Some(FaultCheck {
        injected: f.describe(),
        observed: format!("silent {from:.2}–{to:.2} s"),
        matches: (from - from_s.0).abs() <= tol && (to - to_s.0).abs() <= tol,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::trial::Silence;
    use crate::diagnosis::rules::test_support::{pair, setting, trial};
    use crate::spec::FaultNumber;

    fn silence(t: &str, l: &str, from_s: f64, to_s: f64) -> Silence {
        Silence { talker: t.into(), listener: l.into(), from_s, to_s, open_ended: false }
    }

    #[test]
    fn an_outage_on_one_link_names_the_link_and_matches_the_partition() {
        let mut t = trial(vec![
            pair("m.talker", "master", "p.listener", "pi", 28),
            pair("q.talker", "pi", "p.listener", "pi", 30),
        ]);
        t.pairs[0].outages = 1;
        t.silences.push(silence("m.talker", "p.listener", 2.52, 4.03));
        let mut s = setting();
        s.faults.push(FaultSpec::Partition {
            between: ["master".into(), "pi".into()],
            from_s: FaultNumber(2.5),
            to_s: FaultNumber(4.0),
        });
        let hits = outages(&t, &s);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].cause.contains("the link between nodes master and pi"), "{}", hits[0].cause);
        assert!(hits[0].evidence[0].contains("from 2.52 s to 4.03 s"), "{:?}", hits[0].evidence);
        assert!(hits[0].fault.as_ref().expect("partition").matches);
        t.silences[0].from_s = 1.9;
        assert!(!outages(&t, &s)[0].fault.as_ref().expect("partition").matches, "0.6 s early");
    }

    #[test]
    fn overlapping_silences_into_one_node_name_the_node() {
        let mut t = trial(vec![
            pair("a.talker", "master", "p.listener", "pi", 20),
            pair("b.talker", "edge", "p.listener", "pi", 20),
        ]);
        t.silences.push(silence("a.talker", "p.listener", 2.5, 4.0));
        t.silences.push(silence("b.talker", "p.listener", 2.6, 4.0));
        let hits = outages(&t, &setting());
        assert_eq!(hits.len(), 1, "one outage, not two");
        assert!(hits[0].cause.contains("node pi"), "{}", hits[0].cause);
        assert_eq!(hits[0].pairs.len(), 2);
    }
}
