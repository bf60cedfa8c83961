//! A pair that delivered nothing: the first of [`SILENT_RULES`] that fires explains it, and
//! its evidence opens with where the two ends sat and what each saw of the other.

use super::containers::container_failed;
use super::words::ms_words;
use super::SILENT_RULES;
use crate::analysis::trial::PairReport;
use crate::analysis::Relation;
use crate::diagnosis::{Context, Finding};

/// The first silent rule that fires, with where the two ends sat. A pair one of whose
/// containers failed is explained by [`containers_failed`] instead.
pub fn why_silent(c: &Context<'_>) -> Option<Finding> {
    if container_failed(c.trial, &c.pair.talker) || container_failed(c.trial, &c.pair.listener) {
        return None;
    }
    SILENT_RULES.iter().find_map(|rule| rule(c)).map(|h| {
        let placed =
            format!("trial {}: {} ({}), {}", c.trial.meta.trial, c.pair.name(), where_(c.pair), discovery_words(c));
        let mut h = h.pair(c.pair.name()).trial(c.trial.meta.trial);
        h.evidence.insert(0, placed);
        h
    })
}

fn where_(p: &PairReport) -> String {
    let at = |n: &Option<String>| n.clone().unwrap_or_else(|| "?".into());
    match p.relation {
        Relation::SamePod => format!("same pod on {}", at(&p.listener_node)),
        Relation::SameNode => format!("different pods on {}", at(&p.listener_node)),
        Relation::CrossNode => format!("{} → {}", at(&p.talker_node), at(&p.listener_node)),
        Relation::Unknown => "talker not in the plan".into(),
    }
}

/// Per-pair discovery in words, never contradicting the finding's title.
fn discovery_words(c: &Context<'_>) -> String {
    let p = c.pair;
    let stock = c.setting.stock.contains(&p.talker) || c.setting.stock.contains(&p.listener);
    let listener = match (p.listener_matched, p.matched_ms) {
        (Some(true), Some(ms)) => format!("the listener matched this talker's writer after {}", ms_words(ms)),
        (Some(true), None) => "the listener matched this talker's writer".into(),
        (Some(false), _) => "the listener never matched this talker's writer".into(),
        (None, _) if stock => "per-pair discovery not observable (the stock nodes print nothing about it)".into(),
        (None, _) => "per-pair discovery unknown (the transport does not list matched endpoints)".into(),
    };
    match p.talker_matched {
        Some(true) => format!("{listener}; the talker matched this listener's reader"),
        Some(false) => format!("{listener}; the talker never matched this listener's reader"),
        None => listener,
    }
}
