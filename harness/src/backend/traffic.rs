//! DDS traffic per node, counted by the kernel where the backend can (netns: nftables counters
//! in every pod's and node's namespace): RTPS discovery (SPDP and SEDP, on the metatraffic
//! ports `7400 + 250·d` and `7400 + 250·d + 10 + 2·id`, and a discovery server's 11811) apart
//! from user data (`… + 1` and `… + 11 + 2·id`), sent and received by the processes of the node.

use serde::{Deserialize, Serialize};

/// Packets and bytes (IP datagrams, headers included) one way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    pub packets: u64,
    pub bytes: u64,
}

impl std::ops::AddAssign for Counted {
    fn add_assign(&mut self, o: Counted) {
        self.packets += o.packets;
        self.bytes += o.bytes;
    }
}

/// One node's DDS traffic in one trial: what its processes (its pods, and itself for the
/// hostNetwork ones) sent and received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeTraffic {
    pub node: String,
    /// How long the counters counted (ms): from the trial's start to its end.
    pub ms: u64,
    pub discovery_sent: Counted,
    pub discovery_received: Counted,
    pub data_sent: Counted,
    pub data_received: Counted,
}

impl NodeTraffic {
    /// `c` per second of the trial.
    pub fn rate(&self, c: Counted) -> (f64, f64) {
        let s = (self.ms as f64 / 1e3).max(1e-9);
        (c.packets as f64 / s, c.bytes as f64 / s)
    }
}

/// The UDP ports counted as discovery and as data for `domains`, participant ids 0..120 (the
/// most the port formula fits in a domain's 250 ports).
pub fn rtps_ports(domains: &[u16]) -> (Vec<u16>, Vec<u16>) {
    let (mut meta, mut data) = (vec![DISCOVERY_SERVER_PORT], Vec::new());
    for &d in domains {
        let base = 7400 + 250 * d;
        meta.push(base);
        data.push(base + 1);
        for id in 0..MAX_PARTICIPANT_ID {
            meta.push(base + 10 + 2 * id);
            data.push(base + 11 + 2 * id);
        }
    }
    (meta, data)
}

/// Fast DDS's default discovery-server port.
const DISCOVERY_SERVER_PORT: u16 = 11811;
const MAX_PARTICIPANT_ID: u16 = 120;

#[cfg(test)]
mod tests {
    use super::rtps_ports;
    use crate::backend::ParticipantId;

    #[test]
    fn discovery_ports_are_the_metatraffic_ones_data_ports_the_next() {
        let (meta, data) = rtps_ports(&[0, 1]);
        assert!(meta.contains(&7400) && meta.contains(&7410) && meta.contains(&7650) && meta.contains(&11811));
        assert!(data.contains(&7401) && data.contains(&7411) && data.contains(&7661));
        // Every participant's discovery port is one of them, its data port never.
        for id in [0, 5, 119] {
            let p = ParticipantId { domain: 1, id }.port();
            assert!(meta.contains(&p) && !data.contains(&p) && data.contains(&(p + 1)));
        }
    }
}
