//! The `faults` section: what is injected during every trial (netns backend), and how a
//! report says it.

use serde::{Deserialize, Serialize};

/// A fault injected during every trial (times are seconds from the trial's start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum FaultSpec {
    /// Drop this percentage of the frames on `node`'s link: arriving from the other nodes
    /// (`in`, the default), leaving for them (`out`) or both. Frames, not datagrams: a datagram
    /// split into IP fragments is lost when any one of them is, as on Wi-Fi.
    #[serde(rename_all = "camelCase")]
    Loss {
        node: String,
        percent: FaultNumber,
        #[serde(default, skip_serializing_if = "Direction::is_in")]
        direction: Direction,
    },
    /// Delay (and jitter) packets leaving `node` (needs `tc netem` in the kernel).
    #[serde(rename_all = "camelCase")]
    Delay {
        node: String,
        ms: FaultNumber,
        #[serde(default)]
        jitter_ms: Option<FaultNumber>,
    },
    /// Cap `node`'s link at `mbit` Mbit/s (a token bucket): frames beyond the rate wait in a
    /// short queue and are dropped when it is full. Both ways unless `direction` says one.
    #[serde(rename_all = "camelCase")]
    Bandwidth {
        node: String,
        mbit: FaultNumber,
        #[serde(default = "Direction::both")]
        direction: Direction,
    },
    /// Cut all traffic between two nodes from `fromS` to `toS`.
    #[serde(rename_all = "camelCase")]
    Partition { between: [String; 2], from_s: FaultNumber, to_s: FaultNumber },
    /// SIGKILL one container at `atS`.
    #[serde(rename_all = "camelCase")]
    Kill { pod: String, container: String, at_s: FaultNumber },
}

/// Which way a link fault acts, seen from its node: frames arriving (`in`), leaving (`out`),
/// or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    In,
    Out,
    Both,
}

impl Direction {
    pub fn both() -> Direction {
        Direction::Both
    }

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
    pub fn is_in(d: &Direction) -> bool {
        *d == Direction::In
    }

    /// It acts on frames arriving at the node.
    pub fn inbound(self) -> bool {
        matches!(self, Direction::In | Direction::Both)
    }

    /// It acts on frames leaving the node.
    pub fn outbound(self) -> bool {
        matches!(self, Direction::Out | Direction::Both)
    }
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
            FaultSpec::Loss { node, percent, direction } => {
                let way = match direction {
                    Direction::In => format!("into node {node} from other nodes"),
                    Direction::Out => format!("out of node {node} to other nodes"),
                    Direction::Both => format!("on node {node}'s link, both ways"),
                };
                format!("{} % frame loss {way} (a fragmented datagram is lost with any of its frames)", percent.0)
            }
            FaultSpec::Delay { node, ms, jitter_ms } => {
                format!("{} ms delay (± {} ms) on packets leaving node {node}", ms.0, jitter_ms.map_or(0.0, |j| j.0))
            }
            FaultSpec::Bandwidth { node, mbit, direction } => {
                let way = match direction {
                    Direction::In => "into the node",
                    Direction::Out => "out of the node",
                    Direction::Both => "each way",
                };
                format!("node {node}'s link capped at {} Mbit/s {way}", mbit.0)
            }
            FaultSpec::Partition { between, from_s, to_s } => {
                format!("partition between {} and {} from {} s to {} s", between[0], between[1], from_s.0, to_s.0)
            }
            FaultSpec::Kill { pod, container, at_s } => format!("SIGKILL {pod}/{container} at {} s", at_s.0),
        }
    }

    /// Whether this fault drops, at random, frames that node `from` sends to another node `to`:
    /// a `loss` on `to`'s link inbound or on `from`'s outbound. Frames between two pods of one
    /// node never cross a node's link, so no loss fault drops them.
    pub fn drops_frames(&self, from: &str, to: &str) -> bool {
        match self {
            FaultSpec::Loss { node, direction, .. } => {
                from != to && ((node == to && direction.inbound()) || (node == from && direction.outbound()))
            }
            _ => false,
        }
    }

    /// A loss fault in a few words, for a headline: `the 2 % frame loss on pi's link` (both
    /// ways), `… into pi`, `… out of pi`; any other fault as [`describe`](Self::describe) says it.
    pub fn short(&self) -> String {
        match self {
            FaultSpec::Loss { node, percent, direction } => {
                let way = match direction {
                    Direction::In => format!("into {node}"),
                    Direction::Out => format!("out of {node}"),
                    Direction::Both => format!("on {node}'s link"),
                };
                format!("the {} % frame loss {way}", percent.0)
            }
            _ => self.describe(),
        }
    }

    /// The cap (Mbit/s) of a bandwidth fault on `node`'s link in the direction asked
    /// (`outbound`: frames leaving the node).
    pub fn cap_mbit(&self, on: &str, outbound: bool) -> Option<f64> {
        match self {
            FaultSpec::Bandwidth { node, mbit, direction } if node == on => {
                (if outbound { direction.outbound() } else { direction.inbound() }).then_some(mbit.0)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_is_per_frame_and_bandwidth_caps_both_ways_by_default() {
        let loss = FaultSpec::Loss { node: "pi".into(), percent: FaultNumber(2.0), direction: Direction::In };
        assert_eq!(
            loss.describe(),
            "2 % frame loss into node pi from other nodes (a fragmented datagram is lost with any of its frames)"
        );
        let cap = FaultSpec::Bandwidth { node: "pi".into(), mbit: FaultNumber(10.0), direction: Direction::both() };
        assert_eq!(cap.describe(), "node pi's link capped at 10 Mbit/s each way");
        assert_eq!(
            (cap.cap_mbit("pi", true), cap.cap_mbit("pi", false), cap.cap_mbit("x", true)),
            (Some(10.0), Some(10.0), None)
        );
        let out = FaultSpec::Bandwidth { node: "pi".into(), mbit: FaultNumber(5.0), direction: Direction::Out };
        assert_eq!((out.cap_mbit("pi", true), out.cap_mbit("pi", false)), (Some(5.0), None));
    }

    #[test]
    fn a_loss_fault_drops_the_frames_that_cross_its_link_its_way() {
        let into = FaultSpec::Loss { node: "pi".into(), percent: FaultNumber(2.0), direction: Direction::In };
        assert!(into.drops_frames("master", "pi"));
        assert!(!into.drops_frames("pi", "master"), "frames leaving pi are not dropped by an inbound loss");
        assert!(!into.drops_frames("pi", "pi"), "within a node nothing crosses its link");
        assert!(!into.drops_frames("master", "arm"), "another node's link");
        let both = FaultSpec::Loss { node: "pi".into(), percent: FaultNumber(2.5), direction: Direction::Both };
        assert!(both.drops_frames("master", "pi") && both.drops_frames("pi", "master"));
        let out = FaultSpec::Loss { node: "pi".into(), percent: FaultNumber(2.0), direction: Direction::Out };
        assert!(out.drops_frames("pi", "master") && !out.drops_frames("master", "pi"));
        let cap = FaultSpec::Bandwidth { node: "pi".into(), mbit: FaultNumber(5.0), direction: Direction::Both };
        assert!(!cap.drops_frames("master", "pi"), "a cap drops frames for being late, not at random");
        assert_eq!(
            (into.short(), out.short(), both.short()),
            (
                "the 2 % frame loss into pi".to_owned(),
                "the 2 % frame loss out of pi".to_owned(),
                "the 2.5 % frame loss on pi's link".to_owned()
            )
        );
    }
}
