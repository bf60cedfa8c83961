//! Closing a trial: the receipts still held back are judged, then every planned listener with
//! every talker (planned or heard) becomes a [`PairReport`] — its window, the messages expected
//! in it, per-pair discovery, its outages, whether its clocks can be trusted — and the whole
//! trial a [`TrialReport`] with its outcome label.

use std::collections::HashMap;

use super::analyzer::{TalkerState, TrialAnalyzer};
use super::facts::{ListenerFacts, NodeFacts, PairLatencies, PairReport, Silence, TalkerFacts, TrialReport};
use crate::analysis::delivery::Delivery;
use crate::analysis::pair::PairAcc;
use crate::analysis::roster::{Member, Relation};
use crate::analysis::TrialMeta;
use crate::timing::{outage_threshold_ns, secs_since};

/// A pair's measurement window, wall clock ns.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Both ends were up (the listener, where its talker never printed a start record).
    both_up: Option<u64>,
    /// It opened: the warm-up after `both_up`, or earlier where the harness opened it.
    opens: Option<u64>,
    /// It closed: the listener's end.
    closes: Option<u64>,
}

impl TrialAnalyzer<'_> {
    /// Closes the trial: its report, and each pair's latency histogram for run-level merging.
    pub fn finish(mut self, meta: TrialMeta) -> (TrialReport, PairLatencies) {
        self.judge_held_receipts();
        let talker_ids = self.talker_ids();
        let accs = std::mem::take(&mut self.pairs);
        let (pairs, silences, hists) = self.pair_reports(&meta, &talker_ids, accs);
        // Who heard whom among the planned talkers: a receipt no talker could be given (anonymous)
        // is a measurement's limit, not another outcome.
        let outcome = outcome_label(
            &self.roster.listeners.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
            &self.roster.talkers.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
            &pairs,
        );
        (self.into_report(meta, pairs, silences, outcome), hists)
    }

    /// Judges every receipt still waiting: those of demo talkers (by send time), those held for
    /// a barrier, and those whose talker's window was never known.
    fn judge_held_receipts(&mut self) {
        self.attribute_demo();
        // Some node never started: the barrier never opened, each pair has its own window.
        self.barrier &= self.all_started();
        for p in std::mem::take(&mut self.held) {
            self.arrive(&p.listener, &p.talker, p.seq, p.recv_ns, p.sent_ns);
        }
        // Receipts whose talker never printed a start record: judged by the listener alone.
        for p in std::mem::take(&mut self.pending) {
            self.arrive(&p.listener, &p.talker, p.seq, p.recv_ns, p.sent_ns);
        }
    }

    /// The planned talkers, then those heard but not planned (anonymous demo talkers, strays):
    /// they get pairs too.
    fn talker_ids(&self) -> Vec<String> {
        let mut talker_ids: Vec<String> = self.roster.talkers.iter().map(|m| m.id.clone()).collect();
        let mut extra: Vec<String> =
            self.pairs.values().flat_map(|m| m.keys()).filter(|t| !talker_ids.contains(t)).cloned().collect();
        extra.sort();
        extra.dedup();
        talker_ids.extend(extra);
        talker_ids
    }

    /// Every planned listener with every talker, in roster order: the pairs' reports, their
    /// outage-length silences, and their latency histograms.
    fn pair_reports(
        &self,
        meta: &TrialMeta,
        talker_ids: &[String],
        mut accs: HashMap<String, HashMap<String, PairAcc>>,
    ) -> (Vec<PairReport>, Vec<Silence>, PairLatencies) {
        let mut pairs = Vec::new();
        let mut silences = Vec::new();
        let mut hists = Vec::new();
        for l in &self.roster.listeners {
            let mut by_talker = accs.remove(&l.id).unwrap_or_default();
            // A talker the plan did not start (an anonymous stock talker, a stray) pairs only with
            // the listeners that heard it: nothing was expected of it.
            let paired: Vec<&String> = talker_ids
                .iter()
                .filter(|t| {
                    self.roster.same_topic(t, &l.id) && (self.roster.is_talker(t) || by_talker.contains_key(*t))
                })
                .collect();
            for t in paired {
                let acc = by_talker.remove(t).unwrap_or_default();
                let window = self.window(t, &l.id);
                let outages = self.outages(meta.start_ns, t, &l.id, &acc, window.closes);
                let report = self.pair_report(meta, t, l, &acc, window, outages.len() as u32);
                silences.extend(outages);
                hists.push(((t.clone(), l.id.clone(), report.relation), acc.latency_us));
                pairs.push(report);
            }
        }
        (pairs, silences, hists)
    }

    /// The window of `talker` → `listener`: from the warm-up after both ends were up to the
    /// listener's end.
    fn window(&self, talker: &str, listener: &str) -> Window {
        let tf = self.talkers.get(talker).map(|t| &t.facts.node);
        let lf = self.listeners.get(listener).map(|l| &l.facts.node);
        let both_up = match (tf.and_then(|t| t.start_ns), lf.and_then(|l| l.start_ns)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (None, Some(b)) => Some(b),
            _ => None,
        };
        Window { both_up, opens: both_up.map(|up| self.opening(up)), closes: lf.and_then(NodeFacts::end_ns) }
    }

    /// Messages the talker sent inside the window.
    fn expected(&self, talker: &str, window: Window, acc: &PairAcc) -> u64 {
        match (self.talkers.get(talker), window.opens, window.closes) {
            // Unplanned (anonymous) talkers: only what arrived is known.
            (None, _, _) => acc.received,
            (Some(ts), Some(a), Some(b)) if !ts.sends.is_empty() => ts.sends.count_between(a, b),
            // No per-message records (a total only), or a listener that never came up
            // (it should have heard everything): the whole run.
            (Some(ts), _, _) => ts.facts.sent,
        }
    }

    /// Per-pair discovery, where the transport lists the endpoints it matched: whether (and
    /// when) the listener's reader matched the talker's writer, and whether the writer matched
    /// the reader.
    fn discovery(&self, talker: &str, listener: &str) -> (Option<Option<u64>>, Option<bool>) {
        let (talker, listener) = (self.talkers.get(talker), self.listeners.get(listener));
        let tf = talker.map(|t| &t.facts.node);
        let lf = listener.map(|l| &l.facts.node);
        // Per-pair discovery: the listener's matched writers include this talker's?
        let listener_matched = match (tf.and_then(|t| t.guid.as_deref()), listener) {
            (Some(g), Some(ls)) if ls.facts.node.lists_endpoints => Some(ls.matched.get(g).copied()),
            _ => None,
        };
        let talker_matched = match (lf.and_then(|l| l.guid.as_deref()), talker) {
            (Some(g), Some(ts)) if ts.facts.node.lists_endpoints => Some(ts.matched.contains_key(g)),
            _ => None,
        };
        (listener_matched, talker_matched)
    }

    /// The pair's silences long enough to be an outage at its talker's rate, `origin` the
    /// trial's.
    fn outages(&self, origin: u64, talker: &str, listener: &str, acc: &PairAcc, closes: Option<u64>) -> Vec<Silence> {
        let ts = self.talkers.get(talker);
        let threshold = outage_threshold_ns(ts.map_or(0, TalkerState::period_ns));
        let silence = |from_ns: u64, to_ns: u64, open_ended: bool| Silence {
            talker: talker.to_owned(),
            listener: listener.to_owned(),
            from_s: secs_since(origin, from_ns),
            to_s: secs_since(origin, to_ns),
            open_ended,
        };
        let mut found: Vec<Silence> = acc
            .silences
            .iter()
            .filter(|g| g.len_ns() >= threshold)
            .map(|g| silence(g.from_ns, g.to_ns, false))
            .collect();
        // Silence at the end: the talker kept sending, the listener was up, nothing came.
        if let (Some(last), Some(ts)) = (acc.last_recv_ns, ts) {
            let talker_end = ts.sends.last_ns().unwrap_or(last);
            let end = closes.map_or(talker_end, |c| c.min(talker_end));
            if end.saturating_sub(last) >= threshold && acc.received > 0 {
                found.push(silence(last, end, true));
            }
        }
        found
    }

    /// Whether the pair's latency and discovery times can be trusted, and to within how much
    /// (ns) where that rests on measured clock offsets.
    fn clock_trust(&self, relation: Relation, talker: &str, listener_node: &str) -> (bool, Option<u64>) {
        // Ends on one machine share its clock; measured offsets put two machines on one.
        let same_machine = matches!(relation, Relation::SamePod | Relation::SameNode);
        let corrected = match (&self.clocks, self.roster.node_of(talker)) {
            (Some(c), Some(tn)) if !same_machine => c.uncertainty_ns(tn, listener_node),
            _ => None,
        };
        (self.settings.shared_clock || same_machine || corrected.is_some(), corrected)
    }

    /// One pair's report, from what its accumulator gathered inside `window`.
    fn pair_report(
        &self,
        meta: &TrialMeta,
        talker: &str,
        l: &Member,
        acc: &PairAcc,
        window: Window,
        outages: u32,
    ) -> PairReport {
        let origin = meta.start_ns;
        let relation = Relation::between(&self.roster, talker, &l.id);
        let expected = self.expected(talker, window, acc);
        let (listener_matched, talker_matched) = self.discovery(talker, &l.id);
        let (clock_trusted, corrected) = self.clock_trust(relation, talker, &l.node);
        let after_up = |t_ns: u64| window.both_up.map(|up| t_ns.saturating_sub(up) as f64 / 1e6);
        let h = &acc.latency_us;
        let pct = |q: f64| (!h.is_empty()).then(|| h.value_at_quantile(q));
        PairReport {
            trial: meta.trial,
            talker: talker.to_owned(),
            listener: l.id.clone(),
            talker_node: self.roster.node_of(talker).map(str::to_owned),
            listener_node: Some(l.node.clone()),
            relation,
            window_from_s: window.opens.map(|a| secs_since(origin, a)),
            window_to_s: window.closes.map(|b| secs_since(origin, b)),
            expected,
            received: acc.received,
            lost: expected.saturating_sub(acc.received),
            lost_in_gaps: acc.in_gaps.min(expected.saturating_sub(acc.received)),
            duplicates: acc.duplicates,
            reordered: acc.reordered,
            before_window: acc.before_window,
            first_seq: acc.first_seq,
            longest_gap: acc.longest_gap,
            loss_runs: acc.loss_runs,
            max_silence_ms: (acc.received > 1).then(|| acc.max_silence_ns as f64 / 1e6),
            outages,
            listener_matched: listener_matched.map(|m| m.is_some()),
            talker_matched,
            matched_ms: listener_matched.flatten().and_then(after_up),
            first_message_ms: acc.first_any_ns.and_then(after_up),
            latency_p50_us: pct(0.5),
            latency_p90_us: pct(0.9),
            latency_p99_us: pct(0.99),
            latency_max_us: (!h.is_empty()).then(|| h.max()),
            negative_latency: acc.negative_latency,
            clock_trusted,
            clock_uncertainty_ms: corrected.map(|u| u as f64 / 1e6),
            delivery: Delivery::classify(acc.received, expected),
        }
    }

    /// The trial's report: every node's facts (by id), the pairs, their silences, the outcome.
    fn into_report(
        self,
        meta: TrialMeta,
        pairs: Vec<PairReport>,
        silences: Vec<Silence>,
        outcome: String,
    ) -> TrialReport {
        let mut talkers: Vec<TalkerFacts> = self.talkers.into_values().map(|t| t.facts).collect();
        talkers.sort_by(|a, b| a.id.cmp(&b.id));
        let mut listeners: Vec<ListenerFacts> = self.listeners.into_values().map(|l| l.facts).collect();
        listeners.sort_by(|a, b| a.id.cmp(&b.id));
        let last_start =
            talkers.iter().map(|t| &t.node).chain(listeners.iter().map(|l| &l.node)).filter_map(|n| n.start_ns).max();
        TrialReport {
            meta,
            placement: self.roster.placement(),
            talkers,
            listeners,
            pairs,
            silences,
            outcome,
            stray: self.stray,
            containers: Vec::new(),
            participants: Vec::new(),
            traffic: Vec::new(),
            kernel: Vec::new(),
            incomplete: Vec::new(),
            warmup_ends_ns: last_start.map(|s| s.saturating_add(self.settings.warmup_ns)),
            last_started_ns: last_start,
        }
    }
}

/// A stable label of who heard whom: `all heard all`, `none heard`, or per listener the talkers
/// it heard (`a.l ← t1, t2 · b.l ← none`). Hearing anything counts; how much is the pairs'
/// business (partial delivery is judged there, not here).
pub fn outcome_label(listeners: &[&str], talkers: &[String], pairs: &[PairReport]) -> String {
    // Of `talkers`, those `l` makes a pair with (its topic's), and those it heard.
    let of = |l: &str, delivered: bool| -> Vec<&str> {
        talkers
            .iter()
            .filter(|t| {
                pairs.iter().any(|p| p.listener == l && &p.talker == *t && (!delivered || p.delivery != Delivery::None))
            })
            .map(String::as_str)
            .collect()
    };
    let per: Vec<(&str, Vec<&str>, usize)> = listeners.iter().map(|l| (*l, of(l, true), of(l, false).len())).collect();
    if per.iter().all(|(_, h, n)| h.len() == *n) {
        return "all heard all".into();
    }
    if per.iter().all(|(_, h, _)| h.is_empty()) {
        return "none heard".into();
    }
    per.iter()
        .map(|(l, h, n)| {
            let what = if h.len() == *n {
                "all".to_owned()
            } else if h.is_empty() {
                "none".to_owned()
            } else {
                h.join(", ")
            };
            format!("{l} ← {what}")
        })
        .collect::<Vec<_>>()
        .join(" · ")
}
