//! `sweep.md`: the answer first (where each relation's delivery breaks), then the table, then
//! each size's own report.

use std::io::{self, Write};

use super::{pending, SweepExporter};
use crate::report::markdown::{cell, table_string};
use crate::sweep::model::{SizeOutcome, SweepReport};
use crate::sweep::size::label;
use crate::sweep::table::table;

#[derive(Debug)]
pub struct Markdown;

impl SweepExporter for Markdown {
    fn file_name(&self) -> &'static str {
        "sweep.md"
    }

    fn export(&self, r: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "# Size sweep: {} ({} backend)\n", r.scenario, r.backend)?;
        for f in r.findings() {
            writeln!(out, "- **{}**", cell(&f))?;
        }
        writeln!(out)?;
        writeln!(out, "{}\n", cell(&r.swept.note()))?;
        if let Some(p) = pending(r) {
            writeln!(out, "{p}\n")?;
        }
        out.write_all(table_string(&table(r)).as_bytes())?;
        writeln!(out, "Each size's full report is in its own directory:\n")?;
        for s in &r.sizes {
            if let SizeOutcome::Ran { dir, verdict, headline, .. } = &s.outcome {
                writeln!(out, "- [{}]({dir}/report.md): {} — {}", label(s.bytes), verdict.as_str(), cell(headline))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_md() {
        let mut out = Vec::new();
        Markdown.export(&super::super::fixture::sweep(), &mut out).expect("export");
        insta::assert_snapshot!(String::from_utf8(out).expect("utf8"));
    }
}
