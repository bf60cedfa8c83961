//! Frame loss on a node's link: an nftables `netdev` ingress hook drops that share of the
//! frames on the wire, before the kernel reassembles IP fragments — so a datagram split into
//! fragments is lost when any one of them is, as on Wi-Fi. Frames arriving at the node are
//! dropped on its eth0 (in its namespace, for its pods and its hostNetwork processes alike);
//! frames leaving it on the underlay's end of its cable (`n<i>`, in the underlay namespace).

use super::super::commands::nft;
use super::super::topology::Topology;
use super::NetnsFault;
use crate::backend::BackendError;
use crate::spec::Direction;

/// The table every link fault's hooks go in (one per namespace; `add` merges them).
pub(super) const TABLE: &str = "chatter_link_faults";

/// `kind: loss`: `percent` % of the frames on `node`'s link, in `direction`, are dropped.
pub(super) struct Loss {
    pub node: String,
    pub percent: f64,
    pub direction: Direction,
}

impl NetnsFault for Loss {
    fn nodes(&self) -> Vec<&str> {
        vec![&self.node]
    }

    fn link_setup(&self, topo: &Topology) -> Result<(), BackendError> {
        let Some(i) = topo.node_index(&self.node) else { return Ok(()) };
        for (ns, device) in hook_points(topo, i, self.direction) {
            nft(&ns, &loss_rules(&device, self.percent))?;
        }
        Ok(())
    }
}

/// Where frames of node `i`'s link in `direction` are first seen, as (namespace, device) of a
/// netdev ingress hook: its eth0 for frames arriving, the underlay's `n<i>` for frames leaving;
/// with `multicastBetweenNodes`, its cable to the multicast segment too (`mc0`, `m<i>`).
pub(super) fn hook_points(topo: &Topology, i: usize, direction: Direction) -> Vec<(String, String)> {
    let mut at = Vec::new();
    let mc = topo.multicast_between_nodes;
    if direction.inbound() {
        at.push((topo.node_ns(i), "eth0".to_owned()));
        if mc {
            at.push((topo.node_ns(i), "mc0".to_owned()));
        }
    }
    if direction.outbound() {
        at.push((topo.underlay_ns(), format!("n{i}")));
        if mc {
            at.push((topo.underlay_ns(), format!("m{i}")));
        }
    }
    at
}

/// Rules dropping `percent` % of the frames arriving on `device` (a netdev ingress hook, which
/// sees every frame before IP reassembly).
pub(super) fn loss_rules(device: &str, percent: f64) -> String {
    // Per-mille resolution: numgen gives an integer in [0, 1000).
    let per_mille = (percent * 10.0).round().clamp(0.0, 1000.0) as u32;
    let chain = format!("loss_{device}");
    format!(
        "add table netdev {TABLE}\n\
         add chain netdev {TABLE} {chain} {{ type filter hook ingress device \"{device}\" priority 0; }}\n\
         add rule netdev {TABLE} {chain} numgen random mod 1000 < {per_mille} drop\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_dropped_at_a_netdev_ingress_hook() {
        let r = loss_rules("eth0", 30.0);
        assert!(r.contains("add chain netdev chatter_link_faults loss_eth0 { type filter hook ingress device \"eth0\" priority 0; }"), "{r}");
        assert!(r.contains("add rule netdev chatter_link_faults loss_eth0 numgen random mod 1000 < 300 drop"), "{r}");
        assert!(loss_rules("n1", 0.5).contains("loss_n1 numgen random mod 1000 < 5 drop"));
    }

    #[test]
    fn in_is_the_nodes_eth0_out_the_underlays_end_of_its_cable() {
        let t = Topology::two_empty_nodes("x");
        let at = |d| hook_points(&t, 1, d);
        assert_eq!(at(Direction::In), [("chh-x-n1".to_owned(), "eth0".to_owned())]);
        assert_eq!(at(Direction::Out), [("chh-x-u".to_owned(), "n1".to_owned())]);
        assert_eq!(at(Direction::Both).len(), 2);
        // Multicast between nodes takes a cable of its own: its frames are lost there too.
        let t = Topology { multicast_between_nodes: true, ..t };
        assert_eq!(hook_points(&t, 1, Direction::In)[1], ("chh-x-n1".to_owned(), "mc0".to_owned()));
        assert_eq!(hook_points(&t, 1, Direction::Out)[1], ("chh-x-u".to_owned(), "m1".to_owned()));
    }
}
