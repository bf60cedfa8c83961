//! `no-discovery`: the last silent rule — neither discovery nor data between the two, and no
//! more specific cause; it says why multicast across nodes is not to blame where it cannot be.

use super::multicast::multicast_excuse;
use crate::diagnosis::{Context, Finding, Severity};

pub fn no_discovery(c: &Context<'_>) -> Option<Finding> {
    let l = c.listener?;
    let mut h = Finding::new(
        "no-discovery",
        Severity::Failure,
        "no discovery and no data between these two",
        "check that discovery traffic (multicast, or unicast peers) reaches both ends",
    )
    .evidence(format!(
        "trial {}: the listener matched at most {} writer(s); {} sent {}",
        c.trial.meta.trial,
        l.node.max_peers,
        c.pair.talker,
        c.talker.map_or(0, |t| t.sent)
    ));
    if let Some(why) = multicast_excuse(c) {
        h = h.evidence(format!("not multicast across nodes: {why}"));
    }
    Some(h)
}
