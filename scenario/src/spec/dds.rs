//! The `dds` section: domain, QoS, the transport of the harness's own nodes, and the RMW of
//! your own programs.

use chatter::{Durability, Reliability};
use serde::{Deserialize, Serialize};

/// Which DDS the scenario's own containers use (their RMW), for fixes that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rmw {
    /// Cyclone DDS: unicast peers through `CYCLONEDDS_URI`.
    #[serde(rename = "rmw_cyclonedds_cpp")]
    Cyclonedds,
    /// Fast DDS (the default of Humble and Jazzy): discovery server, `ROS_STATIC_PEERS` on Jazzy+.
    #[serde(rename = "rmw_fastrtps_cpp")]
    Fastdds,
}

impl Rmw {
    pub fn as_str(self) -> &'static str {
        match self {
            Rmw::Cyclonedds => "rmw_cyclonedds_cpp",
            Rmw::Fastdds => "rmw_fastrtps_cpp",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DdsSpec {
    #[serde(default)]
    pub domain: u16,
    #[serde(default)]
    pub reliability: Reliability,
    #[serde(default)]
    pub durability: Durability,
    #[serde(default = "DdsSpec::default_depth")]
    pub depth: u32,
    #[serde(default)]
    pub transport: Transport,
    /// The RMW of containers that run your own `command`/`image` (sets RMW_IMPLEMENTATION);
    /// absent: they are the harness's own nodes (RustDDS, or r2r's default RMW).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmw: Option<Rmw>,
}

impl DdsSpec {
    fn default_depth() -> u32 {
        10
    }
}

impl Default for DdsSpec {
    fn default() -> Self {
        DdsSpec {
            domain: 0,
            reliability: Reliability::default(),
            durability: Durability::default(),
            depth: Self::default_depth(),
            rmw: None,
            transport: Transport::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Rustdds,
    Ros,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Rustdds => "rustdds",
            Transport::Ros => "ros",
        }
    }
}
