//! `initial-peers-range`: two Fast DDS participants on different IPs that find each other only
//! through initial peers without a port (ROS_STATIC_PEERS), both beyond the participant ids
//! the other's announcements reach — so neither ever hears the other.

use super::multicast::multicast_excuse;
use crate::analysis::{Delivery, Relation};
use crate::backend::ParticipantId;
use crate::diagnosis::{Context, Finding, InitialPeers, Severity};

/// Fast DDS sends a participant's announcements (SPDP) to each initial peer address without a
/// port on the discovery ports of participant ids 0..`maxInitialPeersRange` only (default 4),
/// and a participant answers the announcements it receives. With no multicast between the
/// two IPs, a talker and a listener meet when either one's id is within the other's range; when
/// both are beyond it (the 5th and later processes on each IP, by default) they never do,
/// while the first ones on each IP deliver — measured on Fast DDS 2.14.5 and 3.2.3, 6 talker
/// processes on one IP and 6 listener processes on another: 32 of 36 pairs.
pub fn initial_peers_range(c: &Context<'_>) -> Option<Finding> {
    let (s, p) = (c.setting, c.pair);
    if p.relation != Relation::CrossNode || p.listener_matched == Some(true) || multicast_excuse(c).is_some() {
        return None;
    }
    let (tp, lp) = (s.initial_peers.get(&p.talker)?, s.initial_peers.get(&p.listener)?);
    let domain = c.listener.and_then(|l| l.node.domain).and_then(|d| u16::try_from(d).ok());
    let (tid, lid) = (participant(c, &p.talker, domain)?, participant(c, &p.listener, domain)?);
    if u64::from(tid.id) < lp.range || u64::from(lid.id) < tp.range {
        return None;
    }
    // The peers do reach across: a pair of the same listener or talker, one end in range, delivered.
    let reference = c.trial.pairs.iter().find(|o| {
        o.relation == Relation::CrossNode
            && o.delivery != Delivery::None
            && (o.listener == p.listener || o.talker == p.talker)
    })?;
    let trial = c.trial.meta.trial;
    let mut h = Finding::new(
        "initial-peers-range",
        Severity::Failure,
        "both ends are beyond the participant ids the static peers' announcements reach: Fast DDS announces to each \
         peer address without a port only on the ports of participant ids 0..maxInitialPeersRange (default 4), and no \
         multicast crosses between these IPs, so the 5th and later processes on one IP never meet those on another \
         (which processes those are follows the order they started in, so it can change from one start to the next)",
        "raise the range in every ROS 2 process's Fast DDS profile (FASTRTPS_DEFAULT_PROFILES_FILE, which Fast DDS 2.x \
         and 3.x read): a UDPv4 transport descriptor with maxInitialPeersRange at least the most ROS 2 processes on \
         one IP, in userTransports with useBuiltinTransports false; or list the peers with their ports (an \
         initialPeersList locator per participant); or run a Fast DDS discovery server (ROS_DISCOVERY_SERVER); \
         `harness matrix` measures ros-static-peers-range and ros-discovery-server",
    )
    .evidence(format!(
        "trial {trial}: {} is participant {} of domain {} (discovery port {}) on {}; {} is participant {} (port {}) on \
         {}",
        p.talker,
        tid.id,
        tid.domain,
        tid.port(),
        p.talker_node.as_deref().unwrap_or("?"),
        p.listener,
        lid.id,
        lid.port(),
        p.listener_node.as_deref().unwrap_or("?"),
    ))
    .evidence(range_words(&p.talker, tp, &p.listener, lid.id))
    .evidence(range_words(&p.listener, lp, &p.talker, tid.id));
    let id_of = |who: &str| participant(c, who, domain).map_or_else(|| "?".to_owned(), |i| i.id.to_string());
    h = h.evidence(format!(
        "trial {trial}: meanwhile {} (participants {} → {}) delivered {} of {}",
        reference.name(),
        id_of(&reference.talker),
        id_of(&reference.listener),
        reference.received,
        reference.expected
    ));
    Some(h)
}

/// The lowest participant id container `who` had in `domain` (any domain when not known).
fn participant(c: &Context<'_>, who: &str, domain: Option<u16>) -> Option<ParticipantId> {
    let seen = c.trial.participants.iter().find(|q| q.container == who)?;
    seen.ids.iter().filter(|i| domain.is_none_or(|d| i.domain == d)).min().copied()
}

fn range_words(who: &str, peers: &InitialPeers, other: &str, other_id: u16) -> String {
    format!(
        "{who} has its peers from {} and announces itself to participant ids 0–{} of each peer address \
         (maxInitialPeersRange {}, {}): not to {other}'s id {other_id}",
        peers.from,
        peers.range.saturating_sub(1),
        peers.range,
        peers.range_from,
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::backend::Participant;
    use crate::diagnosis::rules::test_support::{pair, setting, trial};
    use crate::diagnosis::rules::why_silent;
    use crate::diagnosis::{Context, InitialPeers, Setting};

    /// Three talkers of pod `robot` on the Pi, three listeners of pod `base` on the master.
    fn three_by_three() -> crate::analysis::trial::TrialReport {
        let mut pairs = Vec::new();
        for t in 1..=3 {
            for l in 1..=3 {
                pairs.push(pair(&format!("robot.t-{t}"), "pi", &format!("base.l-{l}"), "master", 30));
            }
        }
        let mut t = trial(pairs);
        // The two ends seen as ids 0, 1, 4 on each IP (their port pairs: 7410/11, 7412/13, 7418/19).
        for (k, id) in [(1, 0u16), (2, 1), (3, 4)] {
            for (c, node) in [(format!("robot.t-{k}"), "pi"), (format!("base.l-{k}"), "master")] {
                let d = 7410 + 2 * id;
                t.participants.push(Participant::from_ports(&c, node, None, BTreeSet::from([d, d + 1, 40000])));
            }
        }
        t
    }

    fn static_peers(range: u64) -> Setting {
        let mut s = setting();
        for id in ["robot.t-1", "robot.t-2", "robot.t-3", "base.l-1", "base.l-2", "base.l-3"] {
            let peers = InitialPeers { range, from: "ROS_STATIC_PEERS", range_from: "Fast DDS's default".into() };
            s.initial_peers.insert(id.into(), peers);
        }
        s
    }

    fn silence(t: &mut crate::analysis::trial::TrialReport, talker: &str, listener: &str) -> usize {
        let i = t.pairs.iter().position(|p| p.talker == talker && p.listener == listener).expect("pair");
        t.pairs[i] = pair(talker, "pi", listener, "master", 0);
        i
    }

    #[test]
    fn both_ends_beyond_the_range_is_named_with_both_ids_and_the_range() {
        let mut t = three_by_three();
        let i = silence(&mut t, "robot.t-3", "base.l-3");
        let s = static_peers(4);
        let hit = why_silent(&Context::new(&t.pairs[i], &t, &s)).expect("a finding");
        assert_eq!(hit.rule, "initial-peers-range");
        let ev = hit.evidence.join("\n");
        assert!(ev.contains("robot.t-3 is participant 4 of domain 0 (discovery port 7418) on pi"), "{ev}");
        assert!(ev.contains("base.l-3 is participant 4 (port 7418) on master"), "{ev}");
        assert!(
            ev.contains(
                "robot.t-3 has its peers from ROS_STATIC_PEERS and announces itself to participant ids 0–3 of each peer \
                 address (maxInitialPeersRange 4, Fast DDS's default): not to base.l-3's id 4"
            ),
            "{ev}"
        );
        assert!(ev.contains("meanwhile robot.t-1 → base.l-3 (participants 0 → 4) delivered 30 of 30"), "{ev}");
        assert!(hit.advice.contains("maxInitialPeersRange") && hit.advice.contains("ROS_DISCOVERY_SERVER"));
        assert!(!hit.cause.contains("trial"), "the cause names no trial: {}", hit.cause);
    }

    #[test]
    fn not_when_one_end_is_in_range_the_range_is_raised_or_peers_are_not_static() {
        // One end in range: they meet, so their silence is something else.
        let mut t = three_by_three();
        let i = silence(&mut t, "robot.t-2", "base.l-3");
        assert_ne!(
            why_silent(&Context::new(&t.pairs[i], &t, &static_peers(4))).map(|h| h.rule).as_deref(),
            Some("initial-peers-range")
        );
        // Both beyond 4, but the profile raised the range to 8.
        let mut t = three_by_three();
        let i = silence(&mut t, "robot.t-3", "base.l-3");
        let rule = |s: &Setting, t: &crate::analysis::trial::TrialReport| {
            why_silent(&Context::new(&t.pairs[i], t, s)).map(|h| h.rule)
        };
        assert_ne!(rule(&static_peers(8), &t).as_deref(), Some("initial-peers-range"));
        // No initial peers (multicast only, a discovery server): not this rule.
        assert_ne!(rule(&setting(), &t).as_deref(), Some("initial-peers-range"));
        // Multicast crosses the nodes here: the range does not matter.
        let mut s = static_peers(4);
        s.multicast_between_nodes = true;
        assert_ne!(rule(&s, &t).as_deref(), Some("initial-peers-range"));
        // Ids not observed: no claim.
        let mut blind = t.clone();
        blind.participants.clear();
        assert_ne!(rule(&static_peers(4), &blind).as_deref(), Some("initial-peers-range"));
        // Nothing crossed at all (wrong peer addresses, say): not the range.
        let mut none = t.clone();
        for p in &mut none.pairs {
            *p = pair(&p.talker.clone(), "pi", &p.listener.clone(), "master", 0);
        }
        assert_ne!(rule(&static_peers(4), &none).as_deref(), Some("initial-peers-range"));
    }
}
