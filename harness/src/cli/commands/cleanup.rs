//! `harness kube cleanup` and `harness netns cleanup`: what crashed or killed runs left behind.

use crate::cli::args::ClusterArgs;
use crate::cli::exit;
use crate::cli::outcome::Failure;

/// `harness kube cleanup`: the harness's leftover objects on the cluster, removed.
pub(in crate::cli) fn kube_cleanup(
    run: Option<&str>,
    namespace: Option<&str>,
    cluster: &ClusterArgs,
) -> Result<u8, Failure> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Failure::backend)?;
    rt.block_on(async {
        let client = cluster.client().await.map_err(|e| Failure::backend(format!("cannot reach the cluster: {e}")))?;
        let removed = tokio::select! {
            r = crate::backend::kube::cleanup_leftovers(&client, run, namespace) => r.map_err(Failure::backend)?,
            _ = tokio::signal::ctrl_c() => return Err(Failure { code: exit::INTERRUPTED, message: "interrupted".into() }),
        };
        println!("removed {} object(s){}", removed.len(), if removed.is_empty() { String::new() } else { format!(": {}", removed.join(", ")) });
        Ok(exit::OK)
    })
}

/// `harness netns cleanup`: the namespaces of runs whose harness is gone (or, with `all`, of
/// every run), removed.
pub(in crate::cli) fn netns_cleanup(run: Option<&str>, all: bool) -> u8 {
    use crate::backend::netns::{remove_run, runs};
    let mut removed = Vec::new();
    for r in runs() {
        let name = r.run_id.clone().unwrap_or_else(|| "unregistered".into());
        if run.is_some_and(|id| r.run_id.as_deref() != Some(id)) {
            continue;
        }
        if r.alive && !all {
            println!(
                "kept {} namespace(s) of run {name}: its harness (pid {}) is still running (--all removes them too)",
                r.namespaces.len(),
                r.pid.unwrap_or(0)
            );
            continue;
        }
        removed.extend(remove_run(&r.tag));
    }
    if removed.is_empty() {
        println!("removed 0 namespaces");
    } else {
        println!("removed {} namespace(s): {}", removed.len(), removed.join(" "));
    }
    exit::OK
}
