//! Fast DDS nodes (rclpy on ROS 2 Jazzy's wheels, rmw_fastrtps_cpp: the seed team's stack) on
//! two hosts, the Cyclone-DDS-based bridge between them.

use std::collections::BTreeMap;
use std::process::Command;

use testkit::{ros_python, workspace_root, Proc, HANG};

use crate::hosts::{can_run, Host, Link, TwoHosts, CYCLONE_ON_LOOPBACK};

#[test]
fn demo_lines_give_their_number() {
    assert_eq!(seq_after("[INFO] [1.2] [talker]: Publishing: 'Hello World: 40'", "Publishing: "), Some(40));
    assert_eq!(seq_after("[INFO] [1.2] [listener]: I heard: [Hello World: 7]", "I heard: "), Some(7));
    assert_eq!(seq_after("[INFO] [1.2] [listener]: I heard: [other]", "I heard: "), None);
}

/// `ros/demo_nodes.py <node>` on `host`, Jazzy, Fast DDS, with `env` on top.
fn demo(host: &Host, node: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = host.command(ros_python("jazzy"));
    cmd.arg(workspace_root().join("ros/demo_nodes.py")).arg(node);
    cmd.env_remove("AMENT_PREFIX_PATH")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("ROS_AUTOMATIC_DISCOVERY_RANGE")
        .env_remove("FASTDDS_BUILTIN_TRANSPORTS")
        .env("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
        .env("ROS_DOMAIN_ID", "0")
        .env("RCUTILS_LOGGING_USE_STDOUT", "1")
        .envs(env.iter().copied());
    cmd
}

/// N of a "Hello World: N" in a demo node's line after `marker`.
fn seq_after(line: &str, marker: &str) -> Option<u64> {
    let rest = &line[line.find(marker)? + marker.len()..];
    let rest = rest.trim_start_matches(['\'', '"', '[']).strip_prefix("Hello World: ")?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The bridges' DDS side for Jazzy nodes: Cyclone DDS on loopback, multicast on (see
/// `CYCLONE_ON_LOOPBACK` for why not the plugin's LOCALHOST).
const BRIDGE_ENV: &[(&str, &str)] = &[("ROS_DISTRO", "jazzy"), ("CYCLONEDDS_URI", CYCLONE_ON_LOOPBACK)];

/// When the bridges start: before the nodes (a bridge DaemonSet already up when ROS pods start),
/// or after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bridges {
    First,
    After,
}

/// The talker on `a` (20 Hz), the listener on `b`, DDS unable to cross, both nodes with
/// `node_env`; returns every N heard, with how often, once `want` distinct ones were. With the
/// bridges started after the nodes, nothing published before them may have been heard.
fn across_bridges(node_env: &[(&str, &str)], order: Bridges, want: usize) -> BTreeMap<u64, u32> {
    let hosts = TwoHosts::new(Link::NoMulticast);
    let mut bridges = (order == Bridges::First).then(|| hosts.bridges(BRIDGE_ENV));
    let mut listener = Proc::spawn("rclpy listener on b", demo(&hosts.b, "listener", node_env));
    let mut t = demo(&hosts.a, "talker", node_env);
    t.args(["--rate-hz", "20"]);
    let mut talker = Proc::spawn("rclpy talker on a", t);
    if order == Bridges::After {
        // Two seconds of publishing with no bridge: Fast DDS would have matched and delivered by then.
        talker.wait_line(HANG, |l| seq_after(l, "Publishing: ") == Some(40));
        bridges = Some(hosts.bridges(BRIDGE_ENV));
    }
    let mut heard = BTreeMap::new();
    while heard.len() < want {
        let line = listener.wait_line(HANG, |l| l.contains("I heard: "));
        *heard.entry(seq_after(&line, "I heard: ").unwrap()).or_insert(0) += 1;
    }
    if order == Bridges::After {
        let first = *heard.keys().next().unwrap();
        assert!(first > 40, "heard {first}, published before the bridges ran: DDS crossed by itself");
    }
    drop(bridges);
    heard
}

/// Fast DDS defaults on the nodes (the link keeps DDS on its host); the bridges join later.
#[test]
fn fastdds_nodes_with_defaults_meet_through_bridges_started_after_them() {
    if can_run().is_none() {
        return;
    }
    let heard = across_bridges(&[], Bridges::After, 20);
    assert!(heard.values().all(|&n| n == 1), "duplicates: {heard:?}");
}

/// Fast DDS defaults on the nodes, the bridges already running when they start: this order
/// needs the bridges' Cyclone DDS on loopback (see `CYCLONE_ON_LOOPBACK`).
#[test]
fn fastdds_nodes_with_defaults_meet_through_bridges_started_first() {
    if can_run().is_none() {
        return;
    }
    let heard = across_bridges(&[], Bridges::First, 20);
    assert!(heard.values().all(|&n| n == 1), "duplicates: {heard:?}");
}

/// The README's setup: ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST on the nodes too, bridges first.
#[test]
fn fastdds_nodes_with_localhost_discovery_meet_through_bridges_started_first() {
    if can_run().is_none() {
        return;
    }
    let heard = across_bridges(&[("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")], Bridges::First, 20);
    assert!(heard.values().all(|&n| n == 1), "duplicates: {heard:?}");
}
