//! `harness report DIR`: re-analyse a run directory and rewrite its reports.

use crate::cli::exit;
use crate::cli::outcome::{emit, Failure};
use crate::{report, runner};

/// `harness report DIR`: a directory that cannot be read is a results problem, not a usage one.
pub(in crate::cli) fn report_dir(dir: &std::path::Path) -> Result<u8, Failure> {
    let r = runner::reanalyze(dir).map_err(Failure::backend)?;
    emit(&format!("{}reports: {}\n", report::console(&r), dir.display()))?;
    Ok(if r.expectations_met() { exit::OK } else { exit::EXPECTATIONS_FAILED })
}
