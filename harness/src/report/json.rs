//! `summary.json`: the whole [`RunReport`], versioned by its `schema` field.

use std::io::{self, Write};

use super::exporter::Exporter;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::render;

    #[test]
    fn summary_json() {
        let text = render(&SummaryJson);
        let v: serde_json::Value = serde_json::from_str(&text).expect("valid json");
        assert_eq!(v["schema"], 2);
        insta::assert_snapshot!(text);
    }
}
