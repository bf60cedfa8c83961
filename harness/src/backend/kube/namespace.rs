//! The run's namespace: one of its own that the harness creates (never takes over) with a
//! RoleBinding for whoever runs it, or the user's own (`--namespace`), which must exist.

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, PostParams};

use super::api::{explain, retrying};
use super::objects::{self, MANAGER};
use super::KubeBackend;
use crate::backend::BackendError;

impl KubeBackend {
    /// Creates the run's namespace; refuses one that already exists (never relabels it).
    pub(super) async fn create_namespace(&mut self, name: &str, host_network: bool) -> Result<(), BackendError> {
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
    pub(super) async fn bind_pods_role(&mut self, ns: &str) {
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

    /// The user's own namespace `ns` (`--namespace`), which must exist.
    pub(super) async fn check_user_namespace(&self, ns: String) -> Result<String, BackendError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        match retrying(&format!("get namespace {ns}"), || api.get_opt(&ns)).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(BackendError::Unsupported(format!("namespace {ns} (--namespace) does not exist"))),
            // Rights in one namespace need not include reading it; the pods will tell.
            Err(kube::Error::Api(s)) if s.code == 403 => {}
            Err(e) => return Err(explain(&format!("get namespace {ns}"), e)),
        }
        Ok(ns)
    }
}
