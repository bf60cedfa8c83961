//! The `pods` section: pods, their containers, each container's role and how its output is
//! read.

use std::collections::BTreeMap;

use chatter::Reliability;
use serde::{Deserialize, Serialize};

use super::{NonNegativeF64, PositiveF64, Rmw, Toleration};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSpec {
    pub name: String,
    /// Every label must match a node's label (Kubernetes semantics); empty = any node.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub host_network: bool,
    /// Shares the node's IPC namespace, so its /dev/shm is the node's (Kubernetes `hostIPC`);
    /// otherwise the pod has a /dev/shm of its own, shared by its containers only.
    #[serde(default, rename = "hostIPC", skip_serializing_if = "std::ops::Not::not")]
    pub host_ipc: bool,
    /// Taints this pod tolerates (Kubernetes semantics).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// As a Deployment's: this many copies of the pod, `<name>-1` … `<name>-N`, each placed by
    /// the scheduler (default: one pod, named `<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Kernel parameters set in the pod's own network namespace before its containers start
    /// (Kubernetes `securityContext.sysctls`, written as a map of name → value): the IPv4
    /// reassembly ones only, never on the host network (see `sysctls.rs`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    pub containers: Vec<ContainerSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerRole {
    Talker,
    Listener,
    /// Neither: a program the others need (e.g. a Fast DDS discovery server), run from its
    /// `command` before the talkers and listeners of its trial and stopped with the listeners.
    /// Its output is not read.
    Process,
}

impl ContainerRole {
    /// As a scenario spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerRole::Talker => "talker",
            ContainerRole::Listener => "listener",
            ContainerRole::Process => "process",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerSpec {
    pub name: String,
    pub role: ContainerRole,
    /// As a launch file starts them: this many processes of this container, each its own DDS
    /// participant on the pod's IP and its own pair endpoint, `<name>-1` … `<name>-N`
    /// (default: one, named `<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u32>,
    /// Overrides `dds.domain` for this container.
    #[serde(default)]
    pub domain: Option<u16>,
    /// Overrides `trials.rateHz` (talkers).
    #[serde(default)]
    pub rate_hz: Option<PositiveF64>,
    /// Pad messages to at least this many bytes (talkers); with `messageType` an image or a
    /// point cloud, the size of its `data`.
    #[serde(default)]
    pub payload_bytes: Option<u32>,
    /// Overrides `dds.reliability`.
    #[serde(default)]
    pub reliability: Option<Reliability>,
    /// Overrides `dds.depth` (keep-last history depth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
    /// What a stock demo node publishes or subscribes to (the rclpy nodes; default
    /// `std_msgs/msg/String`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<MessageType>,
    /// Start this long after the trial starts.
    #[serde(default)]
    pub start_delay_s: Option<NonNegativeF64>,
    /// Your own container image (kube), e.g. `ros:humble`; default: ours for the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The program and its leading arguments, as in a pod spec. On local and netns it runs on
    /// this machine, inside the pod's network namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Arguments after `command` (instead of the ones the harness gives its own nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// What runs this container on local and netns, where its image cannot (e.g. the Cyclone
    /// stand-in for the stock demo nodes, `tests/peers/demo_nodes.py`): a whole command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stand_in: Option<Vec<String>>,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Overrides `dds.rmw` for this container (your own programs and the stock nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmw: Option<Rmw>,
    /// How to read what the container prints.
    #[serde(default)]
    pub output: Output,
}

impl ContainerSpec {
    /// Runs something other than the harness's own node.
    pub fn is_custom(&self) -> bool {
        self.image.is_some() || self.command.is_some() || self.stand_in.is_some()
    }
}

/// The ROS 2 message type of a stock demo node's topic, spelled as ROS spells it. Images and
/// point clouds carry the message's sequence number (`Hello World: N`) in `header.frame_id`,
/// so the console lines the harness reads stay those of the String demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum MessageType {
    #[default]
    #[serde(rename = "std_msgs/msg/String")]
    String,
    #[serde(rename = "sensor_msgs/msg/Image")]
    Image,
    #[serde(rename = "sensor_msgs/msg/PointCloud2")]
    PointCloud2,
}

impl MessageType {
    /// As ROS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::String => "std_msgs/msg/String",
            MessageType::Image => "sensor_msgs/msg/Image",
            MessageType::PointCloud2 => "sensor_msgs/msg/PointCloud2",
        }
    }
}

/// How a container's output is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// The harness's JSON-line records (its own talker and listener).
    #[default]
    ChatterRecords,
    /// The console lines of the stock `demo_nodes_cpp`/`demo_nodes_py` talker and listener.
    DemoNodes,
}
