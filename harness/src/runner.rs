//! The run loop: place, then for each trial let the backend run it while its lines are parsed,
//! appended to `records.csv` and analysed; after every trial, rewrite the reports. Anything
//! already collected survives a failure or Ctrl-C.

use std::path::{Path, PathBuf};

use chatter::record::parse_line;
use tokio::sync::{mpsc, watch};

use crate::analysis::{Roster, RunAnalyzer, RunReport, TrialAnalyzer, TrialMeta};
use crate::backend::{Backend, BackendError, Line, TrialStart};
use crate::placement::{place, place_trial, PlacementError};
use crate::report;
use crate::results::{self, ResultsError, RunDir, RunMeta, RUN_SCHEMA};
use crate::spec::Scenario;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where run directories are created.
    pub results_root: PathBuf,
    /// Overrides `trials.count`.
    pub trials: Option<u32>,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// A finished (or interrupted) run.
#[derive(Debug)]
pub struct RunOutcome {
    pub report: RunReport,
    pub dir: PathBuf,
    pub interrupted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Placement(#[from] PlacementError),
    #[error("backend `{backend}` failed{}: {source}", dir.as_ref().map(|d| format!(" (results so far in {})", d.display())).unwrap_or_default())]
    Backend { backend: &'static str, dir: Option<PathBuf>, source: BackendError },
    #[error(transparent)]
    Results(#[from] ResultsError),
}

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
    let run_id = results::run_id(&scenario.name, chatter::now_ns());
    if let Err(e) = backend.prepare(scenario, &plan, &run_id).await {
        let _ = backend.cleanup().await;
        return Err(backend_err(None)(e));
    }
    let result = run_trials(scenario, backend, &plan, &run_id, opts, stop).await;
    // Whatever happened, remove what the backend created.
    let cleanup = backend.cleanup().await;
    let (outcome, failure) = result?;
    if let Some(source) = failure {
        return Err(backend_err(Some(&outcome.dir))(source));
    }
    cleanup.map_err(backend_err(Some(&outcome.dir)))?;
    Ok(outcome)
}

/// The trials of a prepared run. A backend failure during a trial ends the run with the
/// results so far written; it is returned beside the outcome.
async fn run_trials<B: Backend>(
    scenario: &Scenario,
    backend: &mut B,
    plan: &crate::placement::Plan,
    run_id: &str,
    opts: &RunOptions,
    stop: watch::Receiver<bool>,
) -> Result<(RunOutcome, Option<BackendError>), RunError> {
    let backend_name = backend.name();
    let plan = plan.clone();
    let roster = Roster::from_plan(&plan);
    let run_id = run_id.to_owned();
    let mut dir = RunDir::create(&opts.results_root, &run_id)?;
    let mut meta = RunMeta {
        schema: RUN_SCHEMA,
        run_id: run_id.clone(),
        backend: backend_name.to_owned(),
        notes: run_notes(scenario, backend),
        scenario: scenario.clone(),
        plan: plan.clone(),
        trials: Vec::new(),
        placements: Default::default(),
    };
    dir.write_meta(&meta)?;
    tracing::info!(run = %run_id, dir = %dir.path.display(), "run started");

    let count = opts.trials.unwrap_or(scenario.trials.count);
    let bar = progress_bar(opts.progress, count);
    let mut analyzer = RunAnalyzer::default();
    let mut interrupted = false;
    let mut failure = None;
    for trial in 1..=count {
        if *stop.borrow() {
            interrupted = true;
            break;
        }
        bar.set_message(format!("trial {trial}/{count}"));
        let start_ns = chatter::now_ns();
        let window_start_ns = start_ns + u64::try_from(plan.timing.warmup.as_nanos()).unwrap_or(u64::MAX);
        let start = TrialStart { trial, start_ns, window_start_ns };
        // With rescheduling, every trial has its own placement (and so its own roster).
        let plan = if scenario.trials.reschedule { place_trial(scenario, &plan.nodes, trial)? } else { plan.clone() };
        let roster = if scenario.trials.reschedule {
            meta.placements.insert(trial, plan.pods.iter().map(|p| (p.name.clone(), p.node.clone())).collect());
            Roster::from_plan(&plan)
        } else {
            roster.clone()
        };
        let mut acc = TrialAnalyzer::new(&roster, window_start_ns);
        let (tx, mut rx) = mpsc::unbounded_channel::<Line>();
        let mut write_error = None;
        let mut first_message = false;
        let result = {
            let trial_run = backend.run_trial(&plan, start, tx, stop.clone());
            tokio::pin!(trial_run);
            let mut result = None;
            // Until the backend is done *and* every line it forwarded has been consumed.
            loop {
                tokio::select! {
                    r = &mut trial_run, if result.is_none() => result = Some(r),
                    line = rx.recv() => match line {
                        Some(line) => match parse_line(&line.text) {
                            Ok(record) => {
                                if record.kind == chatter::RecordKind::Recv && !first_message {
                                    first_message = true;
                                    tracing::info!(trial, "first message received");
                                }
                                if let Err(e) = dir.append(trial, &line.pod, &line.container, &record) {
                                    write_error.get_or_insert(e);
                                }
                                acc.push(&record.view());
                            }
                            Err(e) => {
                                tracing::debug!("{}/{}: not a record ({e}): {}", line.pod, line.container, line.text);
                                acc.stray();
                            }
                        },
                        None => break,
                    },
                }
            }
            match result {
                Some(r) => r,
                None => trial_run.await,
            }
        };
        dir.flush()?;
        if let Some(e) = write_error {
            return Err(e.into());
        }
        let trial_meta = match result {
            Ok(m) => m,
            Err(e) => {
                failure = Some(e);
                start.ended(true)
            }
        };
        let (trial_report, hists) = acc.finish(trial_meta);
        analyzer.add(trial_report, hists);
        meta.trials.push(trial_meta);
        meta.notes = run_notes(scenario, backend);
        dir.write_meta(&meta)?;
        let mut report = analyzer.report(&run_id, &scenario.name, backend_name, &roster, scenario.expect.as_ref());
        report.notes = run_notes(scenario, backend);
        report::write_all(&dir.path, &report)?;
        bar.inc(1);
        if failure.is_some() || trial_meta.interrupted {
            interrupted = trial_meta.interrupted;
            break;
        }
    }
    bar.finish_and_clear();
    let mut report = analyzer.report(&run_id, &scenario.name, backend_name, &roster, scenario.expect.as_ref());
    report.notes = run_notes(scenario, backend);
    Ok((RunOutcome { report, dir: dir.path, interrupted }, failure))
}

/// The backend's notes, plus what the reader must know about the scenario's own choices.
fn run_notes<B: Backend>(scenario: &Scenario, backend: &B) -> Vec<String> {
    let mut notes = backend.notes();
    if scenario.trials.reschedule {
        notes.push(format!(
            "placement redrawn every trial (trials.reschedule, seed {}): pods without a fixed node moved between trials; \
             node names in the matrix are the base placement, pairs.csv has each trial's",
            scenario.trials.seed
        ));
    }
    notes
}

fn progress_bar(show: bool, trials: u32) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(u64::from(trials));
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Re-analyses a run directory from its `run.json` and `records.csv` and rewrites its reports.
/// Records of a trial that `run.json` does not list (the run died mid-trial) form an
/// interrupted trial.
pub fn reanalyze(dir: &Path) -> Result<RunReport, ResultsError> {
    let meta = results::read_meta(dir)?;
    let roster = Roster::from_plan(&meta.plan);
    let rosters: std::collections::BTreeMap<u32, Roster> =
        meta.placements.iter().map(|(t, p)| (*t, roster.with_nodes(p))).collect();
    let roster_for = |trial: u32| rosters.get(&trial).unwrap_or(&roster);
    let mut analyzer = RunAnalyzer::default();
    let mut current: Option<(u32, TrialAnalyzer<'_>, u64)> = None;
    let meta_of = |trial: u32, last_ns: u64| {
        meta.trials.iter().find(|m| m.trial == trial).copied().unwrap_or(TrialMeta {
            trial,
            start_ns: 0,
            window_start_ns: 0,
            end_ns: last_ns,
            interrupted: true,
        })
    };
    let window = |trial: u32| meta.trials.iter().find(|m| m.trial == trial).map_or(0, |m| m.window_start_ns);
    for row in results::read_records(dir)? {
        let row = row?;
        let trial = row.trial.unwrap_or(0);
        if current.as_ref().is_none_or(|(t, _, _)| *t != trial) {
            if let Some((t, acc, last)) = current.take() {
                let (r, h) = acc.finish(meta_of(t, last));
                analyzer.add(r, h);
            }
            current = Some((trial, TrialAnalyzer::new(roster_for(trial), window(trial)), 0));
        }
        if let Some((_, acc, last)) = current.as_mut() {
            let record = row.into_record();
            *last = (*last).max(record.t_ns);
            acc.push(&record.view());
        }
    }
    if let Some((t, acc, last)) = current.take() {
        let (r, h) = acc.finish(meta_of(t, last));
        analyzer.add(r, h);
    }
    // Trials that produced no record at all still count.
    let seen: Vec<u32> = analyzer.trials().iter().map(|t| t.meta.trial).collect();
    for m in meta.trials.iter().filter(|m| !seen.contains(&m.trial)) {
        let (r, h) = TrialAnalyzer::new(roster_for(m.trial), m.window_start_ns).finish(*m);
        analyzer.add(r, h);
    }
    let mut report =
        analyzer.report(&meta.run_id, &meta.scenario.name, &meta.backend, &roster, meta.scenario.expect.as_ref());
    report.notes.clone_from(&meta.notes);
    report::write_all(dir, &report)?;
    Ok(report)
}
