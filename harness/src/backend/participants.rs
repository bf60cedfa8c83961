//! Which DDS participant each process is, observed rather than assumed: the UDP ports it bound
//! in its network namespace, read from `/proc` (its socket inodes in `/proc/<pid>/fd`, and
//! theirs in the namespace's `/proc/<pid>/net/udp{,6}`), with those of its descendants (a
//! launch file's children). RTPS puts participant `id` of domain `d` on the unicast ports
//! `7400 + 250·d + 10 + 2·id` (discovery) and `… + 11 + 2·id` (user data), so the ids follow
//! from the ports whatever the DDS implementation or RMW — the stock nodes, rclpy and our own.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

/// RTPS's well-known port parameters (DDSI-RTPS 2.x, 9.6.1.1): PB, DG, PG, d1 (d0 = 0).
const PORT_BASE: u16 = 7400;
const DOMAIN_GAIN: u16 = 250;
const PARTICIPANT_GAIN: u16 = 2;
const UNICAST_META_OFFSET: u16 = 10;

/// What one process was on the network, as seen in its namespace during the trial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Container id (`pod.container`).
    pub container: String,
    pub node: String,
    /// The address other nodes reach it at (its pod's, or its node's on the host network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Every UDP port it (or a child) had bound, ascending.
    pub ports: Vec<u16>,
    /// Its RTPS participants, from the discovery unicast ports among `ports`: (domain, id).
    pub ids: Vec<ParticipantId>,
}

/// One RTPS participant: its domain and its participant id there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ParticipantId {
    pub domain: u16,
    pub id: u16,
}

impl ParticipantId {
    /// The participant whose discovery unicast port is `port`, if it is one.
    pub fn of_port(port: u16) -> Option<ParticipantId> {
        let off = port.checked_sub(PORT_BASE)?;
        let (domain, within) = (off / DOMAIN_GAIN, off % DOMAIN_GAIN);
        let rel = within.checked_sub(UNICAST_META_OFFSET)?;
        (rel % PARTICIPANT_GAIN == 0).then_some(ParticipantId { domain, id: rel / PARTICIPANT_GAIN })
    }

    /// Its discovery unicast port.
    pub fn port(self) -> u16 {
        PORT_BASE + DOMAIN_GAIN * self.domain + UNICAST_META_OFFSET + PARTICIPANT_GAIN * self.id
    }
}

impl Participant {
    /// From the ports a process bound: a discovery unicast port counts when its user-data port
    /// (the next one) is bound too, as every RTPS participant binds both.
    pub fn from_ports(container: &str, node: &str, ip: Option<String>, ports: BTreeSet<u16>) -> Participant {
        let ids =
            ports.iter().filter_map(|p| ParticipantId::of_port(*p).filter(|_| ports.contains(&(p + 1)))).collect();
        Participant {
            container: container.to_owned(),
            node: node.to_owned(),
            ip,
            ports: ports.into_iter().collect(),
            ids,
        }
    }

    /// Its participant ids, as words: `participant 4`, `participants 0, 5`, `no RTPS participant port`.
    pub fn describe_ids(&self) -> String {
        match self.ids.as_slice() {
            [] => "no RTPS participant port bound".into(),
            [one] => format!("participant id {}", one.id),
            many => format!("participant ids {}", many.iter().map(|p| p.id.to_string()).collect::<Vec<_>>().join(", ")),
        }
    }
}

/// The UDP ports process `pid` and its descendants have bound, from `/proc`; empty when it is
/// gone (or `/proc` cannot be read).
pub fn bound_udp_ports(pid: i32) -> BTreeSet<u16> {
    let mut inodes = HashSet::new();
    let mut stack = vec![pid];
    let mut seen = HashSet::new();
    while let Some(p) = stack.pop() {
        if !seen.insert(p) {
            continue;
        }
        inodes.extend(socket_inodes(p));
        stack.extend(children(p));
    }
    let mut ports = BTreeSet::new();
    for table in ["udp", "udp6"] {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) {
            ports.extend(udp_ports_of(&text, &inodes));
        }
    }
    ports
}

/// `socket:[<inode>]` links among a process's open files.
fn socket_inodes(pid: i32) -> Vec<u64> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| l.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok())
        .collect()
}

/// A process's children, from every one of its threads.
fn children(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| s.split_whitespace().filter_map(|c| c.parse().ok()).collect::<Vec<i32>>())
        .collect()
}

/// The local ports of the sockets of `/proc/net/udp` text whose inode is one of `inodes`.
fn udp_ports_of(text: &str, inodes: &HashSet<u64>) -> Vec<u16> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let inode: u64 = cols.get(9)?.parse().ok()?;
            let port = cols.get(1)?.rsplit(':').next()?;
            inodes.contains(&inode).then(|| u16::from_str_radix(port, 16).ok()).flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participant_ids_follow_from_the_rtps_port_formula() {
        assert_eq!(ParticipantId::of_port(7410), Some(ParticipantId { domain: 0, id: 0 }));
        assert_eq!(ParticipantId::of_port(7418), Some(ParticipantId { domain: 0, id: 4 }));
        // Domain 1, participant 2: 7400 + 250 + 10 + 4.
        assert_eq!(ParticipantId::of_port(7664), Some(ParticipantId { domain: 1, id: 2 }));
        assert_eq!(ParticipantId { domain: 1, id: 2 }.port(), 7664);
        // User-data ports, multicast ports and others are not discovery unicast ports.
        for p in [7411, 7400, 7401, 7650, 5353, 40000 + 1] {
            assert_eq!(ParticipantId::of_port(p), None, "{p}");
        }
    }

    #[test]
    fn a_participant_needs_both_of_its_unicast_ports() {
        let p = Participant::from_ports("a.t-5", "pi", None, [7400, 7401, 7418, 7419, 7422, 43001].into());
        assert_eq!(p.ids, [ParticipantId { domain: 0, id: 4 }], "7422 alone is no participant");
        assert_eq!(p.describe_ids(), "participant id 4");
        let none = Participant::from_ports("a.l", "pi", None, [7400, 51234].into());
        assert!(none.ids.is_empty());
    }

    #[test]
    fn proc_net_udp_lines_give_the_ports_of_our_inodes() {
        let text = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 00000000:1CF2 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5551 2 0000000000000000 0
  124: 0100007F:1CF3 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5552 2 0000000000000000 0
  125: 00000000:1CE8 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9999 2 0000000000000000 0
";
        let ports = udp_ports_of(text, &[5551, 5552].into_iter().collect());
        assert_eq!(ports, [7410, 7411]);
    }

    /// A real socket of this test process, found through `/proc` as any node's would be.
    #[test]
    fn the_ports_a_process_bound_are_read_from_proc() {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("a loopback socket");
        let port = sock.local_addr().expect("bound").port();
        let ports = bound_udp_ports(std::process::id() as i32);
        assert!(ports.contains(&port), "{port} not in {ports:?}");
        drop(sock);
        assert!(!bound_udp_ports(std::process::id() as i32).contains(&port));
    }
}
