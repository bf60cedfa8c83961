//! What a run's reports are made of beyond the analysis: the run's identity for the summary,
//! and the receive timelines drawn from `records.csv` — the same for a live run as for a
//! re-analysis.

use std::path::Path;

use crate::analysis::Roster;
use crate::results::{self, ResultsError, RunMeta};
use crate::summary::{RunInfo, RunReport};

/// The run as the summary names it.
pub(super) fn run_info<'a>(
    meta: &'a RunMeta,
    roster: &'a Roster,
    setting: &'a crate::diagnosis::Setting,
) -> RunInfo<'a> {
    RunInfo {
        run_id: &meta.run_id,
        scenario: &meta.scenario.name,
        backend: &meta.backend,
        roster,
        setting,
        expect: meta.scenario.expect.as_ref(),
    }
}

/// Draws the receive timelines of the trials a report shows, from their rows of `records.csv`
/// (only their records are held; trials that ran at once interleave their rows).
pub(super) fn add_timelines(report: &mut RunReport, dir: &Path) -> Result<(), ResultsError> {
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
