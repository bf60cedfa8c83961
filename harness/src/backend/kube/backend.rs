//! [`KubeBackend`] and its [`Backend`] implementation: the cluster's usable nodes, the run's
//! namespace and the dry run of every pod before the first trial, one trial at a time (its pods
//! deleted after it, also after an error), and cleaning up at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node as KubeNode, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use tokio::sync::{mpsc, watch};

use super::api::call;
use super::cleanup::delete_namespace;
use super::logs::await_readers;
use super::objects::{self, Images, PodContext, MANAGER};
use super::status::node_unusable;
use crate::backend::{Backend, BackendError, Line, TrialFacts, TrialMeta, TrialStart};
use crate::placement::{Node, Plan, ARCH_LABEL};
use crate::spec::{Scenario, Taint};

/// Options of the kube backend.
#[derive(Debug, Clone)]
pub struct KubeOptions {
    pub images: Images,
    /// Run in this existing namespace instead of creating one per run.
    pub namespace: Option<String>,
    /// How long the pods of a trial may take to start (image pulls on a Pi can be slow).
    pub pod_timeout: Duration,
    /// Pin every pod to the node placement drew (`kubernetes.io/hostname`) instead of letting
    /// the scheduler decide.
    pub pin: bool,
}

pub struct KubeBackend {
    pub(super) client: Client,
    pub(super) opts: KubeOptions,
    pub(super) run_id: String,
    pub(super) namespace: Option<String>,
    pub(super) created_namespace: bool,
    /// The usable nodes, as listed (labels for the report, arch for wrong-image detection).
    pub(super) nodes: Vec<Node>,
    pub(super) notes: Vec<String>,
    pub(super) facts: BTreeMap<u32, TrialFacts>,
}

impl std::fmt::Debug for KubeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeBackend")
            .field("opts", &self.opts)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl KubeBackend {
    pub fn new(client: Client, opts: KubeOptions) -> KubeBackend {
        KubeBackend {
            client,
            opts,
            run_id: String::new(),
            namespace: None,
            created_namespace: false,
            nodes: Vec::new(),
            notes: Vec::new(),
            facts: BTreeMap::new(),
        }
    }

    pub(super) fn pods(&self) -> Result<Api<Pod>, BackendError> {
        let ns = self
            .namespace
            .as_deref()
            .ok_or_else(|| BackendError::Unsupported("kube backend used before prepare".into()))?;
        Ok(Api::namespaced(self.client.clone(), ns))
    }

    /// Where this run's pods go (namespace `ns`) and what they run.
    pub(super) fn pod_context<'a>(&'a self, ns: &'a str) -> PodContext<'a> {
        PodContext {
            namespace: ns,
            run_id: &self.run_id,
            images: &self.opts.images,
            pin: self.opts.pin,
            nodes: &self.nodes,
        }
    }
}

/// What the kube backend cannot do, refused before anything is created.
fn refuse_unsupported(scenario: &Scenario, plan: &Plan) -> Result<(), BackendError> {
    if let Some(f) = scenario.faults.first() {
        return Err(BackendError::Unsupported(format!(
            "the kube backend does not inject faults ({}); use --backend netns",
            f.describe()
        )));
    }
    if plan.containers().any(|(_, c)| !c.start_delay.is_zero()) {
        return Err(BackendError::Unsupported(
            "startDelayS is not supported by the kube backend (containers of a pod start together)".into(),
        ));
    }
    if let Some((p, c)) =
        plan.containers().find(|(_, c)| c.stand_in.is_some() && c.image.is_none() && c.command.is_none())
    {
        return Err(BackendError::Unsupported(format!(
            "container {}/{} has only a standIn (for local and netns); on a cluster it needs its `image` and `command`",
            p.name, c.name
        )));
    }
    Ok(())
}

/// A cluster node as placement sees it: its name, labels and taints.
fn placement_node(n: &KubeNode) -> Node {
    let taints = n
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .map(|ts| {
            ts.iter().map(|t| Taint { key: t.key.clone(), value: t.value.clone(), effect: t.effect.clone() }).collect()
        })
        .unwrap_or_default();
    Node { name: n.name_any(), labels: n.labels().clone(), taints }
}

impl Backend for KubeBackend {
    fn shared_clock(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "kube"
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = vec![format!(
            "kube backend: namespace {}, images {} / {}; {}",
            self.namespace.as_deref().unwrap_or("?"),
            self.opts.images.talker,
            self.opts.images.listener,
            if self.opts.pin {
                "pods pinned to the harness's placement (--pin)"
            } else {
                "kube-scheduler placed the pods; each trial's placement is where they actually ran"
            }
        )];
        notes.extend(self.notes.iter().cloned());
        for (trial, f) in &self.facts {
            for (pod, node) in &f.placement {
                let arch = self.nodes.iter().find(|n| &n.name == node).and_then(Node::arch).unwrap_or("?");
                notes.push(format!("trial {trial}: pod {pod} ran on node {node} ({arch})"));
            }
        }
        notes
    }

    fn trial_facts(&mut self, trial: u32) -> TrialFacts {
        self.facts.get(&trial).cloned().unwrap_or_default()
    }

    async fn nodes(&mut self, _scenario: &Scenario) -> Result<Vec<Node>, BackendError> {
        let api: Api<KubeNode> = Api::all(self.client.clone());
        let lp = ListParams::default();
        let list = call("list nodes", || api.list(&lp)).await?;
        let mut nodes = Vec::new();
        for n in list.items {
            if let Some(why) = node_unusable(&n) {
                self.notes.push(format!("node {} skipped: {why}", n.name_any()));
                continue;
            }
            nodes.push(placement_node(&n));
        }
        if nodes.iter().all(|n| !n.labels.contains_key(ARCH_LABEL)) && !nodes.is_empty() {
            self.notes.push("no node carries kubernetes.io/arch: architecture checks are off".into());
        }
        self.nodes = nodes.clone();
        Ok(nodes)
    }

    async fn prepare(&mut self, scenario: &Scenario, plan: &Plan, run_id: &str) -> Result<(), BackendError> {
        refuse_unsupported(scenario, plan)?;
        self.run_id = run_id.to_owned();
        let ns = match self.opts.namespace.clone() {
            Some(ns) => self.check_user_namespace(ns).await?,
            None => {
                let name = objects::namespace_name(run_id);
                self.create_namespace(&name, objects::needs_privileged(plan)).await?;
                self.bind_pods_role(&name).await;
                name
            }
        };
        self.namespace = Some(ns.clone());
        // Every pod object through the API server's validation and admission (Pod Security,
        // quotas, RBAC) before anything runs.
        let api = self.pods()?;
        let ctx = self.pod_context(&ns);
        for p in &plan.pods {
            let pod = Patch::Apply(objects::pod(p, &ctx, 1));
            let pp = PatchParams::apply(MANAGER).force().dry_run();
            call(&format!("dry-run pod {}", p.name), || api.patch(&p.name, &pp, &pod)).await?;
        }
        Ok(())
    }

    async fn run_trial(
        &mut self,
        plan: &Plan,
        start: TrialStart,
        lines: mpsc::UnboundedSender<Line>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<TrialMeta, BackendError> {
        let names: Vec<String> = plan.pods.iter().map(|p| p.name.clone()).collect();
        let mut origin_ns = chatter::now_ns();
        let result = self.trial_body(plan, start.trial, &lines, &mut stop, &mut origin_ns).await;
        drop(lines);
        // Pods go at the end of every trial, also after an error: SIGTERM lets listeners write
        // their stop records, which the log streams still deliver.
        let deleted = self.delete_pods(&names).await;
        let (readers, interrupted) = result?;
        let broken = await_readers(readers, &mut stop, interrupted).await;
        self.mark_incomplete(start.trial, &broken);
        deleted?;
        Ok(TrialMeta::ended(start.trial, origin_ns, interrupted))
    }

    async fn cleanup(&mut self) -> Result<(), BackendError> {
        let Some(ns) = self.namespace.clone() else { return Ok(()) };
        if self.created_namespace {
            delete_namespace(&self.client, &ns, Some(&self.run_id)).await
        } else {
            let api = self.pods()?;
            let lp = ListParams::default().labels(&objects::managed_selector(Some(&self.run_id)));
            let dp = DeleteParams::default();
            call(&format!("delete pods in {ns}"), || api.delete_collection(&dp, &lp)).await?;
            Ok(())
        }
    }
}
