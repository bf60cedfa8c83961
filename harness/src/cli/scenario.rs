//! Loading a scenario named on the command line, and placement failures shown at the scenario
//! field that caused them.

use super::outcome::Failure;
use crate::spec;

/// Loads a scenario and places it on its declared nodes with `place`; both failures are usage
/// errors naming the file.
pub(super) fn load_and_place(
    scenario: &std::path::Path,
    place: impl Fn(
        &spec::Scenario,
        &[crate::placement::Node],
    ) -> Result<crate::placement::Plan, crate::placement::PlacementError>,
) -> Result<(spec::Scenario, crate::placement::Plan), Failure> {
    let s = spec::load(scenario).map_err(Failure::usage)?;
    let plan = place(&s, &crate::placement::declared_nodes(&s)).map_err(|e| unplaceable(scenario, &s, &e))?;
    Ok((s, plan))
}

/// A pod that fits no node, at its `nodeSelector` in the scenario file.
pub(super) fn unplaceable(path: &std::path::Path, s: &spec::Scenario, e: &crate::placement::PlacementError) -> Failure {
    let field = match s.pods.iter().position(|p| p.name == e.pod) {
        Some(i) => format!("pods[{i}].nodeSelector"),
        None => "pods".into(),
    };
    Failure::usage(format!("{}: {field}: {e}", spec::locate(path, &field)))
}
