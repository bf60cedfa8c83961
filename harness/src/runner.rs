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
use crate::spec::{FaultSpec, Scenario};
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
    /// Trials at once (`--parallel`), each on a sibling of the backend
    /// ([`Backend::sibling`]); 1 runs them one after another.
    pub parallel: usize,
    /// The real ROS 2 that ran stock nodes on this machine, recorded with the run.
    pub ros: Option<crate::ros::RosVersions>,
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
    let parallel = opts.parallel.clamp(1, usize::try_from(trial_count(scenario, opts).max(1)).unwrap_or(1));
    if let Err(e) = backend.prepare(scenario, &plan, &run_id).await {
        let _ = backend.cleanup().await;
        return Err(backend_err(None)(e));
    }
    // `--parallel`: siblings of the backend, each prepared as it was.
    let mut siblings: Vec<B> = Vec::new();
    let mut prepared = Ok(());
    for slot in 1..parallel {
        let Some(mut sibling) = backend.sibling(slot) else {
            prepared = Err(BackendError::Unsupported(format!(
                "the {backend_name} backend runs one trial at a time (its trials would share nodes and network); \
                 drop --parallel"
            )));
            break;
        };
        let ready = sibling.prepare(scenario, &plan, &run_id).await;
        siblings.push(sibling);
        if let Err(e) = ready {
            prepared = Err(e);
            break;
        }
    }
    let result = match prepared {
        Ok(()) => {
            let slots: Vec<&mut B> = std::iter::once(&mut *backend).chain(siblings.iter_mut()).collect();
            Ok(run_trials(scenario, slots, &plan, &run_id, opts, stop).await)
        }
        Err(e) => Err(e),
    };
    // Whatever happened, remove what the backends created.
    let mut cleanup = backend.cleanup().await;
    for sibling in &mut siblings {
        let done = sibling.cleanup().await;
        if cleanup.is_ok() {
            cleanup = done;
        }
    }
    let (outcome, failure) = result.map_err(backend_err(None))??;
    if let Some(source) = failure {
        return Err(backend_err(Some(&outcome.dir))(source));
    }
    cleanup.map_err(backend_err(Some(&outcome.dir)))?;
    Ok(outcome)
}

/// How many trials the run may start: `--trials`, else `trials.count`, or `trials.max` when it
/// runs until confident.
fn trial_count(scenario: &Scenario, opts: &RunOptions) -> u32 {
    let until = scenario.trials.until == Some(crate::spec::Until::Confident);
    opts.trials.unwrap_or(if until { scenario.trials.max } else { scenario.trials.count })
}

/// One trial while it runs: its plan, its analysis so far, and how its lines are read.
struct Collector<'r> {
    acc: TrialAnalyzer<'r>,
    /// Containers whose console is read as the stock demo nodes print it.
    demo_nodes: std::collections::HashMap<(String, String), DemoNode>,
    /// Helper processes (`role: process`), whose output is not read.
    helpers: std::collections::HashSet<(String, String)>,
    /// Pods the cluster placed, as the backend learns it (kube-scheduler).
    placed: std::collections::BTreeMap<String, String>,
    first_message: bool,
    /// Opens the window early once every expected pair has matched (see
    /// [`TrialAnalyzer::all_matched`]), or at the start barrier; `None` where the trial keeps
    /// the scenario's timing.
    open: Option<watch::Sender<Option<u64>>>,
    /// When the window opened early because every pair had matched (wall clock ns).
    early_ns: Option<u64>,
    /// When the start barrier opens the window (the warm-up after the last node's start),
    /// once every node has started.
    barrier_ns: Option<u64>,
}

impl<'r> Collector<'r> {
    fn new(plan: &crate::placement::Plan, acc: TrialAnalyzer<'r>, open: Option<watch::Sender<Option<u64>>>) -> Self {
        let demo_nodes = plan
            .containers()
            .filter(|(_, c)| c.output == crate::spec::Output::DemoNodes)
            .map(|(p, c)| ((p.name.clone(), c.name.clone()), DemoNode::new(&c.id, &p.name, c.role, c.domain)))
            .collect();
        let helpers = plan
            .containers()
            .filter(|(_, c)| c.role == crate::spec::ContainerRole::Process)
            .map(|(p, c)| (p.name.clone(), c.name.clone()))
            .collect();
        Collector {
            acc,
            demo_nodes,
            helpers,
            placed: Default::default(),
            first_message: false,
            open,
            early_ns: None,
            barrier_ns: None,
        }
    }

    /// When the start barrier is due and has not opened the window yet.
    fn barrier_due(&self) -> Option<u64> {
        self.barrier_ns.filter(|_| self.open.as_ref().is_some_and(|o| o.borrow().is_none()))
    }

    /// Opens the window at the start barrier, if it is due by `now_ns`.
    fn open_at_barrier(&mut self, trial: u32, now_ns: u64) {
        if let (Some(at), Some(open)) = (self.barrier_due().filter(|b| *b <= now_ns), self.open.as_ref()) {
            let _ = open.send(Some(at));
            tracing::info!(trial, "window opened: the warm-up after the last node's start ran out");
        }
    }

    /// Reads one line of trial `trial`: a record (or a demo console line read as one) goes to
    /// `records.csv` and the analysis.
    fn line(&mut self, trial: u32, line: Line, dir: &mut RunDir) -> Result<(), ResultsError> {
        if let Some(Lifecycle::Placed { node }) = line.event {
            self.placed.insert(line.pod, node);
            self.acc.relocate(&self.placed);
            return Ok(());
        }
        if self.helpers.contains(&(line.pod.clone(), line.container.clone())) {
            tracing::debug!("{}/{}: {}", line.pod, line.container, line.text);
            return Ok(());
        }
        let demo = self.demo_nodes.get_mut(&(line.pod.clone(), line.container.clone()));
        let record = match (line.event, demo) {
            (Some(event), Some(d)) => d.event(event),
            (Some(_), None) => None,
            (None, Some(d)) => {
                let id = format!("{}.{}", line.pod, line.container);
                dir.append_log(trial, &id, &line.text)?;
                d.line(&line.text)
            }
            (None, None) => match parse_line(&line.text) {
                Ok(record) => Some(record),
                Err(e) => {
                    tracing::debug!("{}/{}: not a record ({e}): {}", line.pod, line.container, line.text);
                    self.acc.stray();
                    None
                }
            },
        };
        if let Some(record) = record {
            if record.kind == chatter::RecordKind::Recv && !self.first_message {
                self.first_message = true;
                tracing::info!(trial, "first message received");
            }
            dir.append(trial, &line.pod, &line.container, &record)?;
            self.acc.push(&record.view());
            // Only start and matched records bring the pairs closer to all matched.
            let discovery = matches!(record.kind, chatter::RecordKind::Start | chatter::RecordKind::Matched);
            if let Some(open) = self.open.as_ref().filter(|o| discovery && o.borrow().is_none()) {
                if self.barrier_ns.is_none() {
                    self.barrier_ns = self.acc.last_start_ns().map(|l| l.saturating_add(self.acc.warmup_ns()));
                }
                if self.acc.all_matched() {
                    let now = chatter::now_ns();
                    self.acc.open_window_at(Some(now));
                    self.early_ns = Some(now);
                    let _ = open.send(Some(now));
                }
            }
        }
        Ok(())
    }
}

/// Hands a line of trial `trial` to that trial's collector.
fn route(
    collectors: &mut std::collections::BTreeMap<u32, Collector<'_>>,
    trial: u32,
    line: Line,
    dir: &mut RunDir,
) -> Result<(), ResultsError> {
    match collectors.get_mut(&trial) {
        Some(c) => c.line(trial, line, dir),
        None => Ok(()),
    }
}

/// A trial the backend has finished, waiting for its turn to be added (trials are added in
/// order, so reports, notes and `until: confident` read them as if they had run one by one).
struct Ran {
    result: Result<TrialMeta, BackendError>,
    facts: crate::backend::TrialFacts,
}

/// The trials of a prepared run, on `slots` (one backend per trial running at once). A backend
/// failure during a trial ends the run with the results so far written; it is returned beside
/// the outcome.
async fn run_trials<B: Backend>(
    scenario: &Scenario,
    slots: Vec<&mut B>,
    plan: &crate::placement::Plan,
    run_id: &str,
    opts: &RunOptions,
    mut stop: watch::Receiver<bool>,
) -> Result<(RunOutcome, Option<BackendError>), RunError> {
    use futures::stream::{FuturesUnordered, StreamExt};
    let (backend_name, shared_clock, mut backend_notes) = (slots[0].name(), slots[0].shared_clock(), slots[0].notes());
    // Windows open as soon as every pair has matched (else when the warm-up runs out) where the
    // backend can tell the talkers, they are all ours, and nothing is timed against the fixed
    // schedule (faults, late starts).
    // The same trials hold every window at a start barrier (see `TrialAnalyzer::with_barrier`).
    let barrier_off = slots[0].opens_windows_early().then(|| no_barrier(scenario, plan)).flatten();
    let early = slots[0].opens_windows_early() && barrier_off.is_none();
    // Each backend with its number; the first is the one the run was given.
    let mut slots: Vec<(usize, &mut B)> = slots.into_iter().enumerate().rev().collect();
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
        shared_clock: Some(shared_clock),
        doctor: opts.preflight.clone(),
        parallel: u32::try_from(slots.len()).unwrap_or(u32::MAX),
        early_windows: early,
        start_barrier: early,
        ros: opts.ros.clone(),
    };
    if let Some(d) = &opts.preflight {
        results::write_atomic(&dir.path.join("doctor.json"), |w| {
            serde_json::to_writer_pretty(&mut *w, d).map_err(std::io::Error::from)?;
            w.write_all(b"\n")
        })?;
    }
    meta.notes = run_notes(&meta, backend_notes.clone(), barrier_off);
    dir.write_meta(&meta)?;
    tracing::info!(run = %run_id, dir = %dir.path.display(), parallel = slots.len(), "run started");

    let settings = meta.analysis_settings();
    let clocks = meta.clock_correction();
    let setting = meta.setting();
    let base_roster = Roster::from_plan(plan);
    // `until: confident` runs up to `max` trials and stops when the verdict is settled.
    let until = scenario.trials.until == Some(crate::spec::Until::Confident);
    let count = trial_count(scenario, opts);
    let bar = progress_bar(opts.progress, count);
    // Every trial's plan and roster, drawn before the first starts (with rescheduling, each
    // trial has its own placement; `run.json` records it once the trial starts), so the
    // collectors can borrow the rosters.
    let mut plans = std::collections::BTreeMap::new();
    let mut rosters: std::collections::BTreeMap<u32, Roster> = Default::default();
    for trial in 1..=count {
        let plan = if scenario.trials.reschedule { place_trial(scenario, &plan.nodes, trial)? } else { plan.clone() };
        let placement = pod_nodes(&plan);
        rosters.insert(
            trial,
            if scenario.trials.reschedule { base_roster.with_nodes(&placement) } else { base_roster.clone() },
        );
        plans.insert(trial, (plan, placement));
    }
    // Ends the running trials early: Ctrl-C, or a backend failure in one of them.
    let (halt, halted) = watch::channel(false);
    let (lines_tx, mut lines_rx) = mpsc::unbounded_channel::<(u32, Line)>();
    let mut running = FuturesUnordered::new();
    let mut collectors: std::collections::BTreeMap<u32, Collector<'_>> = Default::default();
    let mut ran: std::collections::BTreeMap<u32, Ran> = Default::default();
    let mut analyzer = RunAnalyzer::default();
    let mut interrupted = false;
    let mut failure = None;
    let mut last_report = None;
    let mut next_trial = 1u32;
    let mut next_to_add = 1u32;
    // The trial whose result settled the verdict (`until: confident`).
    let mut settled_at: Option<(u32, String)> = None;
    loop {
        // Start trials while a backend is free and the run goes on — one start-up at a time:
        // a trial starts once every node of the trials already running is up, so emulated
        // nodes of several clusters do not start together and come up seconds late.
        while next_trial <= count
            && failure.is_none()
            && settled_at.is_none()
            && !*halted.borrow()
            && collectors.values().all(|c| c.acc.all_started())
        {
            let Some(slot) = slots.pop() else { break };
            let trial = next_trial;
            next_trial += 1;
            let (trial_plan, placement) = plans[&trial].clone();
            if scenario.trials.reschedule {
                meta.placements.insert(trial, placement);
            }
            let acc = TrialAnalyzer::new(&rosters[&trial], settings)
                .with_clocks(clocks.clone())
                .with_barrier(meta.start_barrier);
            let (open_tx, open) = watch::channel(None);
            collectors.insert(trial, Collector::new(&trial_plan, acc, early.then_some(open_tx)));
            let (all, halted) = (lines_tx.clone(), halted.clone());
            running.push(async move {
                let (tx, mut rx) = mpsc::unbounded_channel::<Line>();
                let forward = async {
                    while let Some(line) = rx.recv().await {
                        let _ = all.send((trial, line));
                    }
                };
                let (result, ()) = tokio::join!(
                    slot.1.run_trial(&trial_plan, TrialStart { trial, open, barrier: early }, tx, halted),
                    forward
                );
                // What the backend saw of this trial, before it runs another.
                let facts = slot.1.trial_facts(trial);
                (trial, Ran { result, facts }, slot)
            });
            let at_once = running.len();
            bar.set_message(if at_once > 1 {
                format!("trials {}–{trial}/{count}", trial + 1 - u32::try_from(at_once).unwrap_or(1))
            } else {
                format!("trial {trial}/{count}")
            });
        }
        if running.is_empty() {
            break;
        }
        // The next start barrier due: its window opens then, for every pair of its trial.
        let barrier = collectors.values().filter_map(Collector::barrier_due).min();
        let barrier_sleep = async {
            match barrier {
                Some(at) => {
                    tokio::time::sleep(std::time::Duration::from_nanos(at.saturating_sub(chatter::now_ns()))).await
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some((trial, line)) = lines_rx.recv() => route(&mut collectors, trial, line, &mut dir)?,
            () = barrier_sleep => {
                let now = chatter::now_ns();
                for (trial, c) in &mut collectors {
                    c.open_at_barrier(*trial, now);
                }
            }
            Some((trial, done, slot)) = running.next() => {
                // Every line the trial forwarded is queued by now: read them before it ends.
                while let Ok((t, line)) = lines_rx.try_recv() {
                    route(&mut collectors, t, line, &mut dir)?;
                }
                // The first backend's notes are the run's (the others differ only in names).
                if slot.0 == 0 {
                    backend_notes = slot.1.notes();
                }
                slots.push(slot);
                if done.result.is_err() {
                    let _ = halt.send(true);
                }
                ran.insert(trial, done);
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    let _ = halt.send(true);
                }
                if changed.is_err() {
                    // Nobody can ask to stop any more: stop watching.
                    stop = watch::channel(false).1;
                }
            }
        }
        // Add the finished trials, in order.
        while let Some(done) = ran.remove(&next_to_add) {
            let trial = next_to_add;
            next_to_add += 1;
            let Some(c) = collectors.remove(&trial) else { continue };
            dir.flush()?;
            let unread: u64 = c.demo_nodes.values().map(|d| d.other).sum();
            if unread > 0 {
                tracing::debug!(
                    trial,
                    unread,
                    "demo-node console lines that were neither a publish nor a receipt (kept in logs/)"
                );
            }
            let mut acc = c.acc;
            let mut trial_meta = match done.result {
                Ok(m) => m,
                Err(e) => {
                    failure.get_or_insert(e);
                    TrialMeta::ended(trial, chatter::now_ns(), true)
                }
            };
            // Opened early only when every pair had matched (not at the start barrier).
            if early {
                trial_meta.opened_ns = c.early_ns;
            }
            // Where the pods actually ran, when the cluster decided, and containers that died.
            let facts = done.facts;
            if !facts.placement.is_empty() {
                acc.relocate(&facts.placement);
                meta.placements.insert(trial, facts.placement);
            }
            if !facts.containers.is_empty() {
                meta.container_exits.insert(trial, facts.containers.clone());
            }
            let (mut trial_report, hists) = acc.finish(trial_meta);
            trial_report.containers = facts.containers;
            // Records known to be incomplete, or a pair that could expect nothing and so measured
            // nothing: the trial counts nowhere, like an interrupted one, rather than as loss or
            // a failure to deliver.
            let mut not_counted = facts.incomplete;
            if not_counted.is_empty() && !trial_meta.interrupted {
                not_counted = trial_report.unmeasured();
            }
            if !not_counted.is_empty() {
                tracing::warn!(trial, "not counted: {}", not_counted.join("; "));
                trial_meta.interrupted = true;
                trial_report.meta.interrupted = true;
                meta.incomplete.insert(trial, not_counted.clone());
            }
            trial_report.incomplete = not_counted;
            analyzer.add(trial_report, hists);
            meta.trials.push(trial_meta);
            interrupted |= trial_meta.interrupted;
            let mut latest = summarize(run_info(&meta, &base_roster, &setting), &analyzer, Vec::new());
            // `until: confident`: whether this trial settled the verdict (the notes then say so).
            if until && settled_at.is_none() {
                if let Some(why) = crate::summary::confident(&latest.verdict.groups) {
                    settled_at = Some((trial, why));
                }
            }
            if until && (settled_at.is_some() || trial == count) {
                meta.stopped = Some(stopped_note(settled_at.as_ref(), trial, count));
            }
            meta.notes = run_notes(&meta, backend_notes.clone(), barrier_off);
            dir.write_meta(&meta)?;
            latest.notes.clone_from(&meta.notes);
            add_timelines(&mut latest, &dir.path)?;
            report::write_all(&dir.path, &latest)?;
            last_report = Some(latest);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    // The report written after the last trial is the run's; only a run stopped before its first
    // trial has none yet.
    interrupted |= *halted.borrow() && failure.is_none();
    let report = last_report
        .unwrap_or_else(|| summarize(run_info(&meta, &base_roster, &setting), &analyzer, meta.notes.clone()));
    Ok((RunOutcome { report, dir: dir.path, interrupted }, failure))
}

/// Where each pod of `plan` runs (pod → node).
fn pod_nodes(plan: &crate::placement::Plan) -> std::collections::BTreeMap<String, String> {
    plan.pods.iter().map(|p| (p.name.clone(), p.node.clone())).collect()
}

/// Why an `until: confident` run stopped where it did: the trial that settled the verdict
/// (and the trials already running then, which ran to the end and count), or that it ran them
/// all.
fn stopped_note(settled_at: Option<&(u32, String)>, trials: u32, count: u32) -> String {
    match settled_at {
        Some((at, why)) if *at == trials => {
            format!(
                "stopped after {trials} of at most {count} trials: the verdict can no longer change at 95 % — {why}"
            )
        }
        Some((at, why)) => format!(
            "stopped after {trials} of at most {count} trials: the verdict could no longer change at 95 % after trial \
             {at} — {why}; the {} trial(s) already running then ran to the end and count",
            trials - at
        ),
        None => format!("ran all {count} trials (trials.max) without the verdict settling at 95 %"),
    }
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

/// Why a backend that starts the talkers itself cannot hold this scenario's windows at a start
/// barrier (nor open them early): the scenario's own timing matters.
fn no_barrier(scenario: &Scenario, plan: &crate::placement::Plan) -> Option<&'static str> {
    if plan.containers().any(|(_, c)| c.is_custom()) {
        Some(
            "programs other than the harness's own nodes (stock nodes, standIn, command) keep the scenario's timing: \
             no start barrier holds them (they know no window signal), so each pair's window opens warmupS after both \
             its ends started and those talkers are stopped warmupS + durationS into the trial; a pair whose ends came \
             up late expects fewer than durationS × rateHz messages",
        )
    } else if plan.containers().any(|(_, c)| !c.start_delay.is_zero()) {
        Some(
            "startDelayS keeps the scenario's timing: no start barrier; each pair's window opens warmupS after both \
             its ends started",
        )
    } else if scenario.faults.iter().any(|f| matches!(f, FaultSpec::Partition { .. } | FaultSpec::Kill { .. })) {
        Some(
            "timed faults keep the scenario's timing: no start barrier; each pair's window opens warmupS after both \
             its ends started, and fault times count from the trial's start",
        )
    } else {
        None
    }
}

/// The backend's notes, plus what the reader must know about the clock and the scenario's own
/// choices.
fn run_notes(meta: &RunMeta, mut notes: Vec<String>, barrier_off: Option<&str>) -> Vec<String> {
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
            "stock demo nodes: their console lines, stdout and stderr as `kubectl logs` shows them (ROS 2 loggers \
             write to stderr, unbuffered), are read as records (logs kept in logs/); \"Hello World: N\" names no \
             talker, so each receipt is attributed to the demo talker whose send of N came last before it (ambiguous \
             ones count as anonymous)"
                .to_owned(),
        );
    }
    if let Some(ros) = &meta.ros {
        let arm64 = meta.plan.nodes.iter().any(|n| n.arch() == Some("arm64"));
        let r2r = meta.plan.containers().any(|(_, c)| !c.is_custom() && c.transport == crate::spec::Transport::Ros);
        let stock = meta.plan.containers().any(|(_, c)| c.output == crate::spec::Output::DemoNodes);
        let ran = match (stock, r2r) {
            (true, true) => "the stock nodes as rclpy demo talkers and listeners, the harness's own as r2r nodes",
            (false, true) => "the harness's talkers and listeners as r2r nodes (scripts/build-ros.sh)",
            _ => {
                "the stock nodes as rclpy demo talkers and listeners (demo_nodes' topic, type, QoS and console \
                  lines; no demo_nodes wheel exists)"
            }
        };
        notes.push(format!(
            "real ROS 2 from PyPI wheels — {} — ran {ran}{}",
            ros.describe(),
            if arm64 { "; on arm64 nodes too, as amd64 programs: there are no aarch64 wheels" } else { "" }
        ));
    }
    if let Some(why) = &meta.stopped {
        notes.push(format!("trials.until confident: {why}"));
    }
    if meta.start_barrier {
        notes.push(format!(
            "start barrier: each trial's windows opened at once for every pair, {} s (warmupS) after the last of its \
             nodes had started (trials.csv last_started_s, warmup_ends_s), or earlier when every pair had matched, \
             so each pair expects durationS × rateHz messages whatever order its nodes came up in; the harness's \
             talkers publish their window from then",
            meta.scenario.trials.warmup_s.0
        ));
    }
    if let Some(why) = barrier_off {
        notes.push(why.to_owned());
    }
    if meta.early_windows {
        let warmup = meta.scenario.trials.warmup_s.0;
        let mut early: Vec<f64> =
            meta.trials.iter().filter_map(|t| t.opened_ns.map(|o| crate::timing::secs_since(t.start_ns, o))).collect();
        early.sort_by(f64::total_cmp);
        notes.push(match early.get(early.len() / 2) {
            Some(median) => format!(
                "measurement windows opened as soon as every pair had matched both ways (per-pair discovery) in {} of {} \
                 trial(s), median {median:.2} s into the trial, instead of when the {warmup} s warm-up ran out; \
                 trials.csv has both times (all_matched_s, warmup_ends_s)",
                early.len(),
                meta.trials.len()
            ),
            None => format!(
                "measurement windows open as soon as every pair has matched both ways, else when the {warmup} s warm-up \
                 runs out: in every trial the warm-up ran out first (some pair never matched)"
            ),
        });
    }
    if meta.parallel > 1 {
        notes.push(format!(
            "trials ran {} at a time (--parallel), each in a simulated cluster of its own (its own namespaces: no \
             interface, route or multicast group in common); they share this machine's CPUs, so latency tails can be \
             longer than with one trial at a time (--parallel 1)",
            meta.parallel
        ));
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
    let recorded = |trial: u32| meta.trials.iter().find(|m| m.trial == trial).copied();
    let meta_of = |trial: u32, first_ns: u64, last_ns: u64| {
        recorded(trial).unwrap_or(TrialMeta {
            trial,
            start_ns: first_ns,
            end_ns: last_ns,
            interrupted: true,
            opened_ns: None,
        })
    };
    // Trials that ran at once (`--parallel`) interleave their rows: one analysis per trial,
    // each with the times of its first and last record.
    let mut open: std::collections::BTreeMap<u32, (TrialAnalyzer<'_>, u64, u64)> = Default::default();
    for row in results::read_records(dir)? {
        let row = row?;
        let trial = row.trial.unwrap_or(0);
        let (acc, first, last) = open.entry(trial).or_insert_with(|| {
            let mut acc = TrialAnalyzer::new(roster_for(trial), settings)
                .with_clocks(clocks.clone())
                .with_barrier(meta.start_barrier);
            acc.open_window_at(recorded(trial).and_then(|m| m.opened_ns));
            (acc, u64::MAX, 0)
        });
        let record = row.into_record();
        *first = (*first).min(record.t_ns);
        *last = (*last).max(record.t_ns);
        acc.push(&record.view());
    }
    for (t, (acc, first, last)) in open {
        add(&mut analyzer, acc.finish(meta_of(t, first, last)));
    }
    // Trials that produced no record at all still count.
    let seen: Vec<u32> = analyzer.trials().iter().map(|t| t.meta.trial).collect();
    for m in meta.trials.iter().filter(|m| !seen.contains(&m.trial)) {
        add(
            &mut analyzer,
            TrialAnalyzer::new(roster_for(m.trial), settings).with_barrier(meta.start_barrier).finish(*m),
        );
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
/// (only their records are held; trials that ran at once interleave their rows).
fn add_timelines(report: &mut RunReport, dir: &Path) -> Result<(), ResultsError> {
    use crate::analysis::timeline;
    let picked = timeline::pick(&report.trials, &report.distribution);
    if picked.is_empty() {
        return Ok(());
    }
    let mut records: std::collections::BTreeMap<u32, Vec<chatter::Record>> = Default::default();
    for row in results::read_records(dir)? {
        let row = row?;
        let trial = row.trial.unwrap_or(0);
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

#[cfg(test)]
mod tests {
    use super::stopped_note;

    #[test]
    fn the_stop_note_says_when_the_verdict_settled() {
        let why = (5, "one outcome in 5 trials".to_owned());
        assert!(stopped_note(Some(&why), 5, 50).starts_with("stopped after 5 of at most 50 trials: the verdict can"));
        let late = stopped_note(Some(&why), 8, 50);
        assert!(late.contains("after trial 5") && late.contains("the 3 trial(s) already running"), "{late}");
        assert!(stopped_note(None, 50, 50).starts_with("ran all 50 trials"));
    }
}
