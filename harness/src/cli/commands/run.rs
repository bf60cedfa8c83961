//! `harness run`: a scenario's trials on a backend, and the exit code of their verdict.

use std::path::PathBuf;

use tokio::sync::watch;

use crate::backend::kube::KubeBackend;
use crate::backend::local::LocalBackend;
use crate::backend::netns::{Arm64, NetnsBackend};
use crate::backend::NodeCommand;
use crate::cli::args::{BackendArg, KubeArgs, RunArgs};
use crate::cli::backend_choice::{in_user_namespace, resolve_backend};
use crate::cli::exit;
use crate::cli::node_programs::run_programs;
use crate::cli::outcome::{emit, Failure};
use crate::cli::scenario::unplaceable;
use crate::cli::signals::{watch_signals, STOPPED_BY};
use crate::runner::{self, RunOptions, RunOutcome};
use crate::{report, spec};

/// `harness run`: the flags checked and resolved, then the run on its backend.
pub(in crate::cli) fn run(args: RunArgs) -> Result<u8, Failure> {
    let RunArgs {
        scenario,
        backend,
        trials,
        until_confident,
        parallel,
        out,
        node_bin_dir,
        no_progress,
        arm64,
        ros,
        preflight,
        kube,
    } = args;
    let backend = resolve_backend(backend)?;
    let resolved = parallel.resolve(backend)?;
    if preflight && backend == BackendArg::Local {
        return Err(Failure::usage(
            "--preflight probes between nodes: on local every pod shares one network; use --backend netns or kube",
        ));
    }
    let mut s = spec::load(&scenario).map_err(Failure::usage)?;
    let parallel = parallel.for_scenario(resolved, &s);
    // On a cluster the images run the stock nodes; here the wheels do.
    let ros_versions = if backend == BackendArg::Kube { None } else { ros.apply(&mut s)? };
    if until_confident {
        s.trials.until = Some(spec::Until::Confident);
    }
    if trials == Some(0) {
        return Err(Failure::usage("--trials must be at least 1"));
    }
    let programs = run_programs(&s, backend, node_bin_dir, &arm64, &ros, ros_versions)?;
    let run_id = crate::results::run_id(&s.name, chatter::now_ns());
    let leftovers = leftovers(backend, &run_id, kube.namespace.as_deref());
    let opts = RunOptions {
        results_root: out,
        trials,
        progress: !no_progress,
        run_id: Some(run_id.clone()),
        preflight: None,
        parallel,
        ros: programs.ros,
    };
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(Failure::backend)?;
    let run = ResolvedRun {
        path: scenario,
        s,
        backend,
        nodes: programs.nodes,
        arm64: programs.arm64,
        kube,
        preflight,
        run_id,
        opts,
    };
    rt.block_on(run.start(leftovers))
}

/// What a second Ctrl-C may leave behind on `backend`, and how to remove it.
pub(in crate::cli) fn leftovers(backend: BackendArg, run_id: &str, namespace: Option<&str>) -> String {
    match backend {
        BackendArg::Local | BackendArg::Auto => "node processes (they end at their own --duration bound)".to_owned(),
        BackendArg::Netns if in_user_namespace() => {
            "nothing: the namespaces and node processes of a user-namespace run end with it".into()
        }
        BackendArg::Netns => "network namespaces and node processes: remove them with `harness netns cleanup`".into(),
        BackendArg::Kube => format!(
            "run {run_id}'s namespace or pods on the cluster: remove them with `harness kube cleanup --run {run_id}`{}",
            namespace.map(|n| format!(" -n {n}")).unwrap_or_default()
        ),
    }
}

/// A run with its flags resolved, ready to start.
struct ResolvedRun {
    /// The scenario file, which placement errors point into.
    path: PathBuf,
    s: spec::Scenario,
    backend: BackendArg,
    nodes: NodeCommand,
    arm64: Arm64,
    kube: KubeArgs,
    preflight: bool,
    run_id: String,
    opts: RunOptions,
}

impl ResolvedRun {
    /// Runs with Ctrl-C and SIGTERM watched (`leftovers`: what a second one may leave): the
    /// preflight first when asked, then the trials; the console summary, and the exit code.
    async fn start(mut self, leftovers: String) -> Result<u8, Failure> {
        let (stop_tx, stop) = watch::channel(false);
        watch_signals(stop_tx, leftovers).map_err(Failure::backend)?;
        let client = match self.backend {
            BackendArg::Kube => Some(
                self.kube
                    .cluster
                    .client()
                    .await
                    .map_err(|e| Failure::backend(format!("cannot reach the cluster: {e}")))?,
            ),
            _ => None,
        };
        if self.preflight {
            self.opts.preflight = Some(self.probe(client.as_ref()).await?);
        }
        let (s, opts) = (&self.s, &self.opts);
        let outcome = match (self.backend, client) {
            (BackendArg::Kube, Some(client)) => {
                runner::run(s, &mut KubeBackend::new(client, self.kube.options()), opts, stop).await
            }
            (BackendArg::Netns, _) => runner::run(s, &mut NetnsBackend::new(self.nodes, self.arm64), opts, stop).await,
            _ => runner::run(s, &mut LocalBackend::new(self.nodes), opts, stop).await,
        };
        match outcome {
            Ok(o) => {
                emit(&format!("{}reports: {}\n", report::console(&o.report), o.dir.display()))?;
                Ok(exit_code(&o))
            }
            Err(runner::RunError::Placement(e)) => Err(unplaceable(&self.path, s, &e)),
            Err(e) => Err(Failure::backend(e)),
        }
    }

    /// `--preflight`: the doctor's probes of the cluster (`client`) or the simulated one, shown
    /// on stderr.
    async fn probe(&self, client: Option<&kube::Client>) -> Result<crate::doctor::DoctorReport, Failure> {
        eprintln!("harness: preflight: probing the cluster (harness doctor)");
        let report = match client {
            // Its own namespace (privileged, for the host-network probes), gone before the run.
            Some(client) => {
                let id = format!("preflight-{}", self.run_id);
                KubeBackend::new(client.clone(), self.kube.doctor_options()).doctor(&self.s, 20, &id).await
            }
            None => NetnsBackend::new(self.nodes.clone(), self.arm64.clone()).doctor(&self.s, 20).await,
        };
        let report = report.map_err(Failure::backend)?;
        eprint!("{}", report.text());
        Ok(report)
    }
}

/// The signal that stopped the run (130, 143), else 0 when every expectation held, 1 when one
/// failed.
fn exit_code(o: &RunOutcome) -> u8 {
    if o.interrupted {
        match STOPPED_BY.load(std::sync::atomic::Ordering::SeqCst) {
            0 => exit::INTERRUPTED,
            code => code,
        }
    } else if o.report.expectations_met() {
        exit::OK
    } else {
        exit::EXPECTATIONS_FAILED
    }
}
