//! Our RustDDS talker and listener on two hosts, the bridge between them.

use std::collections::BTreeMap;

use chatter::{Record, RecordKind};
use testkit::{cargo_bin, Proc, HANG};

use crate::hosts::{can_run, Link, TwoHosts};

/// The bridges' DDS side for our RustDDS nodes. ros2-client speaks Humble's `ros_discovery_info`
/// (measured: with ROS_DISTRO=jazzy the plugin rejects every such message as invalid and makes no
/// route); before Iron the plugin's localhost-only setting puts Cyclone DDS on 127.0.0.1.
const BRIDGE_ENV: &[(&str, &str)] = &[("ROS_DISTRO", "humble"), ("ROS_LOCALHOST_ONLY", "1")];

/// Whether `line` is the talker's `sent` record of `seq`.
fn sent(line: &str, seq: u64) -> bool {
    chatter::record::parse_line(line).is_ok_and(|r| r.kind == RecordKind::Sent && r.seq == Some(seq))
}

/// Sequence numbers heard from `talker`, with how many times each.
fn heard(records: &[Record], talker: &str) -> BTreeMap<u64, u32> {
    let mut seqs = BTreeMap::new();
    for r in records.iter().filter(|r| r.kind == RecordKind::Recv && r.talker.as_deref() == Some(talker)) {
        *seqs.entry(r.seq.unwrap()).or_insert(0) += 1;
    }
    seqs
}

/// The talker on `a`, the listener on `b`, DDS unable to cross: nothing is heard until the
/// bridges run, then 50 messages are.
#[test]
fn rustdds_talker_reaches_a_listener_on_another_host_through_the_bridges() {
    if can_run().is_none() {
        return;
    }
    let hosts = TwoHosts::new(Link::NoMulticast);
    let mut l = hosts.b.command(cargo_bin("listener"));
    l.args(["--id", "l-b", "--count", "50", "--expect-talkers", "1"]);
    let listener = Proc::spawn("listener on b", l);
    let mut t = hosts.a.command(cargo_bin("talker"));
    t.args(["--id", "t-a", "--rate-hz", "50", "--log-sent"]);
    let mut talker = Proc::spawn("talker on a", t);
    // Two seconds of sending with no bridge: DDS alone would have matched and delivered by then.
    talker.wait_line(HANG, |l| sent(l, 100));
    let (_bridge_a, _bridge_b) = hosts.bridges(BRIDGE_ENV);

    let (status, records) = listener.finish(HANG);
    assert!(status.success(), "listener exit {status}");
    let seqs = heard(&records, "t-a");
    assert_eq!(seqs.values().sum::<u32>(), 50, "{seqs:?}");
    let first = *seqs.keys().next().unwrap();
    assert!(first > 100, "heard seq {first}, sent before the bridges ran: DDS crossed by itself");
    assert!(seqs.values().all(|&n| n == 1), "duplicates with DDS kept on its host: {seqs:?}");
    talker.signal("TERM");
}

/// DDS left free to cross as well (a LAN: multicast crosses the veth), with the bridges: the
/// README's warning, measured — the listener hears the talker twice, directly and through the
/// bridges.
#[test]
fn rustdds_with_dds_also_crossing_hears_duplicates() {
    if can_run().is_none() {
        return;
    }
    let hosts = TwoHosts::new(Link::Lan);
    let mut l = hosts.b.command(cargo_bin("listener"));
    l.args(["--id", "l-b", "--expect-talkers", "1"]);
    let mut listener = Proc::spawn("listener on b", l);
    let mut t = hosts.a.command(cargo_bin("talker"));
    t.args(["--id", "t-a", "--rate-hz", "50", "--log-sent"]);
    let mut talker = Proc::spawn("talker on a", t);
    // Heard over DDS alone first (the control that DDS does cross here).
    listener.wait_line(HANG, |l| l.contains("\"kind\":\"recv\""));
    let (_bridge_a, _bridge_b) = hosts.bridges(BRIDGE_ENV);
    // The first message sent after the bridges are up (the talker's earlier lines are queued).
    let up = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let after = |l: &str| chatter::record::parse_line(l).is_ok_and(|r| r.kind == RecordKind::Sent && r.t_ns >= up);
    let from = chatter::record::parse_line(&talker.wait_line(HANG, after)).unwrap().seq.unwrap();
    // 200 messages (4 s) sent with both paths up, then everything that arrives for them.
    let last = from + 200;
    talker.wait_line(HANG, |l| sent(l, last));
    talker.signal("TERM");
    let (_, _) = talker.finish(HANG);
    let (_, records) = listener.terminate(HANG);
    let seqs: BTreeMap<u64, u32> =
        heard(&records, "t-a").into_iter().filter(|(s, _)| (from..=last).contains(s)).collect();
    let twice = seqs.values().filter(|&&n| n >= 2).count();
    eprintln!(
        "measured: of seq {from}..={last}, {} heard, {twice} heard twice or more, {} receipts",
        seqs.len(),
        seqs.values().sum::<u32>()
    );
    assert!(twice > 0, "no duplicates with both DDS and the bridges crossing: {seqs:?}");
}
