//! `harness doctor --backend kube`: probe pods pinned to every usable node, on the pod network
//! and on the host network — a responder on each, then a prober per node and network against
//! the other nodes' responders — and the report read from the probers' logs.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams, Patch, PatchParams};
use kube::runtime::wait::await_condition;

use super::api::call;
use super::objects::{self, MANAGER};
use super::status::{pod_problem, started_or_stuck, terminated};
use super::KubeBackend;
use crate::backend::{Backend, BackendError};
use crate::doctor::{DoctorReport, NetworkProbes, NETWORKS};
use crate::placement::Node;
use crate::spec::Scenario;

/// Each responder's address, by node and network.
type Addresses = BTreeMap<(String, &'static str), String>;

impl KubeBackend {
    /// `harness doctor --backend kube`: in a namespace of its own, a responder pod pinned to
    /// every usable node on the pod network and on the host network, then a prober pod per
    /// node and network against the other nodes' responders; reports from the probers' logs.
    /// Everything goes with the namespace at the end.
    pub async fn doctor(
        &mut self,
        scenario: &Scenario,
        count: u32,
        run_id: &str,
    ) -> Result<DoctorReport, BackendError> {
        let nodes = self.nodes(scenario).await?;
        self.run_id = run_id.to_owned();
        let ns = objects::namespace_name(run_id);
        // Host-network probes need `privileged` Pod Security enforcement.
        self.create_namespace(&ns, true).await?;
        self.bind_pods_role(&ns).await;
        self.namespace = Some(ns.clone());
        let result = self.doctor_in(&nodes, scenario.dds.domain, count).await;
        let cleaned = self.cleanup().await;
        let report = result?;
        cleaned?;
        Ok(DoctorReport { scenario: scenario.name.clone(), ..report })
    }

    /// Responders, then their addresses once they run; then the probers, one per node and
    /// network, each against the others on the same network.
    async fn doctor_in(&mut self, nodes: &[Node], domain: u16, count: u32) -> Result<DoctorReport, BackendError> {
        let api = self.pods()?;
        let ns = self.namespace.clone().unwrap_or_default();
        let ips = self.start_responders(&api, nodes, domain).await?;
        let mut networks = Vec::new();
        for net in NETWORKS {
            let mut reports = Vec::new();
            for (i, n) in nodes.iter().enumerate() {
                let args = prober_args(n, nodes, net, &ips, domain, count);
                let report = self.run_prober(&api, format!("doctor-send-{i}-{net}"), &n.name, net, args).await?;
                reports.push(crate::doctor::without_network(report));
            }
            networks.push(NetworkProbes { network: net.to_owned(), reports });
        }
        let reference = nodes.first().map_or("", |n| n.name.as_str());
        let notes = vec![format!("probe pods in namespace {ns}, pinned to each node by nodeName")];
        Ok(DoctorReport::new("", "kube", domain, networks, reference, notes))
    }

    /// A probe pod `name` pinned to `node`, on the host network for `host`, running the
    /// talker image with `args`.
    fn probe_pod(&self, name: &str, node: &str, host: bool, args: Vec<String>) -> Patch<Pod> {
        let ns = self.namespace.clone().unwrap_or_default();
        Patch::Apply(objects::probe_pod(name, &ns, &self.run_id, &self.opts.images, node, host, args))
    }

    /// Applies a responder on every node and network, then waits for each to run: their
    /// addresses.
    async fn start_responders(&self, api: &Api<Pod>, nodes: &[Node], domain: u16) -> Result<Addresses, BackendError> {
        let pp = PatchParams::apply(MANAGER).force();
        let mut serve = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            for net in NETWORKS {
                let args = ["probe", "serve", "--node", &format!("{}/{net}", n.name), "--domain", &domain.to_string()]
                    .map(str::to_owned)
                    .to_vec();
                let name = format!("doctor-serve-{i}-{net}");
                let pod = self.probe_pod(&name, &n.name, net == "host", args);
                serve.push(((name, pod), n.name.clone(), net));
            }
        }
        for ((name, pod), _, _) in &serve {
            call(&format!("apply pod {name}"), || api.patch(name, &pp, pod)).await?;
        }
        let mut ips = Addresses::new();
        for ((name, _), node, net) in &serve {
            ips.insert((node.clone(), *net), self.await_address(api, name).await?);
        }
        Ok(ips)
    }

    /// Waits until responder `name` runs, within the pod timeout: its address.
    async fn await_address(&self, api: &Api<Pod>, name: &str) -> Result<String, BackendError> {
        let waited =
            tokio::time::timeout(self.opts.pod_timeout, await_condition(api.clone(), name, started_or_stuck()))
                .await
                .map_err(|_| BackendError::Pod {
                    pod: name.to_owned(),
                    reason: format!("not running after {} s", self.opts.pod_timeout.as_secs()),
                })?
                .map_err(|e| BackendError::Wait { what: format!("watch pod {name}"), source: Box::new(e) })?;
        if let Some(reason) = waited.as_ref().and_then(pod_problem) {
            return Err(BackendError::Pod { pod: name.to_owned(), reason });
        }
        waited
            .and_then(|p| p.status?.pod_ip)
            .ok_or_else(|| BackendError::Pod { pod: name.to_owned(), reason: "running without an address".into() })
    }

    /// Runs prober `name` on `node` until it finishes: the report it printed last.
    async fn run_prober(
        &self,
        api: &Api<Pod>,
        name: String,
        node: &str,
        net: &str,
        args: Vec<String>,
    ) -> Result<chatter::probe::ProbeReport, BackendError> {
        let pp = PatchParams::apply(MANAGER).force();
        let pod = self.probe_pod(&name, node, net == "host", args);
        call(&format!("apply pod {name}"), || api.patch(&name, &pp, &pod)).await?;
        tokio::time::timeout(
            self.opts.pod_timeout,
            await_condition(api.clone(), &name, terminated(vec!["send".into()])),
        )
        .await
        .map_err(|_| BackendError::Pod { pod: name.clone(), reason: "the prober did not finish".into() })?
        .map_err(|e| BackendError::Wait { what: format!("watch pod {name}"), source: Box::new(e) })?;
        let lp = LogParams { container: Some("send".into()), ..LogParams::default() };
        let text = call(&format!("logs of {name}"), || api.logs(&name, &lp)).await?;
        let line = text.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
        serde_json::from_str(line).map_err(|e| BackendError::Pod {
            pod: name.clone(),
            reason: format!("unreadable probe report ({e}): {}", text.trim()),
        })
    }
}

/// The arguments of node `n`'s prober on network `net`: every other node's responder there
/// that has an address.
fn prober_args(n: &Node, nodes: &[Node], net: &'static str, ips: &Addresses, domain: u16, count: u32) -> Vec<String> {
    let mut args: Vec<String> = [
        "probe",
        "send",
        "--node",
        &format!("{}/{net}", n.name),
        "--domain",
        &domain.to_string(),
        "--count",
        &count.to_string(),
    ]
    .map(str::to_owned)
    .to_vec();
    for m in nodes.iter().filter(|m| m.name != n.name) {
        if let Some(ip) = ips.get(&(m.name.clone(), net)) {
            args.extend(["--target".to_owned(), format!("{}/{net}={ip}", m.name)]);
        }
    }
    args
}
