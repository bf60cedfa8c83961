//! Delay (and jitter) on packets leaving a node: a `tc netem` qdisc on its link, where the
//! kernel has sch_netem; refused before the run where it has not.

use super::super::commands::{has_netem, run};
use super::super::topology::Topology;
use super::NetnsFault;
use crate::backend::BackendError;

/// `kind: delay`: packets leaving `node` wait `ms` (± `jitter_ms`).
pub(super) struct Delay {
    pub node: String,
    pub ms: f64,
    pub jitter_ms: Option<f64>,
}

impl NetnsFault for Delay {
    fn nodes(&self) -> Vec<&str> {
        vec![&self.node]
    }

    fn kernel_check(&self) -> Result<(), BackendError> {
        if has_netem() {
            return Ok(());
        }
        Err(BackendError::Unsupported(
            "a delay fault needs `tc netem`, which this kernel does not have (\"Specified qdisc kind is unknown\"); \
             remove the delay fault or run on a kernel with sch_netem"
                .into(),
        ))
    }

    fn link_setup(&self, topo: &Topology) -> Result<(), BackendError> {
        let ns = topo.node_index(&self.node).map(|i| topo.node_ns(i)).unwrap_or_default();
        let mut args: Vec<String> = format!("-n {ns} qdisc add dev eth0 root netem delay {}ms", self.ms)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if let Some(j) = self.jitter_ms {
            args.push(format!("{j}ms"));
        }
        run("tc", &args, None)
    }

    /// The doctor's probes would only measure the delay, not whether packets cross.
    fn in_doctor(&self) -> bool {
        false
    }
}
