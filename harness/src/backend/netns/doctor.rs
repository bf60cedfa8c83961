//! `harness doctor` on the simulated cluster: one probe pod per node plus each node's host
//! network, the scenario's loss and partition faults in place, a responder on every node and
//! network, then a prober on every node and network against every other node, and a burst of
//! 64 KiB datagrams between every pair of probe pods ([`burst`](super::burst)).

use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, Command};

use super::arm64::{is_arm64, Arm64};
use super::commands::{off_runtime, setup_err};
use super::faults::netns_fault;
use super::registry::register;
use super::topology::{Topology, PREFIX};
use super::NetnsBackend;
use crate::backend::{Backend, BackendError, AARCH64_SYSROOT};
use crate::doctor::{DoctorReport, LargeDatagrams, NetworkProbes, NETWORKS};
use crate::placement::{declared_nodes, local_arch, Node, PlacedPod, Plan};
use crate::spec::Scenario;

impl NetnsBackend {
    /// `harness doctor` on the simulated cluster: one probe pod per node plus each node's host
    /// network, the scenario's loss and partition faults in place (partitions for the whole
    /// doctor), a responder on every node and network, then a prober on every node and network
    /// against every other node. Removes everything it made.
    pub async fn doctor(&mut self, scenario: &Scenario, count: u32) -> Result<DoctorReport, BackendError> {
        if !chatter_sandbox::is_root() {
            return Err(BackendError::Unsupported("the netns doctor needs root (it builds network namespaces)".into()));
        }
        let nodes = declared_nodes(scenario);
        // arm64 nodes probe with the (aarch64) talker.
        if nodes.iter().any(|n| n.arch() == Some("arm64")) && local_arch() != "arm64" {
            self.settle_arm64(&["talker"])?;
        }
        let plan = probe_plan(scenario, nodes);
        self.faults = scenario.faults.iter().filter(|f| netns_fault(f).in_doctor()).cloned().collect();
        register(&self.tag, &format!("doctor-{}", scenario.name))?;
        let result = self.doctor_on(scenario, &plan, count).await;
        let cleaned = self.cleanup().await;
        let report = result?;
        cleaned?;
        Ok(report)
    }

    /// Builds the probe cluster with its faults, starts the responders, runs the probers on
    /// each network and stops the responders.
    async fn doctor_on(&mut self, scenario: &Scenario, plan: &Plan, count: u32) -> Result<DoctorReport, BackendError> {
        let topo = Topology::new(&self.tag, plan, scenario.network.multicast_between_nodes)
            .with_mtu(scenario.network.pod_mtu());
        self.build(topo.clone()).await?;
        let mut notes = vec![
            format!("probed in namespaces {PREFIX}{}-* (removed afterwards)", self.tag),
            "one clock: every simulated node uses this machine's clock, so offsets are ~0".to_owned(),
        ];
        if let Some(why) = &self.arm64_fallback {
            notes.push(format!("arm64 nodes probed with this machine's build, not aarch64 under qemu: {why}"));
        }
        notes.extend(self.faults_in_place(&topo).await?);
        let domain = scenario.dds.domain;
        let mut responders = Vec::new();
        for (i, n) in plan.nodes.iter().enumerate() {
            for net in NETWORKS {
                let mut cmd = self.probe_command(plan, &topo, i, net)?;
                cmd.args(["probe", "serve", "--node", &format!("{}/{net}", n.name), "--domain", &domain.to_string()]);
                responders.push(start_responder(cmd, &n.name).await?);
            }
        }
        let mut networks = Vec::new();
        for net in NETWORKS {
            let mut reports = Vec::new();
            for i in 0..plan.nodes.len() {
                let cmd = self.probe_command(plan, &topo, i, net)?;
                reports.push(crate::doctor::without_network(run_prober(cmd, plan, i, net, domain, count).await?));
            }
            networks.push(NetworkProbes { network: net.to_owned(), reports });
        }
        for mut r in responders {
            let _ = r.kill().await;
        }
        let reference = plan.nodes.first().map_or("", |n| n.name.as_str());
        let mut report = DoctorReport::new(&scenario.name, "netns", domain, networks, reference, notes);
        report.large_datagrams = large_datagrams(plan, &topo).await?;
        Ok(report)
    }

    /// Puts the scenario's partitions in place for the whole doctor (loss rules came with the
    /// cluster): a note for each fault in place.
    async fn faults_in_place(&self, topo: &Topology) -> Result<Vec<String>, BackendError> {
        let mut notes = Vec::new();
        for f in &self.faults {
            let (spec, topo) = (f.clone(), topo.clone());
            off_runtime(move || netns_fault(&spec).doctor_setup(&topo)).await?;
            notes.push(format!("fault in place for the whole doctor: {}", f.describe()));
        }
        Ok(notes)
    }

    /// The talker binary on node `i`, in its probe pod's network namespace (`pod`) or its
    /// node's (`host`): natively or (arm64 nodes) its aarch64 build under qemu.
    fn probe_command(&self, plan: &Plan, topo: &Topology, i: usize, net: &str) -> Result<Command, BackendError> {
        let node = &plan.nodes[i].name;
        let talker: Vec<String> = match &self.arm64 {
            Arm64::Emulate { bin_dir } if is_arm64(plan, node) && local_arch() != "arm64" => vec![
                "qemu-aarch64".into(),
                "-L".into(),
                AARCH64_SYSROOT.into(),
                bin_dir.join("talker").display().to_string(),
            ],
            _ => {
                let (program, lead) = self.nodes.resolve("talker")?;
                std::iter::once(program.display().to_string()).chain(lead).collect()
            }
        };
        let ns = if net == "pod" { topo.pod_ns(&plan.pods[i].name).unwrap_or_default() } else { topo.node_ns(i) };
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net=/run/netns/{ns}")).arg("--").args(talker);
        Ok(cmd)
    }
}

/// A burst of 64 KiB datagrams between every ordered pair of probe pods, one pair at a time.
async fn large_datagrams(plan: &Plan, topo: &Topology) -> Result<Vec<LargeDatagrams>, BackendError> {
    let mut out = Vec::new();
    for i in 0..plan.nodes.len() {
        for j in (0..plan.nodes.len()).filter(|j| *j != i) {
            let (from, to) = (plan.nodes[i].name.clone(), plan.nodes[j].name.clone());
            let ns = |k: usize| topo.pod_ns(&plan.pods[k].name).unwrap_or_default();
            let (from_ns, to_ns, addr) = (ns(i), ns(j), probe_addr(j, "pod"));
            out.push(off_runtime(move || super::burst::burst(&from, &to, &from_ns, &to_ns, &addr)).await?);
        }
    }
    Ok(out)
}

/// One probe pod per declared node, on the pod network; nothing else runs.
fn probe_plan(scenario: &Scenario, nodes: Vec<Node>) -> Plan {
    Plan {
        scenario: scenario.name.clone(),
        nodes: nodes.clone(),
        pods: nodes
            .iter()
            .map(|n| PlacedPod {
                name: format!("probe-{}", n.name),
                node: n.name.clone(),
                node_selector: Default::default(),
                host_network: false,
                host_ipc: false,
                tolerations: Vec::new(),
                sysctls: Default::default(),
                containers: Vec::new(),
            })
            .collect(),
        timing: crate::timing::TrialTiming { warmup: Duration::ZERO, duration: Duration::ZERO, drain: Duration::ZERO },
    }
}

/// The address of node `i`'s probe pod (`pod`) or of the node itself (`host`).
fn probe_addr(i: usize, net: &str) -> String {
    if net == "pod" {
        format!("10.42.{i}.{}", i + 2)
    } else {
        Topology::node_addr(i)
    }
}

/// Starts responder `cmd` on `node` and waits (at most 30 s) until it says it is serving.
async fn start_responder(mut cmd: Command, node: &str) -> Result<Child, BackendError> {
    cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    cmd.kill_on_drop(true);
    let mut child =
        cmd.spawn().map_err(|source| BackendError::Spawn { what: format!("probe responder on {node}"), source })?;
    // Event: the responder says it is serving.
    if let Some(err) = child.stderr.take() {
        let mut lines = tokio::io::BufReader::new(err).lines();
        let mut said = Vec::new();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(l)) = lines.next_line().await {
                if l.contains("serving as") {
                    return true;
                }
                said.push(l);
            }
            false
        })
        .await;
        if !matches!(ready, Ok(true)) {
            return Err(setup_err(
                "probe serve",
                format!("the responder on {node} did not start: {}", said.join(" / ")),
            ));
        }
    }
    Ok(child)
}

/// Runs node `i`'s prober (`cmd`) on network `net` against every other node: its report.
async fn run_prober(
    mut cmd: Command,
    plan: &Plan,
    i: usize,
    net: &str,
    domain: u16,
    count: u32,
) -> Result<chatter::probe::ProbeReport, BackendError> {
    let n = &plan.nodes[i];
    cmd.args(["probe", "send", "--node", &format!("{}/{net}", n.name), "--domain", &domain.to_string()]);
    cmd.args(["--count", &count.to_string(), "--settle", "1"]);
    for (j, m) in plan.nodes.iter().enumerate().filter(|(j, _)| *j != i) {
        cmd.arg("--target").arg(format!("{}/{net}={}", m.name, probe_addr(j, net)));
    }
    let out =
        cmd.output().await.map_err(|source| BackendError::Spawn { what: format!("prober on {}", n.name), source })?;
    if !out.status.success() {
        return Err(setup_err("probe send", String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| setup_err("probe send", format!("unreadable report: {e}")))
}
