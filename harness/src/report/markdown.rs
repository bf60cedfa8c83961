//! `report.md`: what a person reads first — verdict, who-heard-whom matrix, outcome
//! distribution, causes, then the details.

use std::io::{self, Write};

use super::{ms, percent, Exporter, Matrix};
use crate::analysis::RunReport;

#[derive(Debug)]
pub struct Markdown;

impl Exporter for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn export(&self, r: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        let complete = r.trials.iter().filter(|t| !t.meta.interrupted).count();
        let interrupted = r.trials.len() - complete;
        writeln!(out, "# chatter-harness: {}", r.scenario)?;
        writeln!(out)?;
        write!(out, "Run `{}` on the `{}` backend: {complete} trial(s)", r.run_id, r.backend)?;
        if interrupted > 0 {
            write!(out, ", {interrupted} interrupted (excluded from the verdict)")?;
        }
        writeln!(out, ".")?;
        writeln!(out)?;
        for n in &r.notes {
            writeln!(out, "> **Note:** {n}")?;
            writeln!(out)?;
        }
        writeln!(out, "## Verdict: {}", r.verdict.kind.as_str())?;
        writeln!(out)?;
        for e in &r.verdict.evidence {
            writeln!(out, "- {e}")?;
        }
        writeln!(out)?;

        writeln!(out, "## Delivery matrix")?;
        writeln!(out)?;
        writeln!(out, "Rows are talkers, columns listeners; each cell: messages delivered over all trials (trials with any delivery / trials).")?;
        writeln!(out)?;
        let m = Matrix::of(r);
        write!(out, "| talker \\ listener |")?;
        for l in &m.listeners {
            write!(out, " {l} |")?;
        }
        writeln!(out)?;
        writeln!(out, "|---|{}", "---|".repeat(m.listeners.len()))?;
        for (t, cells) in &m.rows {
            write!(out, "| {t} |")?;
            for c in cells {
                write!(out, " {c} |")?;
            }
            writeln!(out)?;
        }
        writeln!(out)?;

        writeln!(out, "## Outcome distribution")?;
        writeln!(out)?;
        writeln!(out, "| outcome | trials | share | 95 % CI (Wilson) |")?;
        writeln!(out, "|---|---|---|---|")?;
        for s in &r.distribution {
            writeln!(
                out,
                "| {} | {} | {} | {} – {} |",
                s.outcome,
                s.trials,
                percent(s.share),
                percent(s.wilson_low),
                percent(s.wilson_high)
            )?;
        }
        writeln!(out)?;

        if !r.findings.is_empty() {
            writeln!(out, "## Diagnosis")?;
            writeln!(out)?;
            for f in &r.findings {
                writeln!(out, "### {} → {} (`{}`)", f.talker, f.listener, f.rule)?;
                writeln!(out)?;
                writeln!(out, "{}", f.cause)?;
                writeln!(out)?;
                for e in &f.evidence {
                    writeln!(out, "- {e}")?;
                }
                writeln!(out, "- **What to do:** {}", f.advice)?;
                writeln!(out)?;
            }
        }

        if !r.expectations.is_empty() {
            writeln!(out, "## Expectations")?;
            writeln!(out)?;
            for e in &r.expectations {
                writeln!(out, "- [{}] {} — {}", if e.passed { "x" } else { " " }, e.what, e.detail)?;
            }
            writeln!(out)?;
        }

        writeln!(out, "## Pairs")?;
        writeln!(out)?;
        writeln!(out, "| talker | listener | relation | received / expected | lost | dup | reordered | discovery ms (median) | p50 ms | p90 ms | p99 ms | max ms |")?;
        writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|")?;
        for p in &r.pairs {
            writeln!(
                out,
                "| {} | {} | {} | {} / {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                p.talker,
                p.listener,
                p.relation.as_str(),
                p.received,
                p.expected,
                p.lost,
                p.duplicates,
                p.reordered,
                p.discovery_median_ms.map_or("–".into(), |d| format!("{d:.0}")),
                ms(p.latency_p50_us),
                ms(p.latency_p90_us),
                ms(p.latency_p99_us),
                ms(p.latency_max_us)
            )?;
        }
        writeln!(out)?;

        writeln!(out, "## Trials")?;
        writeln!(out)?;
        writeln!(out, "| trial | outcome | note |")?;
        writeln!(out, "|---|---|---|")?;
        for t in &r.trials {
            let note = if t.meta.interrupted { "interrupted" } else { "" };
            writeln!(out, "| {} | {} | {note} |", t.meta.trial, t.outcome)?;
        }
        Ok(())
    }
}
