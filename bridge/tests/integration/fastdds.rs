//! Fast DDS nodes (rclpy on ROS 2 Jazzy's wheels, rmw_fastrtps_cpp: the seed team's stack) on
//! two hosts, the Cyclone-DDS-based bridge between them.

use std::collections::BTreeMap;
use std::process::Command;

use testkit::{ros_python, workspace_root, Proc, HANG};

use crate::hosts::{can_run, Host, Link, TwoHosts};

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
    rest.trim_start_matches(['\'', '"', '[']).split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The talker on `a` (20 Hz), the listener on `b`, DDS unable to cross, both nodes with
/// `node_env`: nothing is heard before the bridges run; returns every N heard after, with
/// how often, once `want` distinct ones were.
fn across_bridges(node_env: &[(&str, &str)], want: usize) -> BTreeMap<u64, u32> {
    let hosts = TwoHosts::new(Link::NoMulticast);
    let mut listener = Proc::spawn("rclpy listener on b", demo(&hosts.b, "listener", node_env));
    let mut t = demo(&hosts.a, "talker", node_env);
    t.args(["--rate-hz", "20"]);
    let mut talker = Proc::spawn("rclpy talker on a", t);
    // Two seconds of publishing with no bridge: Fast DDS would have matched and delivered by then.
    talker.wait_line(HANG, |l| seq_after(l, "Publishing: ") == Some(40));
    let (_bridge_a, _bridge_b) = hosts.bridges();
    let mut heard = BTreeMap::new();
    while heard.len() < want {
        let line = listener.wait_line(HANG, |l| l.contains("I heard: "));
        *heard.entry(seq_after(&line, "I heard: ").unwrap()).or_insert(0) += 1;
    }
    let first = *heard.keys().next().unwrap();
    assert!(first > 40, "heard {first}, published before the bridges ran: DDS crossed by itself");
    heard
}

/// The setup the bridge's README asks for: ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST on the
/// nodes (as on the bridges).
#[test]
fn fastdds_nodes_with_localhost_discovery_meet_through_the_bridges() {
    if can_run().is_none() {
        return;
    }
    let heard = across_bridges(&[("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")], 20);
    assert!(heard.values().all(|&n| n == 1), "duplicates: {heard:?}");
}

/// Fast DDS defaults on the nodes (nothing set; the link keeps DDS on its host).
#[test]
fn fastdds_nodes_with_defaults_meet_through_the_bridges() {
    if can_run().is_none() {
        return;
    }
    let heard = across_bridges(&[], 20);
    assert!(heard.values().all(|&n| n == 1), "duplicates: {heard:?}");
}
