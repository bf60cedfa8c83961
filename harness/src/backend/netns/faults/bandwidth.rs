//! A rate cap on a node's link: a `tc tbf` token bucket where the link's frames are queued —
//! the node's eth0 for what leaves it, the underlay's end of its cable (`n<i>`) for what comes
//! in. Frames beyond the rate wait in the queue (200 ms at the rate, at least four 64 KiB
//! datagrams' worth) and are dropped when it is full, as on a slow radio link. `tbf` works in a
//! network namespace here where `netem` does not.

use super::super::commands::run;
use super::super::topology::Topology;
use super::NetnsFault;
use crate::backend::BackendError;
use crate::spec::Direction;

/// `kind: bandwidth`: `node`'s link carries at most `mbit` Mbit/s in `direction`.
pub(super) struct Bandwidth {
    pub node: String,
    pub mbit: f64,
    pub direction: Direction,
}

impl NetnsFault for Bandwidth {
    fn nodes(&self) -> Vec<&str> {
        vec![&self.node]
    }

    fn link_setup(&self, topo: &Topology) -> Result<(), BackendError> {
        let Some(i) = topo.node_index(&self.node) else { return Ok(()) };
        for (ns, device) in queue_points(topo, i, self.direction) {
            run("tc", &tbf_args(&ns, &device, self.mbit), None)?;
        }
        Ok(())
    }
}

/// Where frames of node `i`'s link in `direction` queue, as (namespace, device): the node's
/// eth0 for frames leaving it, the underlay's `n<i>` for frames sent to it; with
/// `multicastBetweenNodes` also its cable to the multicast segment (`mc0`, `m<i>`), capped on
/// its own.
fn queue_points(topo: &Topology, i: usize, direction: Direction) -> Vec<(String, String)> {
    let mut at = Vec::new();
    let mc = topo.multicast_between_nodes;
    if direction.outbound() {
        at.push((topo.node_ns(i), "eth0".to_owned()));
        if mc {
            at.push((topo.node_ns(i), "mc0".to_owned()));
        }
    }
    if direction.inbound() {
        at.push((topo.underlay_ns(), format!("n{i}")));
        if mc {
            at.push((topo.underlay_ns(), format!("m{i}")));
        }
    }
    at
}

/// `tc` arguments putting a `mbit` Mbit/s token bucket on `device` in `ns`.
fn tbf_args(ns: &str, device: &str, mbit: f64) -> Vec<String> {
    let bytes_per_s = mbit * 1e6 / 8.0;
    // A burst of ten full frames, or 10 ms at the rate (tbf needs at least rate / HZ).
    let burst = (bytes_per_s / 100.0).max(15_140.0).round() as u64;
    let limit = (bytes_per_s * 0.2).max(4.0 * 65_536.0).round() as u64;
    let kbit = (mbit * 1000.0).round().max(1.0) as u64;
    format!("-n {ns} qdisc add dev {device} root tbf rate {kbit}kbit burst {burst} limit {limit}")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_bucket_at_the_rate_with_a_queue_of_200_ms() {
        assert_eq!(
            tbf_args("chh-x-n1", "eth0", 10.0).join(" "),
            "-n chh-x-n1 qdisc add dev eth0 root tbf rate 10000kbit burst 15140 limit 262144"
        );
        // 1 Gbit/s: a burst of 10 ms, a queue of 200 ms.
        assert_eq!(
            tbf_args("chh-x-u", "n0", 1000.0).join(" "),
            "-n chh-x-u qdisc add dev n0 root tbf rate 1000000kbit burst 1250000 limit 25000000"
        );
        assert!(tbf_args("u", "n0", 0.5).join(" ").contains("rate 500kbit"));
    }
}
