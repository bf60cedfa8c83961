//! The summary printed at the end of `harness run` / `harness report`.

use std::fmt::Write as _;

use super::{ms, percent};
use crate::analysis::RunReport;

/// Renders the console summary.
pub fn render(r: &RunReport) -> String {
    let mut s = String::new();
    let complete = r.trials.iter().filter(|t| !t.meta.interrupted).count();
    let _ = writeln!(s, "scenario {} · backend {} · {complete} trial(s) · run {}", r.scenario, r.backend, r.run_id);
    for n in &r.notes {
        let _ = writeln!(s, "note: {n}");
    }
    let w = r.pairs.iter().map(|p| p.talker.len() + p.listener.len() + 3).max().unwrap_or(10).max(10);
    let _ = writeln!(
        s,
        "{:<w$}  {:>10}  {:>9}  {:>8}  {:>8}  {:>8}",
        "pair", "relation", "delivered", "trials", "p50 ms", "p99 ms"
    );
    for p in &r.pairs {
        let n = p.trials_delivered + p.trials_partial + p.trials_none;
        let _ = writeln!(
            s,
            "{:<w$}  {:>10}  {:>9}  {:>8}  {:>8}  {:>8}",
            format!("{} → {}", p.talker, p.listener),
            p.relation.as_str(),
            percent(p.ratio),
            format!("{}/{n}", p.trials_delivered + p.trials_partial),
            ms(p.latency_p50_us),
            ms(p.latency_p99_us)
        );
    }
    let _ = writeln!(s, "outcomes:");
    for o in &r.distribution {
        let _ =
            writeln!(s, "  {:>3} × {} ({} – {})", o.trials, o.outcome, percent(o.wilson_low), percent(o.wilson_high));
    }
    let _ = writeln!(s, "verdict: {}", r.verdict.kind.as_str());
    for e in &r.verdict.evidence {
        let _ = writeln!(s, "  - {e}");
    }
    for f in &r.findings {
        let _ = writeln!(s, "cause [{}] {} → {}: {}", f.rule, f.talker, f.listener, f.cause);
        let _ = writeln!(s, "  fix: {}", f.advice);
    }
    for e in &r.expectations {
        let _ = writeln!(s, "expect {}: {} ({})", e.what, if e.passed { "ok" } else { "FAILED" }, e.detail);
    }
    s
}
