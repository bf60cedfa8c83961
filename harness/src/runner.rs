//! The run loop: place, then for each trial let the backend run it while its lines are parsed,
//! appended to `records.csv` and analysed; after every trial, rewrite the reports. Anything
//! already collected survives a failure or Ctrl-C.

use std::path::{Path, PathBuf};

use chatter::record::parse_line;
use tokio::sync::{mpsc, watch};

use crate::analysis::{Roster, RunAnalyzer, TrialAnalyzer, TrialMeta};
use crate::backend::{Backend, BackendError, Lifecycle, Line, TrialStart};
use crate::demo::DemoNode;
use crate::placement::{place, place_trial, PlacementError};
use crate::report;
use crate::results::{self, ResultsError, RunDir, RunMeta, RUN_SCHEMA};
use crate::spec::Scenario;
use crate::summary::{summarize, RunInfo, RunReport};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where run directories are created.
    pub results_root: PathBuf,
    /// Overrides `trials.count`.
    pub trials: Option<u32>,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// The run's id [default: from the scenario name and the start time]; known before the run
    /// so that a second Ctrl-C can name what it leaves behind.
    pub run_id: Option<String>,
    /// The doctor's probes from before the run (`--preflight`): kept in the run directory
    /// (`doctor.json`, `run.json`) and cited by the diagnosis.
    pub preflight: Option<crate::doctor::DoctorReport>,
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
    let run_id = opts.run_id.clone().unwrap_or_else(|| results::run_id(&scenario.name, chatter::now_ns()));
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
    let run_id = run_id.to_owned();
    let mut dir = RunDir::create(&opts.results_root, &run_id)?;
    let mut meta = RunMeta {
        schema: RUN_SCHEMA,
        run_id: run_id.clone(),
        backend: backend_name.to_owned(),
        notes: Vec::new(),
        scenario: scenario.clone(),
        plan: plan.clone(),
        trials: Vec::new(),
        placements: Default::default(),
        container_exits: Default::default(),
        incomplete: Default::default(),
        stopped: None,
        shared_clock: Some(backend.shared_clock()),
        doctor: opts.preflight.clone(),
    };
    if let Some(d) = &opts.preflight {
        results::write_atomic(&dir.path.join("doctor.json"), |w| {
            serde_json::to_writer_pretty(&mut *w, d).map_err(std::io::Error::from)?;
            w.write_all(b"\n")
        })?;
    }
    meta.notes = run_notes(&meta, backend.notes());
    dir.write_meta(&meta)?;
    tracing::info!(run = %run_id, dir = %dir.path.display(), "run started");

    let settings = meta.analysis_settings();
    let clocks = meta.clock_correction();
    let setting = meta.setting();
    let base_roster = Roster::from_plan(plan);
    // `until: confident` runs up to `max` trials and stops when the verdict is settled.
    let until = scenario.trials.until == Some(crate::spec::Until::Confident);
    let count = opts.trials.unwrap_or(if until { scenario.trials.max } else { scenario.trials.count });
    let bar = progress_bar(opts.progress, count);
    let mut analyzer = RunAnalyzer::default();
    let mut interrupted = false;
    let mut failure = None;
    let mut last_report = None;
    for trial in 1..=count {
        if *stop.borrow() {
            interrupted = true;
            break;
        }
        bar.set_message(format!("trial {trial}/{count}"));
        let start = TrialStart { trial };
        // With rescheduling, every trial has its own placement (and so its own roster).
        let plan = if scenario.trials.reschedule { place_trial(scenario, &plan.nodes, trial)? } else { plan.clone() };
        if scenario.trials.reschedule {
            meta.placements.insert(trial, plan.pods.iter().map(|p| (p.name.clone(), p.node.clone())).collect());
        }
        let roster = meta.roster_of(trial);
        let mut acc = TrialAnalyzer::new(&roster, settings).with_clocks(clocks.clone());
        // Containers whose console is read as the stock demo nodes print it.
        let mut demo_nodes: std::collections::HashMap<(String, String), DemoNode> = plan
            .containers()
            .filter(|(_, c)| c.output == crate::spec::Output::DemoNodes)
            .map(|(p, c)| ((p.name.clone(), c.name.clone()), DemoNode::new(&c.id, &p.name, c.role, c.domain)))
            .collect();
        let (tx, mut rx) = mpsc::unbounded_channel::<Line>();
        // Pods the cluster placed, as the backend learns it (kube-scheduler).
        let mut placed = std::collections::BTreeMap::new();
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
                        Some(Line { pod, event: Some(Lifecycle::Placed { node }), .. }) => {
                            placed.insert(pod, node);
                            acc.relocate(&placed);
                        }
                        Some(line) => {
                            let demo = demo_nodes.get_mut(&(line.pod.clone(), line.container.clone()));
                            let record = match (line.event, demo) {
                                (Some(event), Some(d)) => d.event(event),
                                (Some(_), None) => None,
                                (None, Some(d)) => {
                                    let id = format!("{}.{}", line.pod, line.container);
                                    if let Err(e) = dir.append_log(trial, &id, &line.text) {
                                        write_error.get_or_insert(e);
                                    }
                                    d.line(&line.text)
                                }
                                (None, None) => match parse_line(&line.text) {
                                    Ok(record) => Some(record),
                                    Err(e) => {
                                        tracing::debug!("{}/{}: not a record ({e}): {}", line.pod, line.container, line.text);
                                        acc.stray();
                                        None
                                    }
                                },
                            };
                            if let Some(record) = record {
                                if record.kind == chatter::RecordKind::Recv && !first_message {
                                    first_message = true;
                                    tracing::info!(trial, "first message received");
                                }
                                if let Err(e) = dir.append(trial, &line.pod, &line.container, &record) {
                                    write_error.get_or_insert(e);
                                }
                                acc.push(&record.view());
                            }
                        }
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
        let unread: u64 = demo_nodes.values().map(|d| d.other).sum();
        if unread > 0 {
            tracing::debug!(
                trial,
                unread,
                "demo-node console lines that were neither a publish nor a receipt (kept in logs/)"
            );
        }
        if let Some(e) = write_error {
            return Err(e.into());
        }
        let mut trial_meta = match result {
            Ok(m) => m,
            Err(e) => {
                failure = Some(e);
                TrialMeta::ended(trial, chatter::now_ns(), true)
            }
        };
        // Where the pods actually ran, when the cluster decided, and containers that died.
        let facts = backend.trial_facts(trial);
        if !facts.placement.is_empty() {
            acc.relocate(&facts.placement);
            meta.placements.insert(trial, facts.placement);
        }
        if !facts.containers.is_empty() {
            meta.container_exits.insert(trial, facts.containers.clone());
        }
        // Records that are known to be incomplete count nowhere, like an interrupted trial's.
        if !facts.incomplete.is_empty() {
            tracing::warn!(trial, "records incomplete: {}", facts.incomplete.join("; "));
            trial_meta.interrupted = true;
            meta.incomplete.insert(trial, facts.incomplete.clone());
        }
        let (mut trial_report, hists) = acc.finish(trial_meta);
        trial_report.containers = facts.containers;
        trial_report.incomplete = facts.incomplete;
        analyzer.add(trial_report, hists);
        meta.trials.push(trial_meta);
        let mut latest = summarize(run_info(&meta, &base_roster, &setting), &analyzer, Vec::new());
        // `until: confident`: whether this trial settled the verdict (the notes then say so).
        let settled = if until { crate::summary::confident(&latest.verdict.groups) } else { None };
        if until && (settled.is_some() || trial == count) {
            meta.stopped = Some(match settled {
                Some(why) => format!(
                    "stopped after {trial} of at most {count} trials: the verdict can no longer change at 95 % — {why}"
                ),
                None => format!("ran all {count} trials (trials.max) without the verdict settling at 95 %"),
            });
        }
        meta.notes = run_notes(&meta, backend.notes());
        dir.write_meta(&meta)?;
        latest.notes.clone_from(&meta.notes);
        add_timelines(&mut latest, &dir.path)?;
        report::write_all(&dir.path, &latest)?;
        last_report = Some(latest);
        bar.inc(1);
        if failure.is_some() || trial_meta.interrupted {
            interrupted = trial_meta.interrupted;
            break;
        }
        if meta.stopped.is_some() {
            break;
        }
    }
    bar.finish_and_clear();
    // The report written after the last trial is the run's; only a run stopped before its first
    // trial has none yet.
    let report = last_report
        .unwrap_or_else(|| summarize(run_info(&meta, &base_roster, &setting), &analyzer, meta.notes.clone()));
    Ok((RunOutcome { report, dir: dir.path, interrupted }, failure))
}

fn run_info<'a>(meta: &'a RunMeta, roster: &'a Roster, setting: &'a crate::diagnosis::Setting) -> RunInfo<'a> {
    RunInfo {
        run_id: &meta.run_id,
        scenario: &meta.scenario.name,
        backend: &meta.backend,
        roster,
        setting,
        expect: meta.scenario.expect.as_ref(),
    }
}

/// The backend's notes, plus what the reader must know about the clock and the scenario's own
/// choices.
fn run_notes(meta: &RunMeta, mut notes: Vec<String>) -> Vec<String> {
    notes.push(if meta.shared_clock() {
        "one clock: every node stamps records with this machine's clock, so one-way latency and discovery times \
         between nodes are real"
            .to_owned()
    } else if let Some(c) = meta.clock_correction() {
        let others: Vec<String> = c
            .offsets
            .iter()
            .filter(|(n, _)| **n != c.reference)
            .map(|(n, (o, u))| format!("{n} {:+.3} ms ± {:.3} ms", *o as f64 / 1e6, *u as f64 / 1e6))
            .collect();
        format!(
            "nodes have their own clocks: records were put on node {}'s clock with the offsets the preflight measured \
             ({}), so latency and discovery times between measured nodes are shown ± the offsets' uncertainty; \
             pairs with an unmeasured node stay untrusted; negative latencies are counted, not clamped",
            c.reference,
            others.join(", ")
        )
    } else {
        "nodes have their own clocks: latency and discovery times between different nodes are marked untrusted \
         (no clock offsets measured: `--preflight` measures them); negative latencies are counted, not clamped"
            .to_owned()
    });
    if meta.plan.containers().any(|(_, c)| c.output == crate::spec::Output::DemoNodes) {
        notes.push(
            "stock demo nodes: their console lines are read as records (logs kept in logs/); the harness set \
             RCUTILS_LOGGING_BUFFERED_STREAM=0 and PYTHONUNBUFFERED=1, because buffered stdout is why a dashboard's \
             log can show nothing while `ros2 topic echo` works; \"Hello World: N\" names no talker, so each receipt is \
             attributed to the demo talker whose send of N came last before it (ambiguous ones count as anonymous)"
                .to_owned(),
        );
    }
    if let Some(why) = &meta.stopped {
        notes.push(format!("trials.until confident: {why}"));
    }
    if meta.scenario.trials.reschedule {
        notes.push(format!(
            "placement redrawn every trial (trials.reschedule, seed {}): pods without a fixed node moved between \
             trials; each trial's placement is in trials.csv and pairs.csv",
            meta.scenario.trials.seed
        ));
    }
    notes
}

/// The progress bars of this process: log lines go through [`LogWriter`], which clears the
/// bars, writes the line and draws them again, so a log line never lands in the middle of a bar.
pub fn progress_bars() -> &'static indicatif::MultiProgress {
    static BARS: std::sync::OnceLock<indicatif::MultiProgress> = std::sync::OnceLock::new();
    BARS.get_or_init(indicatif::MultiProgress::new)
}

/// stderr for log lines, around the progress bars (see [`progress_bars`]); the tracing
/// subscriber writes each event with one `write_all`.
#[derive(Debug, Default)]
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        progress_bars().suspend(|| std::io::stderr().write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        progress_bars().suspend(|| std::io::stderr().write_all(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn progress_bar(show: bool, trials: u32) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = progress_bars().add(indicatif::ProgressBar::new(u64::from(trials)));
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
/// interrupted trial. Directories from older versions are read as far as their records go
/// (records without endpoint GUIDs give "per-pair discovery unknown").
pub fn reanalyze(dir: &Path) -> Result<RunReport, ResultsError> {
    let meta = results::read_meta(dir)?;
    let settings = meta.analysis_settings();
    let clocks = meta.clock_correction();
    let setting = meta.setting();
    let base_roster = Roster::from_plan(&meta.plan);
    let rosters: std::collections::BTreeMap<u32, Roster> = meta
        .trials
        .iter()
        .map(|m| m.trial)
        .chain(meta.placements.keys().copied())
        .map(|t| (t, meta.roster_of(t)))
        .collect();
    let roster_for = |trial: u32| rosters.get(&trial).unwrap_or(&base_roster);
    let mut analyzer = RunAnalyzer::default();
    let add = |analyzer: &mut RunAnalyzer, (mut r, h): (crate::analysis::TrialReport, _)| {
        r.containers = meta.container_exits.get(&r.meta.trial).cloned().unwrap_or_default();
        r.incomplete = meta.incomplete.get(&r.meta.trial).cloned().unwrap_or_default();
        analyzer.add(r, h);
    };
    let mut current: Option<(u32, TrialAnalyzer<'_>, u64, u64)> = None;
    let meta_of = |trial: u32, first_ns: u64, last_ns: u64| {
        meta.trials.iter().find(|m| m.trial == trial).copied().unwrap_or(TrialMeta {
            trial,
            start_ns: first_ns,
            end_ns: last_ns,
            interrupted: true,
        })
    };
    for row in results::read_records(dir)? {
        let row = row?;
        let trial = row.trial.unwrap_or(0);
        if current.as_ref().is_none_or(|(t, ..)| *t != trial) {
            if let Some((t, acc, first, last)) = current.take() {
                add(&mut analyzer, acc.finish(meta_of(t, first, last)));
            }
            let acc = TrialAnalyzer::new(roster_for(trial), settings).with_clocks(clocks.clone());
            current = Some((trial, acc, u64::MAX, 0));
        }
        if let Some((_, acc, first, last)) = current.as_mut() {
            let record = row.into_record();
            *first = (*first).min(record.t_ns);
            *last = (*last).max(record.t_ns);
            acc.push(&record.view());
        }
    }
    if let Some((t, acc, first, last)) = current.take() {
        add(&mut analyzer, acc.finish(meta_of(t, first, last)));
    }
    // Trials that produced no record at all still count.
    let seen: Vec<u32> = analyzer.trials().iter().map(|t| t.meta.trial).collect();
    for m in meta.trials.iter().filter(|m| !seen.contains(&m.trial)) {
        add(&mut analyzer, TrialAnalyzer::new(roster_for(m.trial), settings).finish(*m));
    }
    let mut notes = meta.notes.clone();
    if results::truncated_tail(dir)? {
        notes.push(
            "records.csv ended in a partial line (the run was killed while writing it): that line was left out".into(),
        );
    }
    let mut report = summarize(run_info(&meta, &base_roster, &setting), &analyzer, notes);
    add_timelines(&mut report, dir)?;
    report::write_all(dir, &report)?;
    Ok(report)
}

/// Draws the receive timelines of the trials a report shows, from their rows of `records.csv`
/// (read up to the last of those trials, so only their records are held).
fn add_timelines(report: &mut RunReport, dir: &Path) -> Result<(), ResultsError> {
    use crate::analysis::timeline;
    let picked = timeline::pick(&report.trials, &report.distribution);
    let Some(last) = picked.iter().map(|(t, _)| *t).max() else { return Ok(()) };
    let mut records: std::collections::BTreeMap<u32, Vec<chatter::Record>> = Default::default();
    for row in results::read_records(dir)? {
        let row = row?;
        let trial = row.trial.unwrap_or(0);
        if trial > last {
            break;
        }
        if picked.iter().any(|(t, _)| *t == trial) {
            records.entry(trial).or_default().push(row.into_record());
        }
    }
    for (trial, why) in picked {
        if let Some(t) = report.trials.iter().find(|t| t.meta.trial == trial) {
            let tls = timeline::build(t, &why, records.get(&trial).into_iter().flatten());
            report.timelines.extend(tls);
        }
    }
    Ok(())
}
