//! The sweep directory's `report.html` (as every results directory has one): the sweep as one
//! self-contained page in the run report's style, no scripts: the answer, the plots, the
//! table, and links to each size's own `report.html`.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{pending, plot, SweepExporter};
use crate::report::html::{table_html, STYLE};
use crate::report::markup::esc;
use crate::sweep::model::{SizeOutcome, SweepReport};
use crate::sweep::size::label;
use crate::sweep::table::table;

#[derive(Debug)]
pub struct Html;

impl SweepExporter for Html {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn export(&self, r: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        let title = format!("Size sweep: {} ({} backend)", r.scenario, r.backend);
        let mut h = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{t}</title><style>{STYLE}</style></head>\n<body>\n<h1>{t}</h1>\n",
            t = esc(&title)
        );
        let _ = writeln!(h, "<p>Sweep <code>{}</code>.</p>", esc(&r.sweep_id));
        h.push_str("<ul>\n");
        for f in r.findings() {
            let _ = writeln!(h, "<li><strong>{}</strong></li>", esc(&f));
        }
        h.push_str("</ul>\n");
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(&r.swept.note()));
        if let Some(p) = pending(r) {
            let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(&p));
        }
        h.push_str("<h2>Delivery</h2>\n");
        h.push_str(&plot::delivery(r));
        h.push_str("<h2>Latency</h2>\n");
        h.push_str(&plot::latency(r));
        h.push_str("<h2>Goodput</h2>\n");
        h.push_str(&plot::goodput(r));
        h.push_str("<h2>Per size and relation</h2>\n");
        h.push_str(&table_html(&table(r)));
        h.push_str("<h2>Each size's report</h2>\n<ul>\n");
        for s in &r.sizes {
            if let SizeOutcome::Ran { dir, verdict, headline, .. } = &s.outcome {
                let _ = writeln!(
                    h,
                    "<li><a href=\"{}/report.html\">{}</a>: <strong>{}</strong> — {}</li>",
                    esc(dir),
                    esc(&label(s.bytes)),
                    verdict.as_str(),
                    esc(headline)
                );
            }
        }
        h.push_str("</ul>\n</body>\n</html>\n");
        out.write_all(h.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_has_the_plots_and_the_table() {
        let mut out = Vec::new();
        Html.export(&super::super::fixture::sweep(), &mut out).expect("export");
        let h = String::from_utf8(out).expect("utf8");
        for id in ["plot-sweep-delivery", "plot-sweep-latency", "plot-sweep-goodput"] {
            assert!(h.contains(&format!("id=\"{id}\"")), "{id}");
        }
        // One polyline per relation in the delivery plot (two sizes each), threshold drawn.
        let delivery =
            h.split("id=\"plot-sweep-delivery\"").nth(1).and_then(|s| s.split("</svg>").next()).unwrap_or("");
        assert_eq!(delivery.matches("<polyline").count(), 2, "{delivery}");
        assert!(delivery.contains("threshold 95.0 %"));
        // Cross node drops to 62 % at 64 KiB: one red ring there, on its point; same node holds.
        assert_eq!(delivery.matches("class=\"break\"").count(), 2, "the ring and its legend entry: {delivery}");
        assert!(delivery.contains("first size below the threshold"));
        assert!(h.contains("<a href=\"64KiB/report.html\">64 KiB</a>: <strong>degraded</strong> — some pairs lost"));
        assert!(h.contains("1 MiB could not be measured: backend `netns` failed: boom"));
    }
}
