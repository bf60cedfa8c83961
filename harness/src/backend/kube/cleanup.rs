//! Deleting what the harness made, and only that: a trial's pods (waiting until they are
//! gone), the run's namespace, and what crashed or killed runs left (`harness kube cleanup`).
//! Nothing without the harness's managed-by label and a run id is ever deleted.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, Preconditions};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Client, ResourceExt};

use super::api::{call, explain};
use super::objects::{self, MANAGER};
use super::KubeBackend;
use crate::backend::BackendError;

impl KubeBackend {
    /// Deletes this run's pods of `names` and waits until they are gone. A pod without the
    /// harness's labels for this run is never deleted.
    pub(super) async fn delete_pods(&self, names: &[String]) -> Result<(), BackendError> {
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
}

/// Deletes namespace `ns` if the harness made it (for run `run_id`, or any run) and waits
/// until it is gone.
pub(super) async fn delete_namespace(client: &Client, ns: &str, run_id: Option<&str>) -> Result<(), BackendError> {
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
