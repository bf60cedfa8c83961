//! The `kube` backend: runs the plan's pods on a real cluster (k3s master + Raspberry Pi
//! agents) through the Kubernetes API, as kube-rs's examples do: typed `Api<Pod>`, server-side
//! apply, labels on everything, `await_condition` inside `tokio::time::timeout`, and
//! `log_stream(..).lines()` feeding the same collector as every other backend.
//!
//! - **Placement**: kube-scheduler places the pods (only the scenario's nodeSelector and
//!   tolerations are applied) unless `--pin`; where each pod actually ran is read back and
//!   becomes the trial's placement in the analysis.
//! - **Start barrier**: pods start with their nodes waiting; once every pod of the trial runs,
//!   one annotation releases them together, so a slow image pull is not "no delivery".
//! - **Container facts**: containers that died (OOMKilled, non-zero exit, a wrong-architecture
//!   image) are reported with the trial; pods that cannot start are reported with their reason
//!   and, on a timeout, their events.
//! - **Safety**: each run gets a namespace `chatter-<run-id>` it creates (never takes over), or
//!   uses `--namespace`; nothing is deleted without the harness's managed-by label *and* this
//!   run's id; Ctrl-C ends every wait; transient API errors are retried with backoff; every
//!   object is dry-run server-side before the first apply.

pub mod objects;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use futures::AsyncBufReadExt;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::{ContainerStatus, Event, Namespace, Node as KubeNode, Pod};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::wait::{await_condition, conditions, Condition};
use kube::{Client, ResourceExt};
use tokio::sync::{mpsc, watch};

use self::objects::{Images, PodContext, MANAGER};
use super::drive::{drain, stopped};
use super::{Backend, BackendError, ContainerExit, Lifecycle, Line, TrialFacts, TrialStart};
use crate::analysis::TrialMeta;
use crate::placement::{Node, Plan, ARCH_LABEL};
use crate::spec::{ContainerRole, Scenario, Taint};

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
    client: Client,
    opts: KubeOptions,
    run_id: String,
    namespace: Option<String>,
    created_namespace: bool,
    /// The usable nodes, as listed (labels for the report, arch for wrong-image detection).
    nodes: Vec<Node>,
    notes: Vec<String>,
    facts: BTreeMap<u32, TrialFacts>,
}

impl std::fmt::Debug for KubeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeBackend")
            .field("opts", &self.opts)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// An API error, explained where the status says why (forbidden, conflict, invalid).
fn explain(what: &str, e: kube::Error) -> BackendError {
    if let kube::Error::Api(status) = &e {
        let hint = match status.code {
            403 => Some(
                "forbidden by the cluster's RBAC: the harness needs the permissions in manifests/rbac (see its README)",
            ),
            409 => Some("conflict: the object exists or changed underneath"),
            422 => Some("the API server rejected the object as invalid"),
            _ => None,
        };
        if let Some(hint) = hint {
            return BackendError::Api { what: what.to_owned(), detail: format!("{hint}: {}", status.message) };
        }
    }
    BackendError::Kube { what: what.to_owned(), source: Box::new(e) }
}

/// Errors worth another try: the API server overloaded or restarting, the connection lost.
fn transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => matches!(s.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// One API call, retried with exponential backoff on transient errors, explained on failure.
async fn call<T, F, Fut>(what: &str, f: F) -> Result<T, BackendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    retrying(what, f).await.map_err(|e| explain(what, e))
}

/// One API call, retried with exponential backoff on transient errors (`backon`).
async fn retrying<T, F, Fut>(what: &str, f: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    use backon::{ExponentialBuilder, Retryable};
    let policy = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(5);
    f.retry(policy).when(transient).notify(|e, after| tracing::warn!("{what}: {e}; retrying in {after:?}")).await
}

/// Hints for failures whose message shows an image built for another CPU.
fn arch_words(message: &str) -> bool {
    message.contains("exec format error") || message.contains("no matching manifest")
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
                    | "RunContainerError"
                    | "CrashLoopBackOff"
            ) {
                let message = w.message.as_deref().unwrap_or("");
                let arch =
                    if arch_words(message) { " — the image has no build for this node's architecture" } else { "" };
                return Some(format!("container {}: {reason}: {message}{arch}", cs.name));
            }
        }
    }
    if status.phase.as_deref() == Some("Failed") {
        let exits: Vec<String> = container_exits(pod, None).iter().map(ContainerExit::describe).collect();
        return Some(format!(
            "pod failed: {}{}",
            status.message.as_deref().unwrap_or(""),
            if exits.is_empty() { String::new() } else { exits.join("; ") }
        ));
    }
    None
}

/// The containers of `pod` that ended badly or restarted: terminated with a non-zero exit, a
/// signal or OOMKilled (now or before a restart), or unable to start.
pub fn container_exits(pod: &Pod, node: Option<&Node>) -> Vec<ContainerExit> {
    let node_name = pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_else(|| "?".into());
    let arch = node.and_then(Node::arch).map(str::to_owned);
    let statuses: &[ContainerStatus] =
        pod.status.as_ref().and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
    statuses
        .iter()
        .filter_map(|cs| {
            let term = cs
                .state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .or_else(|| cs.last_state.as_ref().and_then(|s| s.terminated.as_ref()));
            let bad_term = term.filter(|t| t.exit_code != 0 || t.reason.as_deref() == Some("OOMKilled"));
            if bad_term.is_none() && cs.restart_count == 0 {
                return None;
            }
            let (reason, exit_code, signal, message) = match bad_term.or(term) {
                Some(t) => (
                    t.reason.clone().unwrap_or_else(|| "Error".into()),
                    Some(t.exit_code),
                    t.signal,
                    t.message.clone().unwrap_or_default(),
                ),
                None => ("Restarted".into(), None, None, String::new()),
            };
            Some(ContainerExit {
                id: format!("{}.{}", pod.name_any(), cs.name),
                node: node_name.clone(),
                arch: arch.clone(),
                wrong_arch: arch_words(&message),
                reason,
                exit_code,
                signal,
                restarts: cs.restart_count,
                message,
                at_ms: None,
                stderr: Vec::new(),
            })
        })
        .collect()
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

/// What a pod that did not start was waiting for: container waiting reasons and its last
/// events, for the error a user reads.
async fn why_waiting(client: &Client, ns: &str, pod: Option<&Pod>, name: &str) -> String {
    let mut parts = Vec::new();
    if let Some(status) = pod.and_then(|p| p.status.as_ref()) {
        parts.push(format!("phase {}", status.phase.as_deref().unwrap_or("?")));
        for cs in status.container_statuses.iter().flatten() {
            if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
                parts.push(format!("container {} waiting: {}", cs.name, w.reason.as_deref().unwrap_or("?")));
            }
        }
    }
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().fields(&format!("involvedObject.name={name}"));
    if let Ok(list) = events.list(&lp).await {
        let mut items = list.items;
        items.sort_by_key(|e| e.last_timestamp.clone().map(|t| t.0));
        for e in items.iter().rev().take(5).rev() {
            parts.push(format!(
                "event {}: {}",
                e.reason.as_deref().unwrap_or("?"),
                e.message.as_deref().unwrap_or("").trim()
            ));
        }
    }
    parts.join("; ")
}

/// Whether a node may take pods: Ready and not cordoned. Otherwise why not.
fn node_unusable(n: &KubeNode) -> Option<String> {
    if n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        return Some("cordoned".into());
    }
    let ready =
        n.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    match ready {
        Some(c) if c.status == "True" => None,
        Some(c) => Some(format!("NotReady ({})", c.reason.as_deref().unwrap_or(&c.status))),
        None => Some("NotReady (no Ready condition)".into()),
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

    fn pods(&self) -> Result<Api<Pod>, BackendError> {
        let ns = self
            .namespace
            .as_deref()
            .ok_or_else(|| BackendError::Unsupported("kube backend used before prepare".into()))?;
        Ok(Api::namespaced(self.client.clone(), ns))
    }

    /// Creates the run's namespace; refuses one that already exists (never relabels it).
    async fn create_namespace(&mut self, name: &str, host_network: bool) -> Result<(), BackendError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let ns = objects::namespace(name, &self.run_id, host_network);
        let what = format!("create namespace {name}");
        let dry = PostParams { dry_run: true, field_manager: Some(MANAGER.into()) };
        let real = PostParams { dry_run: false, field_manager: Some(MANAGER.into()) };
        for pp in [&dry, &real] {
            match retrying(&what, || api.create(pp, &ns)).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 409 => {
                    return Err(BackendError::Api {
                        what,
                        detail: format!(
                            "namespace {name} already exists; the harness never takes over an object it did not \
                             create"
                        ),
                    })
                }
                Err(e) => return Err(explain(&what, e)),
            }
        }
        self.created_namespace = true;
        Ok(())
    }

    /// Lets whoever runs the harness manage pods in its own namespace only: a RoleBinding to
    /// the `chatter-harness-pods` ClusterRole. Best effort: an identity that already may (an
    /// admin) needs none, and one that may not gets a clear 403 on its first pod.
    async fn bind_pods_role(&mut self, ns: &str) {
        let reviews: Api<SelfSubjectReview> = Api::all(self.client.clone());
        let me = match reviews.create(&PostParams::default(), &SelfSubjectReview::default()).await {
            Ok(r) => r.status.and_then(|s| s.user_info).and_then(|u| u.username),
            Err(e) => {
                self.notes.push(format!("kube: no RoleBinding created in {ns} (who am I? {e})"));
                return;
            }
        };
        let Some(me) = me else { return };
        let binding = objects::pods_role_binding(ns, &self.run_id, objects::subject_of(&me));
        let api: Api<RoleBinding> = Api::namespaced(self.client.clone(), ns);
        let pp = PostParams { dry_run: false, field_manager: Some(MANAGER.into()) };
        if let Err(e) = api.create(&pp, &binding).await {
            self.notes.push(format!("kube: no RoleBinding for {me} in {ns}: {e}"));
        }
    }

    /// Deletes this run's pods of `names` and waits until they are gone. A pod without the
    /// harness's labels for this run is never deleted.
    async fn delete_pods(&self, names: &[String]) -> Result<(), BackendError> {
        let api = self.pods()?;
        let mut waits = Vec::new();
        for name in names {
            let Some(pod) = call(&format!("get pod {name}"), || api.get_opt(name)).await? else { continue };
            if !objects::owned_by_run(pod.labels(), &self.run_id) {
                return Err(BackendError::Unsupported(format!(
                    "pod {name} was not created by this run (no {} / {} labels for it); not deleting it",
                    objects::MANAGED_BY,
                    objects::RUN_LABEL
                )));
            }
            let uid = pod.uid().unwrap_or_default();
            let dp = DeleteParams {
                preconditions: Some(Preconditions { uid: Some(uid.clone()), resource_version: None }),
                ..DeleteParams::default()
            };
            match api.delete(name, &dp).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => continue,
                Err(e) => return Err(explain(&format!("delete pod {name}"), e)),
            }
            let api = api.clone();
            let name = name.clone();
            waits.push(async move {
                tokio::time::timeout(Duration::from_secs(60), await_condition(api, &name, conditions::is_deleted(&uid)))
                    .await
                    .map_err(|_| BackendError::Unsupported(format!("pod {name} still exists 60 s after deletion")))?
                    .map_err(|e| BackendError::Wait {
                        what: format!("wait for pod {name} deletion"),
                        source: Box::new(e),
                    })
            });
        }
        for r in futures::future::join_all(waits).await {
            r?;
        }
        Ok(())
    }

    /// Applies the trial's pods (refusing to replace pods it did not create), waits until all
    /// run, releases them together and waits for the talkers. Returns the log readers and
    /// whether the trial was interrupted.
    async fn trial_body(
        &mut self,
        plan: &Plan,
        trial: u32,
        lines: &mpsc::UnboundedSender<Line>,
        stop: &mut watch::Receiver<bool>,
        origin: &mut u64,
    ) -> Result<(Vec<LogReader>, bool), BackendError> {
        let api = self.pods()?;
        let ns = self.namespace.clone().unwrap_or_default();
        let ctx = PodContext {
            namespace: &ns,
            run_id: &self.run_id,
            images: &self.opts.images,
            pin: self.opts.pin,
            nodes: &self.nodes,
        };
        for p in &plan.pods {
            if let Some(existing) = call(&format!("get pod {}", p.name), || api.get_opt(&p.name)).await? {
                if !objects::owned_by_run(existing.labels(), &self.run_id) {
                    return Err(BackendError::Unsupported(format!(
                        "pod {} already exists in namespace {ns} and was not created by this run; refusing to \
                         replace it (use another --namespace)",
                        p.name
                    )));
                }
            }
            let pod = Patch::Apply(objects::pod(p, &ctx, trial));
            let pp = PatchParams::apply(MANAGER).force();
            call(&format!("apply pod {}", p.name), || api.patch(&p.name, &pp, &pod)).await?;
        }
        // Every pod running (its nodes waiting at the barrier), or the reason one cannot.
        let deadline = tokio::time::Instant::now() + self.opts.pod_timeout;
        let mut placement = BTreeMap::new();
        let mut exits = Vec::new();
        for p in &plan.pods {
            let wait = tokio::time::timeout_at(deadline, await_condition(api.clone(), &p.name, started_or_stuck()));
            let waited = tokio::select! {
                w = wait => w,
                _ = stopped(stop) => return Ok((Vec::new(), true)),
            };
            let timed_out = waited.is_err();
            let pod = match waited {
                Ok(Ok(pod)) => pod,
                Ok(Err(e)) => {
                    return Err(BackendError::Wait { what: format!("watch pod {}", p.name), source: Box::new(e) })
                }
                Err(_) => api.get_opt(&p.name).await.ok().flatten(),
            };
            if let Some(reason) = pod.as_ref().and_then(pod_problem) {
                return Err(BackendError::Pod { pod: p.name.clone(), reason });
            }
            if timed_out {
                let why = why_waiting(&self.client, &ns, pod.as_ref(), &p.name).await;
                return Err(BackendError::Pod {
                    pod: p.name.clone(),
                    reason: format!("not running after {} s: {why}", self.opts.pod_timeout.as_secs()),
                });
            }
            let node = pod.as_ref().and_then(|p| p.spec.as_ref()?.node_name.clone()).unwrap_or_else(|| "?".into());
            if let Some(pod) = &pod {
                exits.extend(container_exits(pod, self.nodes.iter().find(|n| n.name == node)));
            }
            let _ = lines.send(Line::event(&p.name, "", Lifecycle::Placed { node: node.clone() }));
            placement.insert(p.name.clone(), node);
        }
        self.facts.insert(trial, TrialFacts { placement, containers: exits, incomplete: Vec::new() });
        // Every container's log, line by line, into the collector (from the container's start,
        // so nothing printed before the release is lost).
        let mut readers = Vec::new();
        for (pod, c) in plan.containers() {
            let lp = LogParams { container: Some(c.name.clone()), follow: true, ..LogParams::default() };
            let stream = call(&format!("logs of {}/{}", pod.name, c.name), || api.log_stream(&pod.name, &lp)).await?;
            let (tx, pod_name, container) = (lines.clone(), pod.name.clone(), c.name.clone());
            // Our nodes end their output with a stop record; a stream that ends before it, or
            // fails, broke (unless the container died, which its exit says).
            let ends_with_stop = !c.is_custom();
            readers.push(tokio::spawn(async move {
                // Byte lines: a container's output that is not UTF-8 must not end the stream.
                let mut stream = stream;
                let mut buf = Vec::new();
                let mut stopped = false;
                let broken = loop {
                    match stream.read_until(b'\n', &mut buf).await {
                        Ok(0) if ends_with_stop && !stopped => {
                            break Some("its log stream ended before the node's stop record".to_owned())
                        }
                        Ok(0) => break None,
                        // A line cut by the failure is not a record.
                        Ok(_) if !buf.ends_with(b"\n") && ends_with_stop => {
                            break Some("its log stream ended in the middle of a line".to_owned())
                        }
                        Ok(_) => {
                            let text = super::lossy_line(&buf);
                            stopped |= chatter::record::parse_line_ref(&text)
                                .is_ok_and(|r| r.kind == chatter::RecordKind::Stop);
                            if tx.send(Line::text(&pod_name, &container, text)).is_err() {
                                break None;
                            }
                            buf.clear();
                        }
                        Err(e) => break Some(format!("its log stream failed: {e}")),
                    }
                };
                let _ = tx.send(Line::event(&pod_name, &container, Lifecycle::Ended { t_ns: chatter::now_ns() }));
                broken.map(|why| (format!("{pod_name}.{container}"), why))
            }));
        }
        // The barrier: one annotation per pod, as close together as the API allows. Reported
        // times count from here.
        *origin = chatter::now_ns();
        // Your own containers are not held at the barrier: they started when their pod ran.
        for (pod, c) in plan.containers() {
            let _ = lines.send(Line::event(&pod.name, &c.name, Lifecycle::Started { t_ns: *origin }));
        }
        let release = Patch::Merge(objects::release_patch(*origin));
        let pp = PatchParams::default();
        for p in &plan.pods {
            call(&format!("release pod {}", p.name), || api.patch(&p.name, &pp, &release)).await?;
        }
        // Talkers stop by themselves after warm-up + duration.
        // Your own talkers (stock demo nodes) never stop by themselves: their part ends on time.
        let custom_talkers = plan.containers().any(|(_, c)| c.role == ContainerRole::Talker && c.is_custom());
        let talk_for = if custom_talkers {
            plan.timing.talker_runs_for(Duration::ZERO)
        } else {
            plan.timing.talker_deadline(crate::timing::KUBE_TALKER_SLACK)
        };
        let talkers_done = async {
            for p in &plan.pods {
                let talkers: Vec<String> =
                    p.containers.iter().filter(|c| c.role == ContainerRole::Talker).map(|c| c.name.clone()).collect();
                if !talkers.is_empty() {
                    let _ = await_condition(api.clone(), &p.name, terminated(talkers)).await;
                }
            }
        };
        let mut interrupted = false;
        tokio::select! {
            _ = tokio::time::timeout(talk_for, talkers_done) => {}
            _ = stopped(stop) => interrupted = true,
        }
        if !interrupted {
            interrupted = drain(plan.timing.drain, stop).await;
        }
        // How each container fared, before the pods go.
        let mut exits = Vec::new();
        for p in &plan.pods {
            if let Ok(Some(pod)) = api.get_opt(&p.name).await {
                let node = pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
                exits.extend(container_exits(&pod, self.nodes.iter().find(|n| n.name == node)));
            }
        }
        if let Some(f) = self.facts.get_mut(&trial) {
            for e in exits {
                if let Some(old) = f.containers.iter_mut().find(|o| o.id == e.id) {
                    *old = e;
                } else {
                    f.containers.push(e);
                }
            }
        }
        Ok((readers, interrupted))
    }
}

/// A container's log reader: when its stream broke, the container's id and why.
type LogReader = tokio::task::JoinHandle<Option<(String, String)>>;

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
    ) -> Result<crate::doctor::DoctorReport, BackendError> {
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
        Ok(crate::doctor::DoctorReport { scenario: scenario.name.clone(), ..report })
    }

    async fn doctor_in(
        &mut self,
        nodes: &[Node],
        domain: u16,
        count: u32,
    ) -> Result<crate::doctor::DoctorReport, BackendError> {
        let api = self.pods()?;
        let ns = self.namespace.clone().unwrap_or_default();
        let pp = PatchParams::apply(MANAGER).force();
        let apply = |name: String, node: &str, host: bool, args: Vec<String>| {
            let pod = objects::probe_pod(&name, &ns, &self.run_id, &self.opts.images, node, host, args);
            (name, Patch::Apply(pod))
        };
        // Responders, then their addresses once they run.
        let mut ips: BTreeMap<(String, &str), String> = BTreeMap::new();
        let mut serve = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            for net in crate::doctor::NETWORKS {
                let args = ["probe", "serve", "--node", &format!("{}/{net}", n.name), "--domain", &domain.to_string()]
                    .map(str::to_owned)
                    .to_vec();
                serve.push((
                    apply(format!("doctor-serve-{i}-{net}"), &n.name, net == "host", args),
                    n.name.clone(),
                    net,
                ));
            }
        }
        for ((name, pod), _, _) in &serve {
            call(&format!("apply pod {name}"), || api.patch(name, &pp, pod)).await?;
        }
        for ((name, _), node, net) in &serve {
            let waited =
                tokio::time::timeout(self.opts.pod_timeout, await_condition(api.clone(), name, started_or_stuck()))
                    .await
                    .map_err(|_| BackendError::Pod {
                        pod: name.clone(),
                        reason: format!("not running after {} s", self.opts.pod_timeout.as_secs()),
                    })?
                    .map_err(|e| BackendError::Wait { what: format!("watch pod {name}"), source: Box::new(e) })?;
            if let Some(reason) = waited.as_ref().and_then(pod_problem) {
                return Err(BackendError::Pod { pod: name.clone(), reason });
            }
            let ip = waited
                .and_then(|p| p.status?.pod_ip)
                .ok_or_else(|| BackendError::Pod { pod: name.clone(), reason: "running without an address".into() })?;
            ips.insert((node.clone(), *net), ip);
        }
        // Probers, one per node and network, each against the others on the same network.
        let mut networks = Vec::new();
        for net in crate::doctor::NETWORKS {
            let mut reports = Vec::new();
            for (i, n) in nodes.iter().enumerate() {
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
                let (name, pod) = apply(format!("doctor-send-{i}-{net}"), &n.name, net == "host", args);
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
                let report: chatter::probe::ProbeReport =
                    serde_json::from_str(line).map_err(|e| BackendError::Pod {
                        pod: name.clone(),
                        reason: format!("unreadable probe report ({e}): {}", text.trim()),
                    })?;
                reports.push(crate::doctor::without_network(report));
            }
            networks.push(crate::doctor::NetworkProbes { network: net.to_owned(), reports });
        }
        let reference = nodes.first().map_or("", |n| n.name.as_str());
        let notes = vec![format!("probe pods in namespace {ns}, pinned to each node by nodeName")];
        Ok(crate::doctor::DoctorReport::new("", "kube", domain, networks, reference, notes))
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
            let taints = n
                .spec
                .as_ref()
                .and_then(|s| s.taints.as_ref())
                .map(|ts| {
                    ts.iter()
                        .map(|t| Taint { key: t.key.clone(), value: t.value.clone(), effect: t.effect.clone() })
                        .collect()
                })
                .unwrap_or_default();
            nodes.push(Node { name: n.name_any(), labels: n.labels().clone(), taints });
        }
        if nodes.iter().all(|n| !n.labels.contains_key(ARCH_LABEL)) && !nodes.is_empty() {
            self.notes.push("no node carries kubernetes.io/arch: architecture checks are off".into());
        }
        self.nodes = nodes.clone();
        Ok(nodes)
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
        if let Some((p, c)) =
            plan.containers().find(|(_, c)| c.stand_in.is_some() && c.image.is_none() && c.command.is_none())
        {
            return Err(BackendError::Unsupported(format!(
                "container {}/{} has only a standIn (for local and netns); on a cluster it needs its `image` and `command`",
                p.name, c.name
            )));
        }
        self.run_id = run_id.to_owned();
        let ns = match &self.opts.namespace {
            Some(ns) => {
                let api: Api<Namespace> = Api::all(self.client.clone());
                match retrying(&format!("get namespace {ns}"), || api.get_opt(ns)).await {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        return Err(BackendError::Unsupported(format!("namespace {ns} (--namespace) does not exist")))
                    }
                    // Rights in one namespace need not include reading it; the pods will tell.
                    Err(kube::Error::Api(s)) if s.code == 403 => {}
                    Err(e) => return Err(explain(&format!("get namespace {ns}"), e)),
                }
                ns.clone()
            }
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
        let ctx =
            PodContext { namespace: &ns, run_id, images: &self.opts.images, pin: self.opts.pin, nodes: &self.nodes };
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
        let mut broken = Vec::new();
        for r in readers {
            tokio::select! {
                r = tokio::time::timeout(Duration::from_secs(30), r) => match r {
                    Ok(Ok(Some(b))) => broken.push(b),
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => broken.push(("a log reader".into(), format!("failed: {e}"))),
                    Err(_) => broken.push(("a log stream".into(), "still open 30 s after its pod was deleted".into())),
                },
                _ = stopped(&mut stop), if !interrupted => {}
            }
        }
        // A container that died explains its own missing output; any other broken stream makes
        // the trial's records incomplete.
        if let Some(f) = self.facts.get_mut(&start.trial) {
            let died = |id: &str| f.containers.iter().any(|c| c.id == id);
            let why: Vec<String> =
                broken.iter().filter(|(id, _)| !died(id)).map(|(id, why)| format!("{id}: {why}")).collect();
            f.incomplete = why;
        }
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

/// Deletes namespace `ns` if the harness made it (for run `run_id`, or any run) and waits
/// until it is gone.
async fn delete_namespace(client: &Client, ns: &str, run_id: Option<&str>) -> Result<(), BackendError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let Some(existing) = call(&format!("get namespace {ns}"), || api.get_opt(ns)).await? else {
        return Ok(());
    };
    let labels = existing.labels();
    let ours = match run_id {
        Some(id) => objects::owned_by_run(labels, id),
        None => {
            labels.get(objects::MANAGED_BY).map(String::as_str) == Some(MANAGER)
                && labels.contains_key(objects::RUN_LABEL)
        }
    };
    if !ours {
        return Err(BackendError::Unsupported(format!(
            "namespace {ns} was not created by chatter-harness{}; not deleting it",
            run_id.map(|r| format!(" for run {r}")).unwrap_or_default()
        )));
    }
    let uid = existing.uid().unwrap_or_default();
    let dp = DeleteParams {
        preconditions: Some(Preconditions { uid: Some(uid.clone()), resource_version: None }),
        ..DeleteParams::default()
    };
    call(&format!("delete namespace {ns}"), || api.delete(ns, &dp)).await?;
    tokio::time::timeout(Duration::from_secs(180), await_condition(api.clone(), ns, conditions::is_deleted(&uid)))
        .await
        .map_err(|_| BackendError::Unsupported(format!("namespace {ns} still exists 180 s after deletion")))?
        .map_err(|e| BackendError::Wait { what: format!("wait for namespace {ns} deletion"), source: Box::new(e) })?;
    Ok(())
}

/// `harness kube cleanup`: deletes what crashed or killed runs left — namespaces the harness
/// created and, with `namespace`, its pods there — for one run or every run. Only objects with
/// the harness's managed-by label and a run id are touched. Returns what was deleted.
pub async fn cleanup_leftovers(
    client: &Client,
    run_id: Option<&str>,
    namespace: Option<&str>,
) -> Result<Vec<String>, BackendError> {
    let lp = ListParams::default().labels(&objects::managed_selector(run_id));
    let mut removed = Vec::new();
    match namespace {
        Some(ns) => {
            let api: Api<Pod> = Api::namespaced(client.clone(), ns);
            for pod in call(&format!("list pods in {ns}"), || api.list(&lp)).await?.items {
                let name = pod.name_any();
                let dp = DeleteParams {
                    preconditions: Some(Preconditions { uid: pod.uid(), resource_version: None }),
                    ..DeleteParams::default()
                };
                call(&format!("delete pod {ns}/{name}"), || api.delete(&name, &dp)).await?;
                removed.push(format!("pod {ns}/{name}"));
            }
        }
        None => {
            let api: Api<Namespace> = Api::all(client.clone());
            for ns in call("list namespaces", || api.list(&lp)).await?.items {
                let name = ns.name_any();
                delete_namespace(client, &name, run_id).await?;
                removed.push(format!("namespace {name}"));
            }
        }
    }
    Ok(removed)
}
