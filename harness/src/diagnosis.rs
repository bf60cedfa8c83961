//! Diagnosis: for each pair that delivered nothing, the likely cause, from the facts the nodes
//! reported. The rules live here, in priority order, each a small function tested on its own;
//! the first that fires explains the pair.

use serde::{Deserialize, Serialize};

use crate::analysis::run::PairSummary;
use crate::analysis::trial::{ListenerFacts, PairReport, TalkerFacts, TrialReport};
use crate::analysis::{Delivery, Relation};

/// One explained failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule id, e.g. `domain-mismatch`.
    pub rule: String,
    pub talker: String,
    pub listener: String,
    pub cause: String,
    pub evidence: Vec<String>,
    pub advice: String,
}

/// What a rule sees: one pair in one trial where it delivered nothing, with its trial.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub pair: &'a PairReport,
    pub talker: Option<&'a TalkerFacts>,
    pub listener: Option<&'a ListenerFacts>,
    pub trial: &'a TrialReport,
}

/// A rule's conclusion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub cause: String,
    pub evidence: Vec<String>,
    pub advice: String,
}

type Rule = fn(&Context<'_>) -> Option<Explanation>;

/// The rules, most specific first.
pub const RULES: &[(&str, Rule)] = &[
    ("listener-not-started", listener_not_started),
    ("talker-not-started", talker_not_started),
    ("domain-mismatch", domain_mismatch),
    ("qos-incompatible", qos_incompatible),
    ("talker-sent-nothing", talker_sent_nothing),
    ("no-discovery-across-nodes", no_discovery_across_nodes),
    ("matched-but-no-data", matched_but_no_data),
    ("no-discovery", no_discovery),
];

fn explain(cause: impl Into<String>, evidence: Vec<String>, advice: impl Into<String>) -> Option<Explanation> {
    Some(Explanation { cause: cause.into(), evidence, advice: advice.into() })
}

pub fn listener_not_started(c: &Context<'_>) -> Option<Explanation> {
    if c.listener.is_some_and(|l| l.node.started) {
        return None;
    }
    explain(
        format!("listener `{}` never started (it printed no start record)", c.pair.listener),
        vec![format!("trial {}: no records from {}", c.trial.meta.trial, c.pair.listener)],
        "check the container's command and args: `ros2 run a b && ros2 run c d` in `args` without a shell runs nothing; use one process per container or `command: [sh, -c]`",
    )
}

pub fn talker_not_started(c: &Context<'_>) -> Option<Explanation> {
    match c.talker {
        Some(t) if !t.node.started => explain(
            format!("talker `{}` never started (it printed no start record)", c.pair.talker),
            vec![format!("trial {}: no records from {}", c.trial.meta.trial, c.pair.talker)],
            "check the talker container's command and args (see listener-not-started)",
        ),
        _ => None,
    }
}

pub fn domain_mismatch(c: &Context<'_>) -> Option<Explanation> {
    let (t, l) = (c.talker?.node.domain?, c.listener?.node.domain?);
    (t != l).then(|| Explanation {
        cause: format!("different DDS domains: talker on {t}, listener on {l} — they can never discover each other"),
        evidence: vec![format!("start records: {} domain {t}, {} domain {l}", c.pair.talker, c.pair.listener)],
        advice: "set the same ROS_DOMAIN_ID in every pod".into(),
    })
}

pub fn qos_incompatible(c: &Context<'_>) -> Option<Explanation> {
    use chatter::Reliability::{BestEffort, Reliable};
    let (t, l) = (c.talker?.node.reliability?, c.listener?.node.reliability?);
    (t == BestEffort && l == Reliable).then(|| Explanation {
        cause: "incompatible QoS: a best-effort publisher cannot serve a reliable subscription".into(),
        evidence: vec![format!("{} is best-effort, {} requests reliable", c.pair.talker, c.pair.listener)],
        advice: "make the listener best-effort or the talker reliable".into(),
    })
}

pub fn talker_sent_nothing(c: &Context<'_>) -> Option<Explanation> {
    let t = c.talker?;
    (t.sent == 0).then(|| Explanation {
        cause: format!("talker `{}` published nothing", c.pair.talker),
        evidence: vec![format!("trial {}: sent 0, stop reason {:?}", c.trial.meta.trial, t.node.stop_reason)],
        advice: "check the talker's logs; it started but did not publish".into(),
    })
}

/// Same-node or same-pod delivery to or from this listener worked in the same trial.
fn local_delivery_works<'a>(c: &Context<'a>) -> Option<&'a PairReport> {
    c.trial.pairs.iter().find(|p| {
        matches!(p.relation, Relation::SamePod | Relation::SameNode)
            && p.delivery != Delivery::None
            && (p.listener == c.pair.listener || p.talker == c.pair.talker)
    })
}

pub fn no_discovery_across_nodes(c: &Context<'_>) -> Option<Explanation> {
    if c.pair.relation != Relation::CrossNode {
        return None;
    }
    let local = local_delivery_works(c)?;
    let mut evidence = vec![
        format!(
            "trial {}: {} → {} (cross node) got 0 of {}",
            c.trial.meta.trial, c.pair.talker, c.pair.listener, c.pair.expected
        ),
        format!(
            "while {} → {} ({}) delivered {}",
            local.talker,
            local.listener,
            local.relation.as_str(),
            local.received
        ),
    ];
    if let (Some(t), Some(l)) = (c.talker, c.listener) {
        evidence.push(format!("matched peers: talker max {}, listener max {}", t.node.max_peers, l.node.max_peers));
    }
    explain(
        "no discovery across nodes while same-node delivery works: SPDP multicast (239.255.0.1) does not cross nodes (flannel VXLAN drops multicast)",
        evidence,
        "use hostNetwork: true for ROS pods, configure unicast discovery peers (CYCLONEDDS_URI Peers / Fast DDS initial peers), or run a Fast DDS discovery server",
    )
}

pub fn matched_but_no_data(c: &Context<'_>) -> Option<Explanation> {
    let (t, l) = (c.talker?, c.listener?);
    (t.node.max_peers > 0 && l.node.max_peers > 0).then(|| Explanation {
        cause: "discovery matched but no data arrived: the data path fails (e.g. Fast DDS shared memory between containers that do not share /dev/shm, or unicast data ports blocked)".into(),
        evidence: vec![format!("talker matched {} subscriber(s), listener matched {} publisher(s); 0 messages", t.node.max_peers, l.node.max_peers)],
        advice: "disable shared-memory transport (FASTDDS_BUILTIN_TRANSPORTS=UDPv4) or share /dev/shm between the containers; check that UDP 7400–7500 passes between pods".into(),
    })
}

pub fn no_discovery(c: &Context<'_>) -> Option<Explanation> {
    let l = c.listener?;
    explain(
        "no discovery and no data between these two",
        vec![format!(
            "listener matched at most {} publisher(s); {} sent {}",
            l.node.max_peers,
            c.pair.talker,
            c.talker.map_or(0, |t| t.sent)
        )],
        "check that multicast reaches both ends, or configure unicast peers",
    )
}

/// The two facts every finding states: where the two ends sat, and whether discovery matched
/// (`matched` records count remote endpoints, not which ones, so this is per node).
fn placement_and_discovery(c: &Context<'_>, summary: &PairSummary) -> String {
    let matched = |n: Option<u32>| {
        n.map_or("no records".to_owned(), |n| if n > 0 { format!("yes ({n} max)") } else { "never".to_owned() })
    };
    format!(
        "{} ({}); nothing in {} of {} trial(s); discovery matched — talker: {}, listener: {}",
        c.pair.relation.as_str(),
        match c.pair.relation {
            Relation::SamePod => "same pod",
            Relation::SameNode => "different pods on one node",
            Relation::CrossNode => "pods on different nodes",
            Relation::Unknown => "talker not in the plan",
            Relation::Varies => "placement varied",
        },
        summary.trials_none,
        summary.trials_none + summary.trials_partial + summary.trials_delivered,
        matched(c.talker.map(|t| t.node.max_peers)),
        matched(c.listener.map(|l| l.node.max_peers)),
    )
}

/// Explains every pair that delivered nothing in at least one complete trial, once per pair
/// (from the first such trial).
pub fn diagnose(trials: &[&TrialReport], pairs: &[PairSummary]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for summary in pairs.iter().filter(|p| p.trials_none > 0) {
        let Some((trial, pair)) = trials.iter().find_map(|t| {
            t.pairs
                .iter()
                .find(|p| p.talker == summary.talker && p.listener == summary.listener && p.delivery == Delivery::None)
                .map(|p| (*t, p))
        }) else {
            continue;
        };
        let ctx = Context {
            pair,
            talker: trial.talkers.iter().find(|t| t.id == pair.talker),
            listener: trial.listeners.iter().find(|l| l.id == pair.listener),
            trial,
        };
        if let Some((rule, e)) = RULES.iter().find_map(|(id, rule)| rule(&ctx).map(|e| (*id, e))) {
            let mut evidence = vec![placement_and_discovery(&ctx, summary)];
            evidence.extend(e.evidence);
            findings.push(Finding {
                rule: rule.into(),
                talker: pair.talker.clone(),
                listener: pair.listener.clone(),
                cause: e.cause,
                evidence,
                advice: e.advice,
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::trial::NodeFacts;
    use crate::analysis::TrialMeta;

    fn pair(talker: &str, listener: &str, relation: Relation, received: u64) -> PairReport {
        PairReport {
            trial: 1,
            talker: talker.into(),
            listener: listener.into(),
            relation,
            talker_node: None,
            listener_node: None,
            expected: 50,
            received,
            lost: 50 - received,
            duplicates: 0,
            reordered: 0,
            before_window: 0,
            first_seq: None,
            longest_gap: 0,
            max_silence_ms: None,
            discovery_ms: None,
            latency_p50_us: None,
            latency_p90_us: None,
            latency_p99_us: None,
            latency_max_us: None,
            delivery: Delivery::classify(received, 50),
        }
    }

    fn up() -> NodeFacts {
        NodeFacts {
            started: true,
            domain: Some(0),
            reliability: Some(chatter::Reliability::Reliable),
            max_peers: 1,
            ..Default::default()
        }
    }

    fn talker(id: &str) -> TalkerFacts {
        TalkerFacts { id: id.into(), node: up(), sent: 60, ..Default::default() }
    }

    fn listener(id: &str) -> ListenerFacts {
        ListenerFacts { id: id.into(), node: up(), ..Default::default() }
    }

    fn trial(pairs: Vec<PairReport>, talkers: Vec<TalkerFacts>, listeners: Vec<ListenerFacts>) -> TrialReport {
        let meta = TrialMeta { trial: 1, start_ns: 0, window_start_ns: 0, end_ns: 1, interrupted: false };
        TrialReport { meta, talkers, listeners, pairs, outcome: String::new(), stray: 0 }
    }

    fn first_rule(t: &TrialReport) -> Option<&'static str> {
        let pair = t.pairs.iter().find(|p| p.delivery == Delivery::None)?;
        let ctx = Context {
            pair,
            talker: t.talkers.iter().find(|x| x.id == pair.talker),
            listener: t.listeners.iter().find(|x| x.id == pair.listener),
            trial: t,
        };
        RULES.iter().find_map(|(id, r)| r(&ctx).map(|_| *id))
    }

    #[test]
    fn listener_that_never_started() {
        let t = trial(
            vec![pair("t", "l", Relation::SameNode, 0)],
            vec![talker("t")],
            vec![ListenerFacts { id: "l".into(), ..Default::default() }],
        );
        assert_eq!(first_rule(&t), Some("listener-not-started"));
    }

    #[test]
    fn talker_that_never_started() {
        let t = trial(
            vec![pair("t", "l", Relation::SameNode, 0)],
            vec![TalkerFacts { id: "t".into(), ..Default::default() }],
            vec![listener("l")],
        );
        assert_eq!(first_rule(&t), Some("talker-not-started"));
    }

    #[test]
    fn domains_differ() {
        let mut l = listener("l");
        l.node.domain = Some(7);
        let t = trial(vec![pair("t", "l", Relation::SameNode, 0)], vec![talker("t")], vec![l]);
        assert_eq!(first_rule(&t), Some("domain-mismatch"));
    }

    #[test]
    fn best_effort_talker_reliable_listener() {
        let mut tk = talker("t");
        tk.node.reliability = Some(chatter::Reliability::BestEffort);
        let t = trial(vec![pair("t", "l", Relation::SameNode, 0)], vec![tk], vec![listener("l")]);
        assert_eq!(first_rule(&t), Some("qos-incompatible"));
    }

    #[test]
    fn silent_talker() {
        let mut tk = talker("t");
        tk.sent = 0;
        let t = trial(vec![pair("t", "l", Relation::SameNode, 0)], vec![tk], vec![listener("l")]);
        assert_eq!(first_rule(&t), Some("talker-sent-nothing"));
    }

    #[test]
    fn cross_node_silence_with_working_local_pairs_is_multicast() {
        let pairs = vec![
            pair("pi.t", "master.l", Relation::CrossNode, 0),
            pair("master.t", "master.l", Relation::SameNode, 50),
        ];
        let t = trial(pairs, vec![talker("pi.t"), talker("master.t")], vec![listener("master.l")]);
        assert_eq!(first_rule(&t), Some("no-discovery-across-nodes"));
    }

    #[test]
    fn cross_node_without_local_reference_is_not_blamed_on_multicast() {
        let mut l = listener("master.l");
        l.node.max_peers = 0;
        let t = trial(vec![pair("pi.t", "master.l", Relation::CrossNode, 0)], vec![talker("pi.t")], vec![l]);
        assert_eq!(first_rule(&t), Some("no-discovery"));
    }

    #[test]
    fn matched_without_data() {
        let t = trial(vec![pair("t", "l", Relation::SameNode, 0)], vec![talker("t")], vec![listener("l")]);
        assert_eq!(first_rule(&t), Some("matched-but-no-data"));
    }
}
