//! The r2r flavour (`--features ros`, built for real by `scripts/build-ros.sh jazzy` against
//! ROS 2 Jazzy from PyPI wheels) as real processes in a private network namespace: r2r ↔ RustDDS
//! and r2r ↔ rclpy, both ways, each with a heard count; signals and `--duration` end an r2r
//! node with its stop record and exit status 0.
//!
//! Where the build or the venv is missing these tests say so and pass, except in CI (`CI` set),
//! where they fail: CI builds the flavour (`.ci/run`). `CHATTER_ROS_DISTRO=kilted` runs them on
//! the Kilted build (`scripts/build-ros.sh kilted`) instead.

use std::path::PathBuf;
use std::process::Command;

use chatter::{Payload, Record, RecordKind};
use testkit::{cargo_bin, workspace_root, Proc, Sandbox, HANG};

/// The distro whose build and wheels the tests run: jazzy, or `CHATTER_ROS_DISTRO`.
pub(super) fn distro() -> String {
    std::env::var("CHATTER_ROS_DISTRO").unwrap_or_else(|_| "jazzy".to_owned())
}

/// The r2r build of `bin`, or `None` (outside CI) when it has not been built.
pub(super) fn r2r(bin: &str) -> Option<PathBuf> {
    let distro = distro();
    let path = workspace_root().join(format!("target/ros-{distro}/release/{bin}"));
    let venv = workspace_root().join(format!(".venv-{distro}/bin/python"));
    if path.is_file() && venv.is_file() {
        return Some(path);
    }
    let why = format!(
        "{} or {} missing: run `bash scripts/setup.sh && bash scripts/build-ros.sh {distro}`",
        path.display(),
        venv.display()
    );
    assert!(std::env::var_os("CI").is_none(), "{why}");
    eprintln!("skipped: {why}");
    None
}

/// Whether the distro's wheels are installed (`None`, outside CI, when not: the test is skipped).
pub(super) fn wheels() -> Option<()> {
    let venv = workspace_root().join(format!(".venv-{}/bin/python", distro()));
    if venv.is_file() {
        return Some(());
    }
    let why = format!("{} missing: run `bash scripts/setup.sh`", venv.display());
    assert!(std::env::var_os("CI").is_none(), "{why}");
    eprintln!("skipped: {why}");
    None
}

/// The r2r nodes find the venv's libraries by their rpath and rclpy by its python: nothing of
/// scripts/ros-env.sh is needed but the RMW.
pub(super) fn ros(sb: &Sandbox, program: impl Into<PathBuf>) -> Command {
    let mut cmd = sb.command(program.into());
    cmd.env_remove("AMENT_PREFIX_PATH")
        .env_remove("LD_LIBRARY_PATH")
        .env("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
        .env("ROS_DOMAIN_ID", "0")
        // rclpy's console lines on stdout, where `Proc` reads.
        .env("RCUTILS_LOGGING_USE_STDOUT", "1");
    cmd
}

pub(super) fn rclpy(sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = ros(sb, testkit::ros_python(&distro()));
    cmd.arg(workspace_root().join("ros/demo_nodes.py")).args(args);
    cmd
}

fn kind<'a>(records: &'a [Record], kind: RecordKind) -> impl Iterator<Item = &'a Record> + 'a {
    records.iter().filter(move |r| r.kind == kind)
}

fn heard_from(records: &[Record], talker: &str) -> usize {
    kind(records, RecordKind::Recv).filter(|r| r.talker.as_deref() == Some(talker)).count()
}

fn stop_reason(records: &[Record]) -> Option<String> {
    kind(records, RecordKind::Stop).last().and_then(|r| r.reason.clone())
}

#[test]
fn r2r_talker_reaches_a_rustdds_listener() {
    let Some(talker) = r2r("talker") else { return };
    let sb = Sandbox::new().unwrap();
    let mut l = sb.command(cargo_bin("listener"));
    l.args(["--id", "rustdds-l", "--count", "20", "--expect-talkers", "1"]);
    let listener = Proc::spawn("rustdds listener", l);
    let mut t = ros(&sb, talker);
    t.args(["--id", "r2r-t", "--transport", "ros", "--rate-hz", "50"]);
    let talker = Proc::spawn("r2r talker", t);
    let (status, heard) = listener.finish(HANG);
    assert!(status.success(), "listener exit {status}");
    assert_eq!(heard_from(&heard, "r2r-t"), 20, "the RustDDS listener heard the r2r talker");
    let (status, sent) = talker.terminate(HANG);
    assert!(status.success(), "r2r talker exit {status} (no abort at exit)");
    assert_eq!(stop_reason(&sent).as_deref(), Some("SIGTERM"));
    // The r2r talker knows its writer's GUID (rcl's graph), as the RustDDS one does.
    let start = kind(&sent, RecordKind::Start).next().expect("a start record");
    assert_eq!(start.guid.as_ref().map(String::len), Some(32), "{start:?}");
}

#[test]
fn rustdds_talker_reaches_an_r2r_listener_which_names_its_writer() {
    let Some(listener) = r2r("listener") else { return };
    let sb = Sandbox::new().unwrap();
    let mut l = ros(&sb, listener);
    l.args(["--id", "r2r-l", "--transport", "ros", "--count", "20", "--expect-talkers", "1"]);
    let listener = Proc::spawn("r2r listener", l);
    let mut t = sb.command(cargo_bin("talker"));
    t.args(["--id", "rustdds-t", "--rate-hz", "50"]);
    let talker = Proc::spawn("rustdds talker", t);
    let (status, heard) = listener.finish(HANG);
    assert!(status.success(), "r2r listener exit {status}");
    assert_eq!(heard_from(&heard, "rustdds-t"), 20);
    assert_eq!(stop_reason(&heard).as_deref(), Some("count"));
    let (_, sent) = talker.terminate(HANG);
    let writer = kind(&sent, RecordKind::Start).next().and_then(|r| r.guid.clone()).expect("talker guid");
    // Per-pair discovery: the r2r listener reports the RustDDS writer's GUID.
    assert!(
        kind(&heard, RecordKind::Matched).any(|r| r.remote.as_ref().is_some_and(|g| g.contains(&writer))),
        "no matched record names {writer}: {:?}",
        kind(&heard, RecordKind::Matched).collect::<Vec<_>>()
    );
}

#[test]
fn r2r_talker_reaches_an_rclpy_listener() {
    let Some(talker) = r2r("talker") else { return };
    let sb = Sandbox::new().unwrap();
    let mut listener = Proc::spawn("rclpy listener", rclpy(&sb, &["listener"]));
    let mut t = ros(&sb, talker);
    t.args(["--id", "r2r-t", "--transport", "ros", "--rate-hz", "50"]);
    let talker = Proc::spawn("r2r talker", t);
    let mut heard = 0;
    while heard < 20 {
        let line = listener.wait_line(HANG, |l| l.contains("I heard: ["));
        let data = line.split("I heard: [").nth(1).and_then(|d| d.strip_suffix(']')).unwrap_or_default();
        heard += usize::from(matches!(Payload::parse(data), Payload::Chatter { talker, .. } if talker == "r2r-t"));
    }
    let (status, _) = talker.terminate(HANG);
    assert!(status.success(), "r2r talker exit {status}");
    let (status, _) = listener.terminate(HANG);
    assert!(status.success(), "rclpy listener exit {status}");
}

#[test]
fn rclpy_talker_reaches_an_r2r_listener() {
    let Some(listener) = r2r("listener") else { return };
    let sb = Sandbox::new().unwrap();
    let mut l = ros(&sb, listener);
    l.args(["--id", "r2r-l", "--transport", "ros", "--count", "10"]);
    let listener = Proc::spawn("r2r listener", l);
    let talker = Proc::spawn("rclpy talker", rclpy(&sb, &["talker", "--rate-hz", "20"]));
    let (status, heard) = listener.finish(HANG);
    assert!(status.success(), "r2r listener exit {status}");
    // "Hello World: N" names no talker: counted as demo payloads.
    let demo = kind(&heard, RecordKind::Recv).filter(|r| r.payload == Some(chatter::PayloadKind::Demo)).count();
    assert_eq!(demo, 10, "{heard:?}");
    let (status, _) = talker.terminate(HANG);
    assert!(status.success(), "rclpy talker exit {status}");
}

#[test]
fn sigint_sigterm_and_duration_end_an_r2r_node_cleanly() {
    let (Some(talker), Some(listener)) = (r2r("talker"), r2r("listener")) else { return };
    let sb = Sandbox::new().unwrap();
    let mut l = ros(&sb, &listener);
    l.args(["--id", "r2r-l", "--transport", "ros"]);
    let mut l = Proc::spawn("r2r listener", l);
    let mut t = ros(&sb, &talker);
    t.args(["--id", "r2r-t", "--transport", "ros", "--rate-hz", "50", "--duration", "2"]);
    let t = Proc::spawn("r2r talker", t);
    // The listener hears before it is interrupted: it is up and spinning.
    l.wait_line(HANG, |line| line.contains("\"kind\":\"recv\""));
    l.signal("INT");
    let (status, records) = l.finish(HANG);
    assert!(status.success(), "SIGINT: r2r listener exit {status}");
    assert_eq!(stop_reason(&records).as_deref(), Some("SIGINT"));
    let (status, records) = t.finish(HANG);
    assert!(status.success(), "--duration: r2r talker exit {status}");
    assert_eq!(stop_reason(&records).as_deref(), Some("duration"));
}
