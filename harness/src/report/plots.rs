//! Pictures for `report.html`, as inline SVG: self-contained, no scripts, readable in light and
//! dark (text and axes use `currentColor`), and colour is never the only signal (symbols,
//! numbers and line styles carry the same facts).
//!
//! Hand-written rather than through a plotting crate: most of these are table-like pictures
//! (strip, heatmap, timelines) that a charting library does not make simpler, and the two
//! charts (CDF, dot plot) need only a log or linear axis and polylines.

use std::fmt::Write as _;

use super::markup::esc;
use super::table::{member_label, percent};
use crate::analysis::timeline::Timeline;
use crate::analysis::{Delivery, PairSummary};
use crate::summary::RunReport;

/// Okabe–Ito: distinguishable with every common colour-vision deficiency.
pub(crate) const SERIES: [&str; 7] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"];
pub(crate) const DASHES: [&str; 4] = ["", "6 3", "2 3", "8 3 2 3"];
const GREEN: &str = "#1a7f37";
const AMBER: &str = "#b7791f";
pub(crate) const RED: &str = "#cf222e";

/// `demo-talker.talker` → `demo-talker.t`: short enough for a column head.
fn short(id: &str) -> String {
    id.strip_suffix(".talker")
        .map(|p| format!("{p}.t"))
        .or_else(|| id.strip_suffix(".listener").map(|p| format!("{p}.l")))
        .unwrap_or_else(|| id.to_owned())
}

pub(crate) fn open(id: &str, title: &str, w: f64, h: f64) -> String {
    format!(
        "<div class=\"scroll\"><svg class=\"plot\" id=\"{id}\" role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 {w} {h}\" \
         style=\"width:100%;max-width:{w}px;min-width:{min}px\" font-family=\"system-ui,sans-serif\" font-size=\"12\" \
         fill=\"currentColor\"><title>{t}</title>\n",
        t = esc(title),
        // Readable on a phone: below this the picture scrolls sideways inside its wrapper.
        min = w.min(560.0)
    )
}

/// Closes what [`open`] opened.
pub(crate) const CLOSE: &str = "</svg></div>\n";

pub(crate) fn text(x: f64, y: f64, anchor: &str, s: &str) -> String {
    format!("<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\">{}</text>", esc(s))
}

/// One row per trial: where each pod ran, each pair's delivery (✓ all, ◐ partial, ✗ none, with
/// received/expected), and the outcome letter of the outcome table.
pub fn strip(r: &RunReport) -> String {
    let mut pods: Vec<&str> = Vec::new();
    for m in r.roster.talkers.iter().chain(&r.roster.listeners) {
        if !pods.contains(&m.pod.as_str()) {
            pods.push(&m.pod);
        }
    }
    // Past LARGE pairs one column counts them (the heatmap and the tables go pair by pair).
    let large = super::groups::is_large(r);
    let pairs: Vec<(String, String)> = if large {
        Vec::new()
    } else {
        r.trials
            .first()
            .map(|t| t.pairs.iter().map(|p| (p.talker.clone(), p.listener.clone())).collect())
            .unwrap_or_default()
    };
    let cw = if large { 300.0 } else { 0.0 };
    let (tw, pw, ow, rh, head) = (44.0, 150.0, 64.0, 24.0, 40.0);
    // A pod column is as wide as its name needs (about 7 px a character at this size).
    let widths: Vec<f64> = pods.iter().map(|p| (p.chars().count() as f64 * 7.0 + 12.0).max(70.0)).collect();
    let w = tw + widths.iter().sum::<f64>() + pw * pairs.len() as f64 + cw + ow;
    let h = head + rh * r.trials.len() as f64 + 4.0;
    let mut s = open("plot-strip", "Per-trial strip: placement and delivery", w, h);
    let mut x = tw;
    s.push_str(&text(tw / 2.0, 30.0, "middle", "trial"));
    for (p, nw) in pods.iter().zip(&widths) {
        s.push_str(&text(x + nw / 2.0, 16.0, "middle", p));
        s.push_str(&text(x + nw / 2.0, 30.0, "middle", "node"));
        x += nw;
    }
    for (t, l) in &pairs {
        s.push_str(&text(x + pw / 2.0, 16.0, "middle", &short(t)));
        s.push_str(&text(x + pw / 2.0, 30.0, "middle", &format!("→ {}", short(l))));
        x += pw;
    }
    if large {
        s.push_str(&text(x + cw / 2.0, 16.0, "middle", &format!("{} pairs", r.pairs.len())));
        s.push_str(&text(x + cw / 2.0, 30.0, "middle", "✓ delivered · ◐ partly · ✗ nothing"));
        x += cw;
    }
    s.push_str(&text(x + ow / 2.0, 30.0, "middle", "outcome"));
    for (i, t) in r.trials.iter().enumerate() {
        let y = head + rh * i as f64;
        let mid = y + rh / 2.0 + 4.0;
        s.push_str(&text(tw / 2.0, mid, "middle", &t.meta.trial.to_string()));
        let mut x = tw;
        for (p, nw) in pods.iter().zip(&widths) {
            let node = t.placement.get(*p).map_or("?", String::as_str);
            let _ = write!(
                s,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{nw}\" height=\"{rh}\" fill=\"none\" stroke=\"currentColor\" stroke-opacity=\".3\"/>"
            );
            s.push_str(&text(x + nw / 2.0, mid, "middle", node));
            x += nw;
        }
        for (tk, l) in &pairs {
            let pair = t.pairs.iter().find(|p| &p.talker == tk && &p.listener == l);
            let (fill, mark, label) = match pair {
                Some(p) => match p.delivery {
                    Delivery::Delivered => (GREEN, "✓", format!("{}/{}", p.received, p.expected)),
                    Delivery::Partial => (AMBER, "◐", format!("{}/{}", p.received, p.expected)),
                    Delivery::None => (RED, "✗", format!("0/{}", p.expected)),
                },
                None => ("#888", "–", String::new()),
            };
            strip_cell(&mut s, (x, y, pw, rh), fill, &format!("{mark} {label}"));
            x += pw;
        }
        if large {
            pair_counts_cell(&mut s, t, (x, y, cw, rh));
            x += cw;
        }
        let letter = if t.meta.interrupted { "–" } else { r.letter_of(&t.outcome).unwrap_or("?") };
        s.push_str(&text(x + ow / 2.0, mid, "middle", letter));
    }
    s.push_str(CLOSE);
    s
}

/// A trial's cell of the strip past LARGE pairs: how many delivered, partly, nothing, red
/// if any pair had nothing.
fn pair_counts_cell(s: &mut String, t: &crate::analysis::TrialReport, area: (f64, f64, f64, f64)) {
    let count = |d: Delivery| t.pairs.iter().filter(|p| p.delivery == d).count();
    let (all, some, none) = (count(Delivery::Delivered), count(Delivery::Partial), count(Delivery::None));
    let fill = if none > 0 {
        RED
    } else if some > 0 {
        AMBER
    } else {
        GREEN
    };
    strip_cell(s, area, fill, &format!("✓ {all} · ◐ {some} · ✗ {none}"));
}

/// One filled cell of the strip `(x, y, w, h)` with its label centred in white.
fn strip_cell(s: &mut String, (x, y, w, h): (f64, f64, f64, f64), fill: &str, label: &str) {
    let _ = write!(
        s,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"/><text x=\"{:.1}\" y=\"{:.1}\" \
         text-anchor=\"middle\" fill=\"#fff\" font-weight=\"600\">{}</text>",
        x + 1.0,
        y + 1.0,
        w - 2.0,
        h - 2.0,
        x + w / 2.0,
        y + h / 2.0 + 4.0,
        esc(label)
    );
}

/// A colour-blind-safe sequential scale (viridis, 5 stops) for `x` in 0..=1, with a text
/// colour that reads on it.
fn viridis(x: f64) -> (String, &'static str) {
    const STOPS: [(f64, f64, f64); 5] =
        [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (253.0, 231.0, 37.0)];
    let x = x.clamp(0.0, 1.0) * 4.0;
    let i = (x.floor() as usize).min(3);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    let colour = format!("#{:02x}{:02x}{:02x}", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2));
    (colour, if x > 2.4 { "#111" } else { "#fff" })
}

/// One cell of the delivery heatmap: a talker, a listener and one relation between them (a
/// pair whose pods sat on one node in some trials and on two in others has a cell per relation,
/// as the tables do — pooling 100 % same-node and 0 % cross-node into one colour would show a
/// share no placement ever gave).
#[derive(Debug, Clone, PartialEq)]
pub struct HeatCell {
    pub talker: String,
    pub listener: String,
    pub relation: crate::analysis::Relation,
    /// Share delivered over the trials in this relation.
    pub ratio: f64,
    pub trials_heard: u32,
    pub trials: u32,
}

/// The heatmap's rows: per talker (in the order the pairs list them), per listener of the
/// roster, its cells, one per relation the pair had (none: the pair never ran).
pub fn heat_cells(r: &RunReport) -> Vec<(String, Vec<Vec<HeatCell>>)> {
    let mut talkers: Vec<&str> = Vec::new();
    for p in &r.pairs {
        if !talkers.contains(&p.talker.as_str()) {
            talkers.push(&p.talker);
        }
    }
    talkers
        .into_iter()
        .map(|t| {
            let cells = r
                .roster
                .listeners
                .iter()
                .map(|l| {
                    r.pairs
                        .iter()
                        .filter(|p| p.talker == t && p.listener == l.id)
                        .map(|p| HeatCell {
                            talker: p.talker.clone(),
                            listener: p.listener.clone(),
                            relation: p.relation,
                            ratio: crate::analysis::trial::ratio(p.received, p.expected),
                            trials_heard: p.trials_heard(),
                            trials: p.trials,
                        })
                        .collect()
                })
                .collect();
            (t.to_owned(), cells)
        })
        .collect()
}

/// Talker × listener, filled by the share delivered, with the figures and relation as text;
/// a pair whose relation varied gets one cell per relation, stacked.
pub fn heatmap(r: &RunReport) -> String {
    if super::groups::is_large(r) {
        return compact_heatmap(r);
    }
    let rows = heat_cells(r);
    let listeners = &r.roster.listeners;
    let (lw, cw, ch, head) = (230.0, 220.0, 58.0, 30.0);
    let w = lw + cw * listeners.len() as f64;
    // A talker's row is as tall as its most split cell.
    let span = |cells: &[Vec<HeatCell>]| cells.iter().map(Vec::len).max().unwrap_or(1).max(1) as f64;
    let h = head + ch * rows.iter().map(|(_, c)| span(c)).sum::<f64>() + 2.0;
    let mut s = open("plot-heatmap", "Delivery heatmap: talker × listener", w, h);
    for (j, l) in listeners.iter().enumerate() {
        s.push_str(&text(lw + cw * (j as f64 + 0.5), 20.0, "middle", &member_label(r, &l.id)));
    }
    let mut y = head;
    for (t, cells) in &rows {
        let rh = ch * span(cells);
        s.push_str(&text(lw - 8.0, y + rh / 2.0 + 4.0, "end", &member_label(r, t)));
        for (j, cell) in cells.iter().enumerate() {
            let x = lw + cw * j as f64;
            if cell.is_empty() {
                let (fill, ink) = viridis(0.0);
                heat_rect(&mut s, (x, y, cw, rh), &fill, ink, &percent(0.0), &[]);
            }
            let sub = rh / cell.len().max(1) as f64;
            for (k, c) in cell.iter().enumerate() {
                let (fill, ink) = viridis(c.ratio);
                let label = format!("{} {}/{} trials", c.relation.as_str(), c.trials_heard, c.trials);
                heat_rect(&mut s, (x, y + sub * k as f64, cw, sub), &fill, ink, &percent(c.ratio), &[label]);
            }
        }
        y += rh;
    }
    s.push_str(CLOSE);
    s
}

/// The heatmap of a run of many pairs: one small square per pair and relation, its figures in
/// its tooltip, the ids along the edges.
fn compact_heatmap(r: &RunReport) -> String {
    let rows = heat_cells(r);
    let listeners = &r.roster.listeners;
    let (lw, c, head) = (190.0, 14.0, 120.0);
    let span = |cells: &[Vec<HeatCell>]| cells.iter().map(Vec::len).max().unwrap_or(1).max(1) as f64;
    let w = lw + c * listeners.len() as f64 + 10.0;
    let h = head + c * rows.iter().map(|(_, cs)| span(cs)).sum::<f64>() + 2.0;
    let mut s = open("plot-heatmap", "Delivery heatmap: talker × listener, one square per pair (hover: figures)", w, h);
    for (j, l) in listeners.iter().enumerate() {
        let x = lw + c * (j as f64 + 0.5) + 4.0;
        let _ = write!(
            s,
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" transform=\"rotate(-60 {x:.1} {:.1})\">{}</text>",
            head - 4.0,
            head - 4.0,
            esc(&l.id)
        );
    }
    let mut y = head;
    for (t, cells) in &rows {
        let rh = c * span(cells);
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"10\">{}</text>",
            lw - 6.0,
            y + rh / 2.0 + 3.0,
            esc(t)
        );
        for (j, cell) in cells.iter().enumerate() {
            let x = lw + c * j as f64;
            let sub = rh / cell.len().max(1) as f64;
            for (k, p) in cell.iter().enumerate() {
                let (fill, _) = viridis(p.ratio);
                let _ = write!(
                    s,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"><title>{}</title></rect>",
                    x + 0.5,
                    y + sub * k as f64 + 0.5,
                    c - 1.0,
                    sub - 1.0,
                    esc(&format!(
                        "{} → {}: {} ({}, heard in {}/{} trials)",
                        p.talker,
                        p.listener,
                        percent(p.ratio),
                        p.relation.as_str(),
                        p.trials_heard,
                        p.trials
                    ))
                );
            }
        }
        y += rh;
    }
    s.push_str(CLOSE);
    s
}

/// One filled heatmap rectangle `(x, y, w, h)` with its share in bold and lines below it.
fn heat_rect(s: &mut String, (x, y, w, h): (f64, f64, f64, f64), fill: &str, ink: &str, share: &str, lines: &[String]) {
    let _ = write!(
        s,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"/>",
        x + 1.0,
        y + 1.0,
        w - 2.0,
        h - 2.0
    );
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{ink}\" font-size=\"15\" font-weight=\"700\">{}</text>",
        x + w / 2.0,
        y + 20.0,
        esc(share)
    );
    for (k, line) in lines.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{ink}\" font-size=\"11\">{}</text>",
            x + w / 2.0,
            y + 35.0 + 12.0 * k as f64,
            esc(line)
        );
    }
}

/// A log-scale axis from `lo` to `hi` (both > 0) mapped onto `x0..x1`.
struct LogAxis {
    lo: f64,
    hi: f64,
    x0: f64,
    x1: f64,
}

impl LogAxis {
    fn new(lo: f64, hi: f64, x0: f64, x1: f64) -> LogAxis {
        let lo = 10f64.powf(lo.max(1e-3).log10().floor());
        let hi = 10f64.powf(hi.max(lo * 10.0).log10().ceil());
        LogAxis { lo, hi, x0, x1 }
    }

    fn at(&self, v: f64) -> f64 {
        let f = (v.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10());
        self.x0 + f * (self.x1 - self.x0)
    }

    /// Decade ticks with labels, drawn at `y` (vertical: as x; horizontal use swaps).
    fn decades(&self) -> Vec<f64> {
        let mut v = Vec::new();
        let mut d = self.lo;
        while d <= self.hi * 1.0001 {
            v.push(d);
            d *= 10.0;
        }
        v
    }
}

fn ms_label(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Latency CDF per pair and relation (log x in ms), n in the legend, a line style per series.
pub fn latency_cdf(r: &RunReport) -> String {
    let series: Vec<&PairSummary> = r.pairs.iter().filter(|p| !p.latency_buckets.is_empty()).collect();
    let (w, left, right, top) = (680.0, 46.0, 660.0, 12.0);
    let plot_h = 200.0;
    let h = top + plot_h + 40.0 + 16.0 * series.len() as f64;
    let mut s = open("plot-cdf", "Latency CDF per pair (log scale)", w, h);
    if series.is_empty() {
        s.push_str(&text(w / 2.0, top + plot_h / 2.0, "middle", "no latency measured (no messages arrived)"));
        s.push_str(CLOSE);
        return s;
    }
    let lo =
        series.iter().flat_map(|p| p.latency_buckets.first()).map(|b| b.0 as f64 / 1000.0).fold(f64::MAX, f64::min);
    let hi = series.iter().flat_map(|p| p.latency_buckets.last()).map(|b| b.0 as f64 / 1000.0).fold(0.0, f64::max);
    let ax = LogAxis::new(lo, hi, left, right);
    let y = |q: f64| top + plot_h * (1.0 - q);
    for q in [0.0, 0.5, 0.9, 0.99] {
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{right}\" y1=\"{0:.1}\" y2=\"{0:.1}\" stroke=\"currentColor\" stroke-opacity=\".15\"/>",
            y(q)
        );
        s.push_str(&text(left - 4.0, y(q) + 4.0, "end", &format!("{q}")));
    }
    for d in ax.decades() {
        let x = ax.at(d);
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"currentColor\" stroke-opacity=\".15\"/>",
            top + plot_h
        );
        s.push_str(&text(x, top + plot_h + 14.0, "middle", &ms_label(d)));
    }
    s.push_str(&text((left + right) / 2.0, top + plot_h + 30.0, "middle", "latency, ms (log)"));
    for (i, p) in series.iter().enumerate() {
        let n: u64 = p.latency_buckets.iter().map(|b| b.1).sum();
        let mut acc = 0;
        let mut pts = format!("{:.1},{:.1}", ax.at(p.latency_buckets[0].0 as f64 / 1000.0), y(0.0));
        for (v, c) in &p.latency_buckets {
            acc += c;
            let _ = write!(pts, " {:.1},{:.1}", ax.at(*v as f64 / 1000.0), y(acc as f64 / n as f64));
        }
        let (colour, dash) = (SERIES[i % SERIES.len()], DASHES[i % DASHES.len()]);
        let _ = write!(
            s,
            "<polyline points=\"{pts}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>"
        );
        let ly = top + plot_h + 46.0 + 16.0 * i as f64;
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>",
            left + 30.0,
            ly - 4.0,
            ly - 4.0
        );
        let trust = match (p.clock_trusted, p.clock_uncertainty_ms) {
            (false, _) => " — untrusted clock".to_owned(),
            (true, Some(u)) => format!(" — clocks corrected, ± {u:.1} ms"),
            (true, None) => String::new(),
        };
        s.push_str(&text(left + 36.0, ly, "start", &format!("{} ({}, n={n}){trust}", p.name(), p.relation.as_str())));
    }
    s.push_str(CLOSE);
    s
}

/// Per trial, each pair's p50 (dot) to p99 (whisker): drift over the run.
pub fn latency_whiskers(r: &RunReport) -> String {
    let trials: Vec<_> = r.complete().collect();
    let series: Vec<&PairSummary> = r.pairs.iter().filter(|p| !p.latency_buckets.is_empty()).collect();
    let (w, left, right, top, plot_h) = (680.0, 46.0, 660.0, 10.0, 150.0);
    let h = top + plot_h + 36.0;
    let mut s = open("plot-whiskers", "Latency per trial: p50 dot, whisker to p99", w, h);
    let values: Vec<f64> = trials
        .iter()
        .flat_map(|t| &t.pairs)
        .flat_map(|p| [p.latency_p50_us, p.latency_p99_us])
        .flatten()
        .map(|v| v as f64 / 1000.0)
        .collect();
    if values.is_empty() || series.is_empty() {
        s.push_str(&text(w / 2.0, top + plot_h / 2.0, "middle", "no latency measured"));
        s.push_str(CLOSE);
        return s;
    }
    let lo = values.iter().copied().fold(f64::MAX, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    // Vertical log axis: reuse the mapping with the y range.
    let ax = LogAxis::new(lo, hi, top + plot_h, top);
    for d in ax.decades() {
        let yy = ax.at(d);
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{right}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"currentColor\" stroke-opacity=\".15\"/>"
        );
        s.push_str(&text(left - 4.0, yy + 4.0, "end", &ms_label(d)));
    }
    let slot = (right - left) / trials.len().max(1) as f64;
    for (i, t) in trials.iter().enumerate() {
        let x0 = left + slot * i as f64;
        s.push_str(&text(x0 + slot / 2.0, top + plot_h + 14.0, "middle", &t.meta.trial.to_string()));
        for (k, sp) in series.iter().enumerate() {
            let Some(p) = t
                .pairs
                .iter()
                .find(|p| p.talker == sp.talker && p.listener == sp.listener && p.relation == sp.relation)
            else {
                continue;
            };
            let (Some(p50), Some(p99)) = (p.latency_p50_us, p.latency_p99_us) else { continue };
            let x = x0 + slot * (k as f64 + 1.0) / (series.len() as f64 + 1.0);
            let colour = SERIES[k % SERIES.len()];
            let (y50, y99) = (ax.at(p50 as f64 / 1000.0), ax.at(p99 as f64 / 1000.0));
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y50:.1}\" y2=\"{y99:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>\
                 <circle cx=\"{x:.1}\" cy=\"{y50:.1}\" r=\"3\" fill=\"{colour}\"/>"
            );
        }
    }
    s.push_str(&text(
        (left + right) / 2.0,
        top + plot_h + 30.0,
        "middle",
        "trial (series in the CDF's order and colours); ms, log",
    ));
    s.push_str(CLOSE);
    s
}

/// Time to discovery per pair per trial: filled dot = the listener matched that talker (ms after
/// both ends were up), hollow = first message (where per-pair matching is unknown).
pub fn discovery(r: &RunReport) -> String {
    let rows: Vec<&PairSummary> = r.pairs.iter().collect();
    let (w, lw, right, top, rh) = (780.0, 400.0, 760.0, 10.0, 22.0);
    let plot_h = rh * rows.len() as f64;
    let h = top + plot_h + 36.0;
    let mut s = open("plot-discovery", "Discovery time per pair and trial", w, h);
    let points: Vec<(usize, f64, bool)> = r
        .complete()
        .flat_map(|t| &t.pairs)
        .filter_map(|p| {
            let row = rows
                .iter()
                .position(|s| s.talker == p.talker && s.listener == p.listener && s.relation == p.relation)?;
            match (p.matched_ms, p.first_message_ms) {
                (Some(m), _) => Some((row, m, true)),
                (None, Some(f)) => Some((row, f, false)),
                _ => None,
            }
        })
        .collect();
    let hi = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0);
    let hi = 10f64.powf(hi.log10().ceil());
    let x = |v: f64| lw + (right - lw) * v / hi;
    for k in 0..=4 {
        let v = hi * f64::from(k) / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"currentColor\" stroke-opacity=\".15\"/>",
            x(v),
            top + plot_h
        );
        s.push_str(&text(x(v), top + plot_h + 14.0, "middle", &format!("{v:.0}")));
    }
    s.push_str(&text((lw + right) / 2.0, top + plot_h + 30.0, "middle", "ms after both ends were up"));
    for (i, p) in rows.iter().enumerate() {
        let y = top + rh * (i as f64 + 0.5);
        let label = format!("{} → {} ({})", short(&p.talker), short(&p.listener), p.relation.as_str());
        s.push_str(&text(lw - 8.0, y + 4.0, "end", &label));
        if !points.iter().any(|pt| pt.0 == i) {
            s.push_str(&text(lw + 6.0, y + 4.0, "start", "never discovered"));
        }
    }
    for (row, v, matched) in points {
        let y = top + rh * (row as f64 + 0.5);
        let fill = if matched { SERIES[0] } else { "none" };
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{fill}\" stroke=\"{}\" stroke-width=\"1.5\" fill-opacity=\".7\"/>",
            x(v),
            SERIES[0]
        );
    }
    s.push_str(CLOSE);
    s
}

/// One listener in one trial: a lane per talker, a tick per message received, a red ✗ per
/// message lost, ◆ where the listener matched the talker, outages shaded, the window bracketed.
pub fn timeline(tl: &Timeline, index: usize) -> String {
    let (w, lw, right, top, rh) = (760.0, 270.0, 740.0, 8.0, 30.0);
    let plot_h = rh * tl.lanes.len() as f64;
    let h = top + plot_h + 34.0;
    let title = format!("Trial {} ({}): what {} received", tl.trial, tl.why, tl.listener);
    let mut s = open(&format!("plot-timeline-{index}"), &title, w, h);
    let end = tl.end_s.max(0.1);
    let x = |t: f64| lw + (right - lw) * (t / end).clamp(0.0, 1.0);
    for (a, b) in &tl.outages {
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{plot_h}\" fill=\"{RED}\" fill-opacity=\".15\"/>",
            x(*a),
            (x(*b) - x(*a)).max(1.0)
        );
    }
    let step = if end > 20.0 { 5.0 } else { 1.0 };
    let mut t = 0.0;
    while t <= end + 1e-9 {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"currentColor\" stroke-opacity=\".12\"/>",
            x(t),
            top + plot_h
        );
        s.push_str(&text(x(t), top + plot_h + 14.0, "middle", &format!("{t:.0}")));
        t += step;
    }
    s.push_str(&text((lw + right) / 2.0, top + plot_h + 28.0, "middle", "s from the trial's start"));
    for (i, lane) in tl.lanes.iter().enumerate() {
        let y0 = top + rh * i as f64;
        let mid = y0 + rh / 2.0;
        let never = if lane.matched_s.is_none() && lane.received.is_empty() { " (never matched)" } else { "" };
        s.push_str(&text(lw - 8.0, mid + 4.0, "end", &format!("from {}{never}", short(&lane.talker))));
        if let (Some(a), Some(b)) = (lane.window_from_s, lane.window_to_s) {
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"currentColor\" stroke-opacity=\".35\" stroke-dasharray=\"3 2\"/>",
                x(a),
                y0 + 3.0,
                (x(b) - x(a)).max(1.0),
                rh - 6.0
            );
        }
        let mut ticks = String::new();
        for t in &lane.received {
            let _ = write!(ticks, "M{:.1} {:.1}v{:.1}", x(*t), y0 + 7.0, rh - 14.0);
        }
        if !ticks.is_empty() {
            let _ = write!(s, "<path d=\"{ticks}\" stroke=\"{}\" stroke-width=\"1\"/>", SERIES[2]);
        }
        for t in &lane.lost {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{RED}\" font-size=\"10\">✗</text>",
                x(*t),
                mid + 4.0
            );
        }
        if let Some(m) = lane.matched_s {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{}\" font-size=\"13\">◆</text>",
                x(m),
                y0 + 9.0,
                SERIES[0]
            );
        }
    }
    s.push_str(CLOSE);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture;

    #[test]
    fn strip_marks_every_pair_of_every_trial() {
        let r = fixture::report();
        let svg = strip(&r);
        // 2 trials × 4 pairs: trial 2 has one ✗ (the cut pair), trial 1 none.
        assert_eq!(svg.matches("✗ 0/11").count(), 1, "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2 * 3 + 2 * 4, "pod cells and pair cells");
        insta::assert_snapshot!(svg);
    }

    #[test]
    fn heatmap_cdf_discovery_and_timelines_draw_something() {
        let r = fixture::report();
        assert!(heatmap(&r).contains("45.5 %"), "the cut pair's share");
        let cdf = latency_cdf(&r);
        assert_eq!(cdf.matches("<polyline").count(), r.pairs.len());
        assert!(cdf.contains("n=22") && cdf.contains("n=10"), "{cdf}");
        assert!(latency_whiskers(&r).matches("<circle").count() >= 7);
        assert!(discovery(&r).matches("<circle").count() >= 7);
        assert!(!r.timelines.is_empty());
        let tl = timeline(&r.timelines[0], 0);
        let all: String = r.timelines.iter().enumerate().map(|(i, t)| timeline(t, i)).collect();
        assert!(all.contains("✗") && all.contains("◆") && all.contains("(never matched)"), "{all}");
        assert!(tl.contains("<path"), "ticks: {tl}");
    }

    /// The pair of the issue: 4 same-node trials at 100 % and 6 cross-node ones at 0 % are two
    /// cells, never one pooled 40 %.
    #[test]
    fn a_pair_whose_relation_varied_gets_a_cell_per_relation() {
        use crate::analysis::Relation;
        let mut r = fixture::report();
        let at = r.pairs.iter().position(|p| p.relation == Relation::CrossNode).expect("a cross-node pair");
        let mut same = r.pairs[at].clone();
        let cross = &mut r.pairs[at];
        (cross.trials, cross.expected, cross.received, cross.trials_delivered, cross.trials_partial) = (6, 60, 0, 0, 0);
        cross.trials_none = 6;
        same.relation = Relation::SameNode;
        (same.trials, same.expected, same.received, same.trials_delivered, same.trials_partial) = (4, 40, 40, 4, 0);
        same.trials_none = 0;
        let (talker, listener) = (same.talker.clone(), same.listener.clone());
        r.pairs.insert(at + 1, same);
        let rows = heat_cells(&r);
        let cell = rows
            .iter()
            .find(|(t, _)| *t == talker)
            .and_then(|(_, cells)| cells.iter().find(|c| c.first().is_some_and(|c| c.listener == listener)))
            .expect("the pair's cell");
        let got: Vec<(Relation, f64, u32, u32)> =
            cell.iter().map(|c| (c.relation, c.ratio, c.trials_heard, c.trials)).collect();
        assert_eq!(got, [(Relation::CrossNode, 0.0, 0, 6), (Relation::SameNode, 1.0, 4, 4)]);
        // Every other pair kept its one cell.
        let cells: usize = rows.iter().flat_map(|(_, c)| c).map(Vec::len).sum();
        assert_eq!(cells, r.pairs.len());
        let svg = heatmap(&r);
        assert!(svg.contains("cross node 0/6 trials") && svg.contains("same node 4/4 trials"), "{svg}");
        assert!(!svg.contains("40.0 %"), "no pooled share: {svg}");
    }

    #[test]
    fn scale_is_readable_at_both_ends() {
        assert_eq!(viridis(0.0), ("#440154".to_owned(), "#fff"));
        assert_eq!(viridis(1.0), ("#fde725".to_owned(), "#111"));
    }
}
