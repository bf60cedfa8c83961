//! `report.md`: what a person reads first — verdict, who-heard-whom matrix, trials by placement,
//! outcome distribution, causes, then the details. Tables come from the shared [`Table`]
//! model; cell text is escaped for GFM tables (`|`, line breaks).

use std::io::{self, Write};

use super::{distribution_table, expectations_table, matrix, pairs_table, trials_table, Exporter, Table};
use crate::summary::RunReport;

#[derive(Debug)]
pub struct Markdown;

/// Escapes text for a GFM table cell.
pub fn cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn table(out: &mut dyn Write, t: &Table) -> io::Result<()> {
    writeln!(out, "**{}**", t.caption)?;
    writeln!(out)?;
    writeln!(out, "|{}", t.head.iter().map(|h| format!(" {} |", cell(h))).collect::<String>())?;
    writeln!(out, "|{}", t.numeric.iter().map(|n| if *n { "---:|" } else { "---|" }).collect::<String>())?;
    for row in &t.rows {
        writeln!(out, "|{}", row.iter().map(|c| format!(" {} |", cell(c))).collect::<String>())?;
    }
    writeln!(out)
}

impl Exporter for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn export(&self, r: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        let complete = r.complete().count();
        let interrupted = r.trials.len() - complete;
        writeln!(out, "# chatter-harness: {}", r.scenario)?;
        writeln!(out)?;
        write!(out, "Run `{}` on the `{}` backend: {complete} trial(s)", r.run_id, r.backend)?;
        if interrupted > 0 {
            write!(out, ", {interrupted} interrupted (shown, but counted nowhere)")?;
        }
        writeln!(out, ".")?;
        writeln!(out)?;
        for n in &r.notes {
            writeln!(out, "> **Note:** {n}")?;
            writeln!(out)?;
        }
        writeln!(out, "## Verdict: `{}`", r.verdict.kind.as_str())?;
        writeln!(out)?;
        writeln!(out, "**{}**", r.verdict.headline)?;
        writeln!(out)?;
        for e in &r.verdict.evidence {
            writeln!(out, "- {e}")?;
        }
        writeln!(out)?;
        writeln!(out, "## Delivery matrix")?;
        writeln!(out)?;
        table(out, &matrix(r))?;
        writeln!(out, "## Trials")?;
        writeln!(out)?;
        table(out, &trials_table(r))?;
        writeln!(out, "## Outcome distribution")?;
        writeln!(out)?;
        table(out, &distribution_table(r))?;
        if !r.findings.is_empty() {
            writeln!(out, "## Diagnosis")?;
            writeln!(out)?;
            for f in &r.findings {
                writeln!(out, "### `{}` ({}): {}", f.rule, f.severity.as_str(), f.cause)?;
                writeln!(out)?;
                if !f.pairs.is_empty() {
                    writeln!(out, "- **Pairs:** {}", f.pairs.join("; "))?;
                }
                if !f.trials.is_empty() {
                    let ts: Vec<String> = f.trials.iter().map(u32::to_string).collect();
                    writeln!(out, "- **Trials:** {}", ts.join(", "))?;
                }
                for e in &f.evidence {
                    writeln!(out, "- {e}")?;
                }
                if let Some(c) = &f.fault {
                    writeln!(
                        out,
                        "- **Injected fault:** {} — observed {}: {}",
                        c.injected,
                        c.observed,
                        if c.matches { "matches" } else { "does NOT match" }
                    )?;
                }
                writeln!(out, "- **What to do:** {}", f.advice)?;
                writeln!(out)?;
            }
        }
        if !r.expectations.is_empty() {
            writeln!(out, "## Expectations")?;
            writeln!(out)?;
            table(out, &expectations_table(r))?;
        }
        writeln!(out, "## Pairs")?;
        writeln!(out)?;
        table(out, &pairs_table(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_do_not_split_cells() {
        assert_eq!(cell("a | b"), "a \\| b");
        assert_eq!(cell("x\ny"), "x y");
    }
}
