//! Packet loss into a node: nftables drops that share of what arrives from the other nodes.

use super::super::topology::Topology;
use super::NetnsFault;

/// `kind: loss`: `percent` % of packets arriving at `node` from the other nodes are dropped.
pub(super) struct Loss {
    pub node: String,
    pub percent: f64,
}

impl NetnsFault for Loss {
    fn nodes(&self) -> Vec<&str> {
        vec![&self.node]
    }

    fn node_rules(&self, topo: &Topology, node: usize) -> String {
        if topo.node_index(&self.node) == Some(node) {
            loss_rules(self.percent)
        } else {
            String::new()
        }
    }
}

/// Rules dropping `percent` % of packets that arrive from the underlay (other nodes).
pub(super) fn loss_rules(percent: f64) -> String {
    // Per-mille resolution: numgen gives an integer in [0, 1000).
    let per_mille = (percent * 10.0).round().clamp(0.0, 1000.0) as u32;
    format!(
        "add rule inet chatter loss_in iifname \"eth0\" numgen random mod 1000 < {per_mille} drop\n\
         add rule inet chatter loss_fwd iifname \"eth0\" numgen random mod 1000 < {per_mille} drop\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_rules() {
        assert!(loss_rules(30.0).contains("numgen random mod 1000 < 300 drop"));
        assert!(loss_rules(0.5).contains("< 5 drop"));
    }
}
