//! What a run is asked to do ([`RunOptions`]) and how it ends ([`RunOutcome`], [`RunError`]).

use std::path::PathBuf;

use crate::backend::BackendError;
use crate::placement::PlacementError;
use crate::results::ResultsError;
use crate::spec::Scenario;
use crate::summary::RunReport;

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
    /// ([`Backend::sibling`](crate::backend::Backend::sibling)); 1 runs them one after another.
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

/// How many trials the run may start: `--trials`, else `trials.count`, or `trials.max` when it
/// runs until confident.
pub(super) fn trial_count(scenario: &Scenario, opts: &RunOptions) -> u32 {
    let until = scenario.trials.until == Some(crate::spec::Until::Confident);
    opts.trials.unwrap_or(if until { scenario.trials.max } else { scenario.trials.count })
}
