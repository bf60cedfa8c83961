//! The run directory as a run writes it: created with `doctor.json` (after `--preflight`) and
//! a first `run.json`, which is rewritten, its notes brought up to date, after every trial.

use super::notes::{no_barrier, run_notes};
use super::options::{RunError, RunOptions};
use crate::backend::Backend;
use crate::placement::Plan;
use crate::results::{self, ResultsError, RunDir, RunMeta, RUN_SCHEMA};
use crate::spec::Scenario;

/// What the run writes down as it goes: its directory and `run.json`, whose notes include the
/// backend's.
pub(super) struct RunRecord {
    pub(super) dir: RunDir,
    pub(super) meta: RunMeta,
    /// The first backend's notes, as of its last trial (the others differ only in names).
    pub(super) backend_notes: Vec<String>,
    /// Why the windows keep the scenario's timing where the backend could have held them at a
    /// start barrier.
    barrier_off: Option<&'static str>,
}

/// Creates the run directory of a run on `first` (and `parallel - 1` siblings): its
/// `doctor.json` after `--preflight`, and its `run.json` with the notes so far.
pub(super) fn open_run_dir<B: Backend>(
    scenario: &Scenario,
    first: &B,
    parallel: usize,
    plan: &Plan,
    run_id: &str,
    opts: &RunOptions,
) -> Result<RunRecord, RunError> {
    let (backend_name, shared_clock, backend_notes) = (first.name(), first.shared_clock(), first.notes());
    // Windows open as soon as every pair has matched (else when the warm-up runs out) where the
    // backend can tell the talkers, they are all ours, and nothing is timed against the fixed
    // schedule (faults, late starts).
    // The same trials hold every window at a start barrier (see `TrialAnalyzer::with_barrier`).
    let barrier_off = first.opens_windows_early().then(|| no_barrier(scenario, plan)).flatten();
    let early = first.opens_windows_early() && barrier_off.is_none();
    let dir = RunDir::create(&opts.results_root, run_id)?;
    let meta = RunMeta {
        schema: RUN_SCHEMA,
        run_id: run_id.to_owned(),
        backend: backend_name.to_owned(),
        notes: Vec::new(),
        scenario: scenario.clone(),
        plan: plan.clone(),
        trials: Vec::new(),
        placements: Default::default(),
        container_exits: Default::default(),
        participants: Default::default(),
        traffic: Default::default(),
        kernel: Default::default(),
        incomplete: Default::default(),
        stopped: None,
        shared_clock: Some(shared_clock),
        doctor: opts.preflight.clone(),
        parallel: u32::try_from(parallel).unwrap_or(u32::MAX),
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
    let mut record = RunRecord { dir, meta, backend_notes, barrier_off };
    record.write_meta()?;
    tracing::info!(run = %run_id, dir = %record.dir.path.display(), parallel, "run started");
    Ok(record)
}

impl RunRecord {
    /// Rewrites `run.json`, its notes brought up to date.
    pub(super) fn write_meta(&mut self) -> Result<(), ResultsError> {
        self.meta.notes = run_notes(&self.meta, self.backend_notes.clone(), self.barrier_off);
        self.dir.write_meta(&self.meta)
    }
}
