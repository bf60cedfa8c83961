//! The `kube` backend: runs the plan's pods on a real cluster (k3s master + Raspberry Pi
//! agents) through the Kubernetes API, as kube-rs's examples do: typed `Api<Pod>`, server-side
//! apply, labels on everything, `await_condition` inside `tokio::time::timeout`, and
//! `log_stream(..).lines()` feeding the same collector as every other backend.
//!
//! Each run gets a namespace `chatter-<run-id>` (or uses `--namespace`); each trial applies
//! fresh pods and deletes them at its end; the run's end, an error or Ctrl-C deletes everything
//! it created and waits until it is gone. Pods that cannot start (Unschedulable, image pull
//! errors) are reported with their reason instead of waited on forever.

pub mod objects;

use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Node as KubeNode, Pod};
use kube::api::{Api, DeleteParams, ListParams, LogParams, Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions, Condition};
use kube::{Client, ResourceExt};
use tokio::sync::{mpsc, watch};

use self::objects::{Images, MANAGED_BY, MANAGER, RUN_LABEL};
use super::drive::{drain, stopped};
use super::{Backend, BackendError, Line, TrialStart};
use crate::analysis::TrialMeta;
use crate::placement::{Node, Plan};
use crate::spec::{ContainerRole, Scenario};

/// Options of the kube backend.
#[derive(Debug, Clone)]
pub struct KubeOptions {
    pub images: Images,
    /// Run in this existing namespace instead of creating one per run.
    pub namespace: Option<String>,
    /// How long a pod may take to start (image pulls on a Pi can be slow).
    pub pod_timeout: Duration,
}

pub struct KubeBackend {
    client: Client,
    opts: KubeOptions,
    run_id: String,
    namespace: Option<String>,
    created_namespace: bool,
    /// Where each pod actually ran, per trial.
    ran_on: Vec<String>,
}

impl std::fmt::Debug for KubeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeBackend")
            .field("opts", &self.opts)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

fn api_err(what: impl Into<String>) -> impl FnOnce(kube::Error) -> BackendError {
    let what = what.into();
    move |e| BackendError::Kube { what, source: Box::new(e) }
}

/// Why a pod cannot run, if it cannot: unschedulable, image pull failures, a failed pod.
pub fn pod_problem(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    for c in status.conditions.iter().flatten() {
        if c.type_ == "PodScheduled" && c.status == "False" && c.reason.as_deref() == Some("Unschedulable") {
            return Some(format!("Unschedulable: {}", c.message.as_deref().unwrap_or("no node fits")));
        }
    }
    for cs in status.container_statuses.iter().flatten() {
        if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let reason = w.reason.as_deref().unwrap_or("");
            if matches!(
                reason,
                "ErrImagePull"
                    | "ImagePullBackOff"
                    | "InvalidImageName"
                    | "CreateContainerConfigError"
                    | "CreateContainerError"
            ) {
                return Some(format!("container {}: {reason}: {}", cs.name, w.message.as_deref().unwrap_or("")));
            }
        }
    }
    (status.phase.as_deref() == Some("Failed"))
        .then(|| format!("pod failed: {}", status.message.as_deref().unwrap_or("")))
}

/// Running, finished, or unable to run: waiting is over.
fn started_or_stuck() -> impl Condition<Pod> {
    |pod: Option<&Pod>| {
        pod.is_some_and(|p| {
            pod_problem(p).is_some()
                || matches!(
                    p.status.as_ref().and_then(|s| s.phase.as_deref()),
                    Some("Running" | "Succeeded" | "Failed")
                )
        })
    }
}

/// Every listed container has terminated.
fn terminated(containers: Vec<String>) -> impl Condition<Pod> {
    move |pod: Option<&Pod>| {
        let Some(statuses) = pod.and_then(|p| p.status.as_ref()).and_then(|s| s.container_statuses.as_ref()) else {
            return pod.is_none();
        };
        containers.iter().all(|name| {
            statuses.iter().any(|cs| &cs.name == name && cs.state.as_ref().is_some_and(|s| s.terminated.is_some()))
        })
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
            ran_on: Vec::new(),
        }
    }

    fn pods(&self) -> Result<Api<Pod>, BackendError> {
        let ns = self
            .namespace
            .as_deref()
            .ok_or_else(|| BackendError::Unsupported("kube backend used before prepare".into()))?;
        Ok(Api::namespaced(self.client.clone(), ns))
    }

    /// Deletes this run's pods and waits until they are gone.
    async fn delete_pods(&self, names: &[String]) -> Result<(), BackendError> {
        let api = self.pods()?;
        for name in names {
            let uid = match api.get_opt(name).await.map_err(api_err(format!("get pod {name}")))? {
                Some(p) => p.uid().unwrap_or_default(),
                None => continue,
            };
            api.delete(name, &DeleteParams::default()).await.map_err(api_err(format!("delete pod {name}")))?;
            let gone = await_condition(api.clone(), name, conditions::is_deleted(&uid));
            tokio::time::timeout(Duration::from_secs(60), gone)
                .await
                .map_err(|_| BackendError::Unsupported(format!("pod {name} still exists 60 s after deletion")))?
                .map_err(|e| BackendError::Wait {
                    what: format!("wait for pod {name} deletion"),
                    source: Box::new(e),
                })?;
        }
        Ok(())
    }
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
            "kube backend: namespace {}, images {} / {}",
            self.namespace.as_deref().unwrap_or("?"),
            self.opts.images.talker,
            self.opts.images.listener
        )];
        notes.extend(self.ran_on.iter().cloned());
        notes
    }

    async fn nodes(&mut self, _scenario: &Scenario) -> Result<Vec<Node>, BackendError> {
        let api: Api<KubeNode> = Api::all(self.client.clone());
        let list = api.list(&ListParams::default()).await.map_err(api_err("list nodes"))?;
        Ok(list.items.into_iter().map(|n| Node { name: n.name_any(), labels: n.labels().clone() }).collect())
    }

    async fn prepare(&mut self, scenario: &Scenario, plan: &Plan, run_id: &str) -> Result<(), BackendError> {
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
        self.run_id = run_id.to_owned();
        let ns = match &self.opts.namespace {
            Some(ns) => ns.clone(),
            None => {
                let name = objects::namespace_name(run_id);
                let api: Api<Namespace> = Api::all(self.client.clone());
                api.patch(
                    &name,
                    &PatchParams::apply(MANAGER).force(),
                    &Patch::Apply(objects::namespace(&name, run_id)),
                )
                .await
                .map_err(api_err(format!("create namespace {name}")))?;
                self.created_namespace = true;
                name
            }
        };
        self.namespace = Some(ns);
        Ok(())
    }

    async fn run_trial(
        &mut self,
        plan: &Plan,
        start: TrialStart,
        lines: mpsc::UnboundedSender<Line>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<TrialMeta, BackendError> {
        let api = self.pods()?;
        // Reported times count from here; windows come from the nodes' own start records.
        let origin_ns = chatter::now_ns();
        let ns = self.namespace.clone().unwrap_or_default();
        let names: Vec<String> = plan.pods.iter().map(|p| p.name.clone()).collect();
        let result = async {
            for p in &plan.pods {
                let pod = objects::pod(p, &ns, &self.run_id, start.trial, &self.opts.images);
                api.patch(&p.name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&pod))
                    .await
                    .map_err(api_err(format!("apply pod {}", p.name)))?;
            }
            for p in &plan.pods {
                let waited = tokio::time::timeout(
                    self.opts.pod_timeout,
                    await_condition(api.clone(), &p.name, started_or_stuck()),
                )
                .await;
                let timed_out = waited.is_err();
                let pod = match waited {
                    Ok(Ok(pod)) => pod,
                    Ok(Err(e)) => {
                        return Err(BackendError::Wait { what: format!("watch pod {}", p.name), source: Box::new(e) })
                    }
                    Err(_) => api.get_opt(&p.name).await.ok().flatten(),
                };
                let problem = pod
                    .as_ref()
                    .and_then(pod_problem)
                    .or_else(|| timed_out.then(|| format!("not running after {:?}", self.opts.pod_timeout)));
                if let Some(reason) = problem {
                    return Err(BackendError::Pod { pod: p.name.clone(), reason });
                }
                let node = pod.and_then(|p| p.spec.and_then(|s| s.node_name)).unwrap_or_else(|| "?".into());
                self.ran_on.push(format!("trial {}: pod {} ran on node {node}", start.trial, p.name));
            }
            // Every container's log, line by line, into the collector.
            let mut readers = Vec::new();
            for (pod, c) in plan.containers() {
                let lp = LogParams { container: Some(c.name.clone()), follow: true, ..LogParams::default() };
                let stream = api
                    .log_stream(&pod.name, &lp)
                    .await
                    .map_err(api_err(format!("logs of {}/{}", pod.name, c.name)))?;
                let (tx, pod_name, container) = (lines.clone(), pod.name.clone(), c.name.clone());
                readers.push(tokio::spawn(async move {
                    let mut lines = stream.lines();
                    while let Some(Ok(text)) = lines.next().await {
                        if tx.send(Line { pod: pod_name.clone(), container: container.clone(), text }).is_err() {
                            break;
                        }
                    }
                }));
            }
            // Talkers stop by themselves after warm-up + duration.
            let mut interrupted = false;
            let talk_for = plan.timing.talker_deadline(crate::timing::KUBE_TALKER_SLACK);
            let talkers_done = async {
                for p in &plan.pods {
                    let talkers: Vec<String> = p
                        .containers
                        .iter()
                        .filter(|c| c.role == ContainerRole::Talker)
                        .map(|c| c.name.clone())
                        .collect();
                    if !talkers.is_empty() {
                        let _ = await_condition(api.clone(), &p.name, terminated(talkers)).await;
                    }
                }
            };
            tokio::select! {
                _ = tokio::time::timeout(talk_for, talkers_done) => {}
                _ = stopped(&mut stop) => interrupted = true,
            }
            if !interrupted {
                interrupted = drain(plan, &mut stop).await;
            }
            Ok((readers, interrupted))
        }
        .await;
        // Pods go at the end of every trial, also after an error: SIGTERM lets listeners write
        // their stop records, which the log streams still deliver.
        let deleted = self.delete_pods(&names).await;
        let (readers, interrupted) = result?;
        for r in readers {
            let _ = tokio::time::timeout(Duration::from_secs(30), r).await;
        }
        deleted?;
        Ok(TrialMeta::ended(start.trial, origin_ns, interrupted))
    }

    async fn cleanup(&mut self) -> Result<(), BackendError> {
        let Some(ns) = self.namespace.clone() else { return Ok(()) };
        if self.created_namespace {
            let api: Api<Namespace> = Api::all(self.client.clone());
            let Some(existing) = api.get_opt(&ns).await.map_err(api_err(format!("get namespace {ns}")))? else {
                return Ok(());
            };
            // Only ever delete a namespace this tool manages.
            if existing.labels().get(MANAGED_BY).map(String::as_str) != Some(MANAGER) {
                return Err(BackendError::Unsupported(format!(
                    "namespace {ns} is not managed by chatter-harness; not deleting it"
                )));
            }
            let uid = existing.uid().unwrap_or_default();
            api.delete(&ns, &DeleteParams::default()).await.map_err(api_err(format!("delete namespace {ns}")))?;
            tokio::time::timeout(
                Duration::from_secs(180),
                await_condition(api.clone(), &ns, conditions::is_deleted(&uid)),
            )
            .await
            .map_err(|_| BackendError::Unsupported(format!("namespace {ns} still exists 180 s after deletion")))?
            .map_err(|e| BackendError::Wait {
                what: format!("wait for namespace {ns} deletion"),
                source: Box::new(e),
            })?;
        } else {
            let api = self.pods()?;
            let lp = ListParams::default().labels(&format!("{RUN_LABEL}={}", objects::label_value(&self.run_id)));
            api.delete_collection(&DeleteParams::default(), &lp)
                .await
                .map_err(api_err(format!("delete pods in {ns}")))?;
        }
        Ok(())
    }
}
