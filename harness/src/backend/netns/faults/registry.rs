//! The registry: which file injects each kind of the scenario's faults. Adding a kind of fault
//! is its variant in the scenario model (`scenario/src/spec/faults.rs`), its file here, and
//! one arm in [`netns_fault`] (plus one in [`apply_event`] if its events are the backend's).

use super::super::topology::Topology;
use super::bandwidth::Bandwidth;
use super::delay::Delay;
use super::kill::Kill;
use super::loss::Loss;
use super::partition::{self, Partition};
use super::NetnsFault;
use crate::backend::BackendError;
use crate::spec::FaultSpec;

/// The kind that injects `f`.
pub(in crate::backend::netns) fn netns_fault(f: &FaultSpec) -> Box<dyn NetnsFault> {
    match f {
        FaultSpec::Loss { node, percent, direction } => {
            Box::new(Loss { node: node.clone(), percent: percent.0, direction: *direction })
        }
        FaultSpec::Bandwidth { node, mbit, direction } => {
            Box::new(Bandwidth { node: node.clone(), mbit: mbit.0, direction: *direction })
        }
        FaultSpec::Delay { node, ms, jitter_ms } => {
            Box::new(Delay { node: node.clone(), ms: ms.0, jitter_ms: jitter_ms.map(|j| j.0) })
        }
        FaultSpec::Partition { between, from_s, to_s } => {
            Box::new(Partition { between: between.clone(), from_s: from_s.0, to_s: to_s.0 })
        }
        FaultSpec::Kill { pod, container, at_s } => {
            Box::new(Kill { pod: pod.clone(), container: container.clone(), at_s: at_s.0 })
        }
    }
}

/// Every fault of a scenario, in its order.
pub(in crate::backend::netns) fn netns_faults(faults: &[FaultSpec]) -> Vec<Box<dyn NetnsFault>> {
    faults.iter().map(netns_fault).collect()
}

/// Carries out a backend event of a trial's timeline, by the kind whose event it is.
pub(in crate::backend::netns) async fn apply_event(topo: Topology, what: String) -> Result<(), BackendError> {
    if what.starts_with(partition::EVENT_PREFIX) {
        return partition::apply(topo, what).await;
    }
    Err(crate::backend::netns::commands::setup_err(&what, "no fault has this event"))
}
