//! A deterministic two-trial seed-like run built from synthetic records, for snapshot and
//! exporter tests (real runs have real, varying timestamps).
#![cfg(test)]

use chatter::{Qos, Record, Role, StartInfo};

use super::{Member, Roster, RunAnalyzer, RunReport, TrialAnalyzer, TrialMeta};

const S: u64 = 1_000_000_000;

fn member(id: &str, node: &str) -> Member {
    Member { id: id.into(), pod: id.split('.').next().unwrap_or(id).into(), node: node.into() }
}

pub fn roster() -> Roster {
    Roster {
        talkers: vec![member("pi-pod.talker", "pi"), member("master-talker.talker", "master")],
        listeners: vec![member("pi-pod.listener", "pi"), member("master-listener.listener", "master")],
    }
}

fn start(id: &str, role: Role, t: u64) -> Record {
    let info = StartInfo { host: "h", pid: 1, transport: "rustdds", domain: 0, topic: "/chatter", qos: Qos::default() };
    Record::start(t, id, role, &info)
}

/// Trial 1: everyone hears everyone. Trial 2: the Pi talker does not reach the master listener.
pub fn report() -> RunReport {
    let roster = roster();
    let mut run = RunAnalyzer::default();
    for trial in 1..=2u32 {
        let t0 = u64::from(trial) * 100 * S;
        let window = t0 + S;
        let mut acc = TrialAnalyzer::new(&roster, window);
        for m in roster.talkers.iter().chain(&roster.listeners) {
            let role = if m.id.ends_with("talker") { Role::Talker } else { Role::Listener };
            acc.push(&(start(&m.id, role, t0)).view());
            acc.push(&(Record::matched(t0 + S / 4, &m.id, role, 1)).view());
        }
        for seq in 1..=20u64 {
            let sent = t0 + seq * S / 10;
            for t in &roster.talkers {
                acc.push(&(Record::sent(sent, &t.id, seq)).view());
                for l in &roster.listeners {
                    let cut = trial == 2 && t.node == "pi" && l.node == "master";
                    let lost = t.node != l.node && seq == 15;
                    if cut || lost {
                        continue;
                    }
                    let latency = 300_000 + seq * 10_000 + if t.node == l.node { 0 } else { 900_000 };
                    let data = chatter::payload::encode(seq, &t.id, sent, 0);
                    acc.push(&(Record::recv(sent + latency, &l.id, &data)).view());
                }
            }
        }
        for t in &roster.talkers {
            acc.push(&(Record::talker_stop(t0 + 3 * S, &t.id, 20, "duration")).view());
        }
        let meta = TrialMeta { trial, start_ns: t0, window_start_ns: window, end_ns: t0 + 4 * S, interrupted: false };
        let (r, h) = acc.finish(meta);
        run.add(r, h);
    }
    let expect = crate::spec::ExpectSpec { min_delivery: Some(crate::spec::Fraction(0.9)), max_p99_latency_ms: None };
    run.report("20261123T000000Z-fixture", "fixture", "test", &roster, Some(&expect))
}
