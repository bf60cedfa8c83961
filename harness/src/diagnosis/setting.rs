//! [`Setting`]: what the scenario and its placement set up that a rule must take into account
//! (backend, network, QoS, faults, start delays, shared memory, stock nodes, the doctor's probes).

use std::collections::BTreeMap;

use chatter::Durability;

use crate::hosts::{InitialPeers, ShmEnd};
use crate::placement::Plan;
use crate::spec::{FaultSpec, Scenario};

/// What the scenario set up that a rule must take into account.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub backend: String,
    /// Nodes are separate network stacks (netns, kube); on `local` they share one.
    pub separate_nodes: bool,
    pub multicast_between_nodes: bool,
    /// Talkers and listeners (container ids) whose pod is on the host network.
    pub host_network: BTreeMap<String, bool>,
    pub durability: Durability,
    pub depth: u32,
    pub warmup_s: f64,
    pub faults: Vec<FaultSpec>,
    /// Configured `startDelayS` per container id.
    pub start_delays: BTreeMap<String, f64>,
    /// The doctor's probes before the run (`--preflight`): the rules cite them.
    pub doctor: Option<crate::doctor::DoctorReport>,
    /// Talkers and listeners (container ids) whose Fast DDS may send data through shared
    /// memory (see [`ShmEnd::of`]), with their pod.
    pub shm: BTreeMap<String, ShmEnd>,
    /// Talkers and listeners that are stock nodes read from their console (`output:
    /// demo-nodes`): they say nothing about discovery.
    pub stock: std::collections::BTreeSet<String>,
    /// Talkers and listeners (container ids) on Fast DDS that find other IPs through initial
    /// peers without a port, and how far those reach (see [`InitialPeers::of`]).
    pub initial_peers: BTreeMap<String, InitialPeers>,
    /// The harness's own talkers (container ids) and the payload each pads its messages to
    /// (`payloadBytes`; 0: unpadded, a few dozen bytes). Other talkers' sizes are not known.
    pub payload_bytes: BTreeMap<String, u32>,
    /// The pod interfaces' MTU (netns: `network.mtu`).
    pub pod_mtu: u32,
}

impl Setting {
    /// `fastdds`: the Fast DDS version the ROS 2 processes run, where known.
    pub fn new(scenario: &Scenario, plan: &Plan, backend: &str, fastdds: Option<&str>) -> Setting {
        Setting {
            backend: backend.to_owned(),
            separate_nodes: backend != "local",
            multicast_between_nodes: scenario.network.multicast_between_nodes,
            host_network: plan.containers().map(|(p, c)| (c.id.clone(), p.host_network)).collect(),
            durability: scenario.dds.durability,
            depth: scenario.dds.depth,
            warmup_s: plan.timing.warmup.as_secs_f64(),
            faults: scenario.faults.clone(),
            start_delays: plan
                .containers()
                .filter(|(_, c)| !c.start_delay.is_zero())
                .map(|(_, c)| (c.id.clone(), c.start_delay.as_secs_f64()))
                .collect(),
            doctor: None,
            shm: plan.containers().filter_map(|(p, c)| Some((c.id.clone(), ShmEnd::of(p, c)?))).collect(),
            stock: plan
                .containers()
                .filter(|(_, c)| c.output == crate::spec::Output::DemoNodes)
                .map(|(_, c)| c.id.clone())
                .collect(),
            initial_peers: plan
                .containers()
                .filter_map(|(_, c)| Some((c.id.clone(), InitialPeers::of(c, fastdds)?)))
                .collect(),
            payload_bytes: plan
                .containers()
                .filter(|(_, c)| c.role == crate::spec::ContainerRole::Talker)
                .filter_map(|(_, c)| {
                    Some((c.id.clone(), if c.is_custom() { c.payload_bytes? } else { padded_to(&c.args) }))
                })
                .collect(),
            pod_mtu: scenario.network.pod_mtu(),
        }
    }

    /// Talker `id`'s payload in words: its size, or that it is not known.
    pub fn payload_words(&self, id: &str) -> String {
        match self.payload_bytes.get(id) {
            Some(0) => "unpadded (a few dozen bytes)".into(),
            Some(b) => format!("{b} bytes (payloadBytes)"),
            None => "of a size not known (not one of the harness's talkers)".into(),
        }
    }

    /// Whether talker `id`'s samples are known to fit one frame of the pod network (its IP and
    /// UDP headers and the RTPS header included): `None` where its size is not known.
    pub fn fits_a_frame(&self, id: &str) -> Option<bool> {
        self.payload_bytes.get(id).map(|b| b + 28 + 100 <= self.pod_mtu)
    }

    /// Whether the pod of talker or listener `id` is on the host network.
    pub fn on_host_network(&self, id: &str) -> bool {
        self.host_network.get(id).copied().unwrap_or(false)
    }

    /// The `loss` faults that drop, at random, frames node `from` sends to node `to` (see
    /// [`FaultSpec::drops_frames`]): what the rules and the verdict call a pair's lossy link.
    pub fn frame_losses(&self, from: &str, to: &str) -> Vec<&FaultSpec> {
        self.faults.iter().filter(|f| f.drops_frames(from, to)).collect()
    }

    /// Partition faults between nodes `a` and `b` (either order).
    pub fn partitions_between(&self, a: &str, b: &str) -> Vec<&FaultSpec> {
        self.faults
            .iter()
            .filter(|f| match f {
                FaultSpec::Partition { between, .. } => {
                    (between[0] == a && between[1] == b) || (between[0] == b && between[1] == a)
                }
                _ => false,
            })
            .collect()
    }
}

/// The payload our talker's arguments pad to (0: no `--payload-bytes`).
fn padded_to(args: &[String]) -> u32 {
    let at = args.iter().position(|a| a == "--payload-bytes");
    at.and_then(|i| args.get(i + 1)).and_then(|b| b.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
impl Setting {
    /// The rules' test setting: two nodes on netns, flannel (no multicast between them), the
    /// pod network, volatile depth 10, 1 s of warm-up, no faults.
    pub(crate) fn netns_flannel() -> Self {
        Setting {
            backend: "netns".into(),
            separate_nodes: true,
            multicast_between_nodes: false,
            host_network: BTreeMap::new(),
            durability: Durability::Volatile,
            depth: 10,
            warmup_s: 1.0,
            faults: Vec::new(),
            start_delays: BTreeMap::new(),
            doctor: None,
            shm: BTreeMap::new(),
            stock: Default::default(),
            initial_peers: BTreeMap::new(),
            payload_bytes: BTreeMap::new(),
            pod_mtu: crate::spec::DEFAULT_POD_MTU,
        }
    }
}
