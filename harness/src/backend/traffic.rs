//! DDS traffic per node, counted by the kernel where the backend can (netns: nftables counters
//! in every pod's and node's namespace): RTPS discovery (SPDP and SEDP, on the metatraffic
//! ports `7400 + 250·d` and `7400 + 250·d + 10 + 2·id`, and a discovery server's 11811) apart
//! from user data (`… + 1` and `… + 11 + 2·id`), sent and received by the processes of the node;
//! and each network namespace's kernel counters ([`KernelCounters`]: IP fragmentation and
//! reassembly, UDP errors, bytes over its eth0, and on a node the bytes offered to its link
//! against a bandwidth fault's cap), facts the diagnosis reads.

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

/// One network namespace's kernel counters over one trial: how much each grew from the trial's
/// start to its end (`/proc/net/snmp`, `/proc/net/dev` of the namespace; nftables counters for
/// what is offered to a node's link).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelCounters {
    pub node: String,
    /// The pod whose own namespace it is; `None`: the node's (where its hostNetwork pods run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// How long it counted (ms).
    pub ms: u64,
    pub ip: IpCounters,
    pub udp: UdpCounters,
    /// Frames and bytes over its eth0, received and sent.
    pub eth0_rx: Counted,
    pub eth0_tx: Counted,
    /// A node's link (its namespace only): what was offered to it each way, before a cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkOffered>,
}

/// `/proc/net/snmp`'s `Ip:` fragmentation and reassembly counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpCounters {
    /// Fragments received that needed reassembly.
    pub reasm_reqds: u64,
    /// Datagrams reassembled.
    pub reasm_oks: u64,
    /// Reassembly failures (a fragment queue given up: timed out, or over the memory
    /// threshold — the kernel counts one per fragment it throws away with it).
    pub reasm_fails: u64,
    pub reasm_timeout: u64,
    /// Datagrams fragmented, and the fragments they made.
    pub frag_oks: u64,
    pub frag_fails: u64,
    pub frag_creates: u64,
}

/// `/proc/net/snmp`'s `Udp:` counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpCounters {
    pub in_datagrams: u64,
    pub out_datagrams: u64,
    pub in_errors: u64,
    /// Datagrams dropped because the receiving socket's buffer was full.
    pub rcvbuf_errors: u64,
    pub sndbuf_errors: u64,
}

/// What was offered to a node's link (IP frames, before any queue or cap) and its caps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkOffered {
    /// Leaving the node for the underlay.
    pub out: Counted,
    /// Sent to the node from the underlay.
    #[serde(rename = "in")]
    pub into: Counted,
    /// A bandwidth fault's cap each way (kbit/s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_out_kbit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_in_kbit: Option<u64>,
}

impl KernelCounters {
    /// Where it counted, in words: `pod demo-listener on pi`, `node pi (host network)`.
    pub fn place(&self) -> String {
        match &self.pod {
            Some(p) => format!("pod {p} on {}", self.node),
            None => format!("node {} (host network)", self.node),
        }
    }

    /// `bytes` per second of its time, in Mbit/s.
    pub fn mbit_per_s(&self, bytes: u64) -> f64 {
        bytes as f64 * 8.0 / 1e6 / (self.ms as f64 / 1e3).max(1e-9)
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
    use super::{rtps_ports, KernelCounters};
    use crate::backend::ParticipantId;

    #[test]
    fn kernel_counters_say_where_and_how_fast() {
        let k = KernelCounters { node: "pi".into(), ms: 2000, ..Default::default() };
        assert_eq!(k.place(), "node pi (host network)");
        assert!((k.mbit_per_s(2_500_000) - 10.0).abs() < 1e-9, "2.5 MB in 2 s is 10 Mbit/s");
        let k = KernelCounters { pod: Some("cam".into()), ..k };
        assert_eq!(k.place(), "pod cam on pi");
    }

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
