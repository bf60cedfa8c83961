//! The sweep's one table (size × relation), which Markdown, HTML and the console render alike,
//! and the flat rows of `sweep.csv`.

use serde::Serialize;

use super::model::{percent, RelationRow, SizeOutcome, SweepReport};
use super::size::label;
use crate::report::Table;

/// Bytes per second as `512 B/s`, `12.3 KiB/s`, `4.56 MiB/s`.
pub fn rate(bytes_per_s: Option<f64>) -> String {
    match bytes_per_s {
        None => "–".into(),
        Some(b) if b >= 1024.0 * 1024.0 => format!("{:.2} MiB/s", b / (1024.0 * 1024.0)),
        Some(b) if b >= 1024.0 => format!("{:.1} KiB/s", b / 1024.0),
        Some(b) => format!("{b:.0} B/s"),
    }
}

/// Microseconds as milliseconds (two decimals), `–` when none, marked when the clock is
/// untrusted.
fn ms(us: Option<u64>, trusted: bool) -> String {
    match us {
        None => "–".into(),
        Some(v) => format!("{:.2}{}", v as f64 / 1000.0, if trusted { "" } else { " (untrusted clock)" }),
    }
}

/// One row per size and relation (a failed size: one row saying why).
pub fn table(r: &SweepReport) -> Table {
    let mut t = Table::new(
        &format!(
            "Delivery, latency and goodput per message size and pair relation (delivered below {} marked ✗)",
            percent(r.threshold.min_delivery)
        ),
        [
            ("size", true),
            ("relation", false),
            ("pairs", true),
            ("delivered", true),
            ("received / expected", true),
            ("p50 ms", true),
            ("p99 ms", true),
            ("goodput", true),
        ],
    );
    for s in &r.sizes {
        match &s.outcome {
            SizeOutcome::Ran { rows, .. } if rows.is_empty() => {
                t.rows.push(failed_row(s.bytes, "no swept pair in a complete trial"));
            }
            SizeOutcome::Ran { rows, .. } => {
                for row in rows {
                    t.rows.push(cells(s.bytes, row, r.threshold.min_delivery));
                }
            }
            // Why is said under the table: an error is too long for a cell.
            SizeOutcome::Failed { .. } => t.rows.push(failed_row(s.bytes, "did not run (see below)")),
        }
    }
    t
}

fn cells(bytes: u32, row: &RelationRow, min: f64) -> Vec<String> {
    let delivered = row.delivered.map_or("–".into(), |d| {
        let mark = if d < min { " ✗" } else { "" };
        format!("{}{mark}", percent(d))
    });
    vec![
        label(bytes),
        row.relation.as_str().to_owned(),
        row.pairs.to_string(),
        delivered,
        format!("{} / {}", row.received, row.expected),
        ms(row.latency_p50_us, row.clock_trusted),
        ms(row.latency_p99_us, row.clock_trusted),
        rate(row.goodput_bytes_per_s),
    ]
}

fn failed_row(bytes: u32, why: &str) -> Vec<String> {
    let mut row = vec![label(bytes), why.to_owned()];
    row.extend(std::iter::repeat_n("–".to_owned(), 6));
    row
}

/// One `sweep.csv` row: a size and relation (or a size that failed).
#[derive(Debug, Serialize)]
pub struct SweepCsvRow<'a> {
    pub size_bytes: u32,
    pub size: String,
    /// `ran` or `failed`.
    pub status: &'static str,
    /// Empty for a failed size.
    pub relation: &'a str,
    pub pairs: usize,
    pub pair_trials: u32,
    pub expected: u64,
    pub received: u64,
    /// Fraction 0..=1; empty when nothing was expected.
    pub delivered: Option<f64>,
    /// Delivered below the threshold.
    pub below_threshold: bool,
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub clock_trusted: bool,
    pub goodput_bytes_per_s: Option<f64>,
    /// The size's run directory, relative to the sweep directory; or why it failed.
    pub dir_or_error: &'a str,
}

/// Every `sweep.csv` row of `r`.
pub fn csv_rows(r: &SweepReport) -> Vec<SweepCsvRow<'_>> {
    let min = r.threshold.min_delivery;
    let mut out = Vec::new();
    for s in &r.sizes {
        match &s.outcome {
            SizeOutcome::Ran { dir, rows, .. } => out.extend(rows.iter().map(|row| SweepCsvRow {
                size_bytes: s.bytes,
                size: label(s.bytes),
                status: "ran",
                relation: row.relation.as_str(),
                pairs: row.pairs,
                pair_trials: row.pair_trials,
                expected: row.expected,
                received: row.received,
                delivered: row.delivered,
                below_threshold: row.delivered.is_some_and(|d| d < min),
                latency_p50_ms: row.latency_p50_us.map(|v| v as f64 / 1000.0),
                latency_p99_ms: row.latency_p99_us.map(|v| v as f64 / 1000.0),
                clock_trusted: row.clock_trusted,
                goodput_bytes_per_s: row.goodput_bytes_per_s,
                dir_or_error: dir,
            })),
            SizeOutcome::Failed { error } => out.push(SweepCsvRow {
                size_bytes: s.bytes,
                size: label(s.bytes),
                status: "failed",
                relation: "",
                pairs: 0,
                pair_trials: 0,
                expected: 0,
                received: 0,
                delivered: None,
                below_threshold: false,
                latency_p50_ms: None,
                latency_p99_ms: None,
                clock_trusted: false,
                goodput_bytes_per_s: None,
                dir_or_error: error,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::export::fixture::sweep;

    #[test]
    fn one_row_per_size_and_relation() {
        let mut r = sweep();
        let t = table(&r);
        let firsts: Vec<(&str, &str)> = t.rows.iter().map(|row| (row[0].as_str(), row[1].as_str())).collect();
        assert_eq!(
            firsts,
            [
                ("1 KiB", "same node"),
                ("1 KiB", "cross node"),
                ("64 KiB", "same node"),
                ("64 KiB", "cross node"),
                ("1 MiB", "did not run (see below)")
            ]
        );
        assert!(t.rows.iter().all(|row| row.len() == t.head.len()));
        // Below the threshold is marked; at or above is not.
        assert_eq!(t.rows[3][3], "62.0 % ✗");
        assert_eq!(t.rows[2][3], "99.0 %");
        assert_eq!(
            (t.rows[3][5].as_str(), t.rows[3][6].as_str(), t.rows[3][7].as_str()),
            ("2.50", "9.00", "60.5 KiB/s")
        );
        // A run whose complete trials held no swept pair says so.
        if let SizeOutcome::Ran { rows, .. } = &mut r.sizes[0].outcome {
            rows.clear();
        }
        assert_eq!(table(&r).rows[0][1], "no swept pair in a complete trial");
        let csv = csv_rows(&r);
        assert_eq!(csv.iter().filter(|c| c.below_threshold).count(), 1);
        assert_eq!(csv.last().map(|c| c.status), Some("failed"));
    }

    #[test]
    fn rates_read_in_their_unit() {
        assert_eq!(rate(Some(512.0)), "512 B/s");
        assert_eq!(rate(Some(12_595.2)), "12.3 KiB/s");
        assert_eq!(rate(Some(4.5 * 1024.0 * 1024.0)), "4.50 MiB/s");
        assert_eq!(rate(None), "–");
    }
}
