//! Every trial's placement and roster, drawn before the first trial starts.

use std::collections::BTreeMap;

use crate::analysis::Roster;
use crate::placement::{place_trial, PlacementError, Plan};
use crate::spec::Scenario;

/// Every trial's plan and roster, drawn before the first starts (with rescheduling, each trial
/// has its own placement; `run.json` records it once the trial starts), so the collectors can
/// borrow the rosters.
pub(super) struct Schedule {
    /// The roster of the run's own plan: the summary's.
    pub(super) base_roster: Roster,
    /// Each trial's plan, and where its pods run (pod → node).
    pub(super) plans: BTreeMap<u32, (Plan, BTreeMap<String, String>)>,
    pub(super) rosters: BTreeMap<u32, Roster>,
}

impl Schedule {
    /// Trials 1 to `count` of `plan`, each placed afresh where the scenario reschedules.
    pub(super) fn draw(scenario: &Scenario, plan: &Plan, count: u32) -> Result<Schedule, PlacementError> {
        let base_roster = Roster::from_plan(plan);
        let mut plans = BTreeMap::new();
        let mut rosters = BTreeMap::new();
        for trial in 1..=count {
            let plan =
                if scenario.trials.reschedule { place_trial(scenario, &plan.nodes, trial)? } else { plan.clone() };
            let placement = pod_nodes(&plan);
            rosters.insert(
                trial,
                if scenario.trials.reschedule { base_roster.with_nodes(&placement) } else { base_roster.clone() },
            );
            plans.insert(trial, (plan, placement));
        }
        Ok(Schedule { base_roster, plans, rosters })
    }
}

/// Where each pod of `plan` runs (pod → node).
fn pod_nodes(plan: &Plan) -> BTreeMap<String, String> {
    plan.pods.iter().map(|p| (p.name.clone(), p.node.clone())).collect()
}
