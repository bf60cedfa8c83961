//! `harness report DIR`: re-analyse a run directory and rewrite its reports; or, for a size
//! sweep's directory, every size's run and then the sweep's own files.

use std::path::Path;

use crate::cli::exit;
use crate::cli::outcome::{emit, Failure};
use crate::results::ResultsError;
use crate::sweep::{self, export, SizeOutcome, SweepReport};
use crate::{report, runner};

/// `harness report DIR`: a directory that cannot be read is a results problem, not a usage one.
pub(in crate::cli) fn report_dir(dir: &Path) -> Result<u8, Failure> {
    if dir.join("sweep.json").is_file() {
        return report_sweep(dir);
    }
    let r = runner::reanalyze(dir).map_err(Failure::backend)?;
    emit(&format!("{}reports: {}\n", report::console(&r), dir.display()))?;
    Ok(if r.expectations_met() { exit::OK } else { exit::EXPECTATIONS_FAILED })
}

/// A sweep directory: each size that ran is re-analysed from its records (its reports
/// rewritten), its rows and verdict taken anew, and the sweep's files rewritten from them.
fn report_sweep(dir: &Path) -> Result<u8, Failure> {
    let path = dir.join("sweep.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|source| Failure::backend(ResultsError::Io { path: path.clone(), source }))?;
    let mut s: SweepReport = serde_json::from_str(&text)
        .map_err(|source| Failure::backend(ResultsError::Json { path: path.clone(), source }))?;
    let SweepReport { sizes, swept, .. } = &mut s;
    for size in sizes.iter_mut() {
        if let SizeOutcome::Ran { dir: run, verdict, headline, rows } = &mut size.outcome {
            let r = runner::reanalyze(&dir.join(run.as_str())).map_err(Failure::backend)?;
            *rows = sweep::rows_of(&r, size.bytes, swept);
            (*verdict, *headline) = (r.verdict.kind, r.verdict.headline);
        }
    }
    export::write_all(dir, &s).map_err(Failure::backend)?;
    emit(&format!("{}reports: {}\n", export::console(&s), dir.display()))?;
    Ok(super::sweep::exit_code(&s))
}
