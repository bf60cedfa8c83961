//! Talker as a real process, inside a private network namespace, against an independent DDS
//! implementation (Cyclone DDS).
#![allow(clippy::unwrap_used)]

use chatter::{Payload, RecordKind};
use testkit::{cargo_bin, cyclone_peer, cyclone_python, Proc, Sandbox, HANG};

mod large;
mod ros;

#[test]
fn talker_reaches_a_cyclone_subscriber() {
    let sb = Sandbox::new().unwrap();
    let mut sub = sb.command(cyclone_python());
    sub.arg(cyclone_peer()).args(["sub", "--count", "5"]);
    let mut sub = Proc::spawn("cyclone sub", sub);
    sub.wait_line(HANG, |l| l.contains("\"ready\""));

    let mut talker = sb.command(cargo_bin("talker"));
    talker.args(["--id", "amd64-talker", "--rate-hz", "50"]);
    let talker = Proc::spawn("talker", talker);

    let (status, _) = sub.finish(HANG);
    assert!(status.success(), "cyclone subscriber got its 5 samples");
    let (status, records) = talker.terminate(HANG);
    assert!(status.success(), "talker exit {status}");
    assert!(records.iter().any(|r| r.kind == RecordKind::Matched && r.peers == Some(1)), "talker saw the match");
    let stop = records.iter().find(|r| r.kind == RecordKind::Stop).expect("stop record");
    assert_eq!(stop.reason.as_deref(), Some("SIGTERM"));
    assert!(stop.count.unwrap() >= 5);
}

#[test]
fn cyclone_sees_chatter_payloads_in_order() {
    let sb = Sandbox::new().unwrap();
    let mut sub = sb.command(cyclone_python());
    sub.arg(cyclone_peer()).args(["sub", "--count", "10"]);
    let mut sub = Proc::spawn("cyclone sub", sub);
    sub.wait_line(HANG, |l| l.contains("\"ready\""));
    let mut talker = sb.command(cargo_bin("talker"));
    talker.args(["--id", "t-1", "--rate-hz", "100", "--payload-bytes", "200"]);
    let _talker = Proc::spawn("talker", talker);

    sub.wait_line(HANG, |l| l.contains("\"data\""));
    let mut seqs = Vec::new();
    let first = sub.seen.last().unwrap().clone();
    for line in std::iter::once(first).chain((0..9).map(|_| sub.wait_line(HANG, |l| l.contains("\"data\"")))) {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let data = v["data"].as_str().unwrap();
        assert!(data.len() >= 200, "padded payload: {}", data.len());
        match Payload::parse(data) {
            Payload::Chatter { seq, talker, .. } => {
                assert_eq!(talker, "t-1");
                seqs.push(seq);
            }
            other => panic!("unexpected payload {other:?} from {data:?}"),
        }
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "reliable in-order delivery: {seqs:?}");
}

#[test]
fn count_reached_stops_with_totals() {
    let sb = Sandbox::new().unwrap();
    let mut talker = sb.command(cargo_bin("talker"));
    talker.args(["--id", "t", "--rate-hz", "200", "--count", "20", "--log-sent", "--linger", "0"]);
    let (status, records) = Proc::spawn("talker", talker).finish(HANG);
    assert!(status.success());
    let sent: Vec<u64> = records.iter().filter(|r| r.kind == RecordKind::Sent).filter_map(|r| r.seq).collect();
    assert_eq!(sent, (1..=20).collect::<Vec<_>>());
    let stop = records.last().unwrap();
    assert_eq!((stop.kind, stop.count, stop.reason.as_deref()), (RecordKind::Stop, Some(20), Some("count")));
}

/// SIGUSR1 is the harness opening the measurement window: the talker publishes `--window` more
/// from then and stops by itself, instead of running out its (here: ten-minute) `--duration`.
#[test]
fn the_window_signal_ends_the_run_a_window_later() {
    let sb = Sandbox::new().unwrap();
    let mut talker = sb.command(cargo_bin("talker"));
    talker.args([
        "--id",
        "t",
        "--rate-hz",
        "50",
        "--duration",
        "600",
        "--window",
        "0.4",
        "--log-sent",
        "--linger",
        "0",
    ]);
    let mut talker = Proc::spawn("talker", talker);
    talker.wait_line(HANG, |l| l.contains("\"sent\""));
    let opened = chatter::now_ns();
    talker.signal("USR1");
    // HANG is far shorter than the duration: only the window can end it in time.
    let (status, records) = talker.finish(HANG);
    assert!(status.success(), "exit {status}");
    let stop = records.last().unwrap();
    assert_eq!((stop.kind, stop.reason.as_deref()), (RecordKind::Stop, Some("duration")));
    let after = records.iter().filter(|r| r.kind == RecordKind::Sent && r.t_ns > opened).count();
    assert!(after > 0, "it went on publishing through the window");
}

#[test]
fn invalid_rate_is_a_usage_error() {
    let sb = Sandbox::new().unwrap();
    let out = sb.command(cargo_bin("talker")).args(["--rate-hz", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rate must be a positive number"));
}
