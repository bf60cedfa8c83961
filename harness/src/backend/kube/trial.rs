//! One trial on the cluster, phase by phase: apply its pods (refusing to replace pods the run
//! did not create), wait until every one runs (its nodes waiting at the start barrier) or says
//! why it cannot, follow their logs, release them together, wait for the talkers and the drain,
//! then read how each container fared.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::wait::await_condition;
use kube::ResourceExt;
use tokio::sync::{mpsc, watch};

use super::api::call;
use super::logs::{follow_logs, LogReader};
use super::objects::{self, MANAGER};
use super::status::{container_exits, pod_problem, started_or_stuck, terminated, why_waiting};
use super::KubeBackend;
use crate::backend::drive::{drain, stopped};
use crate::backend::{BackendError, ContainerExit, Lifecycle, Line, TrialFacts};
use crate::placement::Plan;
use crate::spec::ContainerRole;

impl KubeBackend {
    /// Applies the trial's pods, waits until all run, releases them together and waits for the
    /// talkers. Returns the log readers and whether the trial was interrupted.
    pub(super) async fn trial_body(
        &mut self,
        plan: &Plan,
        trial: u32,
        lines: &mpsc::UnboundedSender<Line>,
        stop: &mut watch::Receiver<bool>,
        origin: &mut u64,
    ) -> Result<(Vec<LogReader>, bool), BackendError> {
        let api = self.pods()?;
        self.apply_trial_pods(&api, plan, trial).await?;
        let Some(facts) = self.await_running(&api, plan, lines, stop).await? else {
            return Ok((Vec::new(), true));
        };
        self.facts.insert(trial, facts);
        let readers = follow_logs(&api, plan, lines).await?;
        // The barrier: one annotation per pod, as close together as the API allows. Reported
        // times count from here.
        *origin = chatter::now_ns();
        release(&api, plan, lines, *origin).await?;
        let mut interrupted = await_talkers(&api, plan, stop).await;
        if !interrupted {
            interrupted = drain(plan.timing.drain, stop).await;
        }
        self.record_final_exits(&api, plan, trial).await;
        Ok((readers, interrupted))
    }

    /// Applies every pod of the trial (server-side apply), refusing to replace one this run
    /// did not create.
    async fn apply_trial_pods(&self, api: &Api<Pod>, plan: &Plan, trial: u32) -> Result<(), BackendError> {
        let ns = self.namespace.clone().unwrap_or_default();
        let ctx = self.pod_context(&ns);
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
        Ok(())
    }

    /// Waits until every pod runs (its nodes waiting at the barrier), within the pod timeout,
    /// or fails with the reason one cannot; sends where each pod was placed. Returns where they
    /// ran and the containers that already ended badly, or `None` when `stop` came first.
    async fn await_running(
        &self,
        api: &Api<Pod>,
        plan: &Plan,
        lines: &mpsc::UnboundedSender<Line>,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Option<TrialFacts>, BackendError> {
        let ns = self.namespace.clone().unwrap_or_default();
        let deadline = tokio::time::Instant::now() + self.opts.pod_timeout;
        let mut placement = BTreeMap::new();
        let mut exits = Vec::new();
        for p in &plan.pods {
            let wait = tokio::time::timeout_at(deadline, await_condition(api.clone(), &p.name, started_or_stuck()));
            let waited = tokio::select! {
                w = wait => w,
                _ = stopped(stop) => return Ok(None),
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
        Ok(Some(TrialFacts {
            placement,
            containers: exits,
            incomplete: Vec::new(),
            participants: Vec::new(),
            traffic: Vec::new(),
            kernel: Vec::new(),
        }))
    }

    /// How each container fared, read before the pods go: replaces what the trial's start
    /// said of a container, adds the others.
    async fn record_final_exits(&mut self, api: &Api<Pod>, plan: &Plan, trial: u32) {
        let mut exits = Vec::new();
        for p in &plan.pods {
            if let Ok(Some(pod)) = api.get_opt(&p.name).await {
                let node = pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
                exits.extend(container_exits(&pod, self.nodes.iter().find(|n| n.name == node)));
            }
        }
        if let Some(f) = self.facts.get_mut(&trial) {
            merge_exits(&mut f.containers, exits);
        }
    }

    /// A container that died explains its own missing output; any other `broken` stream makes
    /// the trial's records incomplete.
    pub(super) fn mark_incomplete(&mut self, trial: u32, broken: &[(String, String)]) {
        if let Some(f) = self.facts.get_mut(&trial) {
            let died = |id: &str| f.containers.iter().any(|c| c.id == id);
            let why: Vec<String> =
                broken.iter().filter(|(id, _)| !died(id)).map(|(id, why)| format!("{id}: {why}")).collect();
            f.incomplete = why;
        }
    }
}

/// Each of `exits` replaces the one of the same container in `containers`, or is added.
fn merge_exits(containers: &mut Vec<ContainerExit>, exits: Vec<ContainerExit>) {
    for e in exits {
        if let Some(old) = containers.iter_mut().find(|o| o.id == e.id) {
            *old = e;
        } else {
            containers.push(e);
        }
    }
}

/// Releases every pod of the trial at `origin` (its start annotation), and says when the
/// containers started: your own containers are not held at the barrier, they started when
/// their pod ran.
async fn release(
    api: &Api<Pod>,
    plan: &Plan,
    lines: &mpsc::UnboundedSender<Line>,
    origin: u64,
) -> Result<(), BackendError> {
    for (pod, c) in plan.containers() {
        let _ = lines.send(Line::event(&pod.name, &c.name, Lifecycle::Started { t_ns: origin }));
    }
    let release = Patch::Merge(objects::release_patch(origin));
    let pp = PatchParams::default();
    for p in &plan.pods {
        call(&format!("release pod {}", p.name), || api.patch(&p.name, &pp, &release)).await?;
    }
    Ok(())
}

/// Waits until every talker has terminated, or its time is up; returns whether `stop` came
/// first. Talkers stop by themselves after warm-up + duration; your own talkers (stock demo
/// nodes) never stop by themselves: their part ends on time.
async fn await_talkers(api: &Api<Pod>, plan: &Plan, stop: &mut watch::Receiver<bool>) -> bool {
    let custom_talkers = plan.containers().any(|(_, c)| c.role == ContainerRole::Talker && c.is_custom());
    let talk_for: Duration = if custom_talkers {
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
    tokio::select! {
        _ = tokio::time::timeout(talk_for, talkers_done) => false,
        _ = stopped(stop) => true,
    }
}
