//! Every diagnosis rule fired once, from trials the analysis built out of records (then bent
//! the way each rule needs), and every word of every finding checked for Rust `Debug` output:
//! a report is read by people.
#![cfg(test)]

use std::collections::BTreeMap;

use chatter::{Record, Role};

use super::rules::{LATE_RULES, SILENT_RULES};
use super::{diagnose, Finding, InitialPeers, Setting, ShmEnd};
use crate::analysis::trial::{AnalysisSettings, NodeFacts, Silence, TrialReport};
use crate::analysis::{Delivery, Member, PairSummary, Roster, RunAnalyzer, TrialAnalyzer, TrialMeta};
use crate::spec::{FaultNumber, FaultSpec};

const S: u64 = 1_000_000_000;

/// Every rule id: the pair rules and the seven run- and trial-wide ones.
const RULES: &[&str] = &[
    "listener-not-started",
    "talker-not-started",
    "domain-mismatch",
    "qos-incompatible",
    "talker-sent-nothing",
    "fastdds-shared-memory",
    "initial-peers-range",
    "no-discovery-across-nodes",
    "matched-but-no-data",
    "no-discovery",
    "late-joiner",
    "late-discovery",
    "container-failed",
    "node-died",
    "outage",
    "loss",
    "missed-window-edges",
    "fault-not-observed",
    "fragment-loss",
    "receive-buffer-overrun",
    "link-saturated",
];

fn member(id: &str, node: &str) -> Member {
    Member {
        id: id.into(),
        pod: id.split('.').next().unwrap_or(id).into(),
        node: node.into(),
        demo: false,
        message_type: None,
    }
}

/// The seed's shape: pod `tl` (talker and listener) on the Pi, listener pod `l` on the master.
fn roster() -> Roster {
    Roster {
        talkers: vec![member("tl.talker", "pi")],
        listeners: vec![member("tl.listener", "pi"), member("l.listener", "master")],
    }
}

/// One trial analysed from its records: 40 messages at 10 Hz; the Pi's own listener hears
/// them all, the master's those `cross` lets through (and matches only if it hears any).
fn analysed(cross: impl Fn(u64) -> bool) -> (TrialReport, RunAnalyzer) {
    let roster = roster();
    let guid = |id: &str| format!("{:0>32}", id.len());
    let heard_across = (1..=40).any(&cross);
    let mut records = Vec::new();
    for m in roster.talkers.iter().chain(&roster.listeners) {
        let role = if m.id.ends_with("talker") { Role::Talker } else { Role::Listener };
        records.push(testkit::start_record(0, &m.id, role, "h", Some(&guid(&m.id))));
    }
    let remote = |ids: &[&str]| Some(ids.iter().map(|i| guid(i)).collect());
    let talker_sees: &[&str] = if heard_across { &["tl.listener", "l.listener"] } else { &["tl.listener"] };
    records.push(Record::matched(S / 4, "tl.talker", Role::Talker, 1, remote(talker_sees)));
    records.push(Record::matched(S / 4, "tl.listener", Role::Listener, 1, remote(&["tl.talker"])));
    if heard_across {
        records.push(Record::matched(S / 4, "l.listener", Role::Listener, 1, remote(&["tl.talker"])));
    }
    let mut heard = BTreeMap::from([("tl.listener", 0u64), ("l.listener", 0)]);
    for seq in 1..=40u64 {
        let sent = seq * S / 10;
        records.push(Record::sent(sent, "tl.talker", seq));
        let data = chatter::payload::encode(seq, "tl.talker", sent, 0);
        for (l, n) in &mut heard {
            if *l == "tl.listener" || cross(seq) {
                records.push(Record::recv(sent + 1_000_000, l, &data));
                *n += 1;
            }
        }
    }
    records.push(Record::talker_stop(4 * S + S / 10, "tl.talker", 40, "duration"));
    for (l, n) in heard {
        let totals = chatter::ListenerTotals { received: n, foreign: 0, talkers: u32::from(n > 0) };
        records.push(Record::listener_stop(4 * S + S / 2, l, &totals, "SIGTERM"));
    }
    let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: S, shared_clock: true });
    for r in &records {
        acc.push(&r.view());
    }
    let meta = TrialMeta { trial: 1, start_ns: 0, end_ns: 5 * S, interrupted: false, opened_ns: None };
    let (report, latencies) = acc.finish(meta);
    let mut run = RunAnalyzer::default();
    run.add(report.clone(), latencies);
    (report, run)
}

fn setting() -> Setting {
    Setting::netns_flannel()
}

fn seed() -> TrialReport {
    analysed(|_| false).0
}

fn cross(t: &mut TrialReport) -> &mut crate::analysis::trial::PairReport {
    t.pairs.iter_mut().find(|p| p.listener == "l.listener").expect("the cross-node pair")
}

fn findings(t: &TrialReport, summaries: &[PairSummary], s: &Setting) -> Vec<Finding> {
    diagnose(&[t], summaries, s)
}

/// Each case: a trial bent so that one rule fires, its summaries and setting.
fn cases() -> Vec<Vec<Finding>> {
    let mut out = Vec::new();
    out.extend(ends_that_cannot_talk());
    out.extend(silent_though_both_ends_are_up());
    out.push(beyond_the_initial_peers_range());
    out.push(late_listener_and_slow_discovery());
    out.extend(ends_that_died());
    out.extend(outage_and_loss());
    out.push(unnoticed_partition());
    out.extend(what_the_kernel_counted());
    out
}

/// The Pi's 256 KiB samples matched but lost (reassembly failed at the master's listener); a
/// full receive buffer there; the Pi's link offered twice its cap.
fn what_the_kernel_counted() -> Vec<Vec<Finding>> {
    use crate::backend::{Counted, IpCounters, KernelCounters, LinkOffered, UdpCounters};
    let mut out = Vec::new();
    let listener = |ip: IpCounters, udp: UdpCounters| KernelCounters {
        node: "master".into(),
        pod: Some("l".into()),
        ms: 4000,
        ip,
        udp,
        ..Default::default()
    };
    let mut t = seed();
    cross(&mut t).listener_matched = Some(true);
    t.kernel
        .push(listener(IpCounters { reasm_reqds: 900, reasm_fails: 850, ..Default::default() }, Default::default()));
    let mut s = setting();
    s.payload_bytes.insert("tl.talker".into(), 262_144);
    out.push(findings(&t, &[], &s));
    let mut t = seed();
    cross(&mut t).listener_matched = Some(true);
    t.kernel.push(listener(Default::default(), UdpCounters { rcvbuf_errors: 362, ..Default::default() }));
    out.push(findings(&t, &[], &setting()));
    let (mut t, _) = analysed(|seq| seq % 2 == 0);
    let link = LinkOffered {
        out: Counted { packets: 7000, bytes: 10_000_000 },
        cap_out_kbit: Some(10_000),
        ..Default::default()
    };
    t.kernel.push(KernelCounters { node: "pi".into(), ms: 4000, link: Some(link), ..Default::default() });
    let mut s = setting();
    s.faults.push(FaultSpec::Bandwidth {
        node: "pi".into(),
        mbit: FaultNumber(10.0),
        direction: crate::spec::Direction::Out,
    });
    out.push(findings(&t, &[], &s));
    out
}

/// The seed as it is, then ends that never started, sit on other domains or QoS, or sent
/// nothing.
fn ends_that_cannot_talk() -> Vec<Vec<Finding>> {
    let mut out = Vec::new();
    let seed_findings = findings(&seed(), &[], &setting());
    out.push(seed_findings);
    let mut t = seed();
    t.listeners.iter_mut().for_each(|l| l.node = NodeFacts::default());
    out.push(findings(&t, &[], &setting()));
    let mut t = seed();
    t.talkers[0].node = NodeFacts::default();
    out.push(findings(&t, &[], &setting()));
    let mut t = seed();
    t.listeners[1].node.domain = Some(7);
    t.listeners[0].node.domain = Some(7);
    out.push(findings(&t, &[], &setting()));
    let mut t = seed();
    t.talkers[0].node.reliability = Some(chatter::Reliability::BestEffort);
    out.push(findings(&t, &[], &setting()));
    for reason in [Some("output ended"), None] {
        let mut t = seed();
        t.talkers[0].sent = 0;
        t.talkers[0].node.stop_reason = reason.map(str::to_owned);
        out.push(findings(&t, &[], &setting()));
    }
    out
}

/// Both ends up, yet nothing arrived: shared memory, the data path, discovery.
fn silent_though_both_ends_are_up() -> Vec<Vec<Finding>> {
    let mut out = Vec::new();
    // Two hostNetwork Fast DDS pods on one node without a shared /dev/shm.
    let mut t = seed();
    let p = cross(&mut t);
    (p.listener_node, p.relation, p.listener_matched, p.talker_matched) =
        (Some("pi".into()), crate::analysis::Relation::SameNode, None, None);
    let mut s = setting();
    for (id, pod) in [("tl.talker", "tl"), ("l.listener", "l")] {
        s.host_network.insert(id.into(), true);
        s.shm.insert(id.into(), ShmEnd { pod: pod.into(), host_ipc: false });
        s.stock.insert(id.into());
    }
    out.push(findings(&t, &[], &s));
    let mut t = seed();
    cross(&mut t).listener_matched = Some(true);
    out.push(findings(&t, &[], &setting()));
    let mut s = setting();
    s.multicast_between_nodes = true;
    out.push(findings(&seed(), &[], &s));
    out
}

/// The Pi's talker and the master's listener, both the 5th participant on their IP, with
/// ROS_STATIC_PEERS; the Pi's first participant reaches the same listener.
fn beyond_the_initial_peers_range() -> Vec<Finding> {
    let mut t = seed();
    let (mut heard, _) = analysed(|_| true);
    let mut first = cross(&mut heard).clone();
    first.talker = "tl.first".into();
    t.pairs.push(first);
    for (c, node, id) in [("tl.talker", "pi", 4), ("l.listener", "master", 4), ("tl.first", "pi", 0)] {
        let d = crate::backend::ParticipantId { domain: 0, id }.port();
        t.participants.push(crate::backend::Participant::from_ports(c, node, None, [d, d + 1].into()));
    }
    let mut s = setting();
    for id in ["tl.talker", "l.listener"] {
        let peers = InitialPeers { range: 4, from: "ROS_STATIC_PEERS", range_from: "Fast DDS's default".into() };
        s.initial_peers.insert(id.into(), peers);
    }
    let found = findings(&t, &[], &s);
    assert!(found.iter().any(|f| f.rule == "initial-peers-range"), "{found:#?}");
    found
}

/// Delivered, but the listener joined late and discovery was slow.
fn late_listener_and_slow_discovery() -> Vec<Finding> {
    let (mut t, _) = analysed(|_| true);
    t.listeners[1].node.start_ns = Some(2 * S);
    cross(&mut t).matched_ms = Some(1800.0);
    let mut s = setting();
    s.start_delays.insert("l.listener".into(), 2.0);
    findings(&t, &[], &s)
}

/// A listener whose container failed; the talker killed mid-trial.
fn ends_that_died() -> Vec<Vec<Finding>> {
    let mut out = Vec::new();
    let mut t = seed();
    t.listeners[1].node = NodeFacts::default();
    t.containers.push(crate::backend::ContainerExit {
        id: "l.listener".into(),
        node: "master".into(),
        arch: Some("amd64".into()),
        reason: "Error".into(),
        exit_code: Some(1),
        signal: None,
        restarts: 0,
        message: String::new(),
        wrong_arch: false,
        at_ms: Some(20),
        stderr: vec!["error: package not found".into()],
    });
    out.push(findings(&t, &[], &setting()));
    let (mut t, _) = analysed(|_| true);
    t.talkers[0].node.stop_reason = None;
    t.talkers[0].node.last_ns = Some(2_450_000_000);
    let mut s = setting();
    s.faults.push(FaultSpec::Kill { pod: "tl".into(), container: "talker".into(), at_s: FaultNumber(2.5) });
    out.push(findings(&t, &[], &s));
    out
}

/// An outage on the link; loss into the master; a window whose first messages went missing.
fn outage_and_loss() -> Vec<Vec<Finding>> {
    let mut out = Vec::new();
    let (mut t, _) = analysed(|seq| !(20..35).contains(&seq));
    cross(&mut t).outages = 1;
    t.silences.push(Silence {
        talker: "tl.talker".into(),
        listener: "l.listener".into(),
        from_s: 2.0,
        to_s: 3.5,
        open_ended: false,
    });
    let mut s = setting();
    s.faults.push(FaultSpec::Partition {
        between: ["master".into(), "pi".into()],
        from_s: FaultNumber(2.0),
        to_s: FaultNumber(3.5),
    });
    out.push(findings(&t, &[], &s));
    let (t, run) = analysed(|seq| seq % 3 != 0);
    assert_eq!(t.pairs.iter().filter(|p| p.delivery == Delivery::Partial).count(), 1, "{:#?}", t.pairs);
    let mut s = setting();
    s.faults.push(FaultSpec::Loss {
        node: "master".into(),
        percent: FaultNumber(30.0),
        direction: crate::spec::Direction::In,
    });
    out.push(findings(&t, &run.pair_summaries(), &s));
    // The master's listener hears nothing of the window's first 12, then everything.
    let (t, run) = analysed(|seq| seq > 12);
    out.push(findings(&t, &run.pair_summaries(), &setting()));
    out
}

/// A partition nothing noticed.
fn unnoticed_partition() -> Vec<Finding> {
    let (t, _) = analysed(|_| true);
    let mut s = setting();
    s.faults.push(FaultSpec::Partition {
        between: ["master".into(), "pi".into()],
        from_s: FaultNumber(1.0),
        to_s: FaultNumber(2.0),
    });
    findings(&t, &[], &s)
}

/// Every word a finding shows a reader.
fn words(f: &Finding) -> Vec<&str> {
    let mut w = vec![f.rule.as_str(), f.cause.as_str(), f.advice.as_str()];
    w.extend(f.pairs.iter().map(String::as_str));
    w.extend(f.evidence.iter().map(String::as_str));
    if let Some(c) = &f.fault {
        w.extend([c.injected.as_str(), c.observed.as_str()]);
    }
    w
}

#[test]
fn every_rule_fires_and_speaks_plain_words() {
    // fragment-loss and receive-buffer-overrun are in both pair lists; seven rules are trial-
    // and run-wide.
    assert_eq!(SILENT_RULES.len() + LATE_RULES.len() - 2 + 7, RULES.len(), "a new rule needs a case here");
    let all: Vec<Finding> = cases().into_iter().flatten().collect();
    let fired: std::collections::BTreeSet<&str> = all.iter().map(|f| f.rule.as_str()).collect();
    let missing: Vec<&&str> = RULES.iter().filter(|r| !fired.contains(**r)).collect();
    assert!(missing.is_empty(), "rules never fired: {missing:?}; fired: {fired:?}");
    let debug: Vec<String> = all
        .iter()
        .flat_map(|f| {
            words(f).into_iter().filter_map(move |w| testkit::debug_text(w).map(|d| format!("{}: {d}", f.rule)))
        })
        .collect();
    assert!(debug.is_empty(), "Debug output in findings:\n{}", debug.join("\n"));
}
