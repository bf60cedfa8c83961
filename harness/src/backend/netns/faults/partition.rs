//! A partition between two nodes from one time to another: nftables rules in both nodes'
//! namespaces, put in place and lifted by the trial's timeline, lifted after every trial.

use std::time::Duration;

use super::super::commands::{nft, off_runtime, setup_err};
use super::super::topology::Topology;
use super::NetnsFault;
use crate::backend::drive::Event;
use crate::backend::BackendError;

/// The prefix of this kind's timeline events (`partition-on:<a>:<b>`, `partition-off:…`).
pub(super) const EVENT_PREFIX: &str = "partition-";

/// `kind: partition`: all traffic between the two nodes is cut from `from_s` to `to_s`.
pub(super) struct Partition {
    pub between: [String; 2],
    pub from_s: f64,
    pub to_s: f64,
}

impl NetnsFault for Partition {
    fn events(&self) -> Vec<(Duration, Event)> {
        let pair = format!("{}:{}", self.between[0], self.between[1]);
        vec![
            (Duration::from_secs_f64(self.from_s), Event::Backend(format!("partition-on:{pair}"))),
            (Duration::from_secs_f64(self.to_s), Event::Backend(format!("partition-off:{pair}"))),
        ]
    }

    /// Lifts every partition between the nodes.
    fn lift(&self, topo: &Topology) -> Result<(), BackendError> {
        (0..topo.nodes.len()).try_for_each(|i| nft(&topo.node_ns(i), &partition_rules(0, false)))
    }

    /// For the whole doctor (its probes are not timed like a trial).
    fn doctor_setup(&self, topo: &Topology) -> Result<(), BackendError> {
        let (Some(a), Some(b)) = (topo.node_index(&self.between[0]), topo.node_index(&self.between[1])) else {
            return Ok(());
        };
        nft(&topo.node_ns(a), &partition_rules(b, true))?;
        nft(&topo.node_ns(b), &partition_rules(a, true))
    }
}

/// Applies `partition-on:<a>:<b>` or `partition-off:<a>:<b>` between the two nodes, off the
/// runtime.
pub(super) async fn apply(topo: Topology, what: String) -> Result<(), BackendError> {
    off_runtime(move || {
        let (action, pair) = what.split_once(':').unwrap_or((&what, ""));
        let (a, b) = pair.split_once(':').unwrap_or(("", ""));
        let (Some(ia), Some(ib)) = (topo.node_index(a), topo.node_index(b)) else {
            return Err(setup_err(&what, "unknown nodes"));
        };
        let on = action == "partition-on";
        nft(&topo.node_ns(ia), &partition_rules(ib, on))?;
        nft(&topo.node_ns(ib), &partition_rules(ia, on))?;
        tracing::info!("{what}");
        Ok(())
    })
    .await
}

/// Rules cutting node `peer` off (its underlay address and pod CIDR), or removing the cut.
fn partition_rules(peer: usize, on: bool) -> String {
    if !on {
        return "flush chain inet chatter part_in\nflush chain inet chatter part_fwd\n".to_owned();
    }
    let set = format!("{{ {}, {} }}", Topology::node_addr(peer), Topology::pod_cidr(peer));
    format!(
        "add rule inet chatter part_in ip saddr {set} drop\n\
         add rule inet chatter part_fwd ip saddr {set} drop\n\
         add rule inet chatter part_fwd ip daddr {set} drop\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_rules() {
        let on = partition_rules(1, true);
        assert!(on.contains("ip saddr { 10.99.0.2, 10.42.1.0/24 } drop"), "{on}");
        assert!(partition_rules(1, false).starts_with("flush chain inet chatter part_in"));
    }
}
