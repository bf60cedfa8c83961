//! The `faults` section: what is injected during every trial (netns backend), and how a
//! report says it.

use serde::{Deserialize, Serialize};

/// A fault injected during every trial (times are seconds from the trial's start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum FaultSpec {
    /// Drop this percentage of packets arriving at `node` from the other nodes.
    #[serde(rename_all = "camelCase")]
    Loss { node: String, percent: FaultNumber },
    /// Delay (and jitter) packets leaving `node` (needs `tc netem` in the kernel).
    #[serde(rename_all = "camelCase")]
    Delay {
        node: String,
        ms: FaultNumber,
        #[serde(default)]
        jitter_ms: Option<FaultNumber>,
    },
    /// Cut all traffic between two nodes from `fromS` to `toS`.
    #[serde(rename_all = "camelCase")]
    Partition { between: [String; 2], from_s: FaultNumber, to_s: FaultNumber },
    /// SIGKILL one container at `atS`.
    #[serde(rename_all = "camelCase")]
    Kill { pod: String, container: String, at_s: FaultNumber },
}

/// A number in a fault. Its range is checked by [`validate`](super::validate), not while
/// parsing: a fault's fields are read through its `kind` tag, which loses their positions, so
/// only validation can name the field (`faults[2].percent`) and its line.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FaultNumber(pub f64);

impl FaultSpec {
    /// One line a report reader understands.
    pub fn describe(&self) -> String {
        match self {
            FaultSpec::Loss { node, percent } => {
                format!("{} % packet loss into node {node} from other nodes", percent.0)
            }
            FaultSpec::Delay { node, ms, jitter_ms } => {
                format!("{} ms delay (± {} ms) on packets leaving node {node}", ms.0, jitter_ms.map_or(0.0, |j| j.0))
            }
            FaultSpec::Partition { between, from_s, to_s } => {
                format!("partition between {} and {} from {} s to {} s", between[0], between[1], from_s.0, to_s.0)
            }
            FaultSpec::Kill { pod, container, at_s } => format!("SIGKILL {pod}/{container} at {} s", at_s.0),
        }
    }
}
