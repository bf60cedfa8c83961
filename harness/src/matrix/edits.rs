//! What the fix variants share: the variant itself, and the edits of a scenario and counts of
//! its plan that several of them make.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::placement::Plan;
use crate::spec::{ContainerRole, Rmw, Scenario};

/// A way to change the deployment.
#[derive(Debug, Clone)]
pub struct Variant {
    pub id: &'static str,
    pub title: &'static str,
    /// How much it changes a cluster: 0 nothing, higher is more invasive.
    pub rank: u8,
    /// The scenario to run, or why the variant does not apply.
    pub scenario: Result<Scenario, String>,
    /// What else a team needs to know when it takes this fix.
    pub note: Option<&'static str>,
    /// Files its processes read (a Fast DDS profile), to write before it runs: path, content.
    pub files: Vec<(PathBuf, String)>,
}

/// A helper process a variant adds (a discovery server, a Zenoh bridge): `command` on a
/// cluster (the fix overlay), `stand_in` here.
pub(super) struct HelperProcess {
    pub name: &'static str,
    pub image: Option<String>,
    pub command: Vec<String>,
    pub stand_in: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// A pod `pod` of one helper process, pinned to the node whose hostname is `hostname`.
pub(super) fn helper_pod(pod: String, hostname: &str, host_network: bool, p: HelperProcess) -> crate::spec::PodSpec {
    let container = crate::spec::ContainerSpec {
        name: p.name.into(),
        role: ContainerRole::Process,
        processes: None,
        domain: None,
        rate_hz: None,
        payload_bytes: None,
        reliability: None,
        depth: None,
        message_type: None,
        start_delay_s: None,
        image: p.image,
        command: Some(p.command),
        args: None,
        stand_in: Some(p.stand_in),
        env: p.env,
        rmw: None,
        output: crate::spec::Output::ChatterRecords,
    };
    crate::spec::PodSpec {
        name: pod,
        node_selector: BTreeMap::from([(crate::placement::HOSTNAME_LABEL.to_owned(), hostname.to_owned())]),
        host_network,
        host_ipc: false,
        tolerations: Vec::new(),
        replicas: None,
        sysctls: BTreeMap::new(),
        containers: vec![container],
    }
}

/// A scenario's text parsed and placed on its declared nodes (for the variants' tests).
#[cfg(test)]
pub(super) fn parsed(text: &str) -> (Scenario, Plan) {
    let s = crate::spec::parse(text, std::path::Path::new("t.yaml")).expect("valid");
    let plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s)).expect("placeable");
    (s, plan)
}

/// Whether container `c` of `s` runs on Fast DDS: your own program (or a stock node) whose RMW
/// is rmw_fastrtps_cpp, or the harness's r2r build.
pub(super) fn on_fastdds(c: &crate::spec::ContainerSpec, s: &Scenario) -> bool {
    if c.is_custom() {
        c.rmw.or(s.dds.rmw) == Some(Rmw::Fastdds)
    } else {
        s.dds.transport == crate::spec::Transport::Ros
    }
}

/// `s` with `key=value` in every Fast DDS container.
pub(super) fn with_fastdds_env(s: &Scenario, key: &str, value: &str) -> Scenario {
    let mut out = s.clone();
    for c in out.pods.iter_mut().flat_map(|p| p.containers.iter_mut()) {
        if on_fastdds(c, s) && c.role != ContainerRole::Process {
            c.env.insert(key.into(), value.into());
        }
    }
    out
}

/// Why a Fast DDS variant does not apply.
pub(super) const NOT_FASTDDS: &str = "needs Fast DDS (rmw_fastrtps_cpp) in the containers";

/// The least range the raised-range variant sets: room for a launch file's processes.
pub(super) const RAISED_RANGE_AT_LEAST: usize = 16;
/// The most ROS 2 processes (DDS participants: talkers and listeners, each process its own)
/// that share one IP in `plan`: a pod's, or a node's for the pods on its host network.
pub fn most_processes_per_ip(plan: &Plan) -> usize {
    let mut per_ip: BTreeMap<String, usize> = BTreeMap::new();
    for p in &plan.pods {
        let ip = if p.host_network { format!("node {}", p.node) } else { format!("pod {}", p.name) };
        let n = p.containers.iter().filter(|c| c.role != ContainerRole::Process).count();
        *per_ip.entry(ip).or_default() += n;
    }
    per_ip.into_values().max().unwrap_or(0)
}

/// The range the raised-range variant sets: every process of the scenario's most crowded IP,
/// and never less than [`RAISED_RANGE_AT_LEAST`].
pub(super) fn raised_initial_peers_range(plan: &Plan) -> usize {
    most_processes_per_ip(plan).max(RAISED_RANGE_AT_LEAST)
}
