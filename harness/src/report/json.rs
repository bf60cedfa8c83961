//! `summary.json`: the whole [`RunReport`], versioned by its `schema` field.

use std::io::{self, Write};

use super::Exporter;
use crate::summary::RunReport;

#[derive(Debug)]
pub struct SummaryJson;

impl Exporter for SummaryJson {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }

    fn export(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
        out.write_all(b"\n")
    }
}
