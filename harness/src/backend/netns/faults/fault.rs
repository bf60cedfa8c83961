//! What a kind of fault does on the simulated cluster ([`NetnsFault`]). Every method has a
//! default that does nothing, so a kind says only what it does; how a report words a fault is
//! the scenario model's (`FaultSpec::describe`).

use std::time::Duration;

use super::super::topology::Topology;
use crate::backend::drive::Event;
use crate::backend::BackendError;

/// One fault of the scenario, as the netns backend injects it. The blocking methods fork
/// (`ip`, `nft`, `tc`) and are called off the async runtime.
pub(in crate::backend::netns) trait NetnsFault {
    /// The nodes it names, which must be in the cluster before anything is built.
    fn nodes(&self) -> Vec<&str> {
        Vec::new()
    }

    /// Whether this machine can inject it; an error says why not, before the run starts
    /// (a fault is refused, never skipped). Blocking.
    fn kernel_check(&self) -> Result<(), BackendError> {
        Ok(())
    }

    /// nftables rules it adds to node `node`'s namespace for the whole run, beside the base
    /// ruleset's chains.
    fn node_rules(&self, _topo: &Topology, _node: usize) -> String {
        String::new()
    }

    /// What it sets up on the links once the namespaces exist, for the whole run. Blocking.
    fn link_setup(&self, _topo: &Topology) -> Result<(), BackendError> {
        Ok(())
    }

    /// Its events on every trial's timeline (seconds from the trial's start).
    fn events(&self) -> Vec<(Duration, Event)> {
        Vec::new()
    }

    /// Undoes what its events did, after every trial (nothing of one trial's timeline may
    /// outlive it). Blocking.
    fn lift(&self, _topo: &Topology) -> Result<(), BackendError> {
        Ok(())
    }

    /// Whether `harness doctor` probes with it in place.
    fn in_doctor(&self) -> bool {
        true
    }

    /// Puts it in place for the whole doctor, where building the cluster did not. Blocking.
    fn doctor_setup(&self, _topo: &Topology) -> Result<(), BackendError> {
        Ok(())
    }
}
