//! `harness matrix`: the scenario under every fix variant, and the fix that delivers everything.

use tokio::sync::watch;

use crate::backend::netns::NetnsBackend;
use crate::backend::NodeCommand;
use crate::cli::args::{BackendArg, MatrixArgs};
use crate::cli::backend_choice::resolve_backend;
use crate::cli::exit;
use crate::cli::node_programs::this_exe;
use crate::cli::outcome::{emit, Failure};
use crate::cli::scenario::unplaceable;
use crate::cli::signals::{watch_signals, STOPPED_BY};
use crate::runner::{self, RunOptions};
use crate::spec;

pub(in crate::cli) fn matrix(args: MatrixArgs) -> Result<u8, Failure> {
    use crate::matrix::{self, MatrixReport, Outcome, VariantResult};
    let MatrixArgs { scenario, backend, trials, parallel, out, no_progress, arm64, ros, images } = args;
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
    let stack = ros.apply_stack(&mut s)?;
    let ros = stack.as_ref().map(|st| st.versions.clone());
    let plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s))
        .map_err(|e| unplaceable(&scenario, &s, &e))?;
    let exe = this_exe()?;
    let arm64 = arm64.resolve(&exe);
    let nodes = NodeCommand::SelfExe(exe);
    let matrix_id = crate::results::run_id(&format!("{}-matrix", s.name), chatter::now_ns());
    let dir = out.join(&matrix_id);
    std::fs::create_dir_all(&dir).map_err(|e| Failure::backend(format!("{}: {e}", dir.display())))?;
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(Failure::backend)?;
    let mut report = rt.block_on(async {
        let (stop_tx, stop) = watch::channel(false);
        watch_signals(
            stop_tx,
            "network namespaces and node processes: remove them with `harness netns cleanup`".into(),
        )
        .map_err(Failure::backend)?;
        let mut report = MatrixReport {
            scenario: s.name.clone(),
            backend: "netns".into(),
            variants: Vec::new(),
            recommended: None,
            fix: None,
        };
        for v in matrix::variants(&s, &plan, "netns", stack.as_ref()) {
            let outcome = match v.scenario {
                Err(why) => Outcome::NotApplicable { why },
                Ok(_) if *stop.borrow() => Outcome::Failed { error: "interrupted".into() },
                Ok(vs) => {
                    eprintln!("harness: matrix variant {} ({})", v.id, v.title);
                    let opts = RunOptions {
                        results_root: dir.clone(),
                        trials,
                        progress: !no_progress,
                        run_id: Some(v.id.to_owned()),
                        preflight: None,
                        parallel,
                        ros: ros.clone(),
                    };
                    let mut backend = NetnsBackend::new(nodes.clone(), arm64.clone());
                    match runner::run(&vs, &mut backend, &opts, stop.clone()).await {
                        Ok(o) if o.interrupted => Outcome::Failed { error: "interrupted".into() },
                        Ok(o) => matrix::outcome_of(&o.report, v.id),
                        Err(e) => Outcome::Failed { error: e.to_string() },
                    }
                }
            };
            report.variants.push(VariantResult {
                id: v.id.into(),
                title: v.title.into(),
                rank: v.rank,
                outcome,
                note: v.note.map(str::to_owned),
            });
        }
        Ok::<_, Failure>(report)
    })?;
    report.recommend();
    let images = images.images();
    let base = crate::backend::kube::objects::render(&plan, &matrix_id, &images, false).map_err(Failure::backend)?;
    let ns = crate::backend::kube::objects::namespace_name(&matrix_id);
    let image = s.pods.iter().flat_map(|p| &p.containers).find_map(|c| c.image.as_deref());
    // Every variant that ran has its overlay in fixes/<id>/ (each validated like the fix).
    for v in report.variants.iter().filter(|v| matches!(v.outcome, Outcome::Ran { .. })) {
        if let Some(files) = matrix::fix_files(&v.id, &plan, &ns, s.dds.rmw, image) {
            matrix::write_fix(&dir.join("fixes").join(&v.id), &base, &files).map_err(Failure::backend)?;
        }
    }
    if let Some(id) = report.recommended.clone() {
        report.fix = match matrix::fix_files(&id, &plan, &ns, s.dds.rmw, image) {
            Some(files) => {
                matrix::write_fix(&dir.join("fix"), &base, &files).map_err(Failure::backend)?;
                files.get("kustomization.yaml").cloned()
            }
            None => matrix::fix_words(&id),
        };
    }
    report.write(&dir).map_err(Failure::backend)?;
    emit(&format!("{}reports: {}\n", report.console(), dir.join("matrix.md").display()))?;
    let interrupted = STOPPED_BY.load(std::sync::atomic::Ordering::SeqCst);
    Ok(if interrupted != 0 {
        interrupted
    } else if report.recommended.is_some() {
        exit::OK
    } else {
        exit::EXPECTATIONS_FAILED
    })
}
