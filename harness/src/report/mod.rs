//! Reports: one exporter per format, each rendering a [`RunReport`] into any `io::Write`.
//! `records.csv` is not here: the run appends it record by record (see `results`).

mod console;
mod csv;
mod html;
mod json;
mod markdown;

use std::io::{self, Write};
use std::path::Path;

use crate::analysis::RunReport;
use crate::results::{write_atomic, ResultsError};

pub use self::console::render as console;
pub use self::csv::{PairsCsv, TrialRow, TrialsCsv};
pub use self::html::Html;
pub use self::json::SummaryJson;
pub use self::markdown::Markdown;

/// A report format.
pub trait Exporter {
    /// File name inside the run directory.
    fn file_name(&self) -> &'static str;
    fn export(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()>;
}

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

/// The who-heard-whom matrix both human-readable reports show: rows are talkers, columns
/// listeners (labelled `id (node)`), cells `delivered % (trials with any delivery/trials)`.
#[derive(Debug, Clone, PartialEq)]
struct Matrix {
    listeners: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

impl Matrix {
    fn of(r: &RunReport) -> Matrix {
        let node = |id: &str| r.roster.node_of(id).unwrap_or("?").to_owned();
        let listeners = r.roster.listeners.iter().map(|l| format!("{} ({})", l.id, l.node)).collect();
        let mut talkers: Vec<&str> = Vec::new();
        for p in &r.pairs {
            if !talkers.contains(&p.talker.as_str()) {
                talkers.push(&p.talker);
            }
        }
        let rows = talkers
            .into_iter()
            .map(|t| {
                let cells = r
                    .roster
                    .listeners
                    .iter()
                    .map(|l| match r.pairs.iter().find(|p| p.talker == t && p.listener == l.id) {
                        Some(p) => {
                            let n = p.trials_delivered + p.trials_partial + p.trials_none;
                            format!("{} ({}/{n})", percent(p.ratio), p.trials_delivered + p.trials_partial)
                        }
                        None => "–".to_owned(),
                    })
                    .collect();
                (format!("{t} ({})", node(t)), cells)
            })
            .collect();
        Matrix { listeners, rows }
    }
}

/// `12.3 %`-style percentage.
fn percent(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// Microseconds as milliseconds with two decimals, or `–`.
fn ms(us: Option<u64>) -> String {
    us.map_or("–".into(), |v| format!("{:.2}", v as f64 / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture;

    fn render(e: &dyn Exporter) -> String {
        let mut out = Vec::new();
        e.export(&fixture::report(), &mut out).expect("export");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn pairs_csv() {
        insta::assert_snapshot!(render(&PairsCsv));
    }

    #[test]
    fn trials_csv() {
        insta::assert_snapshot!(render(&TrialsCsv));
    }

    #[test]
    fn summary_json() {
        let text = render(&SummaryJson);
        let v: serde_json::Value = serde_json::from_str(&text).expect("valid json");
        assert_eq!(v["schema"], 1);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn markdown() {
        insta::assert_snapshot!(render(&Markdown));
    }

    #[test]
    fn html() {
        let page = render(&Html);
        assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
        insta::assert_snapshot!(page);
    }

    #[test]
    fn console_summary() {
        insta::assert_snapshot!(console(&fixture::report()));
    }

    #[test]
    fn fixture_facts() {
        let r = fixture::report();
        assert_eq!(r.verdict.kind, crate::analysis::run::VerdictKind::Race);
        let cut = r
            .pairs
            .iter()
            .find(|p| p.talker == "pi-pod.talker" && p.listener == "master-listener.listener")
            .expect("pair");
        // Window = seqs 10..=20 (11 per trial); trial 1 lost seq 15; trial 2 got nothing.
        assert_eq!((cut.expected, cut.received, cut.trials_none), (22, 10, 1));
        assert!(!r.expectations_met());
    }
}
