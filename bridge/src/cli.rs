//! The bridge's command line (clap stays here; `config` gets plain values).

use clap::{Parser, ValueEnum};

use crate::config::{BridgeConfig, Mode};

/// Zenoh bridge for ROS 2 over DDS (zenoh-plugin-ros2dds in a zenoh runtime).
///
/// The bridge's DDS side also follows the ROS 2 environment, as upstream's does:
/// ROS_AUTOMATIC_DISCOVERY_RANGE (LOCALHOST: DDS discovery on loopback only, so that DDS itself
/// does not also cross between bridged hosts), ROS_LOCALHOST_ONLY, ROS_STATIC_PEERS, ROS_DISTRO
/// (type hashes from Iron on; unset means iron) and CYCLONEDDS_URI.
#[derive(Debug, Parser)]
#[command(name = "chatter-zenoh-bridge", version)]
pub struct Args {
    /// Zenoh role: a router listens (tcp/[::]:7447 unless --listen), peers and clients connect.
    #[arg(short, long, value_enum, default_value_t = ModeArg::Router)]
    pub mode: ModeArg,
    /// Zenoh endpoint to listen on, e.g. tcp/0.0.0.0:7447 (repeatable; default: zenoh's for the mode).
    #[arg(short, long = "listen", value_name = "ENDPOINT")]
    pub listen: Vec<String>,
    /// Zenoh endpoint to connect to, e.g. tcp/10.0.0.1:7447 (repeatable).
    #[arg(short = 'e', long = "connect", value_name = "ENDPOINT")]
    pub connect: Vec<String>,
    /// ROS 2 domain of the bridge's DDS side.
    #[arg(short, long, env = "ROS_DOMAIN_ID", default_value_t = 0)]
    pub domain: u32,
    /// Route only these topics (repeatable; a ROS 2 topic name or a regular expression, matched
    /// whole). Services and actions are then not routed. Default: everything.
    #[arg(short, long = "allow-topic", value_name = "TOPIC")]
    pub allow_topic: Vec<String>,
    /// ROS 2 namespace the bridge adds to what it routes out (and strips from what comes in).
    #[arg(short, long, default_value = "/")]
    pub namespace: String,
    /// Do not scout for other zenoh nodes by UDP multicast (224.0.0.224:7446).
    #[arg(long)]
    pub no_multicast_scouting: bool,
}

/// `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Router,
    Peer,
    Client,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Router => Mode::Router,
            ModeArg::Peer => Mode::Peer,
            ModeArg::Client => Mode::Client,
        }
    }
}

impl From<Args> for BridgeConfig {
    fn from(a: Args) -> Self {
        BridgeConfig {
            mode: a.mode.into(),
            listen: a.listen,
            connect: a.connect,
            domain: a.domain,
            allow_topics: a.allow_topic,
            namespace: a.namespace,
            multicast_scouting: !a.no_multicast_scouting,
        }
    }
}
