//! The summary printed at the end of `harness run` / `harness report`.

use std::fmt::Write as _;

use super::groups::{grouped_pairs_table, is_large, unheard_rows};
use super::table::{pairs_table, Table};
use crate::summary::RunReport;

/// Renders `t` as aligned plain text, only the columns in `keep`.
fn plain(t: &Table, keep: &[usize]) -> String {
    let width =
        |i: usize| t.rows.iter().map(|r| r[i].chars().count()).chain([t.head[i].chars().count()]).max().unwrap_or(0);
    let widths: Vec<usize> = keep.iter().map(|&i| width(i)).collect();
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (k, &i) in keep.iter().enumerate() {
            let (c, w) = (&cells[i], widths[k]);
            let pad = w.saturating_sub(c.chars().count());
            if k > 0 {
                s.push_str("  ");
            }
            if t.numeric[i] {
                let _ = write!(s, "{}{c}", " ".repeat(pad));
            } else {
                let _ = write!(s, "{c}{}", " ".repeat(pad));
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = line(&t.head) + "\n";
    for r in &t.rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}

/// Renders the console summary.
pub fn render(r: &RunReport) -> String {
    let mut s = String::new();
    let complete = r.complete().count();
    let _ = writeln!(s, "scenario {} · backend {} · {complete} trial(s) · run {}", r.scenario, r.backend, r.run_id);
    for n in &r.notes {
        let _ = writeln!(s, "note: {n}");
    }
    // pair, relation, delivered, trials heard, matched, p50, p99
    let keep = [0, 1, 2, 3, 8, 11, 12];
    if is_large(r) {
        let grouped = grouped_pairs_table(r);
        let all: Vec<usize> = (0..grouped.head.len()).collect();
        let _ = writeln!(s, "{}:", grouped.caption);
        s.push_str(&plain(&grouped, &all));
        let unheard = unheard_rows(r, &pairs_table(r));
        let _ = writeln!(s, "{}{}", unheard.caption, if unheard.rows.is_empty() { "" } else { ":" });
        if !unheard.rows.is_empty() {
            s.push_str(&plain(&unheard, &keep));
        }
    } else {
        s.push_str(&plain(&pairs_table(r), &keep));
    }
    let _ = writeln!(s, "outcomes:");
    for o in &r.distribution {
        let _ = writeln!(
            s,
            "  {} {:>3} × {} ({:.1} % – {:.1} %)",
            o.letter,
            o.trials,
            o.outcome,
            o.wilson_low * 100.0,
            o.wilson_high * 100.0
        );
    }
    if r.verdict.groups.len() > 1 {
        let _ = writeln!(s, "by placement:");
        for g in &r.verdict.groups {
            let outs: Vec<String> = g.outcomes.iter().map(|(l, k)| format!("{l} {k}/{}", g.trials.len())).collect();
            let _ = writeln!(s, "  {} → {}", g.label, outs.join(", "));
        }
    }
    if let Some(k) = super::kernel::kernel_table(r) {
        let _ = writeln!(s, "kernel counters (where something happened):");
        s.push_str(&plain(&k, &(0..k.head.len()).collect::<Vec<_>>()));
    }
    let _ = writeln!(s, "verdict: {} — {}", r.verdict.kind.as_str(), r.verdict.headline);
    for f in &r.findings {
        let _ = writeln!(s, "{} [{}] {}", f.severity.as_str(), f.rule, f.cause);
        let _ = writeln!(s, "  pairs: {}", f.pairs.join("; "));
        if let Some(e) = f.evidence.first() {
            let _ = writeln!(s, "  evidence: {e}");
        }
        if let Some(c) = &f.fault {
            let _ = writeln!(
                s,
                "  injected: {} — observed {}: {}",
                c.injected,
                c.observed,
                if c.matches { "matches" } else { "does NOT match" }
            );
        }
        let _ = writeln!(s, "  fix: {}", f.advice);
    }
    for e in &r.expectations {
        let _ = writeln!(s, "expect {}: {} ({})", e.what, if e.passed { "ok" } else { "FAILED" }, e.detail);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::render as console;
    use crate::analysis::fixture;

    #[test]
    fn console_summary() {
        insta::assert_snapshot!(console(&fixture::report()));
    }
}
