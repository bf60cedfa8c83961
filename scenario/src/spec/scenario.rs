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
}
