//! Runs of many pairs (a robot pod's launch file, a fleet): past [`LARGE`] pairs the reports
//! group them — the copies a scenario wrote out (`processes: N` → `t-1` … `t-N`, `replicas: N`
//! → `robot-1` … `robot-N`) are one group, `robot-*.t-*` — and show per group how many pairs
//! were heard in every trial, in some, in none. Pair by pair, the reports then list the pairs
//! that were not heard in every trial (at most [`PAIR_ROWS`]); every pair stays in `pairs.csv`,
//! `summary.json` and the HTML report's collapsed per-pair table.

use std::collections::BTreeMap;

use super::table::{ms, percent, Table};
use crate::analysis::{PairSummary, Relation};
use crate::summary::RunReport;

/// More pairs than this and the reports group them.
pub const LARGE: usize = 64;
/// At most this many pairs listed one by one in Markdown and on the console.
pub const PAIR_ROWS: usize = 100;

/// Whether `r` has too many pairs to show one by one.
pub fn is_large(r: &RunReport) -> bool {
    r.pairs.len() > LARGE
}

/// A name with its copy number (`t-3`) made a wildcard (`t-*`).
fn stem(name: &str) -> String {
    match name.rsplit_once('-') {
        Some((base, n)) if !base.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{base}-*")
        }
        _ => name.to_owned(),
    }
}

/// The group of a member id `<pod>.<container>`: `robot-2.t-3` → `robot-*.t-*`.
pub fn group_of(id: &str) -> String {
    match id.split_once('.') {
        Some((pod, container)) => format!("{}.{}", stem(pod), stem(container)),
        None => stem(id),
    }
}

/// The pairs of one talker group and one listener group in one relation.
#[derive(Debug, Default)]
struct Group<'a> {
    pairs: Vec<&'a PairSummary>,
}

impl Group<'_> {
    fn every(&self) -> usize {
        self.pairs.iter().filter(|p| p.trials > 0 && p.trials_heard() == p.trials).count()
    }

    fn none(&self) -> usize {
        self.pairs.iter().filter(|p| p.trials_heard() == 0).count()
    }

    fn delivered(&self) -> f64 {
        let (got, want) = self.pairs.iter().fold((0u64, 0u64), |(g, w), p| (g + p.received, w + p.expected));
        if want == 0 {
            0.0
        } else {
            got as f64 / want as f64
        }
    }
}

/// Pairs by (talker group, listener group, relation), in the order they first appear.
fn grouped(r: &RunReport) -> Vec<((String, String, Relation), Group<'_>)> {
    let mut order: Vec<(String, String, Relation)> = Vec::new();
    let mut groups: BTreeMap<(String, String, Relation), Group<'_>> = BTreeMap::new();
    for p in &r.pairs {
        let key = (group_of(&p.talker), group_of(&p.listener), p.relation);
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().pairs.push(p);
    }
    order.into_iter().filter_map(|k| groups.remove(&k).map(|g| (k, g))).collect()
}

/// Who heard whom, group by group: per talker group and listener group, the pairs heard in
/// every trial of all its pairs, and their relation.
pub fn grouped_matrix(r: &RunReport) -> Table {
    let groups = grouped(r);
    let mut listeners: Vec<&str> = Vec::new();
    let mut talkers: Vec<&str> = Vec::new();
    for ((t, l, _), _) in &groups {
        if !talkers.contains(&t.as_str()) {
            talkers.push(t);
        }
        if !listeners.contains(&l.as_str()) {
            listeners.push(l);
        }
    }
    let head = std::iter::once(("talkers \\ listeners".to_owned(), false))
        .chain(listeners.iter().map(|l| ((*l).to_owned(), false)));
    let mut t = Table::new(
        &format!(
            "Who heard whom, by group ({} pairs; `-*` stands for every copy: a launch file's processes, a Deployment's \
             replicas): pairs heard in every trial / pairs in the group",
            r.pairs.len()
        ),
        head,
    );
    for talker in talkers {
        let mut row = vec![talker.to_owned()];
        for listener in &listeners {
            let cells: Vec<String> = groups
                .iter()
                .filter(|((gt, gl, _), _)| gt == talker && gl == listener)
                .map(|((.., rel), g)| format!("{}/{} · {}", g.every(), g.pairs.len(), rel.as_str()))
                .collect();
            row.push(if cells.is_empty() { "–".into() } else { cells.join(" · ") });
        }
        t.rows.push(row);
    }
    t
}

/// One row per group of pairs: how many were heard in every trial, in some, in none, the
/// messages delivered over all of them, and the group's latency (the median of its pairs'
/// p50s, the largest p99).
pub fn grouped_pairs_table(r: &RunReport) -> Table {
    let mut t = Table::new(
        "Pairs by group and relation (latency never pooled across relations)",
        [
            ("talkers → listeners", false),
            ("relation", false),
            ("pairs", true),
            ("heard in every trial", true),
            ("in some", true),
            ("in none", true),
            ("delivered", true),
            ("median p50 ms", true),
            ("worst p99 ms", true),
        ],
    );
    for ((tg, lg, rel), g) in grouped(r) {
        let (every, none) = (g.every(), g.none());
        let mut p50s: Vec<u64> = g.pairs.iter().filter_map(|p| p.latency_p50_us).collect();
        p50s.sort_unstable();
        let median = p50s.get(p50s.len() / 2).copied();
        let worst = g.pairs.iter().filter_map(|p| p.latency_p99_us).max();
        t.rows.push(vec![
            format!("{tg} → {lg}"),
            rel.as_str().to_owned(),
            g.pairs.len().to_string(),
            every.to_string(),
            (g.pairs.len() - every - none).to_string(),
            none.to_string(),
            percent(g.delivered()),
            ms(median),
            ms(worst),
        ]);
    }
    t
}

/// `full`'s rows of the pairs that were not heard in every trial, at most [`PAIR_ROWS`], with a
/// caption that says how many there are and where the rest is.
pub fn unheard_rows(r: &RunReport, full: &Table) -> Table {
    let unheard: Vec<usize> = r
        .pairs
        .iter()
        .enumerate()
        .filter(|(_, p)| p.trials == 0 || p.trials_heard() < p.trials)
        .map(|(i, _)| i)
        .collect();
    let shown = unheard.len().min(PAIR_ROWS);
    let caption = if unheard.is_empty() {
        format!("Every one of the {} pairs was heard in every trial (each pair: pairs.csv)", r.pairs.len())
    } else if shown < unheard.len() {
        format!(
            "The first {shown} of the {} pairs not heard in every trial (of {} pairs; every pair: pairs.csv)",
            unheard.len(),
            r.pairs.len()
        )
    } else {
        format!(
            "The {} pairs not heard in every trial (of {} pairs; every pair: pairs.csv)",
            unheard.len(),
            r.pairs.len()
        )
    };
    let mut t = Table::new(&caption, full.head.iter().cloned().zip(full.numeric.iter().copied()));
    t.rows = unheard.into_iter().take(PAIR_ROWS).filter_map(|i| full.rows.get(i).cloned()).collect();
    t
}

/// `r` with its pairs merged per group, for the plots of a large run: one series per group
/// and relation (latency histograms summed, counts added, the worst p99), and every trial's
/// pairs renamed to their groups, so a per-pair plot draws each pair as a point on its
/// group's row.
pub fn grouped_view(r: &RunReport) -> RunReport {
    let mut view = r.clone();
    view.pairs = grouped(r)
        .into_iter()
        .map(|((tg, lg, _), g)| {
            let mut merged = g.pairs[0].clone();
            let mut buckets: BTreeMap<u64, u64> = BTreeMap::new();
            for p in &g.pairs {
                for &(v, c) in &p.latency_buckets {
                    *buckets.entry(v).or_default() += c;
                }
            }
            merged.talker = tg;
            merged.listener = lg;
            merged.latency_buckets = buckets.into_iter().collect();
            merged.expected = g.pairs.iter().map(|p| p.expected).sum();
            merged.received = g.pairs.iter().map(|p| p.received).sum();
            merged.ratio = g.delivered();
            merged.latency_p99_us = g.pairs.iter().filter_map(|p| p.latency_p99_us).max();
            merged.clock_trusted = g.pairs.iter().all(|p| p.clock_trusted);
            merged
        })
        .collect();
    for t in &mut view.trials {
        for p in &mut t.pairs {
            p.talker = group_of(&p.talker);
            p.listener = group_of(&p.listener);
        }
    }
    view
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::fixture;

    /// The fixture's run with `talkers` × `listeners` pairs: robot pods `robot-1..` of four
    /// talker processes each on the Pi, listener processes `base.l-1..` on the master; pairs
    /// whose talker and listener are both the 5th or later process never heard.
    pub(crate) fn large(robots: usize, listeners: usize) -> RunReport {
        let mut r = fixture::report();
        let template = r.pairs[0].clone();
        let talker_ids: Vec<String> =
            (1..=robots).flat_map(|k| (1..=4).map(move |i| format!("robot-{k}.t-{i}"))).collect();
        let listener_ids: Vec<String> = (1..=listeners).map(|i| format!("base.l-{i}")).collect();
        r.roster.talkers = talker_ids
            .iter()
            .map(|id| crate::analysis::Member {
                id: id.clone(),
                pod: id.split('.').next().unwrap_or_default().into(),
                node: "pi".into(),
                demo: false,
                message_type: None,
            })
            .collect();
        r.roster.listeners = listener_ids
            .iter()
            .map(|id| crate::analysis::Member {
                id: id.clone(),
                pod: "base".into(),
                node: "master".into(),
                demo: false,
                message_type: None,
            })
            .collect();
        r.pairs.clear();
        for (ti, t) in talker_ids.iter().enumerate() {
            for (li, l) in listener_ids.iter().enumerate() {
                let mut p = template.clone();
                p.talker = t.clone();
                p.listener = l.clone();
                p.relation = Relation::CrossNode;
                if ti % 4 == 3 && li >= 4 {
                    (p.trials_delivered, p.trials_partial, p.trials_none, p.received, p.ratio) =
                        (0, 0, p.trials, 0, 0.0);
                    p.latency_p50_us = None;
                    p.latency_p99_us = None;
                }
                r.pairs.push(p);
            }
        }
        r
    }

    #[test]
    fn copies_are_one_group_and_other_names_stay() {
        assert_eq!(group_of("robot-2.t-3"), "robot-*.t-*");
        assert_eq!(group_of("base.l-10"), "base.l-*");
        assert_eq!(group_of("demo-talker.talker"), "demo-talker.talker");
        assert_eq!(group_of("pod.-3"), "pod.-3");
        assert_eq!(group_of("pod.t-3a"), "pod.t-3a");
    }

    #[test]
    fn a_large_run_counts_its_pairs_per_group() {
        // 5 robots × 4 talkers → 6 listeners: 120 pairs, the 4th talker of each robot unheard
        // by listeners 5 and 6 (10 pairs).
        let r = large(5, 6);
        assert!(is_large(&r));
        let t = grouped_pairs_table(&r);
        assert_eq!(t.rows.len(), 1, "{:?}", t.rows);
        assert_eq!(t.rows[0][..6], ["robot-*.t-* → base.l-*", "cross node", "120", "110", "0", "10"]);
        let m = grouped_matrix(&r);
        assert_eq!(m.rows, vec![vec!["robot-*.t-*".to_owned(), "110/120 · cross node".to_owned()]]);
        let unheard = unheard_rows(&r, &super::super::table::pairs_table(&r));
        assert_eq!(unheard.rows.len(), 10);
        assert!(unheard.rows.iter().all(|row| row[0].contains(".t-4 → base.l-")), "{:?}", unheard.rows);
        assert!(unheard.caption.starts_with("The 10 pairs not heard"), "{}", unheard.caption);
    }

    #[test]
    fn the_plots_view_has_one_series_per_group_with_every_pair_in_it() {
        let r = large(5, 6);
        let v = grouped_view(&r);
        assert_eq!(v.pairs.len(), 1);
        let n = |p: &PairSummary| p.latency_buckets.iter().map(|b| b.1).sum::<u64>();
        assert_eq!(n(&v.pairs[0]), r.pairs.iter().map(n).sum::<u64>());
        assert_eq!(v.pairs[0].received, r.pairs.iter().map(|p| p.received).sum::<u64>());
    }

    fn export(e: &dyn crate::report::Exporter, r: &RunReport) -> String {
        let mut out = Vec::new();
        e.export(r, &mut out).expect("export");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn reports_of_a_thousand_pairs_show_groups_and_keep_every_pair_one_click_away() {
        let r = large(40, 8);
        let md = export(&crate::report::Markdown, &r);
        let rows = md.lines().filter(|l| l.starts_with('|')).count();
        assert!(rows < 200, "{rows} table lines for 1280 pairs");
        assert!(md.contains("| robot-*.t-* → base.l-* | cross node | 1280 | 1120 | 0 | 160 |"), "{md}");
        let html = export(&crate::report::Html, &r);
        let (open, hidden) = html.split_once("<details>").expect("the per-pair table is collapsed");
        assert!(open.matches("<tr>").count() < 100, "rows before the collapsed table");
        assert_eq!(hidden.matches("<tr>").count(), 1281, "every pair and the head");
        // The compact heatmap: a square per pair, its figures in a tooltip.
        assert!(open.matches("<rect").count() >= 1280);
        assert!(open.contains("robot-40.t-4 → base.l-8: 0.0 % (cross node"), "tooltip");
        let console = crate::report::console(&r);
        assert!(console.lines().count() < 150, "{console}");
        assert!(console.contains("The first 100 of the 160 pairs not heard in every trial"), "{console}");
    }

    #[test]
    fn past_the_row_limit_the_listing_says_how_many_it_left_out() {
        // 40 robots × 4 talkers × 8 listeners = 1280 pairs, 160 of them unheard.
        let r = large(40, 8);
        let unheard = unheard_rows(&r, &super::super::table::pairs_table(&r));
        assert_eq!(unheard.rows.len(), PAIR_ROWS);
        assert!(unheard.caption.starts_with("The first 100 of the 160 pairs"), "{}", unheard.caption);
    }
}
