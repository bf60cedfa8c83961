//! The run loop: place, then for each trial let the backend run it while its lines are parsed,
//! appended to `records.csv` and analysed; after every trial, rewrite the reports. Anything
//! already collected survives a failure or Ctrl-C.

mod collector;
mod notes;
mod options;
mod progress;
mod reanalyze;
mod record;
mod reports;
mod run;
mod schedule;
mod trials;

pub use options::{RunError, RunOptions, RunOutcome};
pub use progress::{progress_bars, LogWriter};
pub use reanalyze::reanalyze;
pub use run::run;
