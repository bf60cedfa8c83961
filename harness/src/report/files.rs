//! The report files of a run: every file exporter, and writing them all into the run directory.

use std::path::Path;

use super::csv::{PairsCsv, TrialsCsv};
use super::exporter::Exporter;
use super::html::Html;
use super::json::SummaryJson;
use super::markdown::Markdown;
use crate::results::{write_atomic, ResultsError};
use crate::summary::RunReport;

/// Every file exporter.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![Box::new(PairsCsv), Box::new(TrialsCsv), Box::new(SummaryJson), Box::new(Markdown), Box::new(Html)]
}

/// Writes every report into `dir`, each file replaced atomically.
pub fn write_all(dir: &Path, report: &RunReport) -> Result<(), ResultsError> {
    for e in exporters() {
        write_atomic(&dir.join(e.file_name()), |w| e.export(report, w))?;
    }
    Ok(())
}
