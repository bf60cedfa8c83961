//! What the variants gave: per-pair cells, the recommendation and the matrix's table, Markdown,
//! HTML and console.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::markup::esc;
use crate::report::Table;
use crate::results::{write_atomic, ResultsError};
use crate::summary::{RunReport, VerdictKind};

use super::edits::RAISED_RANGE_AT_LEAST;

/// The most pairs the matrix table shows as columns; beyond, it counts them per variant.
const PAIR_COLUMNS: usize = 8;

/// One pair's result under one variant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairCell {
    pub pair: String,
    pub delivered: u32,
    pub trials: u32,
    /// The two ends ran on different nodes.
    #[serde(default)]
    pub cross_node: bool,
    /// Messages heard more than once, over the trials.
    #[serde(default)]
    pub duplicates: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p50_us: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p99_us: Option<u64>,
}

/// What one variant gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    Ran {
        /// Its run directory, relative to the matrix directory.
        dir: String,
        verdict: VerdictKind,
        headline: String,
        pairs: Vec<PairCell>,
        /// Every pair delivered in every complete trial.
        delivers_all: bool,
        /// Why pairs failed: the causes of the run's failure findings.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        lost: Vec<String>,
    },
    NotApplicable {
        why: String,
    },
    Failed {
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantResult {
    pub id: String,
    pub title: String,
    pub rank: u8,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The whole matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixReport {
    pub scenario: String,
    pub backend: String,
    pub variants: Vec<VariantResult>,
    /// The least invasive variant that delivered everything.
    pub recommended: Option<String>,
    /// The manifest change for it (kustomize), or what to do where none exists.
    pub fix: Option<String>,
    /// The most ROS 2 processes the scenario puts on one IP: how far every result was measured.
    #[serde(default)]
    pub processes_per_ip: usize,
    /// The user's deployment, linted beside the scenario (`--manifests`): its busiest IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifests: Option<Manifests>,
    /// What the Zenoh bridge variants changed (`matrix::bridge_words`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bridges: Vec<String>,
}

/// The deployment the matrix was asked to compare its process counts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifests {
    /// The paths, as given.
    pub paths: Vec<String>,
    /// Its IP with the most ROS 2 processes (`None`: no ROS 2 container the lint recognises).
    pub busiest: Option<crate::lint::BusiestIp>,
}

/// A pair's cell: trials delivered / trials, and the messages heard twice where any were.
fn cell_text(c: &PairCell) -> String {
    match c.duplicates {
        0 => format!("{}/{}", c.delivered, c.trials),
        d => format!("{}/{} ({d} duplicates)", c.delivered, c.trials),
    }
}

/// What a run gave, as a matrix outcome.
pub fn outcome_of(report: &RunReport, dir: &str) -> Outcome {
    let pairs: Vec<PairCell> = report
        .pairs
        .iter()
        .filter(|p| p.talker != crate::analysis::ANONYMOUS)
        .map(|p| PairCell {
            pair: format!("{} → {}", p.talker, p.listener),
            delivered: p.trials_delivered,
            trials: p.trials,
            cross_node: p.relation == crate::analysis::Relation::CrossNode,
            duplicates: p.duplicates,
            latency_p50_us: p.latency_p50_us,
            latency_p99_us: p.latency_p99_us,
        })
        .collect();
    let complete = report.complete().count() > 0;
    let delivers_all = complete && pairs.iter().all(|p| p.trials > 0 && p.delivered == p.trials);
    let mut lost: Vec<String> = Vec::new();
    for f in report.findings.iter().filter(|f| f.severity == crate::diagnosis::Severity::Failure) {
        let why = format!("{} ({})", f.cause, f.rule);
        if !lost.contains(&why) {
            lost.push(why);
        }
    }
    Outcome::Ran {
        lost,
        dir: dir.to_owned(),
        verdict: report.verdict.kind,
        headline: report.verdict.headline.clone(),
        pairs,
        delivers_all,
    }
}

impl MatrixReport {
    /// Picks the least invasive variant that delivered everything, each message once.
    pub fn recommend(&mut self) {
        self.recommended = self
            .variants
            .iter()
            .filter(|v| match &v.outcome {
                Outcome::Ran { delivers_all, pairs, .. } => *delivers_all && pairs.iter().all(|c| c.duplicates == 0),
                _ => false,
            })
            .min_by_key(|v| v.rank)
            .map(|v| v.id.clone());
    }

    /// Variant × pair: trials delivered / trials, and the verdict.
    pub fn table(&self) -> Table {
        let mut pairs: Vec<String> = Vec::new();
        for v in &self.variants {
            if let Outcome::Ran { pairs: ps, .. } = &v.outcome {
                for p in ps {
                    if !pairs.contains(&p.pair) {
                        pairs.push(p.pair.clone());
                    }
                }
            }
        }
        if pairs.len() > PAIR_COLUMNS {
            return self.grouped_table(pairs.len());
        }
        let head = std::iter::once(("variant".to_owned(), false))
            .chain(pairs.iter().map(|p| (p.clone(), true)))
            .chain([("verdict".to_owned(), false)]);
        let mut t = Table::new("Which fix delivers: trials in which each pair delivered, per variant", head);
        for v in &self.variants {
            let mut row = vec![v.title.clone()];
            match &v.outcome {
                Outcome::Ran { pairs: ps, verdict, delivers_all, .. } => {
                    for p in &pairs {
                        row.push(ps.iter().find(|c| &c.pair == p).map_or("–".into(), cell_text));
                    }
                    let mark = if *delivers_all { "delivers everything" } else { "does not" };
                    row.push(format!("{} ({mark})", verdict.as_str()));
                }
                Outcome::NotApplicable { why } => {
                    row.extend(pairs.iter().map(|_| "n/a".to_owned()));
                    row.push(format!("not applicable: {why}"));
                }
                Outcome::Failed { error } => {
                    row.extend(pairs.iter().map(|_| "–".to_owned()));
                    row.push(format!("failed: {error}"));
                }
            }
            t.rows.push(row);
        }
        t
    }

    /// The table for more pairs than fit as columns: per variant, how many pairs delivered in
    /// every trial, in some, in none (each variant's report has them pair by pair).
    fn grouped_table(&self, pairs: usize) -> Table {
        let head = [
            ("variant", false),
            ("pairs delivered in every trial", true),
            ("in some trials", true),
            ("in none", true),
            ("verdict", false),
        ];
        let mut t = Table::new(
            &format!("Which fix delivers: of the {pairs} pairs, how many delivered in every trial, per variant"),
            head,
        );
        for v in &self.variants {
            let mut row = vec![v.title.clone()];
            match &v.outcome {
                Outcome::Ran { pairs: ps, verdict, delivers_all, .. } => {
                    let all = ps.iter().filter(|c| c.trials > 0 && c.delivered == c.trials).count();
                    let none = ps.iter().filter(|c| c.delivered == 0).count();
                    row.extend([all.to_string(), (ps.len() - all - none).to_string(), none.to_string()]);
                    let mark = if *delivers_all { "delivers everything" } else { "does not" };
                    row.push(format!("{} ({mark})", verdict.as_str()));
                }
                Outcome::NotApplicable { why } => {
                    row.extend(["n/a".to_owned(), "n/a".to_owned(), "n/a".to_owned()]);
                    row.push(format!("not applicable: {why}"));
                }
                Outcome::Failed { error } => {
                    row.extend(["–".to_owned(), "–".to_owned(), "–".to_owned()]);
                    row.push(format!("failed: {error}"));
                }
            }
            t.rows.push(row);
        }
        t
    }

    fn recommendation_words(&self) -> String {
        let Some(id) = &self.recommended else {
            return "No variant delivered every pair in every trial.".to_owned();
        };
        let title = self.variants.iter().find(|v| &v.id == id).map_or(id.as_str(), |v| v.title.as_str());
        if id == "as-is" {
            return "As deployed, every listener already hears every talker: nothing to fix.".to_owned();
        }
        let n = self.processes_per_ip;
        let measured = match n {
            0 => String::new(),
            1 => " Measured with one ROS 2 process per IP.".to_owned(),
            n => format!(" Measured with up to {n} ROS 2 processes on one IP."),
        };
        let holds = match id.as_str() {
            // Fast DDS announces to participant ids 0..4 of each peer address (maxInitialPeersRange).
            "ros-static-peers" => format!(
                " It holds while no two IPs both carry more than {} ROS 2 processes (Fast DDS announces to \
                 participant ids 0–{} of each peer address): for more, take ros-static-peers-range.",
                crate::hosts::FASTDDS_DEFAULT_INITIAL_PEERS_RANGE,
                crate::hosts::FASTDDS_DEFAULT_INITIAL_PEERS_RANGE - 1
            ),
            "ros-static-peers-range" => {
                let range = n.max(RAISED_RANGE_AT_LEAST);
                format!(" Its profile's maxInitialPeersRange {range} reaches up to {range} ROS 2 processes per IP.")
            }
            _ => String::new(),
        };
        format!("Recommended: {title} — the least invasive change that delivered every pair in every trial.{measured}{holds}")
    }

    /// How the scenario's processes per IP compare with the deployment's (`--manifests`): a fix
    /// measured on fewer processes per IP than the manifests run is not proven for them.
    pub fn manifests_words(&self) -> Option<String> {
        let m = self.manifests.as_ref()?;
        let paths = m.paths.join(" ");
        let measured = self.processes_per_ip;
        let Some(b) = &m.busiest else {
            return Some(format!(
                "Your manifests ({paths}) run no ROS 2 container harness lint recognises: no process count to compare."
            ));
        };
        let parts = b.parts.join("; ");
        let most = if b.certain < b.processes {
            format!(
                "up to {} ROS 2 processes on one IP ({} certain, the rest where the scheduler puts pods together)",
                b.processes, b.certain
            )
        } else {
            format!("{} ROS 2 processes on one IP", b.processes)
        };
        let mut words = if b.processes as usize > measured {
            format!(
                "Fewer processes than your deployment: your manifests ({paths}) put {most}, on {} of {} ({parts}); \
                 this matrix measured up to {measured}. A fix measured on {measured} is not proven on {}: set \
                 `processes:` in the scenario to match and run the matrix again.",
                b.place, b.workload, b.processes
            )
        } else {
            format!(
                "Your manifests ({paths}) put {most}, on {} of {} ({parts}): within the {measured} this \
                 matrix measured.",
                b.place, b.workload
            )
        };
        if !b.launches.is_empty() {
            words.push_str(&format!(
                " {} run `ros2 launch`, which starts as many processes as its launch file says, which the \
                 manifest does not show: count them against the {measured} measured here.",
                b.launches.join(", ")
            ));
        }
        Some(words)
    }

    /// Why each variant that ran did not deliver everything, and what the variants ask of a team.
    fn reasons(&self) -> Vec<String> {
        let mut out = Vec::new();
        for v in &self.variants {
            if let Outcome::Ran { delivers_all: false, lost, .. } = &v.outcome {
                let why = if lost.is_empty() { "no failure was diagnosed".to_owned() } else { lost.join("; ") };
                out.push(format!("{} lost: {why}", v.title));
            }
        }
        for v in &self.variants {
            if let Some(note) = v.note.as_ref().filter(|_| matches!(v.outcome, Outcome::Ran { .. })) {
                out.push(format!("{}: {note}", v.title));
            }
        }
        out.extend(self.bridges.iter().cloned());
        out
    }

    fn reasons_markdown(&self) -> String {
        let mut md = String::new();
        for r in self.reasons() {
            let _ = writeln!(md, "- {}", crate::report::markdown::cell(&r));
        }
        if !md.is_empty() {
            md.push('\n');
        }
        md
    }

    pub fn markdown(&self) -> String {
        let mut md = format!("# Fix matrix: {} ({} backend)\n\n", self.scenario, self.backend);
        md.push_str(&crate::report::markdown::table_string(&self.table()));
        let _ = writeln!(md, "\n**{}**\n", self.recommendation_words());
        if let Some(words) = self.manifests_words() {
            let _ = writeln!(md, "{words}\n");
        }
        if let Some(fix) = &self.fix {
            let _ = writeln!(
                md,
                "The change (also in `fix/`, applied with `kubectl apply -k fix/`):\n\n```yaml\n{fix}```\n"
            );
        }
        md.push_str(&self.reasons_markdown());
        md.push_str("Each variant's full report is in its own directory:\n\n");
        for v in &self.variants {
            if let Outcome::Ran { dir, headline, .. } = &v.outcome {
                let _ = writeln!(md, "- [{}]({dir}/report.md): {}", v.title, crate::report::markdown::cell(headline));
            }
        }
        md
    }

    pub fn html(&self) -> String {
        let mut h = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
             content=\"width=device-width,initial-scale=1\"><title>Fix matrix: {s}</title><style>{css}</style></head>\
             <body><h1>Fix matrix: {s} ({b} backend)</h1>\n",
            s = esc(&self.scenario),
            b = esc(&self.backend),
            css = crate::report::html::STYLE
        );
        h.push_str(&crate::report::html::table_html(&self.table()));
        let _ = writeln!(h, "<p><strong>{}</strong></p>", esc(&self.recommendation_words()));
        if let Some(words) = self.manifests_words() {
            let _ = writeln!(h, "<p>{}</p>", esc(&words));
        }
        if let Some(fix) = &self.fix {
            let _ = writeln!(
                h,
                "<p>The change (also in <code>fix/</code>):</p><div class=\"scroll\"><pre>{}</pre></div>",
                esc(fix)
            );
        }
        h.push_str("<ul>\n");
        for r in self.reasons() {
            let _ = writeln!(h, "<li>{}</li>", esc(&r));
        }
        h.push_str("</ul>\n<ul>\n");
        for v in &self.variants {
            if let Outcome::Ran { dir, headline, .. } = &v.outcome {
                let _ = writeln!(
                    h,
                    "<li><a href=\"{}/report.html\">{}</a>: {}</li>",
                    esc(dir),
                    esc(&v.title),
                    esc(headline)
                );
            }
        }
        h.push_str("</ul></body></html>\n");
        h
    }

    pub fn console(&self) -> String {
        let t = self.table();
        let mut out = String::new();
        let widths: Vec<usize> = (0..t.head.len())
            .map(|i| t.rows.iter().map(|r| r[i].chars().count()).chain([t.head[i].chars().count()]).max().unwrap_or(0))
            .collect();
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let _ = write!(s, "{c:<w$}  ", w = widths[i]);
            }
            s.trim_end().to_owned() + "\n"
        };
        out.push_str(&line(&t.head));
        for r in &t.rows {
            out.push_str(&line(r));
        }
        for r in self.reasons() {
            let _ = writeln!(out, "- {r}");
        }
        let _ = writeln!(out, "{}", self.recommendation_words());
        if let Some(words) = self.manifests_words() {
            let _ = writeln!(out, "{words}");
        }
        if let Some(fix) = &self.fix {
            let _ = write!(out, "the change (kustomize, in fix/):\n{fix}");
        }
        out
    }

    /// Writes `matrix.json`, `matrix.md` and `matrix.html` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), ResultsError> {
        write_atomic(&dir.join("matrix.json"), |w| {
            serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::from)?;
            w.write_all(b"\n")
        })?;
        write_atomic(&dir.join("matrix.md"), |w| w.write_all(self.markdown().as_bytes()))?;
        write_atomic(&dir.join("matrix.html"), |w| w.write_all(self.html().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_invasive_variant_that_delivers_everything_is_recommended() {
        let ran = |id: &str, rank, all| VariantResult {
            id: id.into(),
            title: id.into(),
            rank,
            outcome: Outcome::Ran {
                dir: id.into(),
                verdict: VerdictKind::Consistent,
                headline: String::new(),
                pairs: vec![PairCell {
                    pair: "a → b".into(),
                    delivered: if all { 3 } else { 1 },
                    trials: 3,
                    ..Default::default()
                }],
                delivers_all: all,
                lost: if all { vec![] } else { vec!["multicast".into()] },
            },
            note: None,
        };
        let mut m = MatrixReport {
            scenario: "s".into(),
            backend: "netns".into(),
            variants: vec![ran("as-is", 0, false), ran("host-network", 4, true), ran("unicast-peers", 1, true)],
            recommended: None,
            fix: None,
            processes_per_ip: 2,
            manifests: None,
            bridges: Vec::new(),
        };
        m.recommend();
        assert_eq!(m.recommended.as_deref(), Some("unicast-peers"));
        let t = m.table();
        assert_eq!(t.rows[0][1], "1/3");
        // Past eight pairs, counted per variant instead of a column per pair.
        let mut wide = m.clone();
        for v in &mut wide.variants {
            if let Outcome::Ran { pairs, .. } = &mut v.outcome {
                let one = pairs[0].clone();
                *pairs = (0..9)
                    .map(|i| PairCell {
                        pair: format!("{i} → b"),
                        delivered: if i == 0 { 0 } else { one.delivered },
                        ..one.clone()
                    })
                    .collect();
            }
        }
        let g = wide.table();
        assert_eq!(g.head.len(), 5, "{:?}", g.head);
        assert_eq!(
            g.rows[0][1..4],
            ["0".to_owned(), "8".to_owned(), "1".to_owned()],
            "as-is: 1 of 3 trials each, one never"
        );
        assert!(m.markdown().contains("Recommended: unicast-peers"));
        assert!(m.markdown().contains("Measured with up to 2 ROS 2 processes on one IP."), "{}", m.markdown());
        // Plain static peers are recommended with the process count they hold for.
        m.variants.push(ran("ros-static-peers", 0, true));
        m.recommend();
        let words = m.recommendation_words();
        assert!(words.contains("while no two IPs both carry more than 4 ROS 2 processes"), "{words}");
    }

    #[test]
    fn manifests_with_more_processes_per_ip_than_measured_are_named() {
        let busiest = |processes, certain, launches: &[&str]| crate::lint::BusiestIp {
            processes,
            certain,
            workload: "Deployment/robot".into(),
            place: "its pod IP".into(),
            parts: vec!["containers a, b".into()],
            launches: launches.iter().map(|l| (*l).to_owned()).collect(),
        };
        let mut m = MatrixReport {
            scenario: "s".into(),
            backend: "netns".into(),
            variants: Vec::new(),
            recommended: None,
            fix: None,
            processes_per_ip: 6,
            manifests: None,
            bridges: Vec::new(),
        };
        assert_eq!(m.manifests_words(), None, "no --manifests, no words");
        m.manifests = Some(Manifests { paths: vec!["k8s/".into()], busiest: Some(busiest(12, 12, &[])) });
        let words = m.manifests_words().expect("words");
        assert!(words.starts_with("Fewer processes than your deployment: your manifests (k8s/) put 12 ROS 2 processes on one IP, on its pod IP of Deployment/robot"), "{words}");
        assert!(words.contains("this matrix measured up to 6. A fix measured on 6 is not proven on 12"), "{words}");
        assert!(m.markdown().contains(&words) && m.console().contains(&words));
        m.manifests = Some(Manifests { paths: vec!["k8s/".into()], busiest: Some(busiest(6, 2, &["container x"])) });
        let words = m.manifests_words().expect("words");
        assert!(
            words.contains("put up to 6 ROS 2 processes on one IP (2 certain") && words.contains("within the 6"),
            "{words}"
        );
        assert!(words.contains("container x run `ros2 launch`"), "{words}");
        m.manifests = Some(Manifests { paths: vec!["a.yaml".into()], busiest: None });
        assert!(m.manifests_words().expect("words").contains("no ROS 2 container"));
    }
}
