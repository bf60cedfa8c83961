//! The table model every human-readable format renders the same way ([`Table`]: Markdown, HTML,
//! the console), and the run's tables built on it — who heard whom, the trials, the outcome
//! distribution, the pairs, the expectations — so the formats cannot drift apart.

use crate::summary::RunReport;

/// A table every human-readable format renders the same way (Markdown, HTML, console), so
/// they cannot drift apart; each format escapes cell text its own way.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub caption: String,
    pub head: Vec<String>,
    /// Right-aligned (numbers), per column.
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table; `head` is each column's title and whether it holds numbers.
    pub(crate) fn new<S: Into<String>>(caption: &str, head: impl IntoIterator<Item = (S, bool)>) -> Table {
        let (head, numeric) = head.into_iter().map(|(h, n)| (h.into(), n)).unzip();
        Table { caption: caption.to_owned(), head, numeric, rows: Vec::new() }
    }
}

/// Where a member ran over the complete trials: `master` or `master 4 / pi 6`.
fn nodes_of(r: &RunReport, pod: &str) -> String {
    let mut count: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    for t in r.complete() {
        if let Some(n) = t.placement.get(pod) {
            *count.entry(n.as_str()).or_default() += 1;
        }
    }
    match count.len() {
        0 => r
            .roster
            .talkers
            .iter()
            .chain(&r.roster.listeners)
            .find(|m| m.pod == pod)
            .map_or("?".into(), |m| m.node.clone()),
        1 => count.keys().next().map_or("?".into(), |n| (*n).to_owned()),
        _ => count.iter().map(|(n, k)| format!("{n} {k}")).collect::<Vec<_>>().join(" / "),
    }
}

/// A member's id with the node(s) it ran on: `pi-pod.talker (pi)`.
pub(super) fn member_label(r: &RunReport, id: &str) -> String {
    let pod = r.roster.talkers.iter().chain(&r.roster.listeners).find(|m| m.id == id).map(|m| m.pod.clone());
    match pod {
        Some(pod) => format!("{id} ({})", nodes_of(r, &pod)),
        None => id.to_owned(),
    }
}

/// Who heard whom: rows are talkers, columns listeners; a pair whose relation changed between
/// trials gets one figure per relation, never a pooled one.
pub fn matrix(r: &RunReport) -> Table {
    let head = std::iter::once(("talker \\ listener".to_owned(), false))
        .chain(r.roster.listeners.iter().map(|l| (member_label(r, &l.id), false)));
    let mut t = Table::new(
        "Who heard whom: messages delivered over all complete trials (trials with any delivery / trials)",
        head,
    );
    let mut talkers: Vec<&str> = Vec::new();
    for p in &r.pairs {
        if !talkers.contains(&p.talker.as_str()) {
            talkers.push(&p.talker);
        }
    }
    for talker in talkers {
        let mut row = vec![member_label(r, talker)];
        for l in &r.roster.listeners {
            let rows: Vec<&crate::analysis::PairSummary> =
                r.pairs.iter().filter(|p| p.talker == talker && p.listener == l.id).collect();
            let cell =
                |p: &crate::analysis::PairSummary| format!("{} ({}/{})", percent(p.ratio), p.trials_heard(), p.trials);
            row.push(match rows.as_slice() {
                [] => "–".into(),
                [one] => format!("{} · {}", cell(one), one.relation.as_str()),
                many => {
                    many.iter().map(|p| format!("{} {}", p.relation.as_str(), cell(p))).collect::<Vec<_>>().join(" · ")
                }
            });
        }
        t.rows.push(row);
    }
    t
}

/// One row per trial: where the pods that moved ran, the outcome letter, and a note.
pub fn trials_table(r: &RunReport) -> Table {
    let pods: Vec<String> = {
        let mut pods: Vec<String> = Vec::new();
        for m in r.roster.talkers.iter().chain(&r.roster.listeners) {
            if !pods.contains(&m.pod) {
                pods.push(m.pod.clone());
            }
        }
        pods
    };
    let head =
        std::iter::once(("trial".to_owned(), true)).chain(pods.iter().map(|p| (format!("{p} node"), false))).chain([
            ("delivered / partial / none pairs".to_owned(), false),
            ("outcome".to_owned(), false),
            ("note".to_owned(), false),
        ]);
    let mut t = Table::new("Trials: where each pod ran, and the outcome (letters as in the outcome table)", head);
    for tr in &r.trials {
        let count = |d: crate::analysis::Delivery| tr.pairs.iter().filter(|p| p.delivery == d).count();
        let mut row = vec![tr.meta.trial.to_string()];
        row.extend(pods.iter().map(|p| tr.placement.get(p).cloned().unwrap_or_else(|| "?".into())));
        row.push(format!(
            "{} / {} / {}",
            count(crate::analysis::Delivery::Delivered),
            count(crate::analysis::Delivery::Partial),
            count(crate::analysis::Delivery::None)
        ));
        row.push(if tr.meta.interrupted { "–".into() } else { r.letter_of(&tr.outcome).unwrap_or("?").to_owned() });
        let mut note: Vec<String> = Vec::new();
        if !tr.incomplete.is_empty() {
            note.push(format!("not counted: {}", tr.incomplete.join("; ")));
        } else if tr.meta.interrupted {
            note.push("interrupted: not counted".into());
        }
        note.extend(tr.containers.iter().map(crate::backend::ContainerExit::describe));
        row.push(note.join("; "));
        t.rows.push(row);
    }
    t
}

/// One row per node: its processes' DDS traffic per second, discovery (SPDP/SEDP) apart from
/// user data, over the trials that counted it (complete ones); `None` where nothing counted.
pub fn traffic_table(r: &RunReport) -> Option<Table> {
    use crate::backend::Counted;
    let mut per: Vec<(String, u64, [Counted; 4])> = Vec::new();
    for t in r.complete() {
        for n in &t.traffic {
            let i = match per.iter().position(|(node, ..)| *node == n.node) {
                Some(i) => i,
                None => {
                    per.push((n.node.clone(), 0, [Counted::default(); 4]));
                    per.len() - 1
                }
            };
            let e = &mut per[i];
            e.1 += n.ms;
            for (sum, c) in e.2.iter_mut().zip([n.discovery_sent, n.discovery_received, n.data_sent, n.data_received]) {
                *sum += c;
            }
        }
    }
    if per.is_empty() {
        return None;
    }
    let mut t = Table::new(
        "DDS traffic per node, per second over the trials: discovery (SPDP/SEDP, to RTPS metatraffic ports and a \
         discovery server's) and user data, sent and received by its processes (IP bytes)",
        [
            ("node", false),
            ("discovery sent pkt/s", true),
            ("discovery sent KiB/s", true),
            ("discovery received pkt/s", true),
            ("discovery received KiB/s", true),
            ("data sent pkt/s", true),
            ("data received pkt/s", true),
        ],
    );
    for (node, ms, [ds, dr, us, ur]) in per {
        let s = (ms as f64 / 1e3).max(1e-9);
        let pkt = |c: Counted| format!("{:.1}", c.packets as f64 / s);
        let kib = |c: Counted| format!("{:.1}", c.bytes as f64 / s / 1024.0);
        t.rows.push(vec![node, pkt(ds), kib(ds), pkt(dr), kib(dr), pkt(us), pkt(ur)]);
    }
    Some(t)
}

pub fn distribution_table(r: &RunReport) -> Table {
    let mut t = Table::new(
        "Outcome distribution over complete trials",
        [("", false), ("outcome", false), ("trials", true), ("share", true), ("95 % CI (Wilson)", true)],
    );
    for s in &r.distribution {
        t.rows.push(vec![
            s.letter.clone(),
            s.outcome.clone(),
            s.trials.to_string(),
            percent(s.share),
            format!("{} – {}", percent(s.wilson_low), percent(s.wilson_high)),
        ]);
    }
    t
}

pub fn pairs_table(r: &RunReport) -> Table {
    let mut t = Table::new(
        "Pairs, per relation (latency and discovery are never pooled across relations)",
        [
            ("pair", false),
            ("relation", false),
            ("delivered", true),
            ("trials heard", true),
            ("received / expected", true),
            ("lost", true),
            ("dup", true),
            ("reordered", true),
            ("matched", true),
            ("match ms", true),
            ("first msg ms", true),
            ("p50 ms", true),
            ("p99 ms", true),
            ("max ms", true),
        ],
    );
    for p in &r.pairs {
        let untrusted = |s: String| match (p.clock_trusted, p.clock_uncertainty_ms) {
            _ if s == "–" => s,
            (true, Some(u)) => format!("{s} ± {u:.1}"),
            (true, None) => s,
            (false, _) => format!("{s} (untrusted clock)"),
        };
        t.rows.push(vec![
            p.name(),
            p.relation.as_str().to_owned(),
            percent(p.ratio),
            format!("{}/{}", p.trials_heard(), p.trials),
            format!("{} / {}", p.received, p.expected),
            p.lost.to_string(),
            p.duplicates.to_string(),
            p.reordered.to_string(),
            p.trials_matched.map_or("?".into(), |m| format!("{m}/{}", p.trials)),
            untrusted(p.matched_median_ms.map_or("–".into(), |d| format!("{d:.0}"))),
            untrusted(p.first_message_median_ms.map_or("–".into(), |d| format!("{d:.0}"))),
            untrusted(ms(p.latency_p50_us)),
            untrusted(ms(p.latency_p99_us)),
            untrusted(ms(p.latency_max_us)),
        ]);
    }
    t
}

pub fn expectations_table(r: &RunReport) -> Table {
    let mut t = Table::new("Expectations", [("expectation", false), ("result", false), ("detail", false)]);
    for e in &r.expectations {
        t.rows.push(vec![e.what.clone(), if e.passed { "passed" } else { "FAILED" }.into(), e.detail.clone()]);
    }
    t
}

/// `12.3 %`-style percentage.
pub(super) fn percent(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// Microseconds as milliseconds with two decimals, or `–`.
pub(super) fn ms(us: Option<u64>) -> String {
    us.map_or("–".into(), |v| format!("{:.2}", v as f64 / 1000.0))
}
