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
//! The links are flannel's: the pods' eth0, their node-side veths and `cni0` have MTU 1450
//! (VXLAN takes 50 bytes of the underlay's 1500; `network.mtu` changes it), the underlay and
//! the nodes' eth0 (where hostNetwork pods send) 1500.
//! Multicast crosses a node's `cni0` but is not routed between nodes — flannel's VXLAN does
//! not carry it either. `multicastBetweenNodes: true` joins every `cni0` into one extra L2
//! segment (bridge `mbr` in the underlay) so multicast floods across nodes, while unicast
//! still takes the routed path. `hostNetwork` pods run in the node namespace, on the underlay.
//! All addresses live only inside these namespaces.
//!
//! Each pod also has a /dev/shm of its own, as a Kubernetes pod sandbox does: a directory on a
//! tmpfs (`<base>/chh-<tag>-p<k>`, see [`tmpfs_base`]) that each of its containers, in a mount
//! namespace of its own, has bind-mounted on /dev/shm ([`container_args`]). hostNetwork pods
//! have one too: they share their node's network, not its memory. `hostIPC` pods bind their
//! node's directory (`<base>/chh-<tag>-n<i>`), the node's /dev/shm; no other process runs "on
//! the node" here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::placement::Plan;

/// Prefix of every namespace the netns backend creates.
pub const PREFIX: &str = "chh-";

/// Where the pods' /dev/shm directories may live, in order of preference: under `/run` (where
/// containerd keeps its sandboxes' shm; a tmpfs private to the harness when it runs in a user
/// namespace of its own, so nothing there outlives it), else under `/dev/shm`. Only one on a
/// tmpfs is used (see [`tmpfs_base`]); leftovers are looked for in both.
pub const SHM_BASES: [&str; 2] = ["/run/chatter-harness/shm", "/dev/shm/chatter-harness"];

/// The first of [`SHM_BASES`] whose filesystem is a tmpfs, by `mounts` (the text of
/// `/proc/self/mounts`): a pod's shared memory must be memory, as a sandbox's shm is.
pub fn tmpfs_base(mounts: &str) -> Option<&'static str> {
    SHM_BASES.into_iter().find(|base| {
        // The filesystem of a path is that of its deepest mount point; of two at one place, the
        // later (it covers the earlier).
        let mut best: Option<(usize, &str)> = None;
        for line in mounts.lines() {
            let mut f = line.split_whitespace();
            let (Some(_), Some(at), Some(fstype)) = (f.next(), f.next(), f.next()) else { continue };
            let under = at == "/" || *base == at || base.strip_prefix(at).is_some_and(|r| r.starts_with('/'));
            if under && best.is_none_or(|(len, _)| at.len() >= len) {
                best = Some((at.len(), fstype));
            }
        }
        best.is_some_and(|(_, fstype)| fstype == "tmpfs")
    })
}

/// The script that makes `$1` the process's /dev/shm and then becomes the rest of its arguments:
/// `exec`, so the container's program keeps the pid the harness signals (no shell in between).
pub const SHM_SCRIPT: &str = r#"mount --bind "$1" /dev/shm && shift && exec "$@""#;

/// The arguments of `nsenter` that run a container in network namespace `ns`, in a mount
/// namespace of its own (private: nothing mounted there reaches the host) with `shm` mounted on
/// /dev/shm; the container's program and its arguments follow them. `nsenter` and `unshare`
/// exec (neither forks without a pid namespace), and so does the script.
pub fn container_args(ns: &str, shm: &Path) -> Vec<String> {
    [
        &format!("--net=/run/netns/{ns}"),
        "--",
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        SHM_SCRIPT,
        "sh",
        &shm.display().to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// One pod of the topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopoPod {
    pub name: String,
    /// Node index.
    pub node: usize,
    pub host_network: bool,
    pub host_ipc: bool,
    /// Set in the pod's own namespace when it is made (validation keeps them off the host
    /// network).
    pub sysctls: BTreeMap<String, String>,
}

/// Names and addresses of one run's topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub tag: String,
    /// Node names in plan order; index = node number.
    pub nodes: Vec<String>,
    /// In plan order; index = pod number.
    pub pods: Vec<TopoPod>,
    pub multicast_between_nodes: bool,
    /// The DDS domains the plan's containers use: whose RTPS ports the traffic counters count.
    pub domains: Vec<u16>,
    /// The pod interfaces' MTU (pod eth0, node-side veth, cni0).
    pub mtu: u32,
}

impl Topology {
    pub fn new(tag: &str, plan: &Plan, multicast_between_nodes: bool) -> Topology {
        let nodes: Vec<String> = plan.nodes.iter().map(|n| n.name.clone()).collect();
        let pods = plan
            .pods
            .iter()
            .map(|p| TopoPod {
                name: p.name.clone(),
                node: nodes.iter().position(|n| *n == p.node).unwrap_or(0),
                host_network: p.host_network,
                host_ipc: p.host_ipc,
                sysctls: p.sysctls.clone(),
            })
            .collect();
        let mut domains: Vec<u16> = plan.containers().map(|(_, c)| c.domain).collect();
        domains.sort_unstable();
        domains.dedup();
        let mtu = crate::spec::DEFAULT_POD_MTU;
        Topology { tag: tag.to_owned(), nodes, pods, multicast_between_nodes, domains, mtu }
    }

    /// The same with pod interfaces of MTU `mtu`.
    pub fn with_mtu(mut self, mtu: u32) -> Topology {
        self.mtu = mtu;
        self
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
        let (k, p) = self.pods.iter().enumerate().find(|(_, p)| p.name == pod)?;
        Some(if p.host_network { self.node_ns(p.node) } else { format!("{PREFIX}{}-p{k}", self.tag) })
    }

    /// The directory under `base` that is a pod's /dev/shm: its own (named like its pod
    /// namespace, hostNetwork pods included), or its node's for a hostIPC pod.
    pub fn shm_dir(&self, base: &Path, pod: &str) -> Option<PathBuf> {
        let (k, p) = self.pods.iter().enumerate().find(|(_, p)| p.name == pod)?;
        Some(if p.host_ipc { self.node_shm_dir(base, p.node) } else { self.pod_shm_dir(base, k) })
    }

    fn pod_shm_dir(&self, base: &Path, k: usize) -> PathBuf {
        base.join(format!("{PREFIX}{}-p{k}", self.tag))
    }

    fn node_shm_dir(&self, base: &Path, i: usize) -> PathBuf {
        base.join(self.node_ns(i))
    }

    /// The pods' own /dev/shm directories (not hostIPC pods'), emptied for each trial: a pod
    /// of a new trial is a new sandbox.
    pub fn pod_shm_dirs(&self, base: &Path) -> Vec<PathBuf> {
        let own = self.pods.iter().enumerate().filter(|(_, p)| !p.host_ipc);
        own.map(|(k, _)| self.pod_shm_dir(base, k)).collect()
    }

    /// Every /dev/shm directory: each node's, then each pod's own.
    pub fn shm_dirs(&self, base: &Path) -> Vec<PathBuf> {
        let nodes = (0..self.nodes.len()).map(|i| self.node_shm_dir(base, i));
        nodes.chain(self.pod_shm_dirs(base)).collect()
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
                .filter(|(_, p)| !p.host_network)
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
        let (u, mtu) = (self.underlay_ns(), self.mtu);
        let nodes = 0..self.nodes.len();
        let pods: Vec<(usize, usize)> =
            self.pods.iter().enumerate().filter(|(_, p)| !p.host_network).map(|(k, p)| (k, p.node)).collect();
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
                ip(format!("link add mc0 netns {n} mtu {mtu} type veth peer name m{i} netns {u} mtu {mtu}"));
            }
        }
        for &(k, node) in &pods {
            ip(format!(
                "link add eth0 netns {} mtu {mtu} type veth peer name p{k} netns {} mtu {mtu}",
                pod_ns(k),
                self.node_ns(node)
            ));
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
            ip(format!("-n {n} link add cni0 mtu {mtu} type bridge mcast_snooping 0"));
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

/// The nftables table every node gets: empty partition chains hooked into input and forward
/// (loss acts on frames, on the links: see `faults/loss.rs`).
pub fn base_ruleset() -> String {
    "table inet chatter {\n\
     \tchain part_in { type filter hook input priority 1; }\n\
     \tchain part_fwd { type filter hook forward priority 1; }\n\
     }\n"
    .to_owned()
}

/// Test topologies.
#[cfg(test)]
impl Topology {
    /// Tag `tag`, nodes `a` and `b`, no pods: for the per-node rules the faults and counters make.
    pub(crate) fn two_empty_nodes(tag: &str) -> Topology {
        let plan = crate::placement::Plan {
            scenario: "t".into(),
            nodes: ["a", "b"]
                .map(|n| crate::placement::Node { name: n.into(), labels: Default::default(), taints: Vec::new() })
                .to_vec(),
            pods: Vec::new(),
            timing: crate::placement::TrialTiming {
                warmup: std::time::Duration::ZERO,
                duration: std::time::Duration::ZERO,
                drain: std::time::Duration::ZERO,
            },
        };
        Topology::new(tag, &plan, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::{Node, PlacedPod, TrialTiming};
    use std::time::Duration;

    fn pod(p: &str, n: &str, host: bool) -> PlacedPod {
        PlacedPod {
            name: p.into(),
            node: n.into(),
            node_selector: Default::default(),
            host_network: host,
            host_ipc: false,
            tolerations: Vec::new(),
            sysctls: BTreeMap::new(),
            containers: vec![],
        }
    }

    fn plan() -> Plan {
        let node = |n: &str| Node { name: n.into(), labels: Default::default(), taints: Vec::new() };
        Plan {
            scenario: "t".into(),
            nodes: vec![node("master"), node("pi")],
            pods: vec![pod("a", "pi", false), pod("b", "master", true), pod("c", "master", false)],
            timing: TrialTiming { warmup: Duration::ZERO, duration: Duration::ZERO, drain: Duration::ZERO },
        }
    }

    /// [`plan`] and three hostIPC pods: `d` on master's host network, `e` on master's pod
    /// network, `f` on the Pi's host network.
    fn plan_with_host_ipc() -> Plan {
        let mut plan = plan();
        for (name, node, host) in [("d", "master", true), ("e", "master", false), ("f", "pi", true)] {
            plan.pods.push(PlacedPod { host_ipc: true, ..pod(name, node, host) });
        }
        plan
    }

    /// Each pod has a /dev/shm of its own, hostNetwork pods too (they share the node's network,
    /// not its memory); hostIPC pods have their node's, whichever network they are on.
    #[test]
    fn every_pod_has_its_own_shm_and_host_ipc_pods_their_nodes() {
        let t = Topology::new("x", &plan_with_host_ipc(), false);
        let base = Path::new("/b");
        let dir = |pod: &str| t.shm_dir(base, pod).map(|d| d.display().to_string());
        let dirs: Vec<Option<String>> = ["a", "b", "c", "d", "e", "f", "zz"].map(&dir).into();
        assert_eq!(
            dirs,
            [
                Some("/b/chh-x-p0".into()),
                Some("/b/chh-x-p1".into()),
                Some("/b/chh-x-p2".into()),
                Some("/b/chh-x-n0".into()),
                Some("/b/chh-x-n0".into()),
                Some("/b/chh-x-n1".into()),
                None,
            ]
        );
        assert_eq!(t.pod_ns("b").as_deref(), Some("chh-x-n0"), "b shares master's network…");
        assert_ne!(dir("b"), dir("d"), "…but not its /dev/shm");
        let all: Vec<String> = t.shm_dirs(base).iter().map(|d| d.display().to_string()).collect();
        assert_eq!(all, ["/b/chh-x-n0", "/b/chh-x-n1", "/b/chh-x-p0", "/b/chh-x-p1", "/b/chh-x-p2"]);
        let fresh: Vec<PathBuf> = t.pod_shm_dirs(base);
        assert_eq!(fresh, all[2..].iter().map(PathBuf::from).collect::<Vec<_>>(), "nodes' dirs outlive a trial");
        // Named like the namespaces, so one prefix finds a run's namespaces and directories.
        assert!(all.iter().all(|d| d.starts_with("/b/chh-x-")));
    }

    /// The wrapper becomes the program `program()` appends after it: `"$@"` after the directory,
    /// every step an exec.
    #[test]
    fn containers_bind_their_shm_and_exec_their_program() {
        let args = container_args("chh-x-p0", Path::new("/b/chh-x-p0"));
        assert_eq!(
            args.join(" "),
            format!("--net=/run/netns/chh-x-p0 -- unshare --mount --propagation private -- sh -c {SHM_SCRIPT} sh /b/chh-x-p0")
        );
        assert_eq!(SHM_SCRIPT, r#"mount --bind "$1" /dev/shm && shift && exec "$@""#);
        // `sh -c SCRIPT sh DIR PROGRAM…`: `$0` is `sh`, `$1` the directory, the program after.
        let at = args.iter().position(|a| a == SHM_SCRIPT).expect("script");
        assert_eq!(args[at + 1..], ["sh", "/b/chh-x-p0"]);
        assert_eq!(args[..2], ["--net=/run/netns/chh-x-p0", "--"]);
    }

    /// The directories go on a tmpfs: `/run` when it is one (the user-namespace mode mounts one
    /// of its own there), else `/dev/shm`; none when neither is.
    #[test]
    fn shm_directories_go_on_a_tmpfs() {
        let root_fs = "/dev/vda / ext4 rw 0 0\nproc /proc proc rw 0 0\n";
        let shm = "tmpfs /dev/shm tmpfs rw,size=64m 0 0\n";
        assert_eq!(tmpfs_base(&format!("{root_fs}{shm}")), Some("/dev/shm/chatter-harness"), "/run on the root disk");
        let run = "tmpfs /run tmpfs rw,mode=755 0 0\n";
        assert_eq!(tmpfs_base(&format!("{root_fs}{shm}{run}")), Some("/run/chatter-harness/shm"));
        assert_eq!(tmpfs_base(root_fs), None);
        // The deepest mount point decides, and of two at one place the later.
        let run_disk = "/dev/vdb /run/chatter-harness ext4 rw 0 0\n";
        assert_eq!(tmpfs_base(&format!("{root_fs}{run}{run_disk}")), None);
        assert_eq!(tmpfs_base(&format!("{root_fs}{run_disk}{run}")), None, "/run/chatter-harness is deeper");
        assert_eq!(tmpfs_base(&format!("{root_fs}/dev/vdc /run ext4 rw 0 0\n{run}")), Some("/run/chatter-harness/shm"));
        assert_eq!(
            tmpfs_base("tmpfs /r tmpfs rw 0 0\ntmpfs /dev/shmx tmpfs rw 0 0\n"),
            None,
            "a prefix is not a parent"
        );
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
        // flannel's MTU on the pod side, the underlay's on the node's own link.
        assert!(
            cmds.contains(
                &"link add eth0 netns chh-x-p0 mtu 1450 type veth peer name p0 netns chh-x-n1 mtu 1450".to_owned()
            ),
            "{cmds:#?}"
        );
        assert!(cmds.contains(&"-n chh-x-n0 link add cni0 mtu 1450 type bridge mcast_snooping 0".to_owned()));
        assert!(cmds.contains(&"link add eth0 netns chh-x-n0 type veth peer name n0 netns chh-x-u".to_owned()));
        let cmds: Vec<String> = t.clone().with_mtu(1400).build_commands().iter().map(|c| c.join(" ")).collect();
        assert!(cmds.contains(&"-n chh-x-n1 link add cni0 mtu 1400 type bridge mcast_snooping 0".to_owned()));
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
}
