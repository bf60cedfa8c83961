//! `sweep.csv`: one row per size and relation (a failed size: one row), from one
//! `#[derive(Serialize)]` struct ([`SweepCsvRow`](crate::sweep::table::SweepCsvRow)).

use std::io::{self, Write};

use super::SweepExporter;
use crate::sweep::model::SweepReport;
use crate::sweep::table::csv_rows;

#[derive(Debug)]
pub struct Csv;

impl SweepExporter for Csv {
    fn file_name(&self) -> &'static str {
        "sweep.csv"
    }

    fn export(&self, report: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        let mut w = ::csv::Writer::from_writer(out);
        for row in csv_rows(report) {
            w.serialize(row).map_err(io::Error::other)?;
        }
        w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_csv() {
        let mut out = Vec::new();
        Csv.export(&super::super::fixture::sweep(), &mut out).expect("export");
        insta::assert_snapshot!(String::from_utf8(out).expect("utf8"));
    }
}
