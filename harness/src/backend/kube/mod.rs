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

mod api;
mod backend;
mod cleanup;
mod doctor;
mod logs;
mod namespace;
pub mod objects;
mod status;
mod trial;

pub use backend::{KubeBackend, KubeOptions};
pub use cleanup::cleanup_leftovers;
pub use status::{container_exits, pod_problem};
