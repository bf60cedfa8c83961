//! The summary `harness sweep` prints: the table, aligned, and where each relation's delivery
//! breaks.

use std::fmt::Write as _;

use crate::report::Table;
use crate::sweep::model::SweepReport;
use crate::sweep::table::table;

/// `t` as aligned plain text (numbers right-aligned).
fn plain(t: &Table) -> String {
    let widths: Vec<usize> = (0..t.head.len())
        .map(|i| t.rows.iter().map(|r| r[i].chars().count()).chain([t.head[i].chars().count()]).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[i].saturating_sub(c.chars().count()));
            let sep = if i > 0 { "  " } else { "" };
            if t.numeric[i] {
                let _ = write!(s, "{sep}{pad}{c}");
            } else {
                let _ = write!(s, "{sep}{c}{pad}");
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(&t.head);
    for r in &t.rows {
        out.push_str(&line(r));
    }
    out
}

/// The console summary.
pub fn render(r: &SweepReport) -> String {
    let mut out = format!("size sweep: {} ({} backend)\n", r.scenario, r.backend);
    out.push_str(&plain(&table(r)));
    let _ = writeln!(out, "{}", r.swept.note());
    for f in r.findings() {
        let _ = writeln!(out, "{f}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_console() {
        insta::assert_snapshot!(render(&super::super::fixture::sweep()));
    }
}
