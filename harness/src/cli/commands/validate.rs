//! `harness validate`: check a scenario and show where its pods would run.

use crate::cli::exit;
use crate::cli::outcome::Failure;
use crate::cli::scenario::load_and_place;

/// `harness validate FILE`: the scenario's pods and the nodes placement puts them on.
pub(in crate::cli) fn validate(scenario: &std::path::Path) -> Result<u8, Failure> {
    let (s, plan) = load_and_place(scenario, |s, nodes| crate::placement::place_trial(s, nodes, 1))?;
    if s.trials.reschedule {
        println!("reschedule: pods are placed afresh each trial; trial 1 shown");
    }
    println!("{}: ok ({} pod(s), {} trial(s))", scenario.display(), plan.pods.len(), s.trials.count);
    for p in &plan.pods {
        let cs: Vec<String> = p.containers.iter().map(|c| format!("{} ({})", c.name, c.role.as_str())).collect();
        println!(
            "  {} → node {}{}: {}",
            p.name,
            p.node,
            if p.host_network { " [hostNetwork]" } else { "" },
            cs.join(", ")
        );
    }
    Ok(exit::OK)
}
