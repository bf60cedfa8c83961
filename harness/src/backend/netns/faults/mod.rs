//! The scenario's faults on the simulated cluster, one file per kind: what each puts in place
//! when the cluster is built (nftables rules in a node's namespace, a qdisc on its link), what
//! it puts on every trial's timeline (a partition's start and end, a kill), what is undone
//! after each trial, and what the doctor keeps in place while it probes. [`registry`] maps a
//! scenario's `FaultSpec` to its kind.

mod bandwidth;
mod delay;
mod fault;
mod kill;
mod loss;
mod partition;
mod registry;

pub(super) use fault::NetnsFault;
pub(super) use registry::{apply_event, netns_fault, netns_faults};
