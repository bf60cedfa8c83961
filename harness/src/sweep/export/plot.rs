//! The sweep's pictures for its `report.html`, drawn like the run report's (inline SVG, the same
//! palette, text in `currentColor`): delivered %, latency and goodput against message size on
//! a log axis, one line per pair relation. Colour is never the only signal: each relation has
//! its own marker and line style, and p99 is dashed where p50 is solid.

use std::fmt::Write as _;

use crate::analysis::Relation;
use crate::report::markup::esc;
use crate::report::plots::{open, text, CLOSE, RED, SERIES};
use crate::sweep::model::{Break, SweepReport};
use crate::sweep::size::label;

const W: f64 = 720.0;
const LEFT: f64 = 96.0;
const RIGHT: f64 = 700.0;
const TOP: f64 = 14.0;
const PLOT_H: f64 = 220.0;

/// A relation's colour and marker, the same in every picture.
fn style(rel: Relation) -> (&'static str, &'static str) {
    match rel {
        Relation::SamePod => (SERIES[2], "circle"),
        Relation::SameNode => (SERIES[0], "square"),
        Relation::CrossNode => (SERIES[5], "triangle"),
        Relation::Unknown => (SERIES[6], "diamond"),
    }
}

fn marker(shape: &str, x: f64, y: f64, colour: &str, filled: bool) -> String {
    let fill = if filled { colour } else { "none" };
    let common = format!("fill=\"{fill}\" stroke=\"{colour}\" stroke-width=\"1.5\"");
    match shape {
        "square" => format!("<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" {common}/>", x - 4.0, y - 4.0),
        "triangle" => format!(
            "<path d=\"M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z\" {common}/>",
            y - 5.0,
            x + 5.0,
            y + 4.0,
            x - 5.0,
            y + 4.0
        ),
        "diamond" => {
            format!(
                "<path d=\"M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z\" {common}/>",
                y - 5.0,
                x + 5.0,
                y + 5.0,
                x - 5.0
            )
        }
        _ => format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" {common}/>"),
    }
}

/// Message size on a log (base 2) axis over the swept sizes, half a step of room either side.
struct SizeAxis {
    lo: f64,
    hi: f64,
}

impl SizeAxis {
    fn new(sizes: &[u32]) -> SizeAxis {
        let lo = sizes.iter().copied().min().unwrap_or(1).max(1);
        let hi = sizes.iter().copied().max().unwrap_or(1).max(1);
        let (lo, hi) = (f64::from(lo).log2(), f64::from(hi).log2());
        let pad = ((hi - lo) * 0.06).max(0.5);
        SizeAxis { lo: lo - pad, hi: hi + pad }
    }

    fn at(&self, bytes: u32) -> f64 {
        LEFT + (RIGHT - LEFT) * (f64::from(bytes.max(1)).log2() - self.lo) / (self.hi - self.lo)
    }
}

/// How values map onto the plot's height.
enum YAxis {
    /// 0..=1 shown as percent, ticks every quarter.
    Percent,
    /// Log10 between two decades, ticks at each, labelled by `fmt`; with `zero`, a baseline
    /// under the lowest decade for values of 0 (which a log scale cannot place).
    Log { lo: f64, hi: f64, fmt: fn(f64) -> String, zero: bool },
}

/// The share of the height a log axis leaves under its lowest decade for its zero baseline.
const ZERO_BAND: f64 = 0.1;

impl YAxis {
    fn log(values: impl Iterator<Item = f64>, fmt: fn(f64) -> String) -> Option<YAxis> {
        let (mut lo, mut hi, mut zero) = (f64::MAX, 0.0f64, false);
        for v in values {
            if v > 0.0 {
                lo = lo.min(v);
                hi = hi.max(v);
            } else {
                zero = true;
            }
        }
        (hi > 0.0).then(|| {
            let lo = 10f64.powf(lo.log10().floor());
            YAxis::Log { lo, hi: 10f64.powf(hi.log10().ceil()).max(lo * 10.0), fmt, zero }
        })
    }

    fn at(&self, v: f64) -> f64 {
        let f = match self {
            YAxis::Percent => v.clamp(0.0, 1.0),
            YAxis::Log { zero: true, .. } if v <= 0.0 => 0.0,
            YAxis::Log { lo, hi, zero, .. } => {
                let f = (v.max(*lo).log10() - lo.log10()) / (hi.log10() - lo.log10());
                if *zero {
                    ZERO_BAND + (1.0 - ZERO_BAND) * f
                } else {
                    f
                }
            }
        };
        TOP + PLOT_H * (1.0 - f)
    }

    fn ticks(&self) -> Vec<(f64, String)> {
        match self {
            YAxis::Percent => (0..=4).map(|k| (f64::from(k) / 4.0, format!("{} %", k * 25))).collect(),
            YAxis::Log { lo, hi, fmt, zero } => {
                let mut out = if *zero { vec![(0.0, "0".to_owned())] } else { Vec::new() };
                let mut d = *lo;
                while d <= hi * 1.0001 {
                    out.push((d, fmt(d)));
                    d *= 10.0;
                }
                out
            }
        }
    }
}

/// One line: a relation's values per size (`None`: no figure there, the line breaks).
struct Line {
    label: String,
    relation: Relation,
    dashed: bool,
    points: Vec<(u32, Option<f64>)>,
}

/// The frame: grid, ticks at each swept size, axis titles.
fn frame(s: &mut String, sizes: &[u32], x: &SizeAxis, y: &YAxis, y_title: &str) {
    for (v, l) in y.ticks() {
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{RIGHT}\" y1=\"{0:.1}\" y2=\"{0:.1}\" stroke=\"currentColor\" stroke-opacity=\".15\"/>",
            y.at(v)
        );
        s.push_str(&text(LEFT - 6.0, y.at(v) + 4.0, "end", &l));
    }
    for &b in sizes {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{TOP}\" y2=\"{1:.1}\" stroke=\"currentColor\" stroke-opacity=\".15\"/>",
            x.at(b),
            TOP + PLOT_H
        );
        s.push_str(&text(x.at(b), TOP + PLOT_H + 15.0, "middle", &label(b)));
    }
    s.push_str(&text((LEFT + RIGHT) / 2.0, TOP + PLOT_H + 32.0, "middle", "message size (log scale)"));
    let _ = write!(
        s,
        "<text x=\"14\" y=\"{0:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {0:.1})\">{1}</text>",
        TOP + PLOT_H / 2.0,
        esc(y_title)
    );
}

/// The lines, their markers, and a legend under the plot.
fn lines(s: &mut String, x: &SizeAxis, y: &YAxis, lines: &[Line]) {
    for l in lines {
        let (colour, shape) = style(l.relation);
        let dash = if l.dashed { "6 4" } else { "" };
        // A gap (a size with no figure) breaks the line rather than bridging it.
        for run in l.points.split(|p| p.1.is_none()).filter(|r| r.len() > 1) {
            let pts: Vec<String> =
                run.iter().filter_map(|(b, v)| v.map(|v| format!("{:.1},{:.1}", x.at(*b), y.at(v)))).collect();
            let _ = write!(
                s,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>",
                pts.join(" ")
            );
        }
        for (b, v) in &l.points {
            if let Some(v) = v {
                s.push_str(&marker(shape, x.at(*b), y.at(*v), colour, !l.dashed));
            }
        }
    }
    for (i, l) in lines.iter().enumerate() {
        let (colour, shape) = style(l.relation);
        let (lx, ly) = legend_at(i);
        let dash = if l.dashed { "6 4" } else { "" };
        let _ = write!(
            s,
            "<line x1=\"{lx:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>",
            lx + 28.0,
            ly - 4.0,
            ly - 4.0
        );
        s.push_str(&marker(shape, lx + 14.0, ly - 4.0, colour, !l.dashed));
        s.push_str(&text(lx + 34.0, ly, "start", &l.label));
    }
}

/// Where legend entry `i` goes: three to a row under the plot.
fn legend_at(i: usize) -> (f64, f64) {
    (LEFT + 200.0 * (i % 3) as f64, TOP + PLOT_H + 52.0 + 18.0 * (i / 3) as f64)
}

fn height(lines: usize) -> f64 {
    TOP + PLOT_H + 44.0 + 18.0 * lines.div_ceil(3) as f64
}

fn sizes_of(r: &SweepReport) -> Vec<u32> {
    r.sizes.iter().map(|s| s.bytes).collect()
}

/// Delivered % against size, one line per relation, the threshold as a red dashed rule, and a
/// red ring on each relation's first size below it (where its delivery breaks).
pub fn delivery(r: &SweepReport) -> String {
    let sizes = sizes_of(r);
    let series: Vec<Line> = r
        .relations()
        .into_iter()
        .map(|rel| Line {
            label: rel.as_str().to_owned(),
            relation: rel,
            dashed: false,
            points: r.sizes.iter().map(|s| (s.bytes, s.row(rel).and_then(|row| row.delivered))).collect(),
        })
        .collect();
    // The relations' legend entries, the threshold's and the break ring's.
    let mut s = open(
        "plot-sweep-delivery",
        "Delivered % against message size, per pair relation; a red ring where delivery first drops below the threshold",
        W,
        height(series.len() + 2),
    );
    let (x, y) = (SizeAxis::new(&sizes), YAxis::Percent);
    frame(&mut s, &sizes, &x, &y, "delivered");
    let min = r.threshold.min_delivery;
    let _ = write!(
        s,
        "<line x1=\"{LEFT}\" x2=\"{RIGHT}\" y1=\"{0:.1}\" y2=\"{0:.1}\" stroke=\"{RED}\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\"/>",
        y.at(min)
    );
    lines(&mut s, &x, &y, &series);
    // The threshold's legend entry, after the relations'.
    let (lx, ly) = legend_at(series.len());
    let _ = write!(
        s,
        "<line x1=\"{lx:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{RED}\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\"/>",
        lx + 28.0,
        ly - 4.0,
        ly - 4.0
    );
    s.push_str(&text(lx + 34.0, ly, "start", &format!("threshold {}", crate::sweep::model::percent(min))));
    let broke: Vec<(u32, f64)> = r
        .breaks()
        .into_iter()
        .filter_map(|(_, b)| match b {
            Some(Break::At { bytes, delivered }) => Some((bytes, delivered)),
            _ => None,
        })
        .collect();
    if !broke.is_empty() {
        for (bytes, delivered) in &broke {
            s.push_str(&ring(x.at(*bytes), y.at(*delivered)));
        }
        let (lx, ly) = legend_at(series.len() + 1);
        s.push_str(&ring(lx + 14.0, ly - 4.0));
        s.push_str(&text(lx + 34.0, ly, "start", "first size below the threshold"));
    }
    s.push_str(CLOSE);
    s
}

/// The red ring that marks where a relation's delivery breaks.
fn ring(x: f64, y: f64) -> String {
    format!("<circle class=\"break\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"9\" fill=\"none\" stroke=\"{RED}\" stroke-width=\"2\"/>")
}

fn ms_tick(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v} ms")
    }
}

/// KiB/s decades: `1 KiB/s`, `10 KiB/s`, … `10,000 KiB/s` (powers of ten of a binary unit
/// read oddly any other way).
fn kib_tick(v: f64) -> String {
    if v < 1.0 {
        return format!("{v} KiB/s");
    }
    let digits = format!("{v:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out + " KiB/s"
}

/// p50 (solid) and p99 (dashed) latency against size, per relation, log scale.
pub fn latency(r: &SweepReport) -> String {
    let sizes = sizes_of(r);
    let mut series = Vec::new();
    for rel in r.relations() {
        for (q, dashed) in [("p50", false), ("p99", true)] {
            let points = r
                .sizes
                .iter()
                .map(|s| {
                    let row = s.row(rel);
                    let us = row.and_then(|row| if dashed { row.latency_p99_us } else { row.latency_p50_us });
                    (s.bytes, us.map(|v| v as f64 / 1000.0))
                })
                .collect();
            series.push(Line { label: format!("{} {q}", rel.as_str()), relation: rel, dashed, points });
        }
    }
    let title = "Latency against message size: p50 solid, p99 dashed, per pair relation (log scale)";
    chart("plot-sweep-latency", title, &sizes, &series, ms_tick, "latency")
}

/// Goodput (payload bytes delivered per second of a pair's window) against size, log scale.
pub fn goodput(r: &SweepReport) -> String {
    let sizes = sizes_of(r);
    let series: Vec<Line> = r
        .relations()
        .into_iter()
        .map(|rel| Line {
            label: rel.as_str().to_owned(),
            relation: rel,
            dashed: false,
            points: r
                .sizes
                .iter()
                .map(|s| (s.bytes, s.row(rel).and_then(|row| row.goodput_bytes_per_s).map(|b| b / 1024.0)))
                .collect(),
        })
        .collect();
    let title = "Goodput per pair against message size: payload delivered per second of window (log scale)";
    chart("plot-sweep-goodput", title, &sizes, &series, kib_tick, "goodput per pair")
}

/// A log-y chart of `series`, or a line saying there is nothing to draw.
fn chart(id: &str, title: &str, sizes: &[u32], series: &[Line], fmt: fn(f64) -> String, y_title: &str) -> String {
    let values = series.iter().flat_map(|l| l.points.iter().filter_map(|p| p.1));
    let mut s = open(id, title, W, height(series.len()));
    let Some(y) = YAxis::log(values, fmt) else {
        s.push_str(&text(W / 2.0, TOP + PLOT_H / 2.0, "middle", "nothing measured (no message arrived at any size)"));
        s.push_str(CLOSE);
        return s;
    };
    let x = SizeAxis::new(sizes);
    frame(&mut s, sizes, &x, &y, y_title);
    lines(&mut s, &x, &y, series);
    s.push_str(CLOSE);
    s
}
