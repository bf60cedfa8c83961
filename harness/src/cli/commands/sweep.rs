//! `harness sweep`: the scenario once per message size, and where delivery breaks.

use std::path::PathBuf;

use tokio::sync::watch;

use crate::backend::local::LocalBackend;
use crate::backend::netns::{Arm64, NetnsBackend};
use crate::backend::NodeCommand;
use crate::cli::args::{BackendArg, SweepArgs};
use crate::cli::backend_choice::resolve_backend;
use crate::cli::exit;
use crate::cli::node_programs::run_programs;
use crate::cli::outcome::{emit, Failure};
use crate::cli::scenario::unplaceable;
use crate::cli::signals::{watch_signals, STOPPED_BY};
use crate::runner::{self, RunOptions};
use crate::spec;
use crate::sweep::size::label;
use crate::sweep::{self, export, SizeOutcome, SizeResult, SweepReport, Swept, Threshold};

/// `harness sweep`: every size's scenario checked, then the sizes run one after another, the
/// sweep's files rewritten after each.
pub(in crate::cli) fn sweep(args: SweepArgs) -> Result<u8, Failure> {
    let SweepArgs { scenario, sizes, backend, trials, parallel, out, node_bin_dir, no_progress, arm64, ros } = args;
    if backend == BackendArg::Kube {
        return Err(Failure::usage(
            "harness sweep runs on local or the simulated cluster (--backend netns); on a cluster, `harness run` the \
             scenario once per payloadBytes",
        ));
    }
    if trials == Some(0) {
        return Err(Failure::usage("--trials must be at least 1"));
    }
    let backend = resolve_backend(backend)?;
    let resolved = parallel.resolve(backend)?;
    let s = spec::load(&scenario).map_err(Failure::usage)?;
    let swept = Swept::of(&s);
    if swept.talkers.is_empty() {
        return Err(Failure::usage(format!("{}: the scenario has no talker: no message to size", scenario.display())));
    }
    crate::placement::place(&s, &crate::placement::declared_nodes(&s)).map_err(|e| unplaceable(&scenario, &s, &e))?;
    let mut sized = Vec::with_capacity(sizes.0.len());
    let mut ros_versions = None;
    for &bytes in &sizes.0 {
        let mut at = sweep::at_size(&s, &swept, bytes);
        spec::validate(&at).map_err(|v| {
            Failure::usage(format!("--sizes {}: {}: {}: {}", label(bytes), scenario.display(), v.field, v.message))
        })?;
        // Stock nodes on this machine's ROS 2, as `harness run` has them.
        ros_versions = ros.apply(&mut at)?;
        sized.push((bytes, at));
    }
    let parallel = parallel.for_scenario(resolved, &s);
    let programs = run_programs(&s, backend, node_bin_dir, &arm64, &ros, ros_versions)?;
    let sweep_id = crate::results::run_id(&format!("{}-sweep", s.name), chatter::now_ns());
    let dir = out.join(&sweep_id);
    std::fs::create_dir_all(&dir).map_err(|e| Failure::backend(format!("{}: {e}", dir.display())))?;
    let mut report = SweepReport {
        schema: sweep::model::SWEEP_SCHEMA,
        sweep_id: sweep_id.clone(),
        scenario: s.name.clone(),
        backend: if backend == BackendArg::Netns { "netns" } else { "local" }.into(),
        planned: sizes.0.clone(),
        threshold: Threshold::of(s.expect.as_ref()),
        swept,
        sizes: Vec::new(),
    };
    export::write_all(&dir, &report).map_err(Failure::backend)?;
    let runs = SizeRuns {
        backend,
        dir: dir.clone(),
        nodes: programs.nodes,
        arm64: programs.arm64,
        ros: programs.ros,
        trials,
        parallel,
        progress: !no_progress,
    };
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(Failure::backend)?;
    rt.block_on(runs.run_all(&sized, &mut report, &sweep_id))?;
    emit(&format!("{}reports: {}\n", export::console(&report), dir.join("sweep.md").display()))?;
    Ok(exit_code(&report))
}

/// How the sizes run: the backend and the flags every size's run shares.
struct SizeRuns {
    backend: BackendArg,
    /// The sweep directory: each size's run directory goes inside.
    dir: PathBuf,
    nodes: NodeCommand,
    arm64: Arm64,
    ros: Option<crate::ros::RosVersions>,
    trials: Option<u32>,
    parallel: usize,
    progress: bool,
}

impl SizeRuns {
    /// Runs each size's scenario in turn with Ctrl-C and SIGTERM watched, adding its result to
    /// `report` and rewriting the sweep's files as each finishes; once stopped, the sizes left
    /// stay unmeasured (the files say which).
    async fn run_all(
        &self,
        sized: &[(u32, spec::Scenario)],
        report: &mut SweepReport,
        sweep_id: &str,
    ) -> Result<(), Failure> {
        let (stop_tx, stop) = watch::channel(false);
        watch_signals(stop_tx, super::run::leftovers(self.backend, sweep_id, None)).map_err(Failure::backend)?;
        for (i, (bytes, s)) in sized.iter().enumerate() {
            if *stop.borrow() {
                break;
            }
            eprintln!("harness: sweep size {} ({} of {})", label(*bytes), i + 1, sized.len());
            let outcome = self.run_size(s, *bytes, &report.swept, stop.clone()).await;
            report.sizes.push(SizeResult { bytes: *bytes, outcome });
            export::write_all(&self.dir, report).map_err(Failure::backend)?;
        }
        Ok(())
    }

    /// One size's run (its directory named after the size, e.g. `64KiB`), read into rows.
    async fn run_size(
        &self,
        s: &spec::Scenario,
        bytes: u32,
        swept: &Swept,
        stop: watch::Receiver<bool>,
    ) -> SizeOutcome {
        let dir = dir_name(bytes);
        let opts = RunOptions {
            results_root: self.dir.clone(),
            trials: self.trials,
            progress: self.progress,
            run_id: Some(dir.clone()),
            preflight: None,
            parallel: self.parallel,
            ros: self.ros.clone(),
        };
        let result = if self.backend == BackendArg::Netns {
            runner::run(s, &mut NetnsBackend::new(self.nodes.clone(), self.arm64.clone()), &opts, stop).await
        } else {
            runner::run(s, &mut LocalBackend::new(self.nodes.clone()), &opts, stop).await
        };
        match result {
            Ok(o) if o.interrupted => {
                SizeOutcome::Failed { error: format!("interrupted (what it measured is in {dir}/)") }
            }
            Ok(o) => SizeOutcome::Ran {
                rows: sweep::rows_of(&o.report, bytes, swept),
                verdict: o.report.verdict.kind,
                headline: o.report.verdict.headline,
                dir,
            },
            Err(e) => SizeOutcome::Failed { error: e.to_string() },
        }
    }
}

/// A size's run directory: its label without the space (`1KiB`, `1.5MiB`, `1000B`).
fn dir_name(bytes: u32) -> String {
    label(bytes).replace(' ', "")
}

/// The signal that stopped the sweep; else 3 when a size could not run, 1 when some relation's
/// delivery dropped below the threshold, 0 when every size held it.
pub(in crate::cli) fn exit_code(report: &SweepReport) -> u8 {
    let interrupted = STOPPED_BY.load(std::sync::atomic::Ordering::SeqCst);
    if interrupted != 0 {
        interrupted
    } else if report.sizes.iter().any(|s| matches!(s.outcome, SizeOutcome::Failed { .. })) {
        exit::BACKEND
    } else if report.broke() {
        exit::EXPECTATIONS_FAILED
    } else {
        exit::OK
    }
}

#[cfg(test)]
mod tests {
    use super::dir_name;

    #[test]
    fn size_directories() {
        assert_eq!(dir_name(65_536), "64KiB");
        assert_eq!(dir_name(3 << 19), "1.5MiB");
        assert_eq!(dir_name(1000), "1000B");
    }
}
