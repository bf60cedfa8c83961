//! `harness run`: a scenario's trials on a backend, and the exit code of their verdict.

use tokio::sync::watch;

use crate::backend::kube::KubeBackend;
use crate::backend::local::LocalBackend;
use crate::backend::netns::{Arm64, NetnsBackend};
use crate::backend::NodeCommand;
use crate::cli::args::{BackendArg, RunArgs};
use crate::cli::backend_choice::{in_user_namespace, resolve_backend};
use crate::cli::exit;
use crate::cli::node_programs::this_exe;
use crate::cli::outcome::{emit, Failure};
use crate::cli::scenario::unplaceable;
use crate::cli::signals::{watch_signals, STOPPED_BY};
use crate::runner::{self, RunOptions};
use crate::{report, spec};

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
    let exe = this_exe()?;
    let mut arm64 = arm64.resolve(&exe);
    let mut ros_versions = ros_versions;
    let nodes = match node_bin_dir {
        Some(dir) => NodeCommand::BinDir(dir),
        // `transport: ros` here: our r2r nodes on the wheels (scripts/build-ros.sh), amd64 on
        // every node (there are no aarch64 wheels).
        None if s.dds.transport == spec::Transport::Ros && backend != BackendArg::Kube => {
            let distro = ros.ros_distro.into();
            let dir = crate::ros::r2r_bin_dir(distro).map_err(|e| Failure::backend(e.to_string()))?;
            if ros_versions.is_none() {
                let stack = crate::ros::RosStack::find(distro, ros.ros_venv.as_deref())
                    .map_err(|e| Failure::backend(e.to_string()))?;
                ros_versions = Some(stack.versions);
            }
            arm64 = Arm64::Native;
            NodeCommand::BinDir(dir)
        }
        None => NodeCommand::SelfExe(exe),
    };
    let run_id = crate::results::run_id(&s.name, chatter::now_ns());
    let leftovers = match backend {
        BackendArg::Local | BackendArg::Auto => "node processes (they end at their own --duration bound)".to_owned(),
        BackendArg::Netns if in_user_namespace() => {
            "nothing: the namespaces and node processes of a user-namespace run end with it".into()
        }
        BackendArg::Netns => "network namespaces and node processes: remove them with `harness netns cleanup`".into(),
        BackendArg::Kube => format!(
            "run {run_id}'s namespace or pods on the cluster: remove them with `harness kube cleanup --run {run_id}`{}",
            kube.namespace.as_deref().map(|n| format!(" -n {n}")).unwrap_or_default()
        ),
    };
    let mut opts = RunOptions {
        results_root: out,
        trials,
        progress: !no_progress,
        run_id: Some(run_id.clone()),
        preflight: None,
        parallel,
        ros: ros_versions,
    };
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(Failure::backend)?;
    rt.block_on(async move {
        let (stop_tx, stop) = watch::channel(false);
        watch_signals(stop_tx, leftovers).map_err(Failure::backend)?;
        let client = match backend {
            BackendArg::Kube => Some(
                kube.cluster.client().await.map_err(|e| Failure::backend(format!("cannot reach the cluster: {e}")))?,
            ),
            _ => None,
        };
        if preflight {
            eprintln!("harness: preflight: probing the cluster (harness doctor)");
            let report = match &client {
                // Its own namespace (privileged, for the host-network probes), gone before the run.
                Some(client) => {
                    let id = format!("preflight-{run_id}");
                    KubeBackend::new(client.clone(), kube.doctor_options()).doctor(&s, 20, &id).await
                }
                None => NetnsBackend::new(nodes.clone(), arm64.clone()).doctor(&s, 20).await,
            };
            let report = report.map_err(Failure::backend)?;
            eprint!("{}", report.text());
            opts.preflight = Some(report);
        }
        let outcome = match (backend, client) {
            (BackendArg::Kube, Some(client)) => {
                runner::run(&s, &mut KubeBackend::new(client, kube.options()), &opts, stop).await
            }
            (BackendArg::Netns, _) => runner::run(&s, &mut NetnsBackend::new(nodes, arm64), &opts, stop).await,
            _ => runner::run(&s, &mut LocalBackend::new(nodes), &opts, stop).await,
        };
        match outcome {
            Ok(o) => {
                emit(&format!("{}reports: {}\n", report::console(&o.report), o.dir.display()))?;
                Ok(if o.interrupted {
                    match STOPPED_BY.load(std::sync::atomic::Ordering::SeqCst) {
                        0 => exit::INTERRUPTED,
                        code => code,
                    }
                } else if o.report.expectations_met() {
                    exit::OK
                } else {
                    exit::EXPECTATIONS_FAILED
                })
            }
            Err(runner::RunError::Placement(e)) => Err(unplaceable(&scenario, &s, &e)),
            Err(e) => Err(Failure::backend(e)),
        }
    })
}
