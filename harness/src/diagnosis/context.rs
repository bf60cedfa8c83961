//! [`Context`]: what a pair rule sees — one pair in one trial, its two ends, its trial, the
//! setting.

use super::Setting;
use crate::analysis::trial::{ListenerFacts, PairReport, TalkerFacts, TrialReport};

/// What a pair rule sees: one pair in one trial, its two ends, its trial, the setting.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub pair: &'a PairReport,
    pub talker: Option<&'a TalkerFacts>,
    pub listener: Option<&'a ListenerFacts>,
    pub trial: &'a TrialReport,
    pub setting: &'a Setting,
}

impl<'a> Context<'a> {
    pub fn new(pair: &'a PairReport, trial: &'a TrialReport, setting: &'a Setting) -> Context<'a> {
        Context { pair, talker: trial.talker(&pair.talker), listener: trial.listener(&pair.listener), trial, setting }
    }
}
