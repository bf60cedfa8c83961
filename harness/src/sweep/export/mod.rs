//! The sweep's files, one exporter per format, each writing a [`SweepReport`] into any
//! `io::Write`: `sweep.md`, `report.html` (with its [`plot`]s), `sweep.json`, `sweep.csv`; and
//! the console summary.

mod console;
mod csv;
mod html;
mod json;
mod markdown;
pub mod plot;

use std::io::{self, Write};
use std::path::Path;

pub use console::render as console;

use super::model::SweepReport;
use crate::results::{write_atomic, ResultsError};

/// A sweep file format.
pub trait SweepExporter {
    /// File name inside the sweep directory.
    fn file_name(&self) -> &'static str;
    fn export(&self, report: &SweepReport, out: &mut dyn Write) -> io::Result<()>;
}

/// Every sweep file exporter.
pub fn exporters() -> Vec<Box<dyn SweepExporter>> {
    vec![Box::new(markdown::Markdown), Box::new(html::Html), Box::new(json::Json), Box::new(csv::Csv)]
}

/// Writes every sweep file into `dir`, each replaced atomically (called after every size, so a
/// later failure loses nothing).
pub fn write_all(dir: &Path, report: &SweepReport) -> Result<(), ResultsError> {
    for e in exporters() {
        write_atomic(&dir.join(e.file_name()), |w| e.export(report, w))?;
    }
    Ok(())
}

/// The size runs still to come, in words (`—` when none), for the files written mid-sweep.
fn pending(r: &SweepReport) -> Option<String> {
    let done: Vec<u32> = r.sizes.iter().map(|s| s.bytes).collect();
    let left: Vec<String> = r.planned.iter().filter(|b| !done.contains(b)).map(|b| super::size::label(*b)).collect();
    (!left.is_empty()).then(|| format!("Not measured (yet): {}.", left.join(", ")))
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A made-up three-size sweep for the exporters' snapshots.
    use crate::analysis::Relation;
    use crate::summary::VerdictKind;
    use crate::sweep::model::{RelationRow, SizeOutcome, SizeResult, SweepReport, Threshold, SWEEP_SCHEMA};
    use crate::sweep::swept::Swept;

    fn row(relation: Relation, received: u64, p50: u64, p99: u64) -> RelationRow {
        RelationRow {
            relation,
            pairs: 1,
            pair_trials: 2,
            expected: 100,
            received,
            delivered: Some(received as f64 / 100.0),
            latency_p50_us: (received > 0).then_some(p50),
            latency_p99_us: (received > 0).then_some(p99),
            clock_trusted: true,
            goodput_bytes_per_s: Some(received as f64 * 1000.0),
        }
    }

    fn ran(bytes: u32, dir: &str, rows: Vec<RelationRow>) -> SizeResult {
        SizeResult {
            bytes,
            outcome: SizeOutcome::Ran {
                dir: dir.into(),
                verdict: VerdictKind::Degraded,
                headline: "some pairs lost messages".into(),
                rows,
            },
        }
    }

    pub fn sweep() -> SweepReport {
        SweepReport {
            schema: SWEEP_SCHEMA,
            sweep_id: "20261207T100000Z-seed-sweep".into(),
            scenario: "seed".into(),
            backend: "netns".into(),
            planned: vec![1024, 65_536, 1 << 20, 4 << 20],
            threshold: Threshold { min_delivery: 0.95, from_expect: false, max_p99_latency_ms: None },
            swept: Swept {
                talkers: vec!["a.talker".into(), "b.talker".into()],
                kept: Vec::new(),
                all: true,
                own_programs: Vec::new(),
            },
            sizes: vec![
                ran(
                    1024,
                    "1KiB",
                    vec![row(Relation::SameNode, 100, 400, 900), row(Relation::CrossNode, 100, 600, 1500)],
                ),
                ran(
                    65_536,
                    "64KiB",
                    vec![row(Relation::SameNode, 99, 700, 2100), row(Relation::CrossNode, 62, 2500, 9000)],
                ),
                SizeResult {
                    bytes: 1 << 20,
                    outcome: SizeOutcome::Failed { error: "backend `netns` failed: boom".into() },
                },
            ],
        }
    }
}
