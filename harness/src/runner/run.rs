//! A run from start to end on its backends: nodes, placement, preparing the backend (and its
//! siblings for `--parallel`), the trials, and removing what the backends created whatever
//! happened.

use std::path::Path;

use tokio::sync::watch;

use super::options::{trial_count, RunError, RunOptions, RunOutcome};
use super::trials::run_trials;
use crate::backend::{Backend, BackendError};
use crate::placement::{place, Plan};
use crate::results;
use crate::spec::Scenario;

/// Runs `scenario` on `backend`. `stop` turning true (Ctrl-C) ends the current trial early;
/// it is reported as interrupted and no further trial starts.
pub async fn run<B: Backend>(
    scenario: &Scenario,
    backend: &mut B,
    opts: &RunOptions,
    stop: watch::Receiver<bool>,
) -> Result<RunOutcome, RunError> {
    let backend_name = backend.name();

    let backend_err = |dir: Option<&Path>| {
        let backend = backend_name;
        let dir = dir.map(Path::to_owned);
        move |source| RunError::Backend { backend, dir, source }
    };
    let nodes = backend.nodes(scenario).await.map_err(backend_err(None))?;
    let plan = place(scenario, &nodes)?;
    let run_id = opts.run_id.clone().unwrap_or_else(|| results::run_id(&scenario.name, chatter::now_ns()));
    let parallel = opts.parallel.clamp(1, usize::try_from(trial_count(scenario, opts).max(1)).unwrap_or(1));
    if let Err(e) = backend.prepare(scenario, &plan, &run_id).await {
        let _ = backend.cleanup().await;
        return Err(backend_err(None)(e));
    }
    let mut siblings: Vec<B> = Vec::new();
    let prepared = prepare_siblings(&*backend, &mut siblings, parallel, scenario, &plan, &run_id).await;
    let result = match prepared {
        Ok(()) => {
            let slots: Vec<&mut B> = std::iter::once(&mut *backend).chain(siblings.iter_mut()).collect();
            Ok(run_trials(scenario, slots, &plan, &run_id, opts, stop).await)
        }
        Err(e) => Err(e),
    };
    // Whatever happened, remove what the backends created.
    let cleanup = cleanup_all(backend, &mut siblings).await;
    let (outcome, failure) = result.map_err(backend_err(None))??;
    if let Some(source) = failure {
        return Err(backend_err(Some(&outcome.dir))(source));
    }
    cleanup.map_err(backend_err(Some(&outcome.dir)))?;
    Ok(outcome)
}

/// `--parallel`: siblings of the backend, each prepared as it was, pushed onto `siblings` (a
/// sibling whose preparation failed too, so that it is cleaned up).
async fn prepare_siblings<B: Backend>(
    backend: &B,
    siblings: &mut Vec<B>,
    parallel: usize,
    scenario: &Scenario,
    plan: &Plan,
    run_id: &str,
) -> Result<(), BackendError> {
    let backend_name = backend.name();
    for slot in 1..parallel {
        let Some(mut sibling) = backend.sibling(slot) else {
            return Err(BackendError::Unsupported(format!(
                "the {backend_name} backend runs one trial at a time (its trials would share nodes and network); \
                 drop --parallel"
            )));
        };
        let ready = sibling.prepare(scenario, plan, run_id).await;
        siblings.push(sibling);
        ready?;
    }
    Ok(())
}

/// Cleans up the backend, then each sibling; the first failure is the result.
async fn cleanup_all<B: Backend>(backend: &mut B, siblings: &mut [B]) -> Result<(), BackendError> {
    let mut cleanup = backend.cleanup().await;
    for sibling in siblings {
        let done = sibling.cleanup().await;
        if cleanup.is_ok() {
            cleanup = done;
        }
    }
    cleanup
}
