//! The QoS knobs an experiment varies. Defaults match `demo_nodes_cpp`: reliable, keep-last 10,
//! volatile.

use serde::{Deserialize, Serialize};

/// DDS reliability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reliability {
    #[default]
    Reliable,
    BestEffort,
}

/// DDS durability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Durability {
    #[default]
    Volatile,
    TransientLocal,
}

/// The QoS profile of one endpoint (history is always keep-last `depth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qos {
    #[serde(default)]
    pub reliability: Reliability,
    #[serde(default)]
    pub durability: Durability,
    #[serde(default = "default_depth")]
    pub depth: u32,
}

fn default_depth() -> u32 {
    10
}

impl Default for Qos {
    fn default() -> Self {
        Qos { reliability: Reliability::default(), durability: Durability::default(), depth: default_depth() }
    }
}

impl std::fmt::Display for Reliability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Reliability::Reliable => "reliable",
            Reliability::BestEffort => "best-effort",
        })
    }
}

impl std::fmt::Display for Durability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Durability::Volatile => "volatile",
            Durability::TransientLocal => "transient-local",
        })
    }
}
