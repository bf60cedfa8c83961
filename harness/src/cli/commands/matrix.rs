//! `harness matrix`: the scenario under every fix variant, and the fix that delivers everything.

use std::path::Path;

use tokio::sync::watch;

use crate::backend::netns::{Arm64, NetnsBackend};
use crate::backend::NodeCommand;
use crate::cli::args::{BackendArg, ImageArgs, MatrixArgs};
use crate::cli::backend_choice::resolve_backend;
use crate::cli::exit;
use crate::cli::node_programs::run_programs;
use crate::cli::outcome::{emit, Failure};
use crate::cli::scenario::unplaceable;
use crate::cli::signals::{watch_signals, STOPPED_BY};
use crate::matrix::{self, MatrixReport, Outcome, VariantResult};
use crate::placement::Plan;
use crate::runner::{self, RunOptions};
use crate::spec;

/// `harness matrix`: every variant on the simulated cluster, the table, the overlays and the fix.
pub(in crate::cli) fn matrix(args: MatrixArgs) -> Result<u8, Failure> {
    let MatrixArgs { scenario, backend, trials, manifests, parallel, out, no_progress, arm64, ros, images } = args;
    if backend != BackendArg::Netns {
        return Err(Failure::usage(
            "harness matrix runs on the simulated cluster (--backend netns): on local every pod shares one network, \
             so no fix can be told apart; on a cluster, apply the recommended overlay and `harness run` it",
        ));
    }
    if trials == Some(0) {
        return Err(Failure::usage("--trials must be at least 1"));
    }
    let resolved = parallel.resolve(resolve_backend(backend)?)?;
    let mut s = spec::load(&scenario).map_err(Failure::usage)?;
    let parallel = parallel.for_scenario(resolved, &s);
    let mut stack = ros.apply_stack(&mut s)?;
    if stack.is_none() && s.dds.transport == spec::Transport::Ros {
        // Our r2r nodes run on the wheels, whose discovery server the matrix also runs.
        stack = Some(
            crate::ros::RosStack::find(ros.ros_distro.into(), ros.ros_venv.as_deref())
                .map_err(|e| Failure::backend(e.to_string()))?,
        );
    }
    let plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s))
        .map_err(|e| unplaceable(&scenario, &s, &e))?;
    // Read before anything runs: a manifest that does not parse is a usage error, not a lost matrix.
    let manifests = if manifests.is_empty() {
        None
    } else {
        let files = super::lint::read_sources(&manifests)?;
        let paths = manifests.iter().map(|p| p.display().to_string()).collect();
        Some(matrix::Manifests { paths, busiest: crate::lint::busiest_ip(&files) })
    };
    // The same node programs as `harness run` (our r2r build for `transport: ros`).
    let programs =
        run_programs(&s, BackendArg::Netns, None, &arm64, &ros, stack.as_ref().map(|st| st.versions.clone()))?;
    let matrix_id = crate::results::run_id(&format!("{}-matrix", s.name), chatter::now_ns());
    let dir = out.join(&matrix_id);
    std::fs::create_dir_all(&dir).map_err(|e| Failure::backend(format!("{}: {e}", dir.display())))?;
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(Failure::backend)?;
    let runs = VariantRuns {
        s: &s,
        plan: &plan,
        stack: stack.as_ref(),
        dir: &dir,
        nodes: programs.nodes,
        arm64: programs.arm64,
        ros: programs.ros,
        trials,
        parallel,
        progress: !no_progress,
    };
    let mut report = rt.block_on(runs.run_all())?;
    report.manifests = manifests;
    report.bridges = matrix::bridge_words(&report);
    report.recommend();
    write_fixes(&mut report, &s, &plan, &matrix_id, &images, &dir)?;
    report.write(&dir).map_err(Failure::backend)?;
    emit(&format!("{}reports: {}\n", report.console(), dir.join("matrix.md").display()))?;
    Ok(exit_code(&report))
}

/// How the fix variants run: the scenario and its placement, and the flags every variant's run
/// shares.
struct VariantRuns<'a> {
    s: &'a spec::Scenario,
    plan: &'a Plan,
    stack: Option<&'a crate::ros::RosStack>,
    /// The matrix directory: each variant's run directory goes inside.
    dir: &'a Path,
    nodes: NodeCommand,
    arm64: Arm64,
    /// The real ROS 2 recorded with each variant's run.
    ros: Option<crate::ros::RosVersions>,
    trials: Option<u32>,
    parallel: usize,
    progress: bool,
}

impl VariantRuns<'_> {
    /// Runs the variants that apply, one after another, with Ctrl-C watched: once stopped, the
    /// variants left count as failed ("interrupted").
    async fn run_all(&self) -> Result<MatrixReport, Failure> {
        let (stop_tx, stop) = watch::channel(false);
        watch_signals(
            stop_tx,
            "network namespaces and node processes: remove them with `harness netns cleanup`".into(),
        )
        .map_err(Failure::backend)?;
        let mut report = MatrixReport {
            scenario: self.s.name.clone(),
            backend: "netns".into(),
            variants: Vec::new(),
            recommended: None,
            fix: None,
            processes_per_ip: matrix::most_processes_per_ip(self.plan),
            manifests: None,
            bridges: Vec::new(),
        };
        for v in matrix::variants(self.s, self.plan, "netns", self.stack, &self.dir.join("files")) {
            let outcome = match v.scenario {
                Err(why) => Outcome::NotApplicable { why },
                Ok(_) if *stop.borrow() => Outcome::Failed { error: "interrupted".into() },
                Ok(vs) => match write_files(&v.files) {
                    Ok(()) => self.run_variant(&vs, v.id, v.title, &stop).await,
                    Err(error) => Outcome::Failed { error },
                },
            };
            report.variants.push(VariantResult {
                id: v.id.into(),
                title: v.title.into(),
                rank: v.rank,
                outcome,
                note: v.note.map(str::to_owned),
            });
        }
        Ok(report)
    }

    /// Runs variant `id`'s scenario `vs` (its run directory named `id`).
    async fn run_variant(&self, vs: &spec::Scenario, id: &str, title: &str, stop: &watch::Receiver<bool>) -> Outcome {
        eprintln!("harness: matrix variant {id} ({title})");
        let opts = RunOptions {
            results_root: self.dir.to_owned(),
            trials: self.trials,
            progress: self.progress,
            run_id: Some(id.to_owned()),
            preflight: None,
            parallel: self.parallel,
            ros: self.ros.clone(),
        };
        let mut backend = NetnsBackend::new(self.nodes.clone(), self.arm64.clone());
        match runner::run(vs, &mut backend, &opts, stop.clone()).await {
            Ok(o) if o.interrupted => Outcome::Failed { error: "interrupted".into() },
            Ok(o) => matrix::outcome_of(&o.report, id),
            Err(e) => Outcome::Failed { error: e.to_string() },
        }
    }
}

/// The files a variant's processes read (its Fast DDS profile), written before it runs.
fn write_files(files: &[(std::path::PathBuf, String)]) -> Result<(), String> {
    for (path, text) in files {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        crate::results::write_atomic(path, |w| w.write_all(text.as_bytes())).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The overlays: every variant that ran has its overlay in fixes/<id>/ (each validated like the
/// fix); the recommended variant's is the fix, in fix/ (or, where it has no overlay, the fix in
/// words).
fn write_fixes(
    report: &mut MatrixReport,
    s: &spec::Scenario,
    plan: &Plan,
    matrix_id: &str,
    images: &ImageArgs,
    dir: &Path,
) -> Result<(), Failure> {
    let images = images.images();
    let base = crate::backend::kube::objects::render(plan, matrix_id, &images, false).map_err(Failure::backend)?;
    let ns = crate::backend::kube::objects::namespace_name(matrix_id);
    let image = s.pods.iter().flat_map(|p| &p.containers).find_map(|c| c.image.as_deref());
    for v in report.variants.iter().filter(|v| matches!(v.outcome, Outcome::Ran { .. })) {
        if let Some(files) = matrix::fix_files(&v.id, plan, &ns, s.dds.rmw, image) {
            matrix::write_fix(&dir.join("fixes").join(&v.id), &base, &files).map_err(Failure::backend)?;
        }
    }
    if let Some(id) = report.recommended.clone() {
        report.fix = match matrix::fix_files(&id, plan, &ns, s.dds.rmw, image) {
            Some(files) => {
                matrix::write_fix(&dir.join("fix"), &base, &files).map_err(Failure::backend)?;
                files.get("kustomization.yaml").cloned()
            }
            None => matrix::fix_words(&id),
        };
    }
    Ok(())
}

/// The signal that stopped the matrix, else 0 when a variant delivered everything (it is
/// recommended), 1 when none did.
fn exit_code(report: &MatrixReport) -> u8 {
    let interrupted = STOPPED_BY.load(std::sync::atomic::Ordering::SeqCst);
    if interrupted != 0 {
        interrupted
    } else if report.recommended.is_some() {
        exit::OK
    } else {
        exit::EXPECTATIONS_FAILED
    }
}
