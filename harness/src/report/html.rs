//! `report.html`: the Markdown report's content as one self-contained page (inline CSS, no
//! scripts, nothing fetched), for a browser or a CI artifact viewer.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{ms, percent, Exporter, Matrix};
use crate::analysis::{Delivery, RunReport};

#[derive(Debug)]
pub struct Html;

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn table(head: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut t = String::from("<table>\n<tr>");
    for h in head {
        let _ = write!(t, "<th>{}</th>", esc(h));
    }
    t.push_str("</tr>\n");
    for row in rows {
        t.push_str("<tr>");
        for cell in row {
            let _ = write!(t, "<td>{}</td>", esc(&cell));
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</table>\n");
    t
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}\
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #bbb;padding:.3rem .6rem;text-align:left}\
th{background:#eee}.note{background:#fff6d5;padding:.5rem 1rem}.verdict{font-size:1.3rem}";

impl Exporter for Html {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn export(&self, r: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        let mut h = String::new();
        let title = format!("chatter-harness: {}", r.scenario);
        let _ = write!(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n<h1>{}</h1>\n", esc(&title), esc(&title));
        let complete = r.trials.iter().filter(|t| !t.meta.interrupted).count();
        let _ = writeln!(
            h,
            "<p>Run <code>{}</code> on the <code>{}</code> backend: {complete} complete trial(s), {} interrupted.</p>",
            esc(&r.run_id),
            esc(&r.backend),
            r.trials.len() - complete
        );
        for n in &r.notes {
            let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(n));
        }
        let _ = writeln!(h, "<h2 class=\"verdict\">Verdict: {}</h2>\n<ul>", esc(r.verdict.kind.as_str()));
        for e in &r.verdict.evidence {
            let _ = writeln!(h, "<li>{}</li>", esc(e));
        }
        h.push_str("</ul>\n<h2>Delivery matrix</h2>\n<p>Rows are talkers, columns listeners; each cell: messages delivered over all trials (trials with any delivery / trials).</p>\n");
        let m = Matrix::of(r);
        let head: Vec<&str> =
            std::iter::once("talker \\ listener").chain(m.listeners.iter().map(String::as_str)).collect();
        h.push_str(&table(&head, m.rows.into_iter().map(|(t, cells)| std::iter::once(t).chain(cells).collect())));
        h.push_str("<h2>Outcome distribution</h2>\n");
        h.push_str(&table(
            &["outcome", "trials", "share", "95 % CI (Wilson)"],
            r.distribution.iter().map(|s| {
                vec![
                    s.outcome.clone(),
                    s.trials.to_string(),
                    percent(s.share),
                    format!("{} – {}", percent(s.wilson_low), percent(s.wilson_high)),
                ]
            }),
        ));
        if !r.findings.is_empty() {
            h.push_str("<h2>Diagnosis</h2>\n");
            for f in &r.findings {
                let _ = writeln!(
                    h,
                    "<h3>{} → {} (<code>{}</code>)</h3>\n<p>{}</p>\n<ul>",
                    esc(&f.talker),
                    esc(&f.listener),
                    esc(&f.rule),
                    esc(&f.cause)
                );
                for e in &f.evidence {
                    let _ = writeln!(h, "<li>{}</li>", esc(e));
                }
                let _ = writeln!(h, "<li><strong>What to do:</strong> {}</li>\n</ul>", esc(&f.advice));
            }
        }
        if !r.expectations.is_empty() {
            h.push_str("<h2>Expectations</h2>\n");
            h.push_str(&table(
                &["expectation", "result", "detail"],
                r.expectations
                    .iter()
                    .map(|e| vec![e.what.clone(), if e.passed { "passed" } else { "FAILED" }.into(), e.detail.clone()]),
            ));
        }
        h.push_str("<h2>Pairs</h2>\n");
        h.push_str(&table(
            &[
                "talker",
                "listener",
                "relation",
                "received / expected",
                "lost",
                "dup",
                "reordered",
                "discovery ms (median)",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
            ],
            r.pairs.iter().map(|p| {
                vec![
                    p.talker.clone(),
                    p.listener.clone(),
                    p.relation.as_str().to_owned(),
                    format!("{} / {}", p.received, p.expected),
                    p.lost.to_string(),
                    p.duplicates.to_string(),
                    p.reordered.to_string(),
                    p.discovery_median_ms.map_or("–".into(), |d| format!("{d:.0}")),
                    ms(p.latency_p50_us),
                    ms(p.latency_p90_us),
                    ms(p.latency_p99_us),
                    ms(p.latency_max_us),
                ]
            }),
        ));
        h.push_str("<h2>Trials</h2>\n");
        h.push_str(&table(
            &["trial", "outcome", "pairs with no delivery", "note"],
            r.trials.iter().map(|t| {
                let none = t.pairs.iter().filter(|p| p.delivery == Delivery::None).count();
                vec![
                    t.meta.trial.to_string(),
                    t.outcome.clone(),
                    none.to_string(),
                    if t.meta.interrupted { "interrupted" } else { "" }.into(),
                ]
            }),
        ));
        h.push_str("</body>\n</html>\n");
        out.write_all(h.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }
}
