//! The trials of a prepared run, in phases: open the run directory, then, until every trial
//! has ended, start trials on the free backends, collect what happens (lines routed to their
//! trials, start barriers, trials ending, Ctrl-C), add the ended trials in order (deciding
//! `until: confident` and rewriting the reports after each), and finish with the outcome.

use std::collections::BTreeMap;
use std::future::Future;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, watch};

use super::collector::Collector;
use super::notes::stopped_note;
use super::options::{trial_count, RunError, RunOptions, RunOutcome};
use super::progress::progress_bar;
use super::record::{open_run_dir, RunRecord};
use super::reports::{add_timelines, run_info};
use super::schedule::Schedule;
use crate::analysis::trial::AnalysisSettings;
use crate::analysis::{ClockCorrection, RunAnalyzer, TrialAnalyzer, TrialMeta};
use crate::backend::{Backend, BackendError, Line, TrialFacts, TrialStart};
use crate::placement::Plan;
use crate::report;
use crate::results::ResultsError;
use crate::spec::Scenario;
use crate::summary::{summarize, RunReport};

/// A backend with its number; the first (0) is the one the run was given.
type Slot<'b, B> = (usize, &'b mut B);

/// What a trial's task returns: the trial's number, what its backend made of it, and the
/// backend, free again.
type Ended<'b, B> = (u32, Ran, Slot<'b, B>);

/// A trial the backend has finished, waiting for its turn to be added (trials are added in
/// order, so reports, notes and `until: confident` read them as if they had run one by one).
struct Ran {
    result: Result<TrialMeta, BackendError>,
    facts: TrialFacts,
}

/// The trials of a prepared run, on `slots` (one backend per trial running at once). A backend
/// failure during a trial ends the run with the results so far written; it is returned beside
/// the outcome.
pub(super) async fn run_trials<B: Backend>(
    scenario: &Scenario,
    slots: Vec<&mut B>,
    plan: &Plan,
    run_id: &str,
    opts: &RunOptions,
    stop: watch::Receiver<bool>,
) -> Result<(RunOutcome, Option<BackendError>), RunError> {
    let record = open_run_dir(scenario, &*slots[0], slots.len(), plan, run_id, opts)?;
    let count = trial_count(scenario, opts);
    let bar = progress_bar(opts.progress, count);
    let schedule = Schedule::draw(scenario, plan, count)?;
    let mut trials = Trials::new(scenario, &schedule, record, slots, count, bar, stop);
    let mut running = FuturesUnordered::new();
    loop {
        // Start trials while a backend is free and the run goes on.
        while trials.may_start() {
            let Some((trial, task)) = trials.start_trial() else { break };
            running.push(task);
            trials.show_running(trial, running.len());
        }
        if running.is_empty() {
            break;
        }
        trials.collect(&mut running).await?;
        trials.add_ended()?;
    }
    Ok(trials.finish())
}

/// The run while its trials go on: what its phases share.
struct Trials<'r, 'b, B> {
    scenario: &'r Scenario,
    schedule: &'r Schedule,
    record: RunRecord,
    /// How many trials the run may start.
    count: u32,
    /// `until: confident` runs up to `count` trials and stops when the verdict is settled.
    until: bool,
    /// Windows open early once every pair has matched, and are held at a start barrier.
    early: bool,
    settings: AnalysisSettings,
    clocks: Option<ClockCorrection>,
    setting: crate::diagnosis::Setting,
    bar: indicatif::ProgressBar,
    /// The backends free to run a trial (popped from the end: the first backend first).
    slots: Vec<Slot<'b, B>>,
    /// Ends the running trials early: Ctrl-C, or a backend failure in one of them.
    halt: watch::Sender<bool>,
    halted: watch::Receiver<bool>,
    /// Ctrl-C.
    stop: watch::Receiver<bool>,
    /// Every running trial's lines, with its number.
    lines_tx: mpsc::UnboundedSender<(u32, Line)>,
    lines_rx: mpsc::UnboundedReceiver<(u32, Line)>,
    /// The trials started and not yet added.
    collectors: BTreeMap<u32, Collector<'r>>,
    /// The trials the backends have finished, until they are added.
    ran: BTreeMap<u32, Ran>,
    analyzer: RunAnalyzer,
    interrupted: bool,
    failure: Option<BackendError>,
    /// The report written after the last trial added.
    last_report: Option<RunReport>,
    next_trial: u32,
    next_to_add: u32,
    /// The trial whose result settled the verdict (`until: confident`).
    settled_at: Option<(u32, String)>,
}

impl<'r, 'b, B: Backend> Trials<'r, 'b, B> {
    fn new(
        scenario: &'r Scenario,
        schedule: &'r Schedule,
        record: RunRecord,
        slots: Vec<&'b mut B>,
        count: u32,
        bar: indicatif::ProgressBar,
        stop: watch::Receiver<bool>,
    ) -> Self {
        let (halt, halted) = watch::channel(false);
        let (lines_tx, lines_rx) = mpsc::unbounded_channel::<(u32, Line)>();
        Trials {
            scenario,
            schedule,
            count,
            until: scenario.trials.until == Some(crate::spec::Until::Confident),
            early: record.meta.early_windows,
            settings: record.meta.analysis_settings(),
            clocks: record.meta.clock_correction(),
            setting: record.meta.setting(),
            record,
            bar,
            slots: slots.into_iter().enumerate().rev().collect(),
            halt,
            halted,
            stop,
            lines_tx,
            lines_rx,
            collectors: Default::default(),
            ran: Default::default(),
            analyzer: RunAnalyzer::default(),
            interrupted: false,
            failure: None,
            last_report: None,
            next_trial: 1,
            next_to_add: 1,
            settled_at: None,
        }
    }

    /// Whether another trial may start: trials are left, nothing failed or settled the
    /// verdict, nobody asked to stop — and one start-up at a time: a trial starts once every
    /// node of the trials already running is up, so emulated nodes of several clusters do not
    /// start together and come up seconds late.
    fn may_start(&self) -> bool {
        self.next_trial <= self.count
            && self.failure.is_none()
            && self.settled_at.is_none()
            && !*self.halted.borrow()
            && self.collectors.values().all(|c| c.acc.all_started())
    }

    /// Starts the next trial on a free backend: its collector, and the task that runs it;
    /// `None` while every backend is busy.
    fn start_trial(&mut self) -> Option<(u32, impl Future<Output = Ended<'b, B>> + 'b)> {
        let slot = self.slots.pop()?;
        let trial = self.next_trial;
        self.next_trial += 1;
        let schedule = self.schedule;
        let (trial_plan, placement) = schedule.plans[&trial].clone();
        if self.scenario.trials.reschedule {
            self.record.meta.placements.insert(trial, placement);
        }
        let acc = TrialAnalyzer::new(&schedule.rosters[&trial], self.settings)
            .with_clocks(self.clocks.clone())
            .with_barrier(self.record.meta.start_barrier);
        let (open_tx, open) = watch::channel(None);
        self.collectors.insert(trial, Collector::new(&trial_plan, acc, self.early.then_some(open_tx)));
        let start = TrialStart { trial, open, barrier: self.early };
        Some((trial, trial_task(slot, trial_plan, start, self.lines_tx.clone(), self.halted.clone())))
    }

    /// The bar's message once trial `trial` has started, `at_once` trials running.
    fn show_running(&self, trial: u32, at_once: usize) {
        let count = self.count;
        self.bar.set_message(if at_once > 1 {
            format!("trials {}–{trial}/{count}", trial + 1 - u32::try_from(at_once).unwrap_or(1))
        } else {
            format!("trial {trial}/{count}")
        });
    }

    /// Waits for the next thing to happen while trials run and handles it: a line (to its
    /// trial's collector), a start barrier falling due, a trial the backend has finished, or a
    /// change of `stop`.
    async fn collect<F>(&mut self, running: &mut FuturesUnordered<F>) -> Result<(), ResultsError>
    where
        F: Future<Output = Ended<'b, B>>,
    {
        // The next start barrier due: its window opens then, for every pair of its trial.
        let barrier = self.collectors.values().filter_map(Collector::barrier_due).min();
        let barrier_sleep = async {
            match barrier {
                Some(at) => {
                    tokio::time::sleep(std::time::Duration::from_nanos(at.saturating_sub(chatter::now_ns()))).await
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some((trial, line)) = self.lines_rx.recv() => self.route(trial, line)?,
            () = barrier_sleep => self.open_at_barriers(),
            Some((trial, done, slot)) = running.next() => self.trial_ended(trial, done, slot)?,
            changed = self.stop.changed() => self.stop_changed(changed.is_err()),
        }
        Ok(())
    }

    /// Hands a line of trial `trial` to that trial's collector.
    fn route(&mut self, trial: u32, line: Line) -> Result<(), ResultsError> {
        match self.collectors.get_mut(&trial) {
            Some(c) => c.line(trial, line, &mut self.record.dir),
            None => Ok(()),
        }
    }

    /// Opens the windows whose start barrier is due.
    fn open_at_barriers(&mut self) {
        let now = chatter::now_ns();
        for (trial, c) in &mut self.collectors {
            c.open_at_barrier(*trial, now);
        }
    }

    /// Trial `trial`'s backend is done: its last lines are read and the backend is free again;
    /// a failed trial halts the others.
    fn trial_ended(&mut self, trial: u32, done: Ran, slot: Slot<'b, B>) -> Result<(), ResultsError> {
        // Every line the trial forwarded is queued by now: read them before it ends.
        while let Ok((t, line)) = self.lines_rx.try_recv() {
            self.route(t, line)?;
        }
        // The first backend's notes are the run's (the others differ only in names).
        if slot.0 == 0 {
            self.record.backend_notes = slot.1.notes();
        }
        self.slots.push(slot);
        if done.result.is_err() {
            let _ = self.halt.send(true);
        }
        self.ran.insert(trial, done);
        Ok(())
    }

    /// `stop` changed (`closed`: its sender is gone): a stop request halts the running trials.
    fn stop_changed(&mut self, closed: bool) {
        if closed || *self.stop.borrow() {
            let _ = self.halt.send(true);
        }
        if closed {
            // Nobody can ask to stop any more: stop watching.
            self.stop = watch::channel(false).1;
        }
    }

    /// Adds the ended trials, in order; after each, `until: confident` is decided and the
    /// reports are rewritten.
    fn add_ended(&mut self) -> Result<(), ResultsError> {
        while let Some(done) = self.ran.remove(&self.next_to_add) {
            let trial = self.next_to_add;
            self.next_to_add += 1;
            let Some(c) = self.collectors.remove(&trial) else { continue };
            self.add_trial(trial, c, done)?;
            let info = run_info(&self.record.meta, &self.schedule.base_roster, &self.setting);
            let latest = summarize(info, &self.analyzer, Vec::new());
            self.decide_until_confident(trial, &latest);
            self.write_reports(latest)?;
            self.bar.inc(1);
        }
        Ok(())
    }

    /// Adds trial `trial` to the analysis and to `run.json`'s trials, with what its backend saw
    /// of it.
    fn add_trial(&mut self, trial: u32, c: Collector<'r>, done: Ran) -> Result<(), ResultsError> {
        self.record.dir.flush()?;
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
                self.failure.get_or_insert(e);
                TrialMeta::ended(trial, chatter::now_ns(), true)
            }
        };
        // Opened early only when every pair had matched (not at the start barrier).
        if self.early {
            trial_meta.opened_ns = c.early_ns;
        }
        let meta = &mut self.record.meta;
        // Where the pods actually ran, when the cluster decided, and containers that died.
        let facts = done.facts;
        if !facts.placement.is_empty() {
            acc.relocate(&facts.placement);
            meta.placements.insert(trial, facts.placement);
        }
        if !facts.containers.is_empty() {
            meta.container_exits.insert(trial, facts.containers.clone());
        }
        if !facts.participants.is_empty() {
            meta.participants.insert(trial, facts.participants.clone());
        }
        if !facts.traffic.is_empty() {
            meta.traffic.insert(trial, facts.traffic.clone());
        }
        if !facts.kernel.is_empty() {
            meta.kernel.insert(trial, facts.kernel.clone());
        }
        let (mut trial_report, hists) = acc.finish(trial_meta);
        trial_report.containers = facts.containers;
        trial_report.participants = facts.participants;
        trial_report.traffic = facts.traffic;
        trial_report.kernel = facts.kernel;
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
        self.analyzer.add(trial_report, hists);
        meta.trials.push(trial_meta);
        self.interrupted |= trial_meta.interrupted;
        Ok(())
    }

    /// `until: confident`: whether trial `trial` settled the verdict (the notes then say so),
    /// and once it is settled or the last trial is in, why the run stopped there.
    fn decide_until_confident(&mut self, trial: u32, latest: &RunReport) {
        if !self.until {
            return;
        }
        if self.settled_at.is_none() {
            if let Some(why) = crate::summary::confident(&latest.verdict.groups) {
                self.settled_at = Some((trial, why));
            }
        }
        if self.settled_at.is_some() || trial == self.count {
            self.record.meta.stopped = Some(stopped_note(self.settled_at.as_ref(), trial, self.count));
        }
    }

    /// Rewrites `run.json` and the reports with `latest`, the run so far.
    fn write_reports(&mut self, mut latest: RunReport) -> Result<(), ResultsError> {
        self.record.write_meta()?;
        latest.notes.clone_from(&self.record.meta.notes);
        add_timelines(&mut latest, &self.record.dir.path)?;
        report::write_all(&self.record.dir.path, &latest)?;
        self.last_report = Some(latest);
        Ok(())
    }

    /// The run's outcome once no trial runs, and the backend failure that ended it, if one did.
    fn finish(self) -> (RunOutcome, Option<BackendError>) {
        self.bar.finish_and_clear();
        // The report written after the last trial is the run's; only a run stopped before its
        // first trial has none yet.
        let interrupted = self.interrupted | (*self.halted.borrow() && self.failure.is_none());
        let (meta, setting, analyzer) = (&self.record.meta, &self.setting, &self.analyzer);
        let report = self.last_report.unwrap_or_else(|| {
            summarize(run_info(meta, &self.schedule.base_roster, setting), analyzer, meta.notes.clone())
        });
        (RunOutcome { report, dir: self.record.dir.path, interrupted }, self.failure)
    }
}

/// Runs trial `start.trial` on `slot`, forwarding its lines (with its number) to `lines`; then
/// takes what the backend saw of the trial, before it runs another.
async fn trial_task<'b, B: Backend>(
    slot: Slot<'b, B>,
    plan: Plan,
    start: TrialStart,
    lines: mpsc::UnboundedSender<(u32, Line)>,
    halted: watch::Receiver<bool>,
) -> Ended<'b, B> {
    let trial = start.trial;
    let (tx, mut rx) = mpsc::unbounded_channel::<Line>();
    let forward = async {
        while let Some(line) = rx.recv().await {
            let _ = lines.send((trial, line));
        }
    };
    let (result, ()) = tokio::join!(slot.1.run_trial(&plan, start, tx, halted), forward);
    (trial, Ran { result, facts: slot.1.trial_facts(trial) }, slot)
}
