//! `sweep.json`: the [`SweepReport`] as it is (schema-versioned), for tools.

use std::io::{self, Write};

use super::SweepExporter;
use crate::sweep::model::SweepReport;

#[derive(Debug)]
pub struct Json;

impl SweepExporter for Json {
    fn file_name(&self) -> &'static str {
        "sweep.json"
    }

    fn export(&self, report: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back() {
        let r = super::super::fixture::sweep();
        let mut out = Vec::new();
        Json.export(&r, &mut out).expect("export");
        let back: SweepReport = serde_json::from_slice(&out).expect("parse");
        assert_eq!(back, r);
    }
}
