//! `report.html`: the Markdown report's content as one self-contained page (inline CSS, no
//! scripts, nothing fetched), for a browser or a CI artifact viewer. Tables come from the
//! shared [`Table`] model; wide tables scroll inside their own wrapper on a narrow screen.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::exporter::Exporter;
use super::groups::{grouped_matrix, grouped_pairs_table, grouped_view, is_large};
use super::markup::esc;
use super::plots;
use super::table::{distribution_table, expectations_table, matrix, pairs_table, traffic_table, trials_table, Table};
use crate::summary::{RunReport, VerdictKind};

#[derive(Debug)]
pub struct Html;

/// A table as HTML (inside a scrolling wrapper).
pub fn table_html(t: &Table) -> String {
    table(t)
}

fn table(t: &Table) -> String {
    let class = |i: usize| if t.numeric.get(i).copied().unwrap_or(false) { " class=\"num\"" } else { "" };
    let mut h = String::from("<div class=\"scroll\"><table>\n");
    let _ = writeln!(h, "<caption>{}</caption>", esc(&t.caption));
    h.push_str("<thead><tr>");
    for (i, c) in t.head.iter().enumerate() {
        let _ = write!(h, "<th scope=\"col\"{}>{}</th>", class(i), esc(c));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        h.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(h, "<th scope=\"row\"{}>{}</th>", class(i), esc(c));
            } else {
                let _ = write!(h, "<td{}>{}</td>", class(i), esc(c));
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");
    h
}

pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1rem auto;padding:0 1rem;max-width:80rem;\
color:#1b1b1b;background:#fff}@media(prefers-color-scheme:dark){body{color:#e8e8e8;background:#161616}\
th{background:#2a2a2a!important}.note{background:#3a3320!important}}\
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;margin:.5rem 0 1.5rem}\
caption{text-align:left;font-weight:600;padding:.3rem 0}td,th{border:1px solid #999;padding:.3rem .6rem;text-align:left}\
thead th{background:#eee}.num{text-align:right;font-variant-numeric:tabular-nums}\
.note{background:#fff6d5;padding:.5rem 1rem}.badge{display:inline-block;padding:.2rem .7rem;border-radius:1rem;\
color:#fff;font-weight:700}.ok{background:#1a7f37}.warn{background:#9a6700}.bad{background:#cf222e}\
.info{background:#57606a}svg.plot{display:block;margin:.5rem 0 1rem;height:auto}code{overflow-wrap:anywhere}li{overflow-wrap:anywhere}";

fn badge(kind: VerdictKind) -> &'static str {
    match kind {
        VerdictKind::Consistent => "ok",
        VerdictKind::PlacementDetermined | VerdictKind::Degraded => "warn",
        VerdictKind::Race | VerdictKind::NoDelivery => "bad",
        VerdictKind::Inconclusive => "info",
    }
}

impl Exporter for Html {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn export(&self, r: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        let mut h = String::new();
        page_head(&mut h, r);
        verdict(&mut h, r);
        placement(&mut h, r);
        delivery(&mut h, r);
        diagnosis(&mut h, r);
        if !r.expectations.is_empty() {
            h.push_str("<h2>Expectations</h2>\n");
            h.push_str(&table(&expectations_table(r)));
        }
        latency_and_discovery(&mut h, r);
        timelines(&mut h, r);
        h.push_str("<h2>Pairs</h2>\n");
        if is_large(r) {
            // Grouped first; pair by pair on request (a 10,000-row table is never open by default).
            h.push_str(&table(&grouped_pairs_table(r)));
            let _ = writeln!(h, "<details><summary>Every pair, one by one ({})</summary>", r.pairs.len());
            h.push_str(&table(&pairs_table(r)));
            h.push_str("</details>\n");
        } else {
            h.push_str(&table(&pairs_table(r)));
        }
        h.push_str("</body>\n</html>\n");
        out.write_all(h.as_bytes())
    }
}

/// The document's head, the title, what ran, and the run's notes.
fn page_head(h: &mut String, r: &RunReport) {
    let title = format!("chatter-harness: {}", r.scenario);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head>\n<body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    let complete = r.complete().count();
    let _ = writeln!(
        h,
        "<p>Run <code>{}</code> on the <code>{}</code> backend: {complete} complete trial(s), {} interrupted or incomplete.</p>",
        esc(&r.run_id),
        esc(&r.backend),
        r.trials.len() - complete
    );
    for n in &r.notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(n));
    }
}

/// The verdict as a badge, its headline and its evidence.
fn verdict(h: &mut String, r: &RunReport) {
    let _ = writeln!(
        h,
        "<h2>Verdict: <span class=\"badge {}\">{}</span></h2>\n<p><strong>{}</strong></p>\n<ul>",
        badge(r.verdict.kind),
        esc(r.verdict.kind.as_str()),
        esc(&r.verdict.headline)
    );
    for e in &r.verdict.evidence {
        let _ = writeln!(h, "<li>{}</li>", esc(e));
    }
    h.push_str("</ul>\n");
}

/// Trials by placement: the per-trial strip, each placement's outcomes, the trials table.
fn placement(h: &mut String, r: &RunReport) {
    h.push_str("<h2>Trials by placement</h2>\n");
    h.push_str(&plots::strip(r));
    if !r.verdict.groups.is_empty() {
        h.push_str("<ul class=\"groups\">\n");
        for g in &r.verdict.groups {
            let outs: Vec<String> = g.outcomes.iter().map(|(l, k)| format!("{l} in {k}/{}", g.trials.len())).collect();
            let _ = writeln!(h, "<li>{} → {}</li>", esc(&g.label), esc(&outs.join(", ")));
        }
        h.push_str("</ul>\n");
    }
    h.push_str(&table(&trials_table(r)));
}

/// Who heard whom (heatmap and matrix), and the outcome distribution.
fn delivery(h: &mut String, r: &RunReport) {
    h.push_str("<h2>Delivery</h2>\n");
    h.push_str(&plots::heatmap(r));
    if is_large(r) {
        h.push_str(&table(&grouped_matrix(r)));
    } else {
        h.push_str(&table(&matrix(r)));
    }
    h.push_str("<h2>Outcome distribution</h2>\n");
    h.push_str(&table(&distribution_table(r)));
    if let Some(traffic) = traffic_table(r) {
        h.push_str("<h2>DDS traffic</h2>\n");
        h.push_str(&table(&traffic));
    }
    if let Some(kernel) = super::kernel::kernel_table(r) {
        h.push_str("<h2>Kernel counters</h2>\n");
        h.push_str(&table(&kernel));
    }
}

/// Every finding: its severity and cause, the pairs, the evidence, an injected fault's check
/// and what to do.
fn diagnosis(h: &mut String, r: &RunReport) {
    if r.findings.is_empty() {
        return;
    }
    h.push_str("<h2>Diagnosis</h2>\n");
    for f in &r.findings {
        let class = match f.severity {
            crate::diagnosis::Severity::Failure => "bad",
            crate::diagnosis::Severity::Warning => "warn",
            crate::diagnosis::Severity::Info => "info",
        };
        let _ = writeln!(
            h,
            "<h3><span class=\"badge {class}\">{}</span> <code>{}</code>: {}</h3>\n<ul>",
            esc(f.severity.as_str()),
            esc(&f.rule),
            esc(&f.cause)
        );
        if !f.pairs.is_empty() {
            let _ = writeln!(h, "<li><strong>Pairs:</strong> {}</li>", esc(&f.pairs.join("; ")));
        }
        for e in &f.evidence {
            let _ = writeln!(h, "<li>{}</li>", esc(e));
        }
        if let Some(c) = &f.fault {
            let _ = writeln!(
                h,
                "<li><strong>Injected fault:</strong> {} — observed {}: {}</li>",
                esc(&c.injected),
                esc(&c.observed),
                if c.matches { "matches" } else { "does NOT match" }
            );
        }
        let _ = writeln!(h, "<li><strong>What to do:</strong> {}</li>\n</ul>", esc(&f.advice));
    }
}

/// The latency plots (distribution and whiskers) and the discovery plot.
fn latency_and_discovery(h: &mut String, r: &RunReport) {
    if is_large(r) {
        // One series (and one discovery row) per group: a plot of thousands of pairs reads as noise.
        let v = grouped_view(r);
        h.push_str("<h2>Latency</h2>\n<p>By group: every pair's messages of a group in one distribution (per pair: pairs.csv).</p>\n");
        h.push_str(&plots::latency_cdf(&v));
        h.push_str("<h2>Discovery</h2>\n<p>By group: a dot per pair and trial on its group's row.</p>\n");
        h.push_str(&plots::discovery(&v));
        return;
    }
    h.push_str("<h2>Latency</h2>\n");
    h.push_str(&plots::latency_cdf(r));
    h.push_str(&plots::latency_whiskers(r));
    h.push_str("<h2>Discovery</h2>\n");
    h.push_str(&plots::discovery(r));
}

/// The receive timelines of the trials the report draws, with how to read them.
fn timelines(h: &mut String, r: &RunReport) {
    if r.timelines.is_empty() {
        return;
    }
    h.push_str("<h2>Receive timelines</h2>\n<p>A tick per message received, ✗ per message lost, ◆ where the listener matched the talker; the dashed box is the measurement window, red shading an outage.</p>\n");
    for (i, tl) in r.timelines.iter().enumerate() {
        let _ = writeln!(h, "<h3>Trial {} ({}): {}</h3>", tl.trial, esc(&tl.why), esc(&tl.listener));
        h.push_str(&plots::timeline(tl, i));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::render;

    #[test]
    fn html() {
        let page = render(&Html);
        assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
        insta::assert_snapshot!(page);
    }
}
