//! The ways a backend fails ([`BackendError`]).

use std::path::PathBuf;

/// Backend failures.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Sandbox(#[from] chatter_sandbox::SandboxError),
    #[error("could not start {what}: {source}")]
    Spawn { what: String, source: std::io::Error },
    #[error("node binary not found: {} (pass --node-bin-dir, or run the harness binary itself)", .0.display())]
    MissingBinary(PathBuf),
    /// Refused before anything started: the machine or the scenario cannot do this.
    #[error("{0}")]
    Unsupported(String),
    #[error("`{command}` failed: {detail}")]
    Setup { command: String, detail: String },
    #[error("Kubernetes API: {what}: {source}")]
    Kube { what: String, source: Box<::kube::Error> },
    /// An API error explained: forbidden, conflict, rejected object.
    #[error("Kubernetes API: {what}: {detail}")]
    Api { what: String, detail: String },
    #[error("Kubernetes API: {what}: {source}")]
    Wait { what: String, source: Box<::kube::runtime::wait::Error> },
    #[error("pod {pod} cannot run: {reason}")]
    Pod { pod: String, reason: String },
}
