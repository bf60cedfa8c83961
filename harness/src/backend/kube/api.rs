//! Calling the Kubernetes API: every call retried with backoff on transient errors, and an
//! error explained where its status says why (forbidden, conflict, invalid).

use std::future::Future;
use std::time::Duration;

use crate::backend::BackendError;

/// An API error, explained where the status says why (forbidden, conflict, invalid).
pub(super) fn explain(what: &str, e: kube::Error) -> BackendError {
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
pub(super) async fn call<T, F, Fut>(what: &str, f: F) -> Result<T, BackendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    retrying(what, f).await.map_err(|e| explain(what, e))
}

/// One API call, retried with exponential backoff on transient errors (`backon`).
pub(super) async fn retrying<T, F, Fut>(what: &str, f: F) -> Result<T, kube::Error>
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
