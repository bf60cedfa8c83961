//! Stock demo talkers (`demo_nodes_cpp`) publish "Hello World: N" with no talker id: their
//! receipts are collected while the trial streams and attributed to a talker by send time when
//! it finishes, once every send is known.

use super::analyzer::TrialAnalyzer;
use crate::analysis::roster::ANONYMOUS;

/// A demo receipt is attributed to the demo talker whose send of the same number came last
/// before it, within this long; two candidates closer together than [`DEMO_AMBIGUOUS_NS`]
/// leave it anonymous.
const DEMO_ATTRIBUTION_NS: u64 = 2_000_000_000;
const DEMO_AMBIGUOUS_NS: u64 = 200_000;
/// A receipt stamped before its send still matches, within this long, when no send of its
/// number came before it: a console line is stamped when it is logged, and a talker may log
/// after publishing — the ROS 2 tutorial's publisher does (`publish()`, then "Publishing:"),
/// measured here up to 22 ms after the listener had logged the receipt, on a loaded machine —
/// and across clocks the stamps of two machines differ too.
const DEMO_LOG_LAG_NS: u64 = 100_000_000;

impl TrialAnalyzer<'_> {
    /// Attributes the receipts of "Hello World: N" (no talker id) to stock demo talkers: per
    /// listener and N, in receipt order, each receipt to the demo talker whose send of N came
    /// last before it (within [`DEMO_ATTRIBUTION_NS`]) and is not yet taken by an earlier
    /// receipt of that N; where no send of N came before it, to the first one stamped after it
    /// within [`DEMO_LOG_LAG_NS`] (a talker that logs after publishing). Two candidates closer
    /// than [`DEMO_AMBIGUOUS_NS`] leave the receipt anonymous. A receipt of N after every
    /// candidate has one is a duplicate of the nearest (a message that came two ways: DDS and a
    /// Zenoh bridge).
    pub(super) fn attribute_demo(&mut self) {
        let mut heard = std::mem::take(&mut self.demo_heard);
        heard.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
        let demo: Vec<String> = self.roster.talkers.iter().filter(|m| m.demo).map(|m| m.id.clone()).collect();
        let mut taken: Vec<&str> = Vec::new();
        let mut group: Option<(String, u64)> = None;
        let mut decided = Vec::with_capacity(heard.len());
        for (listener, seq, recv_ns) in &heard {
            if group.as_ref().is_none_or(|(l, s)| l != listener || s != seq) {
                group = Some((listener.clone(), *seq));
                taken.clear();
            }
            let sends: Vec<(u64, &str)> = demo
                .iter()
                .filter(|id| self.roster.same_topic(id, listener))
                .filter_map(|id| {
                    let t = self.talkers.get(id)?.sends.time_of(*seq)?;
                    let ok = t <= recv_ns.saturating_add(DEMO_LOG_LAG_NS)
                        && recv_ns.saturating_sub(t) <= DEMO_ATTRIBUTION_NS;
                    ok.then_some((t, id.as_str()))
                })
                .collect();
            let free: Vec<(u64, &str)> = sends.iter().copied().filter(|(_, id)| !taken.contains(id)).collect();
            // Once every talker that sent N before this receipt has its receipt, a further one is
            // a duplicate of the talker whose send is nearest (a message that came two ways).
            // While one that sent N earlier, however long ago, has none, this may be its N
            // arriving late (repaired, beyond the window): anonymous, not another's duplicate.
            let every_sender_heard = demo
                .iter()
                .filter(|id| self.roster.same_topic(id, listener))
                .filter(|id| {
                    let sent = self.talkers.get(*id).and_then(|t| t.sends.time_of(*seq));
                    sent.is_some_and(|t| t <= recv_ns.saturating_add(DEMO_LOG_LAG_NS))
                })
                .all(|id| taken.contains(&id.as_str()));
            let pick = if sends.is_empty() || !free.is_empty() {
                nearest_send(free, *recv_ns)
            } else if every_sender_heard {
                nearest_send(sends, *recv_ns)
            } else {
                None
            };
            if let Some((best, _)) = pick.filter(|(best, _)| !taken.contains(best)) {
                taken.push(best);
            }
            decided.push((listener.clone(), *seq, *recv_ns, pick.map(|(b, t)| (b.to_owned(), t))));
        }
        for (listener, seq, recv_ns, pick) in decided {
            match pick {
                Some((talker, sent_ns)) => self.arrive(&listener, &talker, seq, recv_ns, Some(sent_ns)),
                None => self.arrive(&listener, ANONYMOUS, seq, recv_ns, None),
            }
        }
    }
}

/// Of the talkers' sends of one number (`candidates`: send time, talker), the one a receipt at
/// `recv_ns` is attributed to: the latest send before it, else the earliest after it; none where
/// two are closer than [`DEMO_AMBIGUOUS_NS`].
fn nearest_send(candidates: Vec<(u64, &str)>, recv_ns: u64) -> Option<(&str, u64)> {
    let (mut before, mut after): (Vec<_>, Vec<_>) = candidates.into_iter().partition(|(t, _)| *t <= recv_ns);
    before.sort_unstable_by(|a, b| b.cmp(a));
    after.sort_unstable();
    let nearest = if before.is_empty() { after } else { before };
    match nearest.as_slice() {
        [] => None,
        [(t1, _), (t2, _), ..] if t1.abs_diff(*t2) < DEMO_AMBIGUOUS_NS => None,
        [(t1, best), ..] => Some((*best, *t1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::trial::AnalysisSettings;
    use crate::analysis::{Roster, TrialMeta};
    use chatter::Record;
    use chatter::Role;

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;

    fn member(id: &str, node: &str) -> crate::analysis::Member {
        crate::analysis::Member {
            id: id.into(),
            pod: id.split('.').next().unwrap_or(id).into(),
            node: node.into(),
            demo: true,
            message_type: None,
        }
    }

    /// Two stock talkers publishing "Hello World: N" 4 ms apart, two listeners: the Pi one
    /// hears only its pod's talker, the master one hears both. Receipts carry no talker id;
    /// attribution by send time must recover exactly that.
    #[test]
    fn demo_receipts_are_attributed_by_send_time() {
        let roster = Roster {
            talkers: vec![member("tl.talker", "pi"), member("dt.talker", "master")],
            listeners: vec![
                member("tl.listener", "pi"),
                member("dl.listener", "master"),
                member("m2.listener", "master"),
            ],
        };
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: 0, shared_clock: true });
        let info = |id: &str, role| testkit::start_record(0, id, role, "h", None);
        for (id, role) in [
            ("tl.talker", Role::Talker),
            ("dt.talker", Role::Talker),
            ("tl.listener", Role::Listener),
            ("dl.listener", Role::Listener),
        ] {
            acc.push(&info(id, role).view());
        }
        for n in 1..=10u64 {
            let tl = S + n * 500 * MS;
            let dt = tl + 4 * MS;
            acc.push(&Record::sent(tl, "tl.talker", n).view());
            acc.push(&Record::sent(dt, "dt.talker", n).view());
            let data = format!("Hello World: {n}");
            // The Pi listener: only its own pod's talker, 1 ms later.
            acc.push(&Record::recv(tl + MS, "tl.listener", &data).view());
            // The master listener: both, each 1 ms after its send (so the second receipt of N
            // comes after both sends: it must go to the talker not yet taken).
            acc.push(&Record::recv(tl + MS, "dl.listener", &data).view());
            acc.push(&Record::recv(dt + MS, "dl.listener", &data).view());
            // A second master listener hears only the later talker: both sends precede it.
            acc.push(&Record::recv(dt + MS, "m2.listener", &data).view());
        }
        for id in ["tl.listener", "dl.listener", "m2.listener"] {
            acc.push(&Record::listener_stop(7 * S, id, &chatter::ListenerTotals::default(), "SIGTERM").view());
        }
        let (report, _) =
            acc.finish(TrialMeta { trial: 1, start_ns: 0, end_ns: 7 * S, interrupted: false, opened_ns: None });
        let got = |t: &str, l: &str| report.pairs.iter().find(|p| p.talker == t && p.listener == l).map(|p| p.received);
        assert_eq!(got("tl.talker", "tl.listener"), Some(10));
        assert_eq!(got("dt.talker", "tl.listener"), Some(0), "the later talker's send is after the receipt");
        assert_eq!(got("tl.talker", "dl.listener"), Some(10));
        assert_eq!(got("dt.talker", "dl.listener"), Some(10));
        assert_eq!(got("dt.talker", "m2.listener"), Some(10), "the last send before the receipt");
        assert_eq!(got("tl.talker", "m2.listener"), Some(0));
        assert_eq!(got(ANONYMOUS, "dl.listener"), None, "nothing left unattributed: {:?}", report.pairs);
        let lat =
            report.pairs.iter().find(|p| p.talker == "dt.talker" && p.listener == "dl.listener").expect("present");
        assert!(
            lat.latency_p50_us.is_some_and(|v| (990..=1010).contains(&v)),
            "{:?} {}",
            lat.latency_p50_us,
            "latency from the attributed send"
        );
    }

    /// A talker that logs after publishing (the ROS 2 tutorial's publisher) can have its
    /// "Publishing" line stamped after the listener logged the receipt — measured up to 22 ms on
    /// a loaded machine: the receipt is still its talker's (once 5 of 7 such receipts read as
    /// an anonymous talker's, and the pair as partial).
    #[test]
    fn a_receipt_logged_before_its_send_is_still_its_talkers() {
        let roster = Roster { talkers: vec![member("p.talker", "m")], listeners: vec![member("l.listener", "m")] };
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: 0, shared_clock: true });
        acc.push(&testkit::start_record(0, "l.listener", Role::Listener, "h", None).view());
        for n in 0..4u64 {
            let sent = S + n * 500 * MS;
            acc.push(&Record::sent(sent, "p.talker", n).view());
            // Receipts 22 ms before the stamp, then 1 ms after it, alternately.
            let recv = if n % 2 == 0 { sent - 22 * MS } else { sent + MS };
            acc.push(&Record::recv(recv, "l.listener", &format!("Hello World: {n}")).view());
        }
        let (report, _) =
            acc.finish(TrialMeta { trial: 1, start_ns: 0, end_ns: 4 * S, interrupted: false, opened_ns: None });
        let p = report.pairs.iter().find(|p| p.talker == "p.talker").expect("the pair");
        assert_eq!((p.expected, p.received, p.lost), (4, 4, 0), "{:?}", report.pairs);
        assert!(report.pairs.iter().all(|p| p.talker != ANONYMOUS), "{:?}", report.pairs);
    }

    /// A message heard twice (directly and through a bridge) is its talker's duplicate, not an
    /// anonymous talker's nor the other talker's, while that one's own receipt stays its own.
    #[test]
    fn a_demo_message_heard_twice_is_a_duplicate_of_its_talker() {
        let roster = Roster {
            talkers: vec![member("a.talker", "pi"), member("b.talker", "master")],
            listeners: vec![member("l.listener", "master")],
        };
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: 0, shared_clock: true });
        acc.push(&testkit::start_record(0, "l.listener", Role::Listener, "h", None).view());
        for n in 1..=8u64 {
            let (a, b) = (S + n * 250 * MS, S + n * 250 * MS + 125 * MS);
            acc.push(&Record::sent(a, "a.talker", n).view());
            acc.push(&Record::sent(b, "b.talker", n).view());
            let data = format!("Hello World: {n}");
            acc.push(&Record::recv(a + MS, "l.listener", &data).view());
            acc.push(&Record::recv(a + 3 * MS, "l.listener", &data).view());
            acc.push(&Record::recv(b + MS, "l.listener", &data).view());
        }
        let (report, _) =
            acc.finish(TrialMeta { trial: 1, start_ns: 0, end_ns: 4 * S, interrupted: false, opened_ns: None });
        let pair = |t: &str| report.pairs.iter().find(|p| p.talker == t).map(|p| (p.received, p.duplicates));
        assert_eq!(pair("a.talker"), Some((8, 8)), "{:?}", report.pairs);
        assert_eq!(pair("b.talker"), Some((8, 0)), "{:?}", report.pairs);
        assert_eq!(pair(ANONYMOUS), None, "{:?}", report.pairs);
    }

    /// A late receipt of N while a talker that sent N (long before, beyond the attribution
    /// window) has none yet is that talker's message arriving late, maybe: anonymous, never a
    /// duplicate of the other talker.
    #[test]
    fn a_late_receipt_is_no_duplicate_while_another_sender_of_n_is_unheard() {
        let roster = Roster {
            talkers: vec![member("a.talker", "pi"), member("b.talker", "master")],
            listeners: vec![member("l.listener", "master")],
        };
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: 0, shared_clock: true });
        acc.push(&testkit::start_record(0, "l.listener", Role::Listener, "h", None).view());
        let (a, b) = (S, S + 20 * S);
        acc.push(&Record::sent(a, "a.talker", 1).view());
        acc.push(&Record::sent(b, "b.talker", 1).view());
        acc.push(&Record::recv(b + MS, "l.listener", "Hello World: 1").view());
        // a's 1, repaired and beyond the window, arrives after b's.
        acc.push(&Record::recv(b + 2 * MS, "l.listener", "Hello World: 1").view());
        let (report, _) =
            acc.finish(TrialMeta { trial: 1, start_ns: 0, end_ns: 30 * S, interrupted: false, opened_ns: None });
        let pair = |t: &str| report.pairs.iter().find(|p| p.talker == t).map(|p| (p.received, p.duplicates));
        assert_eq!(pair("b.talker"), Some((1, 0)), "{:?}", report.pairs);
    }

    /// Sends of N closer together than the ambiguity margin leave the receipt anonymous.
    #[test]
    fn indistinguishable_demo_sends_stay_anonymous() {
        let roster = Roster {
            talkers: vec![member("a.talker", "pi"), member("b.talker", "master")],
            listeners: vec![member("l.listener", "pi")],
        };
        let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: 0, shared_clock: true });
        acc.push(&testkit::start_record(0, "l.listener", Role::Listener, "h", None).view());
        acc.push(&Record::sent(S, "a.talker", 1).view());
        acc.push(&Record::sent(S + 100_000, "b.talker", 1).view());
        acc.push(&Record::recv(S + MS, "l.listener", "Hello World: 1").view());
        let (report, _) =
            acc.finish(TrialMeta { trial: 1, start_ns: 0, end_ns: 2 * S, interrupted: false, opened_ns: None });
        let anon = report.pairs.iter().find(|p| p.talker == ANONYMOUS).expect("an anonymous pair");
        assert_eq!(anon.received, 1);
    }
}
