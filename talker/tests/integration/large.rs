//! Sensor-sized messages as real processes in a private network namespace: our talker's
//! `--payload-bytes` at 1 MiB and 8 MiB, RustDDS → RustDDS, r2r → RustDDS and RustDDS → r2r
//! (the r2r ones where `scripts/build-ros.sh` has built the flavour, see [`super::ros`]), and a
//! 1 MiB `sensor_msgs/msg/Image` between the rclpy demo nodes. Each message must arrive whole
//! (its size in the `recv` record) with its head parsed (talker, seq, send time), and no line a
//! node prints may carry the payload.

use std::process::Command;

use chatter::{Payload, RecordKind};
use testkit::{cargo_bin, Proc, Sandbox, HANG};

use super::ros::{r2r, rclpy, ros, wheels};

const MIB: usize = 1 << 20;
/// The longest record line a node prints (a `matched` record listing a few GUIDs is the
/// longest); a payload of even 1 KiB in a line would exceed it.
const LINE_BOUND: usize = 1024;

/// Starts `listener` (our listener's CLI, told to stop after `want` messages) and then `talker`
/// (our talker's, sending `bytes`-byte messages as `big-t` at `rate_hz`), and checks what the
/// listener heard.
fn exchange(listener: Command, talker: Command, bytes: usize, rate_hz: f64, want: usize) {
    let (mut listener, mut talker) = (listener, talker);
    let want_s = want.to_string();
    listener.args(["--id", "big-l", "--count", &want_s, "--expect-talkers", "1"]);
    let mut listener = Proc::spawn("listener", listener);
    listener.wait_line(HANG, |l| l.contains("\"kind\":\"start\""));
    talker.args(["--id", "big-t", "--rate-hz", &rate_hz.to_string(), "--payload-bytes", &bytes.to_string()]);
    let talker = Proc::spawn("talker", talker);
    for _ in 0..want {
        listener.wait_line(HANG, |l| l.contains("\"kind\":\"recv\""));
    }
    let long: Vec<usize> = listener.seen.iter().map(String::len).filter(|n| *n > LINE_BOUND).collect();
    assert!(long.is_empty(), "record lines of {long:?} bytes: the payload leaked into the records");
    let (status, heard) = listener.finish(HANG);
    assert!(status.success(), "listener exit {status}");
    let recv: Vec<_> = heard.iter().filter(|r| r.kind == RecordKind::Recv).collect();
    assert_eq!(recv.len(), want, "{recv:?}");
    for r in &recv {
        assert_eq!(r.talker.as_deref(), Some("big-t"), "{r:?}");
        assert_eq!(r.bytes, Some(u32::try_from(bytes).unwrap()), "a whole message: {r:?}");
        assert!(r.sent_ns.is_some_and(|s| s <= r.t_ns), "send time parsed (one clock): {r:?}");
    }
    let seqs: Vec<u64> = recv.iter().filter_map(|r| r.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    let (_, sent) = talker.terminate(HANG);
    let sent_lines = sent.iter().map(|r| r.to_json().len()).max().unwrap_or(0);
    assert!(sent_lines <= LINE_BOUND, "talker record of {sent_lines} bytes");
}

fn rustdds(sb: &Sandbox, bin: &str) -> Command {
    sb.command(cargo_bin(bin))
}

#[test]
fn rustdds_to_rustdds_1_mib() {
    let sb = Sandbox::new().unwrap();
    exchange(rustdds(&sb, "listener"), rustdds(&sb, "talker"), MIB, 5.0, 5);
}

#[test]
fn rustdds_to_rustdds_8_mib() {
    let sb = Sandbox::new().unwrap();
    exchange(rustdds(&sb, "listener"), rustdds(&sb, "talker"), 8 * MIB, 1.0, 3);
}

fn r2r_node(sb: &Sandbox, bin: &str) -> Option<Command> {
    let mut cmd = ros(sb, r2r(bin)?);
    cmd.args(["--transport", "ros"]);
    Some(cmd)
}

#[test]
fn r2r_to_rustdds_1_and_8_mib() {
    let Some(_) = r2r("talker") else { return };
    for (bytes, rate, want) in [(MIB, 5.0, 5), (8 * MIB, 1.0, 3)] {
        let sb = Sandbox::new().unwrap();
        exchange(rustdds(&sb, "listener"), r2r_node(&sb, "talker").unwrap(), bytes, rate, want);
    }
}

#[test]
fn rustdds_to_r2r_1_and_8_mib() {
    let Some(_) = r2r("listener") else { return };
    for (bytes, rate, want) in [(MIB, 5.0, 5), (8 * MIB, 1.0, 3)] {
        let sb = Sandbox::new().unwrap();
        exchange(r2r_node(&sb, "listener").unwrap(), rustdds(&sb, "talker"), bytes, rate, want);
    }
}

/// A camera's frame as the stock nodes on rclpy send it: a 1 MiB `sensor_msgs/msg/Image`
/// whose `header.frame_id` says `Hello World: N`; the listener's console line is the String
/// demo's, which the harness reads, and never carries the image.
#[test]
fn rclpy_image_of_1_mib_reaches_the_rclpy_listener() {
    let Some(()) = wheels() else { return };
    let sb = Sandbox::new().unwrap();
    let image = ["--message-type", "sensor_msgs/msg/Image"];
    let mut listener = Proc::spawn("rclpy listener", rclpy(&sb, &[&["listener"][..], &image].concat()));
    let size = MIB.to_string();
    let talker = rclpy(&sb, &[&["talker", "--rate-hz", "5", "--payload-bytes", &size][..], &image].concat());
    let talker = Proc::spawn("rclpy talker", talker);
    let mut seqs = Vec::new();
    while seqs.len() < 5 {
        let line = listener.wait_line(HANG, |l| l.contains("I heard: ["));
        assert!(line.len() < 200, "a console line of {} bytes", line.len());
        match chatter::demo_log::parse(&line) {
            chatter::demo_log::DemoLine::Heard { data, .. } => match Payload::parse(&data) {
                Payload::Demo { seq } => seqs.push(seq),
                other => panic!("{line}: {other:?}"),
            },
            other => panic!("{line}: {other:?}"),
        }
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let (status, _) = talker.terminate(HANG);
    assert!(status.success(), "rclpy talker exit {status}");
    let (status, _) = listener.terminate(HANG);
    assert!(status.success(), "rclpy listener exit {status}");
}
