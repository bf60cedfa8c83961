//! `report.md`: what a person reads first — verdict, who-heard-whom matrix, trials by placement,
//! outcome distribution, causes, then the details. Tables come from the shared [`Table`]
//! model; cell text is escaped for GFM tables (`|`, line breaks).

use std::io::{self, Write};

use super::exporter::Exporter;
use super::groups::{grouped_matrix, grouped_pairs_table, is_large, unheard_rows};
use super::table::{distribution_table, expectations_table, matrix, pairs_table, traffic_table, trials_table, Table};
use crate::summary::RunReport;

#[derive(Debug)]
pub struct Markdown;

/// Escapes text for a GFM table cell.
pub fn cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A table as GFM text.
pub fn table_string(t: &Table) -> String {
    let mut out = Vec::new();
    let _ = table(&mut out, t);
    String::from_utf8_lossy(&out).into_owned()
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

/// The findings: each one's rule, severity and cause, pairs, trials, evidence, an injected
/// fault's check and what to do.
fn diagnosis(out: &mut dyn Write, r: &RunReport) -> io::Result<()> {
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
    Ok(())
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
            write!(out, ", {interrupted} interrupted or incomplete (shown, but counted nowhere)")?;
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
        if is_large(r) {
            table(out, &grouped_matrix(r))?;
        } else {
            table(out, &matrix(r))?;
        }
        writeln!(out, "## Trials")?;
        writeln!(out)?;
        table(out, &trials_table(r))?;
        writeln!(out, "## Outcome distribution")?;
        writeln!(out)?;
        table(out, &distribution_table(r))?;
        if let Some(traffic) = traffic_table(r) {
            writeln!(out, "## DDS traffic")?;
            writeln!(out)?;
            table(out, &traffic)?;
        }
        if let Some(kernel) = super::kernel::kernel_table(r) {
            writeln!(out, "## Kernel counters")?;
            writeln!(out)?;
            table(out, &kernel)?;
        }
        diagnosis(out, r)?;
        if !r.expectations.is_empty() {
            writeln!(out, "## Expectations")?;
            writeln!(out)?;
            table(out, &expectations_table(r))?;
        }
        writeln!(out, "## Pairs")?;
        writeln!(out)?;
        if is_large(r) {
            table(out, &grouped_pairs_table(r))?;
            table(out, &unheard_rows(r, &pairs_table(r)))
        } else {
            table(out, &pairs_table(r))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::render;

    #[test]
    fn markdown() {
        insta::assert_snapshot!(render(&Markdown));
    }

    /// The tables of a Markdown document as a CommonMark+GFM reader sees them: per table, its
    /// rows (the head first), each a list of cell texts.
    fn parsed_tables(md: &str) -> Vec<Vec<Vec<String>>> {
        use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
        let mut tables: Vec<Vec<Vec<String>>> = Vec::new();
        let mut in_cell = false;
        for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
            match event {
                Event::Start(Tag::Table(_)) => tables.push(Vec::new()),
                Event::Start(Tag::TableHead | Tag::TableRow) => {
                    if let Some(t) = tables.last_mut() {
                        t.push(Vec::new());
                    }
                }
                Event::Start(Tag::TableCell) => {
                    in_cell = true;
                    if let Some(row) = tables.last_mut().and_then(|t| t.last_mut()) {
                        row.push(String::new());
                    }
                }
                Event::End(TagEnd::TableCell) => in_cell = false,
                Event::Text(text) | Event::Code(text) if in_cell => {
                    if let Some(cell) = tables.last_mut().and_then(|t| t.last_mut()).and_then(|r| r.last_mut()) {
                        cell.push_str(&text);
                    }
                }
                _ => {}
            }
        }
        tables
    }

    /// The tables [`Markdown`] writes, as their model has them (head first).
    fn model_tables(r: &RunReport) -> Vec<Vec<Vec<String>>> {
        let mut tables = vec![matrix(r), trials_table(r), distribution_table(r)];
        tables.extend(traffic_table(r));
        tables.extend(super::super::kernel::kernel_table(r));
        if !r.expectations.is_empty() {
            tables.push(expectations_table(r));
        }
        tables.push(pairs_table(r));
        tables.into_iter().map(|t| std::iter::once(t.head).chain(t.rows).collect()).collect()
    }

    /// Every table reads back cell for cell, even with `|` and `\\` in the text.
    #[test]
    fn tables_survive_a_gfm_reader() {
        let mut r = crate::analysis::fixture::report();
        let label = "a | b \\ c".to_owned();
        r.trials[0].outcome.clone_from(&label);
        r.distribution[0].outcome.clone_from(&label);
        let mut md = Vec::new();
        Markdown.export(&r, &mut md).expect("export");
        let md = String::from_utf8(md).expect("utf8");
        let parsed = parsed_tables(&md);
        assert_eq!(parsed, model_tables(&r));
        assert!(parsed.iter().flatten().flatten().any(|c| *c == label), "the label survives intact");
    }

    /// The committed example reports: every table of report.md intact, and matching the
    /// summary.json beside it.
    #[test]
    fn example_reports_read_back_intact() {
        let results = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../results");
        let mut seen = 0;
        for entry in std::fs::read_dir(&results).expect("results/") {
            let dir = entry.expect("entry").path();
            if !dir.join("summary.json").is_file() {
                continue;
            }
            let json = std::fs::read_to_string(dir.join("summary.json")).expect("summary");
            let r: RunReport = serde_json::from_str(&json).expect("summary.json is a RunReport");
            let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
            assert_eq!(parsed_tables(&md), model_tables(&r), "{}", dir.display());
            seen += 1;
        }
        assert!(seen >= 3, "three committed examples");
    }

    #[test]
    fn pipes_do_not_split_cells() {
        assert_eq!(cell("a | b"), "a \\| b");
        assert_eq!(cell("x\ny"), "x y");
    }
}
