//! The simulated cluster, as `ip` and `nft` commands (built here as data, so they are
//! unit-tested; `super` executes them).
//!
//! ```text
//!   underlay ns  chh-<tag>-u:  bridge br0 (the LAN between machines; carries multicast)
//!                                   │ eth0 10.99.0.<i+1>/24
//!   node ns      chh-<tag>-n<i>:  bridge cni0 10.42.<i>.1/24, ip_forward, routes to the other
//!                                 nodes' pod CIDRs via their underlay addresses
//!                                   │ eth0 10.42.<i>.<k+2>/24, default via 10.42.<i>.1
//!   pod ns       chh-<tag>-p<k>:  one per pod (its containers share it, like a real pod)
//! ```
//! Multicast crosses a node's `cni0` but is not routed between nodes — flannel's VXLAN does
//! not carry it either. `multicastBetweenNodes: true` joins every `cni0` into one extra L2
//! segment (bridge `mbr` in the underlay) so multicast floods across nodes, while unicast
//! still takes the routed path. `hostNetwork` pods run in the node namespace, on the underlay.
//! All addresses live only inside these namespaces.

use crate::placement::Plan;

/// Prefix of every namespace the netns backend creates.
pub const PREFIX: &str = "chh-";

/// Names and addresses of one run's topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub tag: String,
    /// Node names in plan order; index = node number.
    pub nodes: Vec<String>,
    /// (pod name, node index, host network) in plan order; index = pod number.
    pub pods: Vec<(String, usize, bool)>,
    pub multicast_between_nodes: bool,
}

impl Topology {
    pub fn new(tag: &str, plan: &Plan, multicast_between_nodes: bool) -> Topology {
        let nodes: Vec<String> = plan.nodes.iter().map(|n| n.name.clone()).collect();
        let pods = plan
            .pods
            .iter()
            .map(|p| (p.name.clone(), nodes.iter().position(|n| *n == p.node).unwrap_or(0), p.host_network))
            .collect();
        Topology { tag: tag.to_owned(), nodes, pods, multicast_between_nodes }
    }

    pub fn underlay_ns(&self) -> String {
        format!("{PREFIX}{}-u", self.tag)
    }

    pub fn node_ns(&self, i: usize) -> String {
        format!("{PREFIX}{}-n{i}", self.tag)
    }

    pub fn node_index(&self, node: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n == node)
    }

    /// The namespace a pod's containers run in (the node's for hostNetwork pods).
    pub fn pod_ns(&self, pod: &str) -> Option<String> {
        let (k, (_, node, host)) = self.pods.iter().enumerate().find(|(_, (name, _, _))| name == pod)?;
        Some(if *host { self.node_ns(*node) } else { format!("{PREFIX}{}-p{k}", self.tag) })
    }

    pub fn node_addr(i: usize) -> String {
        format!("10.99.0.{}", i + 1)
    }

    pub fn pod_cidr(i: usize) -> String {
        format!("10.42.{i}.0/24")
    }

    /// Every namespace, in creation order.
    pub fn namespaces(&self) -> Vec<String> {
        let mut all = vec![self.underlay_ns()];
        all.extend((0..self.nodes.len()).map(|i| self.node_ns(i)));
        all.extend(
            self.pods
                .iter()
                .enumerate()
                .filter(|(_, (_, _, host))| !host)
                .map(|(k, _)| format!("{PREFIX}{}-p{k}", self.tag)),
        );
        all
    }

    /// The `ip` invocations (argument lists) that build the topology, in order, in four
    /// phases so that each namespace's commands sit together (see [`Topology::batches`]):
    /// namespaces and their loopbacks and underlay bridges; the veth pairs between namespaces
    /// (made from the root namespace); then, namespace by namespace, the node bridges,
    /// addresses, bridge ports and routes.
    pub fn build_commands(&self) -> Vec<Vec<String>> {
        let mut c: Vec<Vec<String>> = Vec::new();
        let mut ip = |args: String| c.push(args.split_whitespace().map(str::to_owned).collect());
        let u = self.underlay_ns();
        let nodes = 0..self.nodes.len();
        let pods: Vec<(usize, usize)> =
            self.pods.iter().enumerate().filter(|(_, (_, _, host))| !host).map(|(k, (_, n, _))| (k, *n)).collect();
        let pod_ns = |k: usize| format!("{PREFIX}{}-p{k}", self.tag);
        // 1. Namespaces.
        for ns in self.namespaces() {
            ip(format!("netns add {ns}"));
        }
        // 2. Each namespace's own devices.
        for ns in self.namespaces() {
            ip(format!("-n {ns} link set lo up"));
            ip(format!("-n {ns} link set lo multicast on"));
            if ns == u {
                ip(format!("-n {u} link add br0 type bridge mcast_snooping 0"));
                ip(format!("-n {u} link set br0 up"));
                if self.multicast_between_nodes {
                    ip(format!("-n {u} link add mbr type bridge mcast_snooping 0"));
                    ip(format!("-n {u} link set mbr up"));
                }
            }
        }
        // 3. The cables between namespaces.
        for i in nodes.clone() {
            let n = self.node_ns(i);
            ip(format!("link add eth0 netns {n} type veth peer name n{i} netns {u}"));
            if self.multicast_between_nodes {
                ip(format!("link add mc0 netns {n} type veth peer name m{i} netns {u}"));
            }
        }
        for &(k, node) in &pods {
            ip(format!("link add eth0 netns {} type veth peer name p{k} netns {}", pod_ns(k), self.node_ns(node)));
        }
        // 4. Addresses, bridge ports and routes, namespace by namespace.
        for i in nodes.clone() {
            ip(format!("-n {u} link set n{i} master br0 up"));
            if self.multicast_between_nodes {
                ip(format!("-n {u} link set m{i} master mbr up"));
            }
        }
        for i in nodes.clone() {
            let n = self.node_ns(i);
            // cni0 after eth0, as on a real node whose NIC predates the CNI bridge: DDS
            // implementations that pick "the first interface" (Cyclone) pick eth0 on the host
            // network, as they would there.
            ip(format!("-n {n} link add cni0 type bridge mcast_snooping 0"));
            ip(format!("-n {n} addr add 10.42.{i}.1/24 dev cni0"));
            ip(format!("-n {n} link set cni0 up"));
            ip(format!("-n {n} addr add {}/24 dev eth0", Self::node_addr(i)));
            ip(format!("-n {n} link set eth0 up"));
            // hostNetwork processes multicast on the underlay, like a host on a LAN.
            ip(format!("-n {n} route add 224.0.0.0/4 dev eth0"));
            for j in nodes.clone().filter(|j| *j != i) {
                ip(format!("-n {n} route add {} via {}", Self::pod_cidr(j), Self::node_addr(j)));
            }
            if self.multicast_between_nodes {
                ip(format!("-n {n} link set mc0 master cni0 up"));
            }
            for &(k, _) in pods.iter().filter(|(_, node)| *node == i) {
                ip(format!("-n {n} link set p{k} master cni0 up"));
            }
        }
        for &(k, node) in &pods {
            let p = pod_ns(k);
            ip(format!("-n {p} addr add 10.42.{node}.{}/24 dev eth0", k + 2));
            ip(format!("-n {p} link set eth0 up"));
            ip(format!("-n {p} route add default via 10.42.{node}.1"));
            ip(format!("-n {p} route add 224.0.0.0/4 dev eth0"));
        }
        c
    }

    /// [`Topology::build_commands`] as `ip -batch` runs: consecutive commands for one
    /// namespace (`None`: the root namespace) go into one `ip [-n ns] -batch -`, in order —
    /// a dozen processes instead of one per command.
    pub fn batches(&self) -> Vec<(Option<String>, Vec<String>)> {
        let mut out: Vec<(Option<String>, Vec<String>)> = Vec::new();
        for cmd in self.build_commands() {
            let (ns, rest) = match cmd.as_slice() {
                [flag, ns, rest @ ..] if flag == "-n" => (Some(ns.clone()), rest.join(" ")),
                rest => (None, rest.join(" ")),
            };
            match out.last_mut() {
                Some((last, lines)) if *last == ns => lines.push(rest),
                _ => out.push((ns, vec![rest])),
            }
        }
        out
    }
}

/// The nftables table every node gets: empty fault chains hooked into input and forward.
pub fn base_ruleset() -> String {
    "table inet chatter {\n\
     \tchain loss_in { type filter hook input priority 0; }\n\
     \tchain loss_fwd { type filter hook forward priority 0; }\n\
     \tchain part_in { type filter hook input priority 1; }\n\
     \tchain part_fwd { type filter hook forward priority 1; }\n\
     }\n"
    .to_owned()
}

/// Rules dropping `percent` % of packets that arrive from the underlay (other nodes).
pub fn loss_rules(percent: f64) -> String {
    // Per-mille resolution: numgen gives an integer in [0, 1000).
    let per_mille = (percent * 10.0).round().clamp(0.0, 1000.0) as u32;
    format!(
        "add rule inet chatter loss_in iifname \"eth0\" numgen random mod 1000 < {per_mille} drop\n\
         add rule inet chatter loss_fwd iifname \"eth0\" numgen random mod 1000 < {per_mille} drop\n"
    )
}

/// Rules cutting node `peer` off (its underlay address and pod CIDR), or removing the cut.
pub fn partition_rules(peer: usize, on: bool) -> String {
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
    use crate::placement::{Node, PlacedPod, TrialTiming};
    use std::time::Duration;

    fn plan() -> Plan {
        let node = |n: &str| Node { name: n.into(), labels: Default::default(), taints: Vec::new() };
        let pod = |p: &str, n: &str, host: bool| PlacedPod {
            name: p.into(),
            node: n.into(),
            node_selector: Default::default(),
            host_network: host,
            tolerations: Vec::new(),
            containers: vec![],
        };
        Plan {
            scenario: "t".into(),
            nodes: vec![node("master"), node("pi")],
            pods: vec![pod("a", "pi", false), pod("b", "master", true), pod("c", "master", false)],
            timing: TrialTiming { warmup: Duration::ZERO, duration: Duration::ZERO, drain: Duration::ZERO },
        }
    }

    #[test]
    fn names_and_pod_namespaces() {
        let t = Topology::new("ab12cd", &plan(), false);
        assert_eq!(
            t.namespaces(),
            ["chh-ab12cd-u", "chh-ab12cd-n0", "chh-ab12cd-n1", "chh-ab12cd-p0", "chh-ab12cd-p2"]
        );
        assert_eq!(t.pod_ns("a").as_deref(), Some("chh-ab12cd-p0"));
        assert_eq!(t.pod_ns("b").as_deref(), Some("chh-ab12cd-n0"), "hostNetwork pods run in the node");
        assert_eq!(t.pod_ns("zz"), None);
    }

    #[test]
    fn pods_sit_on_their_nodes_bridge_and_nodes_route_pod_cidrs() {
        let t = Topology::new("x", &plan(), false);
        let cmds: Vec<String> = t.build_commands().iter().map(|c| c.join(" ")).collect();
        assert!(cmds.contains(&"-n chh-x-p0 addr add 10.42.1.2/24 dev eth0".to_owned()), "{cmds:#?}");
        assert!(cmds.contains(&"-n chh-x-n1 link set p0 master cni0 up".to_owned()));
        assert!(cmds.contains(&"-n chh-x-n0 route add 10.42.1.0/24 via 10.99.0.2".to_owned()));
        assert!(cmds.contains(&"-n chh-x-n1 route add 10.42.0.0/24 via 10.99.0.1".to_owned()));
        assert!(!cmds.iter().any(|c| c.contains("mbr")), "no multicast bridge unless asked");
        let t = Topology::new("x", &plan(), true);
        let cmds: Vec<String> = t.build_commands().iter().map(|c| c.join(" ")).collect();
        assert!(cmds.contains(&"-n chh-x-u link set m1 master mbr up".to_owned()));
    }

    /// Batching keeps every command, in order, and needs far fewer processes.
    #[test]
    fn batches_keep_every_command_in_order() {
        for mc in [false, true] {
            let t = Topology::new("x", &plan(), mc);
            let flat: Vec<String> = t.build_commands().iter().map(|c| c.join(" ")).collect();
            let batches = t.batches();
            let joined: Vec<String> = batches
                .iter()
                .flat_map(|(ns, lines)| {
                    lines.iter().map(move |l| ns.as_ref().map_or(l.clone(), |n| format!("-n {n} {l}")))
                })
                .collect();
            assert_eq!(joined, flat);
            assert!(batches.len() * 3 < flat.len(), "{} batches for {} commands", batches.len(), flat.len());
        }
    }

    /// A node's eth0 predates its cni0 (a DDS that takes the first interface takes eth0 on the
    /// host network, as on a real node).
    #[test]
    fn node_nics_come_before_their_cni_bridge() {
        let t = Topology::new("x", &plan(), true);
        let cmds: Vec<String> = t.build_commands().iter().map(|c| c.join(" ")).collect();
        for i in 0..2 {
            let at = |needle: &str| cmds.iter().position(|c| c.starts_with(needle)).expect(needle);
            assert!(at(&format!("link add eth0 netns chh-x-n{i} ")) < at(&format!("-n chh-x-n{i} link add cni0")));
        }
    }

    #[test]
    fn fault_rules() {
        assert!(loss_rules(30.0).contains("numgen random mod 1000 < 300 drop"));
        assert!(loss_rules(0.5).contains("< 5 drop"));
        let on = partition_rules(1, true);
        assert!(on.contains("ip saddr { 10.99.0.2, 10.42.1.0/24 } drop"), "{on}");
        assert!(partition_rules(1, false).starts_with("flush chain inet chatter part_in"));
    }
}
