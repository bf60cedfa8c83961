//! Listener as a real process, inside a private network namespace: from our talkers and from an
//! independent DDS implementation (Cyclone DDS), with foreign payloads and signals.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;

use chatter::{PayloadKind, Record, RecordKind, RecordRow};
use testkit::{cargo_bin, cyclone_peer, cyclone_python, Proc, Sandbox, HANG};

fn cyclone_pub(sb: &Sandbox, format: &str) -> Proc {
    let mut cmd = sb.command(cyclone_python());
    cmd.arg(cyclone_peer()).args(["pub", "--rate-hz", "50", "--format", format]);
    Proc::spawn("cyclone pub", cmd)
}

fn listener(sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = sb.command(cargo_bin("listener"));
    cmd.args(args);
    cmd
}

fn recvs(records: &[Record]) -> impl Iterator<Item = &Record> {
    records.iter().filter(|r| r.kind == RecordKind::Recv)
}

#[test]
fn stock_demo_payloads_from_cyclone_are_an_anonymous_talker() {
    let sb = Sandbox::new().unwrap();
    let _publisher = cyclone_pub(&sb, "demo");
    let (status, records) = Proc::spawn("listener", listener(&sb, &["--id", "master", "--count", "10"])).finish(HANG);
    assert!(status.success(), "exit {status}");

    let got: Vec<&Record> = recvs(&records).collect();
    assert_eq!(got.len(), 10);
    for r in &got {
        assert_eq!(r.payload, Some(PayloadKind::Demo));
        assert_eq!(r.talker, None, "demo talkers are anonymous");
        assert_eq!(r.sent_ns, None);
    }
    let seqs: Vec<u64> = got.iter().map(|r| r.seq.unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "in order: {seqs:?}");
    let first_recv = records.iter().position(|r| r.kind == RecordKind::Recv).unwrap();
    let matched = records.iter().position(|r| r.kind == RecordKind::Matched).expect("matched record");
    assert!(matched < first_recv, "the match is reported before the first message");
    let stop = records.last().unwrap();
    assert_eq!((stop.kind, stop.count, stop.foreign, stop.talkers), (RecordKind::Stop, Some(10), Some(0), Some(1)));
}

#[test]
fn foreign_payloads_are_counted_not_fatal() {
    let sb = Sandbox::new().unwrap();
    let _publisher = cyclone_pub(&sb, "foreign");
    let (status, records) = Proc::spawn("listener", listener(&sb, &["--id", "l", "--count", "5"])).finish(HANG);
    assert!(status.success(), "exit {status}");
    assert!(recvs(&records).all(|r| r.payload == Some(PayloadKind::Foreign) && r.seq.is_none()));
    let stop = records.last().unwrap();
    assert_eq!((stop.count, stop.foreign, stop.talkers), (Some(5), Some(5), Some(0)));
}

#[test]
fn one_listener_hears_two_talkers_at_once() {
    let sb = Sandbox::new().unwrap();
    let mut l = Proc::spawn("listener", listener(&sb, &["--id", "l", "--expect-talkers", "2"]));
    l.wait_line(HANG, |line| line.contains("\"start\""));
    let mut talkers = Vec::new();
    for id in ["pi-talker", "master-talker"] {
        let mut cmd = sb.command(cargo_bin("talker"));
        cmd.args(["--id", id, "--rate-hz", "100"]);
        talkers.push(Proc::spawn(id, cmd));
    }
    // Event: both talkers have been heard at least 20 times.
    let mut per_talker: BTreeMap<String, u64> = BTreeMap::new();
    while per_talker.len() < 2 || per_talker.values().any(|&n| n < 20) {
        let line = l.wait_line(HANG, |line| line.contains("\"recv\""));
        let r = chatter::record::parse_line(&line).unwrap();
        *per_talker.entry(r.talker.unwrap()).or_default() += 1;
    }
    let (status, records) = l.terminate(HANG);
    assert!(status.success(), "SIGTERM is a clean stop: {status}");
    let stop = records.last().unwrap();
    assert_eq!((stop.kind, stop.reason.as_deref(), stop.talkers), (RecordKind::Stop, Some("SIGTERM"), Some(2)));
    // Per talker, sequence numbers only grow (reliable, in-order).
    for id in ["pi-talker", "master-talker"] {
        let seqs: Vec<u64> =
            recvs(&records).filter(|r| r.talker.as_deref() == Some(id)).map(|r| r.seq.unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[1] > w[0]), "{id}: {seqs:?}");
        assert!(recvs(&records).filter(|r| r.talker.as_deref() == Some(id)).all(|r| r.sent_ns.unwrap() <= r.t_ns));
    }
}

#[test]
fn missing_expected_talkers_exit_1() {
    let sb = Sandbox::new().unwrap();
    // Nobody publishes: the listener stops on its own after the duration, having heard no one.
    let (status, records) =
        Proc::spawn("listener", listener(&sb, &["--duration", "0.5", "--expect-talkers", "1"])).finish(HANG);
    assert_eq!(status.code(), Some(1));
    let stop = records.last().unwrap();
    assert_eq!((stop.kind, stop.count, stop.reason.as_deref()), (RecordKind::Stop, Some(0), Some("duration")));
}

#[test]
fn csv_sink_matches_stdout_records() {
    let sb = Sandbox::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("l.csv");
    let _publisher = cyclone_pub(&sb, "demo");
    let args = ["--id", "l", "--count", "3", "--csv", csv_path.to_str().unwrap()];
    let (status, records) = Proc::spawn("listener", listener(&sb, &args)).finish(HANG);
    assert!(status.success());
    let rows: Vec<Record> = csv::Reader::from_path(&csv_path)
        .unwrap()
        .deserialize::<RecordRow>()
        .map(|row| row.unwrap().into_record())
        .collect();
    assert_eq!(rows, records);
}

#[test]
fn wrong_domain_hears_nothing() {
    let sb = Sandbox::new().unwrap();
    let _publisher = cyclone_pub(&sb, "demo"); // domain 0
    let (status, records) =
        Proc::spawn("listener", listener(&sb, &["--domain", "7", "--duration", "1.5"])).finish(HANG);
    assert!(status.success());
    assert_eq!(recvs(&records).count(), 0);
    assert_eq!(records.last().unwrap().count, Some(0));
}

/// The Kubernetes start barrier: with `CHATTER_RELEASE_FILE` set, the node opens nothing and
/// prints no record until that file (the pod's projected annotations) carries the release
/// annotation; stopped before that, it exits cleanly without records.
#[test]
fn waits_at_the_start_barrier_until_released() {
    let sb = Sandbox::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("annotations");
    let spawn = || {
        let mut cmd = sb.command("sh");
        // stderr into the piped stdout, to see the node say it is waiting.
        cmd.args(["-c", "exec \"$0\" --id l --duration 0.2 2>&1"]).arg(cargo_bin("listener"));
        cmd.env(chatter::RELEASE_FILE_ENV, &file);
        Proc::spawn("listener", cmd)
    };
    let mut waiting = spawn();
    waiting.wait_line(HANG, |l| l.contains("waiting for the harness to release the start"));
    std::fs::write(&file, "kubectl.kubernetes.io/restartedAt=\"x\"\n").unwrap();
    let (status, records) = waiting.terminate(HANG);
    assert!(status.success(), "exit {status}");
    assert!(records.is_empty(), "stopped before the release: {records:?}");

    std::fs::remove_file(&file).unwrap();
    let mut node = spawn();
    node.wait_line(HANG, |l| l.contains("waiting for the harness to release the start"));
    let released_at = chatter::now_ns();
    std::fs::write(&file, format!("{}=\"{released_at}\"\n", chatter::RELEASE_ANNOTATION)).unwrap();
    let (status, records) = node.finish(HANG);
    assert!(status.success(), "exit {status}");
    let start = records.iter().find(|r| r.kind == RecordKind::Start).expect("a start record after the release");
    assert!(start.t_ns >= released_at, "started {} ns before the release", released_at - start.t_ns);
    assert_eq!(records.last().map(|r| r.kind), Some(RecordKind::Stop));
}
