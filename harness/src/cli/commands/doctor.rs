//! `harness doctor`: can DDS's packets cross between the nodes, and how far apart are their clocks.

use crate::backend::kube::KubeBackend;
use crate::backend::netns::NetnsBackend;
use crate::backend::{BackendError, NodeCommand};
use crate::cli::args::{Arm64Args, BackendArg, ClusterArgs, ImageArgs};
use crate::cli::backend_choice::resolve_backend;
use crate::cli::cluster::probe_options;
use crate::cli::exit;
use crate::cli::node_programs::this_exe;
use crate::cli::outcome::{emit, Failure};
use crate::spec;

/// `harness doctor FILE`: the probes on the simulated cluster or a real one, written to
/// `<out>/<id>-doctor/doctor.json` and shown.
pub(in crate::cli) fn doctor(
    scenario: &std::path::Path,
    backend: BackendArg,
    count: u32,
    out: &std::path::Path,
    arm64: &Arm64Args,
    (cluster, images): (&ClusterArgs, &ImageArgs),
) -> Result<u8, Failure> {
    if count == 0 {
        return Err(Failure::usage("--count must be at least 1"));
    }
    let s = spec::load(scenario).map_err(Failure::usage)?;
    let backend = resolve_backend(backend)?;
    if backend == BackendArg::Local {
        return Err(Failure::usage(
            "harness doctor probes between nodes: on local every pod shares one network; use --backend netns or kube",
        ));
    }
    let exe = this_exe()?;
    let arm64 = arm64.resolve(&exe);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Failure::backend)?;
    let id = crate::results::run_id(&format!("{}-doctor", s.name), chatter::now_ns());
    let report = rt.block_on(async {
        if backend == BackendArg::Kube {
            let client = cluster
                .client()
                .await
                .map_err(|e| BackendError::Unsupported(format!("cannot reach the cluster: {e}")))?;
            let opts = probe_options(images, std::time::Duration::from_secs(180));
            KubeBackend::new(client, opts).doctor(&s, count, &id).await
        } else {
            NetnsBackend::new(NodeCommand::SelfExe(exe), arm64).doctor(&s, count).await
        }
    });
    let mut report = report.map_err(Failure::backend)?;
    // Which pods Fast DDS would take for one host without a shared /dev/shm: from placement
    // (on kube, where the scheduler may still put them together, the declared nodes').
    if let Ok(plan) = crate::placement::place(&s, &crate::placement::declared_nodes(&s)) {
        report.shared_hosts = crate::doctor::shared_hosts(&plan);
    }
    let dir = out.join(&id);
    std::fs::create_dir_all(&dir).map_err(|e| Failure::backend(format!("{}: {e}", dir.display())))?;
    crate::results::write_atomic(&dir.join("doctor.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &report).map_err(std::io::Error::from)?;
        w.write_all(b"\n")
    })
    .map_err(Failure::backend)?;
    emit(&format!("{}report: {}\n", report.text(), dir.join("doctor.json").display()))?;
    Ok(exit::OK)
}
