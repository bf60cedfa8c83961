//! [`NetnsBackend`] and its [`Backend`] implementation: checks before the run (root, netem,
//! commands, arm64 builds), the simulated cluster built once, each trial driven on it, and
//! everything it made removed at the end.

use tokio::sync::{mpsc, watch};

use super::arm64::{is_arm64, Arm64};
use super::build::{build_topology, BuildMode};
use super::commands::{list_namespaces, off_runtime, setup_err};
use super::faults::{apply_event, netns_faults};
use super::registry::register;
use super::shm::list_shm_dirs;
use super::teardown::{remove_namespaces, remove_run};
use super::topology::{Topology, PREFIX};
use super::trial::{container_command, fresh_pod_shm};
use crate::backend::drive::drive;
use crate::backend::{check_commands, Backend, BackendError, Line, NodeCommand, TrialFacts, TrialMeta, TrialStart};
use crate::placement::{declared_nodes, local_arch, Node, PlacedPod, Plan, PlannedContainer};
use crate::spec::{FaultSpec, Scenario};

#[derive(Debug)]
pub struct NetnsBackend {
    pub(super) nodes: NodeCommand,
    pub(super) arm64: Arm64,
    pub(super) tag: String,
    pub(super) topology: Option<Topology>,
    pub(super) faults: Vec<FaultSpec>,
    /// Why arm64 nodes ran the native build although aarch64 under qemu was preferred.
    pub(super) arm64_fallback: Option<String>,
    /// Per trial, the processes that ended by themselves.
    pub(super) facts: std::collections::BTreeMap<u32, TrialFacts>,
    /// The pods' sysctls as read back from their namespaces, for the notes.
    pub(super) sysctls: Vec<String>,
    /// Whether a trial ran in the cluster as built: the next one gets a new one.
    pub(super) used: bool,
}

impl NetnsBackend {
    pub fn new(nodes: NodeCommand, arm64: Arm64) -> NetnsBackend {
        // Short and unique enough per run: interface and namespace names stay small.
        let seed = u64::from(std::process::id()) ^ chatter::now_ns();
        NetnsBackend {
            nodes,
            arm64,
            tag: format!("{:06x}", seed & 0xff_ffff),
            topology: None,
            faults: Vec::new(),
            arm64_fallback: None,
            facts: Default::default(),
            sysctls: Vec::new(),
            used: false,
        }
    }

    /// Settles how arm64 nodes that run `binaries` (ours) run them (see [`Arm64::settle`]),
    /// keeping the reason for the report when they fall back to this machine's build.
    pub(super) fn settle_arm64(&mut self, binaries: &[&str]) -> Result<(), BackendError> {
        if let Some(why) = self.arm64.settle(binaries)? {
            self.arm64_fallback = Some(why);
        }
        Ok(())
    }

    /// Builds `topo` off the runtime and remembers it.
    pub(super) async fn build(&mut self, topo: Topology) -> Result<(), BackendError> {
        self.topology = Some(topo.clone());
        self.used = false;
        let faults = self.faults.clone();
        self.sysctls = off_runtime(move || {
            build_topology(&topo, &faults, BuildMode::Batched)?;
            super::sysctls::notes(&topo)
        })
        .await?;
        Ok(())
    }

    /// The cluster `plan` needs, as no trial has left it: the prepared one for the first trial,
    /// then a new one for each — pods of a new trial are new pods, and a namespace's kernel state
    /// (incomplete IP reassembly queues held for `ipfrag_time`, neighbour and conntrack entries)
    /// would otherwise carry one trial's losses into the next. A rescheduled trial's cluster
    /// matches where its pods now run.
    async fn topology_for(&mut self, plan: &Plan) -> Result<Topology, BackendError> {
        let prepared = self.topology.clone().ok_or_else(|| setup_err("run", "topology not prepared"))?;
        let wanted = Topology::new(&self.tag, plan, prepared.multicast_between_nodes).with_mtu(prepared.mtu);
        if wanted != prepared || self.used {
            let prefix = format!("{PREFIX}{}-", self.tag);
            off_runtime(move || remove_namespaces(&prefix)).await;
            self.build(wanted.clone()).await?;
        }
        self.used = true;
        Ok(wanted)
    }
}

impl Backend for NetnsBackend {
    fn name(&self) -> &'static str {
        "netns"
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = vec![format!(
            "netns backend: simulated flannel-like cluster in namespaces {PREFIX}{}-*; multicast {} between nodes",
            self.tag,
            if self.topology.as_ref().is_some_and(|t| t.multicast_between_nodes) { "allowed" } else { "dropped" }
        )];
        notes.push(
            "each pod has a /dev/shm of its own, shared by its containers only (hostIPC pods: their node's), as \
             Kubernetes makes pods: hostNetwork pods on one node share its network, not its shared memory"
                .into(),
        );
        match (&self.arm64, &self.arm64_fallback) {
            (Arm64::Native, Some(why)) => {
                notes.push(format!("arm64 nodes ran this machine's build, not aarch64 binaries under qemu: {why}"));
            }
            (Arm64::Native, None) => {
                notes.push("arm64 nodes ran this machine's (amd64) build, not aarch64 binaries under qemu".into());
            }
            _ => {}
        }
        notes.extend(self.faults.iter().map(|f| format!("fault injected: {}", f.describe())));
        notes.extend(self.sysctls.iter().cloned());
        notes
    }

    async fn nodes(&mut self, scenario: &Scenario) -> Result<Vec<Node>, BackendError> {
        Ok(declared_nodes(scenario))
    }

    /// Its talkers are processes it started: SIGUSR1 opens their window.
    fn opens_windows_early(&self) -> bool {
        true
    }

    fn trial_facts(&mut self, trial: u32) -> TrialFacts {
        self.facts.remove(&trial).unwrap_or_default()
    }

    /// A simulated cluster of its own: namespaces `chh-<tag>s<slot>-*`, registered and removed
    /// like this one's. Every cluster uses the same addresses: each lives in namespaces of its
    /// own, with no interface, route or bridge in common, so their traffic never meets.
    fn sibling(&self, slot: usize) -> Option<Self> {
        Some(NetnsBackend {
            nodes: self.nodes.clone(),
            arm64: self.arm64.clone(),
            tag: format!("{}s{slot}", self.tag),
            topology: None,
            faults: Vec::new(),
            arm64_fallback: self.arm64_fallback.clone(),
            facts: Default::default(),
            sysctls: Vec::new(),
            used: false,
        })
    }

    async fn prepare(&mut self, scenario: &Scenario, plan: &Plan, run_id: &str) -> Result<(), BackendError> {
        if !chatter_sandbox::is_root() {
            return Err(BackendError::Unsupported(
                "the netns backend needs root (it creates network namespaces, veths and nftables rules)".into(),
            ));
        }
        let faults = scenario.faults.clone();
        off_runtime(move || netns_faults(&faults).iter().try_for_each(|f| f.kernel_check())).await?;
        check_commands(plan)?;
        // Your own commands run as they are (this machine's build); the harness's nodes on
        // arm64 nodes run their aarch64 build under qemu.
        let arm_pods = plan.pods.iter().any(|p| is_arm64(plan, &p.node) && p.containers.iter().any(|c| !c.is_custom()));
        if arm_pods && local_arch() != "arm64" {
            self.settle_arm64(&["talker", "listener"])?;
        }
        self.faults.clone_from(&scenario.faults);
        register(&self.tag, run_id)?;
        let topo = Topology::new(&self.tag, plan, scenario.network.multicast_between_nodes);
        self.build(topo.with_mtu(scenario.network.pod_mtu())).await
    }

    async fn run_trial(
        &mut self,
        plan: &Plan,
        start: TrialStart,
        lines: mpsc::UnboundedSender<Line>,
        stop: watch::Receiver<bool>,
    ) -> Result<TrialMeta, BackendError> {
        let topo = self.topology_for(plan).await?;
        let shm = fresh_pod_shm(&topo).await?;
        let events = netns_faults(&self.faults).iter().flat_map(|f| f.events()).collect();
        let on_event = |what: String| apply_event(topo.clone(), what);
        let (nodes, arm64) = (&self.nodes, &self.arm64);
        let command = |pod: &PlacedPod, c: &PlannedContainer| container_command(&topo, shm, plan, nodes, arm64, pod, c);
        let trial = start.trial;
        // Counted from here: zero what the last trial (or the build) left.
        let counting = topo.clone();
        let before = off_runtime(move || {
            super::traffic::take(&counting, 0)?;
            super::kernel::snapshot(&counting)
        })
        .await?;
        let driven = drive(plan, start, &lines, stop, command, events, on_event).await?;
        let (counting, faults) = (topo.clone(), self.faults.clone());
        let ms = driven.meta.end_ns.saturating_sub(driven.meta.start_ns) / 1_000_000;
        let (traffic, kernel) = off_runtime(move || {
            Ok::<_, BackendError>((
                super::traffic::take(&counting, ms)?,
                super::kernel::take(&counting, &before, ms, &faults)?,
            ))
        })
        .await?;
        self.facts.insert(
            trial,
            TrialFacts {
                containers: driven.exits,
                participants: driven.participants,
                traffic,
                kernel,
                ..TrialFacts::default()
            },
        );
        // Nothing of a trial's timeline (a partition) may outlive it.
        let faults = self.faults.clone();
        off_runtime(move || netns_faults(&faults).iter().try_for_each(|f| f.lift(&topo))).await?;
        Ok(driven.meta)
    }

    async fn cleanup(&mut self) -> Result<(), BackendError> {
        let tag = self.tag.clone();
        let removed = off_runtime(move || remove_run(&tag)).await;
        tracing::info!("removed {} namespaces", removed.len());
        let prefix = format!("{PREFIX}{}-", self.tag);
        let left = list_namespaces(&prefix);
        let dirs = list_shm_dirs(&prefix);
        if !left.is_empty() {
            Err(setup_err("cleanup", format!("namespaces left behind: {}", left.join(", "))))
        } else if !dirs.is_empty() {
            let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            Err(setup_err("cleanup", format!("/dev/shm directories left behind: {}", dirs.join(", "))))
        } else {
            Ok(())
        }
    }
}
