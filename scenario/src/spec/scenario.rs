//! The whole experiment ([`Scenario`]): its sections, each modelled in its own file beside
//! this one, and the simulated network's switches.

use serde::{Deserialize, Serialize};

use super::{DdsSpec, ExpectSpec, FaultSpec, NodeSpec, PodSpec, TrialSpec};

/// A whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Simulated cluster nodes (local and netns backends); the kube backend reads the cluster.
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    pub pods: Vec<PodSpec>,
    #[serde(default)]
    pub trials: TrialSpec,
    #[serde(default)]
    pub dds: DdsSpec,
    /// Simulated pod network (netns backend).
    #[serde(default)]
    pub network: NetworkSpec,
    /// Faults to inject (netns backend).
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub expect: Option<ExpectSpec>,
}

/// How the simulated cluster network behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkSpec {
    /// Let multicast cross between nodes' pod networks (flannel VXLAN does not).
    #[serde(default)]
    pub multicast_between_nodes: bool,
    /// The pod interfaces' MTU (pod eth0, its node-side veth, cni0); flannel's VXLAN gives
    /// [`DEFAULT_POD_MTU`] over a 1500-byte underlay. hostNetwork pods keep the node's 1500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

/// flannel's pod MTU over a 1500-byte underlay: VXLAN takes 50 bytes (flannel-io/flannel#1011).
pub const DEFAULT_POD_MTU: u32 = 1450;
/// The simulated underlay's MTU (the nodes' eth0, and hostNetwork pods').
pub const UNDERLAY_MTU: u32 = 1500;
/// The smallest MTU an IPv4 host must accept whole (RFC 791's 576-byte datagram).
pub const MIN_MTU: u32 = 576;

impl NetworkSpec {
    /// The pod interfaces' MTU.
    pub fn pod_mtu(&self) -> u32 {
        self.mtu.unwrap_or(DEFAULT_POD_MTU)
    }
}
