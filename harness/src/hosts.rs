//! Host identity as Fast DDS sees it: which talkers and listeners run Fast DDS with its
//! shared-memory transport, and whose /dev/shm they have. Pods that share a network namespace
//! (`hostNetwork` on one node) look like one host to Fast DDS, which then sends data through
//! shared memory; the doctor (before a run) and the diagnosis (after one) both ask this, from
//! the placement alone, so they agree.

use crate::placement::{PlacedPod, PlannedContainer};

/// A container whose Fast DDS has its shared-memory transport on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShmEnd {
    pub pod: String,
    /// `hostIPC`: its /dev/shm is the node's.
    pub host_ipc: bool,
}

/// Whether a `FASTDDS_BUILTIN_TRANSPORTS` value keeps Fast DDS's shared-memory transport (an
/// empty one is taken as unset: the default, with shared memory).
pub fn builtin_transports_include_shm(value: &str) -> bool {
    matches!(value, "" | "DEFAULT" | "DEFAULTv6" | "SHM" | "LARGE_DATA" | "LARGE_DATAv6")
}

impl ShmEnd {
    /// Whether `c` of pod `p` runs Fast DDS with shared memory: RMW_IMPLEMENTATION names it
    /// (or is unset under our r2r nodes: rmw_fastrtps_cpp is ROS 2's default), and neither
    /// FASTDDS_BUILTIN_TRANSPORTS nor a profile file (which could say anything) is set to
    /// something without SHM. RustDDS has no shared-memory transport.
    pub fn of(p: &PlacedPod, c: &PlannedContainer) -> Option<ShmEnd> {
        let env = |k: &str| c.env.get(k).map(String::as_str);
        let fastdds = match env("RMW_IMPLEMENTATION") {
            Some(rmw) => rmw.starts_with("rmw_fastrtps"),
            None => !c.is_custom() && c.transport == crate::spec::Transport::Ros,
        };
        let shm_on = env("FASTDDS_BUILTIN_TRANSPORTS").is_none_or(builtin_transports_include_shm);
        let profile = env("FASTRTPS_DEFAULT_PROFILES_FILE").is_some() || env("FASTDDS_DEFAULT_PROFILES_FILE").is_some();
        (fastdds && shm_on && !profile).then(|| ShmEnd { pod: p.name.clone(), host_ipc: p.host_ipc })
    }
}
