//! Re-analysis of a run directory from its `run.json` and `records.csv` (`harness report`).

use std::path::Path;

use super::reports::{add_timelines, run_info};
use crate::analysis::{Roster, RunAnalyzer, TrialAnalyzer, TrialMeta};
use crate::report;
use crate::results::{self, ResultsError};
use crate::summary::{summarize, RunReport};

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
        r.participants = meta.participants.get(&r.meta.trial).cloned().unwrap_or_default();
        r.traffic = meta.traffic.get(&r.meta.trial).cloned().unwrap_or_default();
        r.kernel = meta.kernel.get(&r.meta.trial).cloned().unwrap_or_default();
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
