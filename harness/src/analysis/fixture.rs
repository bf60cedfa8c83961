//! A deterministic two-trial seed-like run built from synthetic records, for snapshot and
//! exporter tests (real runs have real, varying timestamps).
#![cfg(test)]

use chatter::{Record, Role};

use super::trial::AnalysisSettings;
use super::{Member, Roster, RunAnalyzer, TrialAnalyzer, TrialMeta};
use crate::summary::{summarize, RunInfo, RunReport};

const S: u64 = 1_000_000_000;

fn member(id: &str, node: &str) -> Member {
    Member {
        id: id.into(),
        pod: id.split('.').next().unwrap_or(id).into(),
        node: node.into(),
        demo: false,
        message_type: None,
    }
}

pub fn roster() -> Roster {
    Roster {
        talkers: vec![member("pi-pod.talker", "pi"), member("master-talker.talker", "master")],
        listeners: vec![member("pi-pod.listener", "pi"), member("master-listener.listener", "master")],
    }
}

fn start(id: &str, role: Role, t: u64) -> Record {
    testkit::start_record(t, id, role, "h", Some(&guid(id)))
}

/// A made-up endpoint GUID per member.
fn guid(id: &str) -> String {
    format!("{:0>32}", id.bytes().map(|b| format!("{b:02x}")).collect::<String>().chars().take(32).collect::<String>())
}

/// The records of trial 1 (everyone hears everyone, the cross-node pairs lose seq 15) or
/// trial 2 (also, the Pi talker does not reach the master listener).
pub fn records(trial: u32) -> Vec<Record> {
    let roster = roster();
    let t0 = u64::from(trial) * 100 * S;
    let mut out = Vec::new();
    // In trial 2 the Pi talker and the master listener never discover each other.
    let cut = |t: &Member, l: &Member| trial == 2 && t.node == "pi" && l.node == "master";
    for m in roster.talkers.iter().chain(&roster.listeners) {
        let role = if m.id.ends_with("talker") { Role::Talker } else { Role::Listener };
        out.push(start(&m.id, role, t0));
        let remote: Vec<String> = match role {
            Role::Talker => roster.listeners.iter().filter(|l| !cut(m, l)).map(|l| guid(&l.id)).collect(),
            Role::Listener => roster.talkers.iter().filter(|t| !cut(t, m)).map(|t| guid(&t.id)).collect(),
        };
        let peers = u32::try_from(remote.len()).unwrap_or(0);
        out.push(Record::matched(t0 + S / 4, &m.id, role, peers, Some(remote)));
    }
    for seq in 1..=20u64 {
        let sent = t0 + seq * S / 10;
        for t in &roster.talkers {
            out.push(Record::sent(sent, &t.id, seq));
            for l in &roster.listeners {
                let lost = t.node != l.node && seq == 15;
                if cut(t, l) || lost {
                    continue;
                }
                let latency = 300_000 + seq * 10_000 + if t.node == l.node { 0 } else { 900_000 };
                let data = chatter::payload::encode(seq, &t.id, sent, 0);
                out.push(Record::recv(sent + latency, &l.id, &data));
            }
        }
    }
    for t in &roster.talkers {
        out.push(Record::talker_stop(t0 + 3 * S, &t.id, 20, "duration"));
    }
    for l in &roster.listeners {
        let totals = chatter::ListenerTotals { received: 40, foreign: 0, talkers: 2 };
        out.push(Record::listener_stop(t0 + 3 * S + S / 2, &l.id, &totals, "SIGTERM"));
    }
    out
}

/// Both trials of [`records`], analysed and summarised, with timelines.
pub fn report() -> RunReport {
    let roster = roster();
    let mut run = RunAnalyzer::default();
    for trial in 1..=2u32 {
        let t0 = u64::from(trial) * 100 * S;
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: S, shared_clock: true });
        for r in records(trial) {
            acc.push(&r.view());
        }
        let meta = TrialMeta { trial, start_ns: t0, end_ns: t0 + 4 * S, interrupted: false, opened_ns: None };
        let (r, h) = acc.finish(meta);
        run.add(r, h);
    }
    let expect = crate::spec::ExpectSpec { min_delivery: Some(crate::spec::Fraction(0.9)), max_p99_latency_ms: None };
    let setting = crate::diagnosis::Setting {
        backend: "test".into(),
        separate_nodes: true,
        multicast_between_nodes: false,
        host_network: Default::default(),
        durability: chatter::Durability::Volatile,
        depth: 10,
        warmup_s: 1.0,
        faults: Vec::new(),
        start_delays: Default::default(),
        doctor: None,
        shm: Default::default(),
        stock: Default::default(),
        initial_peers: Default::default(),
        payload_bytes: Default::default(),
        pod_mtu: crate::spec::DEFAULT_POD_MTU,
    };
    let info = RunInfo {
        run_id: "20261123T000000Z-fixture",
        scenario: "fixture",
        backend: "test",
        roster: &roster,
        setting: &setting,
        expect: Some(&expect),
    };
    let mut report = summarize(info, &run, Vec::new());
    for (trial, why) in super::timeline::pick(&report.trials, &report.distribution) {
        let recs = records(trial);
        if let Some(t) = report.trials.iter().find(|t| t.meta.trial == trial) {
            let tls = super::timeline::build(t, &why, &recs);
            report.timelines.extend(tls);
        }
    }
    report
}

/// The fixture report as `e` renders it: what the exporters' snapshots hold.
pub fn render(e: &dyn crate::report::Exporter) -> String {
    let mut out = Vec::new();
    e.export(&report(), &mut out).expect("export");
    String::from_utf8(out).expect("utf8")
}

#[cfg(test)]
mod tests {
    use super::report;

    #[test]
    fn fixture_facts() {
        let r = report();
        assert_eq!(r.verdict.kind, crate::summary::VerdictKind::Race, "{:?}", r.verdict);
        let cut = r
            .pairs
            .iter()
            .find(|p| p.talker == "pi-pod.talker" && p.listener == "master-listener.listener")
            .expect("pair");
        // Window = seqs 10..=20 (11 per trial); trial 1 lost seq 15; trial 2 got nothing.
        assert_eq!((cut.expected, cut.received, cut.trials_none), (22, 10, 1));
        assert!(!r.expectations_met());
    }
}
