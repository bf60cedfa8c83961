//! Host identity as Fast DDS sees it: which talkers and listeners run Fast DDS with its
//! shared-memory transport, and whose /dev/shm they have. Pods that share a network namespace
//! (`hostNetwork` on one node) look like one host to Fast DDS, which then sends data through
//! shared memory; the doctor (before a run) and the diagnosis (after one) both ask this, from
//! the placement alone, so they agree. And where Fast DDS sends its initial-peer announcements
//! ([`InitialPeers`]): to participant ids 0..`maxInitialPeersRange` of each peer address only.

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
        let fastdds = runs_fastdds(c);
        let shm_on = env("FASTDDS_BUILTIN_TRANSPORTS").is_none_or(builtin_transports_include_shm);
        let profile = env("FASTRTPS_DEFAULT_PROFILES_FILE").is_some() || env("FASTDDS_DEFAULT_PROFILES_FILE").is_some();
        (fastdds && shm_on && !profile).then(|| ShmEnd { pod: p.name.clone(), host_ipc: p.host_ipc })
    }
}

/// Whether `c` runs Fast DDS: RMW_IMPLEMENTATION names it, or is unset under our r2r nodes
/// (rmw_fastrtps_cpp is ROS 2's default).
fn runs_fastdds(c: &PlannedContainer) -> bool {
    match c.env.get("RMW_IMPLEMENTATION") {
        Some(rmw) => rmw.starts_with("rmw_fastrtps"),
        None => !c.is_custom() && c.transport == crate::spec::Transport::Ros,
    }
}

/// Fast DDS's default `maxInitialPeersRange` (its UDPv4 transport descriptor).
pub const FASTDDS_DEFAULT_INITIAL_PEERS_RANGE: u64 = 4;

/// A Fast DDS container that finds peers on other IPs through initial peers without a port
/// (ROS_STATIC_PEERS, or its profile's initialPeersList): it announces itself to the discovery
/// ports of participant ids 0..`range` of each peer address, and to no other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialPeers {
    pub range: u64,
    /// What lists the peers.
    pub from: &'static str,
    /// Where the range comes from: Fast DDS's default, or the profile file that sets it.
    pub range_from: String,
}

impl InitialPeers {
    /// The initial peers of `c`, where it has some and their range is known. `fastdds` is the
    /// Fast DDS version the processes run (`None`: not known): 2.x reads its profile only from
    /// FASTRTPS_DEFAULT_PROFILES_FILE (measured on 2.14.5), 3.x from FASTDDS_DEFAULT_PROFILES_FILE
    /// too. A profile file that cannot be read leaves the range unknown (`None`).
    pub fn of(c: &PlannedContainer, fastdds: Option<&str>) -> Option<InitialPeers> {
        let env = |k: &str| c.env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        if !runs_fastdds(c) || env("ROS_DISCOVERY_SERVER").is_some() || env("ROS_LOCALHOST_ONLY") == Some("1") {
            return None;
        }
        let range = env("ROS_AUTOMATIC_DISCOVERY_RANGE").map(str::to_ascii_uppercase);
        if matches!(range.as_deref(), Some("OFF" | "LOCALHOST")) {
            return None;
        }
        let static_peers = range.as_deref() != Some("SYSTEM_DEFAULT")
            && env("ROS_STATIC_PEERS").is_some_and(|v| v.split(';').any(|p| !p.trim().is_empty()));
        let fastdds_3 = fastdds.is_none_or(|v| v.split('.').next().and_then(|m| m.parse::<u32>().ok()) >= Some(3));
        let vars: &[&str] = if fastdds_3 {
            &["FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE"]
        } else {
            &["FASTRTPS_DEFAULT_PROFILES_FILE"]
        };
        let file = vars.iter().find_map(|v| env(v));
        let profile = match file {
            Some(path) => crate::dds_xml::FastDdsProfile::read(&std::fs::read_to_string(path).ok()?),
            None => crate::dds_xml::FastDdsProfile::default(),
        };
        if profile.discovery_server {
            return None;
        }
        let from = match (static_peers, profile.peers_without_port) {
            (false, false) => return None,
            (true, false) => "ROS_STATIC_PEERS",
            (false, true) => "its Fast DDS profile's initialPeersList",
            (true, true) => "ROS_STATIC_PEERS and its Fast DDS profile's initialPeersList",
        };
        let (range, range_from) = match (profile.max_initial_peers_range, file) {
            (Some(r), Some(path)) => (r.max(1), format!("as {path} sets it")),
            _ => (FASTDDS_DEFAULT_INITIAL_PEERS_RANGE, "Fast DDS's default".to_owned()),
        };
        Some(InitialPeers { range, from, range_from })
    }
}

#[cfg(test)]
mod tests {
    use super::InitialPeers;
    use crate::placement::PlannedContainer;

    /// Our r2r talker (Fast DDS, the ROS 2 default) with `env`.
    fn r2r(env: &[(&str, &str)]) -> PlannedContainer {
        let env: serde_json::Map<String, serde_json::Value> =
            env.iter().map(|(k, v)| ((*k).to_owned(), (*v).into())).collect();
        serde_json::from_value(serde_json::json!({
            "name": "t", "id": "robot.t", "role": "talker", "args": [],
            "start_delay": {"secs": 0, "nanos": 0}, "transport": "ros", "env": env,
        }))
        .expect("a planned container")
    }

    #[test]
    fn initial_peers_reach_as_far_as_the_profile_the_fastdds_version_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let profile = dir.path().join("udp16.xml");
        std::fs::write(
            &profile,
            "<profiles><transport_descriptors><transport_descriptor><type>UDPv4</type>\
            <maxInitialPeersRange>16</maxInitialPeersRange></transport_descriptor></transport_descriptors></profiles>",
        )
        .expect("write");
        let path = profile.to_str().expect("utf-8");
        let peers = ("ROS_STATIC_PEERS", "10.42.0.2");
        let of = |env: &[(&str, &str)], v: &str| InitialPeers::of(&r2r(env), Some(v)).map(|p| p.range);
        assert_eq!(of(&[peers], "2.14.5"), Some(4), "Fast DDS's default");
        assert_eq!(of(&[peers, ("FASTRTPS_DEFAULT_PROFILES_FILE", path)], "2.14.5"), Some(16));
        // Jazzy's Fast DDS 2.14 does not read FASTDDS_DEFAULT_PROFILES_FILE; 3.x does.
        assert_eq!(of(&[peers, ("FASTDDS_DEFAULT_PROFILES_FILE", path)], "2.14.5"), Some(4));
        assert_eq!(of(&[peers, ("FASTDDS_DEFAULT_PROFILES_FILE", path)], "3.2.3"), Some(16));
        let hit = InitialPeers::of(&r2r(&[peers, ("FASTRTPS_DEFAULT_PROFILES_FILE", path)]), None).expect("peers");
        assert_eq!(hit.range_from, format!("as {path} sets it"));
        // No peers, a discovery server, localhost only, another RMW, an unreadable profile.
        assert_eq!(of(&[], "2.14.5"), None);
        assert_eq!(of(&[peers, ("ROS_DISCOVERY_SERVER", "10.42.0.2:11811")], "2.14.5"), None);
        assert_eq!(of(&[peers, ("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")], "2.14.5"), None);
        assert_eq!(of(&[peers, ("RMW_IMPLEMENTATION", "rmw_cyclonedds_cpp")], "2.14.5"), None);
        assert_eq!(of(&[peers, ("FASTRTPS_DEFAULT_PROFILES_FILE", "/nonexistent/p.xml")], "2.14.5"), None);
    }
}
