//! What a backend is given to run one trial ([`TrialStart`]) and what it gives back: the trial's
//! timing ([`TrialMeta`]) and what it saw beyond the nodes' records ([`TrialFacts`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::ContainerExit;

/// Which trial to run. The backend stamps the trial's origin itself, once its setup is done
/// (see [`TrialMeta`]); measurement windows come from the nodes' own start records.
#[derive(Debug, Clone)]
pub struct TrialStart {
    pub trial: u32,
    /// Becomes `Some(t_ns)` when the harness opens the measurement window early (every pair it
    /// expects has matched, before the warm-up ran out): a backend that
    /// [opens windows early](super::Backend::opens_windows_early) tells the talkers to publish the
    /// window's length from then on.
    pub open: watch::Receiver<Option<u64>>,
    /// The harness holds the trial's windows at a start barrier: `open` becomes `Some` when the
    /// warm-up after the last node's start ran out (or earlier, every pair matched). The
    /// backend's talkers then publish until the window's length after that, however late the
    /// last node came up (see [`crate::timing::BARRIER_BOUND`]).
    pub barrier: bool,
}

/// The timing facts of one trial, as the backend that ran it measured them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialMeta {
    /// 1-based.
    pub trial: u32,
    /// Origin of the trial's timeline (wall clock, ns): when the backend began starting the
    /// containers, after its setup. Fault times and reported times count from here.
    pub start_ns: u64,
    pub end_ns: u64,
    /// The trial was cut short (Ctrl-C), or the backend failed during it.
    pub interrupted: bool,
    /// When the window opened early (every expected pair had matched), wall clock ns; absent
    /// when the warm-up ran out first (or the backend cannot open it early).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_ns: Option<u64>,
}

impl TrialMeta {
    /// A trial that began at `origin_ns` and ends now.
    pub fn ended(trial: u32, origin_ns: u64, interrupted: bool) -> TrialMeta {
        TrialMeta { trial, start_ns: origin_ns, end_ns: chatter::now_ns(), interrupted, opened_ns: None }
    }
}

/// What a backend saw of one trial beyond the nodes' records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialFacts {
    /// Where each pod actually ran (pod → node), when the cluster's scheduler decided rather
    /// than placement; empty when the plan's placement held.
    pub placement: BTreeMap<String, String>,
    /// Containers that ended badly or restarted during the trial.
    pub containers: Vec<ContainerExit>,
    /// Why the trial's records are incomplete (a container's log stream broke): the runner
    /// marks the trial interrupted, so its missing records are not read as message loss.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
    /// The DDS participant each process was, from the ports it bound (where the backend can
    /// look into the processes' network namespaces).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<super::Participant>,
    /// Each node's DDS traffic in the trial (where the backend counts it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traffic: Vec<super::NodeTraffic>,
    /// Each network namespace's kernel counters over the trial (where the backend reads them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kernel: Vec<super::KernelCounters>,
}
