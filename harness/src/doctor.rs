//! `harness doctor`: before a run, per ordered node pair and per network (the pod network and
//! the host network), whether the packets DDS needs cross — unicast to the domain's DDS ports in
//! four sizes (64 B, a full 1500-MTU frame, a jumbo frame, 64 KiB: MTU and fragmentation
//! trouble), SPDP multicast to 239.255.0.1 — and how far apart the node clocks are. The probes
//! are the node binary's own mode (`talker probe`), so the same builds, images and qemu path
//! serve. On the simulated cluster it also sends a burst of 64 KiB datagrams between every pair
//! of nodes' pods and reads the receiver's reassembly counters ([`LargeDatagrams`]): how a lossy
//! link treats the datagrams Fast DDS sends.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

pub use chatter::probe::{ClockOffset, ProbeCount, ProbeReport};

/// The two networks a pod can be on.
pub const NETWORKS: [&str; 2] = ["pod", "host"];

/// The probe kinds, in table order, with their column titles.
pub const KINDS: [(&str, &str); 5] = [
    ("unicast-64", "unicast 64 B"),
    ("unicast-1472", "1472 B"),
    ("unicast-8972", "8972 B (fragmented)"),
    ("unicast-65000", "64 KiB (fragmented)"),
    ("multicast", "SPDP multicast"),
];

/// Everything the doctor found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoctorReport {
    pub scenario: String,
    pub backend: String,
    pub domain: u16,
    /// Per network (`pod`, `host`), each node's prober report; targets are `<node>`.
    pub networks: Vec<NetworkProbes>,
    /// Clock offsets of every node against the reference node (`reference`), from the
    /// host-network exchanges.
    pub reference: String,
    pub clocks: Vec<ClockOffset>,
    /// What the reader must know (faults in place, one clock).
    pub notes: Vec<String>,
    /// Per node, the Fast DDS pods that would share a host id without sharing /dev/shm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_hosts: Vec<SharedHost>,
    /// Per ordered node pair (pod network, netns), a burst of 64 KiB datagrams: how many
    /// arrived whole, and the receiver's reassembly counters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub large_datagrams: Vec<LargeDatagrams>,
}

/// A burst of large UDP datagrams from one node's pod to another's: sent, arrived whole, and
/// what the receiver's kernel counted of reassembly (`/proc/net/snmp`) meanwhile. A datagram
/// not reassembled lost at least one of its fragments; the kernel counts a failure when it
/// gives up its queue (memory pressure, or `ipfrag_time` later), one per fragment thrown away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LargeDatagrams {
    pub from: String,
    pub to: String,
    /// Each datagram's payload.
    pub bytes: u32,
    pub sent: u32,
    /// Arrived whole at the receiving socket.
    pub received: u32,
    /// ReasmOKs, ReasmReqds (fragments that arrived) and ReasmFails of the receiver.
    pub reassembled: u64,
    pub fragments: u64,
    pub reasm_fails: u64,
    /// Reassembled but dropped for the receiving socket's full buffer (RcvbufErrors).
    #[serde(default)]
    pub rcvbuf_errors: u64,
}

/// Fast DDS pods on one node that share its network namespace (`hostNetwork`), so Fast DDS
/// takes them for one host (its host id comes from the network interfaces) and offers shared
/// memory, but that do not share /dev/shm (not both `hostIPC`): data between them is lost
/// (measured on netns, Jazzy and Kilted: 0 heard), unless they use UDP only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedHost {
    pub node: String,
    /// The pods, in plan order.
    pub pods: Vec<String>,
    /// Pairs of them whose /dev/shm differs (`a ↔ b`).
    pub pairs: Vec<String>,
}

/// Per node of `plan`, the hostNetwork Fast DDS pods (with shared memory on) of which some
/// pairs do not share /dev/shm — a pure function of the placement.
pub fn shared_hosts(plan: &crate::placement::Plan) -> Vec<SharedHost> {
    let mut out = Vec::new();
    for node in &plan.nodes {
        let pods: Vec<&crate::placement::PlacedPod> = plan
            .pods
            .iter()
            // Shared memory on: the diagnosis's own test, so doctor and findings agree.
            .filter(|p| {
                p.node == node.name
                    && p.host_network
                    && p.containers.iter().any(|c| crate::hosts::ShmEnd::of(p, c).is_some())
            })
            .collect();
        let mut pairs = Vec::new();
        for (i, a) in pods.iter().enumerate() {
            for b in &pods[i + 1..] {
                // hostIPC pods share the node's /dev/shm; any other pod has its own.
                if !(a.host_ipc && b.host_ipc) {
                    pairs.push(format!("{} ↔ {}", a.name, b.name));
                }
            }
        }
        if !pairs.is_empty() {
            out.push(SharedHost {
                node: node.name.clone(),
                pods: pods.iter().map(|p| p.name.clone()).collect(),
                pairs,
            });
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkProbes {
    pub network: String,
    pub reports: Vec<ProbeReport>,
}

fn cell(c: &ProbeCount) -> String {
    let mark = if c.answered == c.sent {
        "✓"
    } else if c.answered == 0 {
        "✗"
    } else {
        "~"
    };
    format!("{mark} {}/{}", c.answered, c.sent)
}

/// A prober's report with the network suffix (`pi/pod` → `pi`) taken off every node name:
/// the table it goes into says which network it is.
pub fn without_network(mut report: ProbeReport) -> ProbeReport {
    let strip = |s: &mut String| {
        if let Some((node, _)) = s.split_once('/') {
            *s = node.to_owned();
        }
    };
    strip(&mut report.from);
    report.counts.iter_mut().for_each(|c| strip(&mut c.to));
    report.clocks.iter_mut().for_each(|c| strip(&mut c.node));
    report
}

impl DoctorReport {
    /// The report of probes from every node: clock offsets are those the first node
    /// (`reference`) measured on the host network.
    pub fn new(
        scenario: &str,
        backend: &str,
        domain: u16,
        networks: Vec<NetworkProbes>,
        reference: &str,
        notes: Vec<String>,
    ) -> DoctorReport {
        let clocks = networks
            .iter()
            .find(|n| n.network == "host")
            .and_then(|n| n.reports.iter().find(|r| r.from == reference))
            .map(|r| r.clocks.clone())
            .unwrap_or_default();
        DoctorReport {
            scenario: scenario.to_owned(),
            backend: backend.to_owned(),
            domain,
            networks,
            reference: reference.to_owned(),
            clocks,
            notes,
            shared_hosts: Vec::new(),
            large_datagrams: Vec::new(),
        }
    }

    /// One count: `from` → `to` on `network`, of `kind`.
    pub fn count(&self, network: &str, from: &str, to: &str, kind: &str) -> Option<&ProbeCount> {
        self.networks
            .iter()
            .find(|n| n.network == network)?
            .reports
            .iter()
            .find(|r| r.from == from)?
            .counts
            .iter()
            .find(|c| c.to == to && c.kind == kind)
    }

    /// The tables as text: one per network, rows `from → to`, a column per probe kind.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.networks {
            let _ = writeln!(out, "{} network (answered / sent):", n.network);
            let mut rows: Vec<Vec<String>> =
                vec![std::iter::once("pair".to_owned()).chain(KINDS.iter().map(|(_, t)| (*t).to_owned())).collect()];
            for r in &n.reports {
                let mut targets: Vec<&str> = r.counts.iter().map(|c| c.to.as_str()).collect();
                targets.dedup();
                for to in targets {
                    let mut row = vec![format!("{} → {to}", r.from)];
                    for (kind, _) in KINDS {
                        row.push(r.counts.iter().find(|c| c.to == to && c.kind == kind).map_or("–".into(), cell));
                    }
                    rows.push(row);
                }
            }
            let widths: Vec<usize> =
                (0..rows[0].len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
            for r in &rows {
                let mut line = String::from("  ");
                for (i, c) in r.iter().enumerate() {
                    let _ = write!(line, "{c}{}  ", " ".repeat(widths[i] - c.chars().count()));
                }
                let _ = writeln!(out, "{}", line.trim_end());
            }
        }
        let _ =
            writeln!(out, "clock offsets against {} (median of the exchanges; ± half the round trip):", self.reference);
        for c in &self.clocks {
            let _ = writeln!(
                out,
                "  {}: {:+.3} ms ± {:.3} ms ({} samples)",
                c.node,
                c.offset_ns as f64 / 1e6,
                c.uncertainty_ns as f64 / 1e6,
                c.samples
            );
        }
        if !self.large_datagrams.is_empty() {
            let _ = writeln!(out, "large datagrams (pod network; a burst each way, the receiver's reassembly):");
        }
        for l in &self.large_datagrams {
            let _ = writeln!(
                out,
                "  {} → {}: {}/{} of {} B arrived whole; {} reassembled from {} fragments, {} reassembly failures{}",
                l.from,
                l.to,
                l.received,
                l.sent,
                l.bytes,
                l.reassembled,
                l.fragments,
                l.reasm_fails,
                if l.rcvbuf_errors > 0 {
                    format!(", {} dropped by a full socket buffer (the prober's, not the link)", l.rcvbuf_errors)
                } else {
                    String::new()
                }
            );
        }
        if !self.shared_hosts.is_empty() {
            let _ = writeln!(out, "Fast DDS host ids shared without /dev/shm (hostNetwork pods on one node):");
        }
        for h in &self.shared_hosts {
            let _ = writeln!(
                out,
                "  {}: {} share the node's network namespace, so Fast DDS takes them for one host and uses shared \
                 memory, but not its /dev/shm ({}): set FASTDDS_BUILTIN_TRANSPORTS=UDPv4 in them (or hostIPC: true)",
                h.node,
                h.pods.join(", "),
                h.pairs.join(", ")
            );
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        out
    }

    /// What a run's diagnosis can cite about `from` → `to` multicast, e.g. "multicast pi →
    /// master: 0/20 probes on the pod network, 20/20 on the host network".
    pub fn multicast_words(&self, from: &str, to: &str) -> Option<String> {
        let on = |net: &str| {
            self.count(net, from, to, "multicast")
                .map(|c| format!("{}/{} probes on the {net} network", c.answered, c.sent))
        };
        let parts: Vec<String> = NETWORKS.iter().filter_map(|n| on(n)).collect();
        (!parts.is_empty()).then(|| format!("doctor: multicast {from} → {to}: {}", parts.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(to: &str, multicast: u32) -> Vec<ProbeCount> {
        KINDS
            .iter()
            .map(|(k, _)| ProbeCount {
                kind: (*k).into(),
                to: to.into(),
                sent: 20,
                answered: if *k == "multicast" { multicast } else { 20 },
            })
            .collect()
    }

    /// Two hostNetwork Fast DDS pods on one node share a host id, not /dev/shm; hostIPC on
    /// both, UDPv4 only, or the pod network clears it.
    #[test]
    fn pods_that_share_a_fast_dds_host_id_without_dev_shm() {
        let text = std::fs::read_to_string(testkit::workspace_root().join("scenarios/seed-hostnetwork-fastdds.yaml"))
            .expect("scenario");
        let plan_of = |t: &str| {
            let s = crate::spec::parse(t, std::path::Path::new("t.yaml")).expect("valid");
            crate::placement::place(&s, &crate::placement::declared_nodes(&s)).expect("placeable")
        };
        let hosts = shared_hosts(&plan_of(&text));
        assert_eq!(hosts.len(), 1, "{hosts:?}");
        assert_eq!(hosts[0].node, "master");
        assert_eq!(hosts[0].pairs, ["demo-listener ↔ demo-talker"]);
        let ipc = text.replace("    hostNetwork: true\n", "    hostNetwork: true\n    hostIPC: true\n");
        assert!(shared_hosts(&plan_of(&ipc)).is_empty());
        let udp = text.replace(
            "        output: demo-nodes\n",
            "        output: demo-nodes\n        env: {FASTDDS_BUILTIN_TRANSPORTS: UDPv4}\n",
        );
        assert!(shared_hosts(&plan_of(&udp)).is_empty());
        let pod = text.replace("    hostNetwork: true\n", "    hostNetwork: false\n");
        assert!(shared_hosts(&plan_of(&pod)).is_empty());
        let mut r = DoctorReport::new("s", "netns", 0, Vec::new(), "master", Vec::new());
        r.shared_hosts = hosts;
        assert!(
            r.text().contains("master: demo-listener, demo-talker share the node's network namespace"),
            "{}",
            r.text()
        );
    }

    #[test]
    fn tables_and_citations() {
        let r = DoctorReport {
            scenario: "seed".into(),
            backend: "netns".into(),
            domain: 0,
            networks: vec![
                NetworkProbes {
                    network: "pod".into(),
                    reports: vec![ProbeReport { from: "pi".into(), counts: counts("master", 0), clocks: vec![] }],
                },
                NetworkProbes {
                    network: "host".into(),
                    reports: vec![ProbeReport { from: "pi".into(), counts: counts("master", 20), clocks: vec![] }],
                },
            ],
            reference: "master".into(),
            clocks: vec![ClockOffset { node: "pi".into(), offset_ns: 12_000, uncertainty_ns: 40_000, samples: 20 }],
            notes: vec![],
            shared_hosts: vec![],
            large_datagrams: vec![LargeDatagrams {
                from: "master".into(),
                to: "pi".into(),
                bytes: 65_000,
                sent: 100,
                received: 31,
                reassembled: 31,
                fragments: 4_400,
                reasm_fails: 2_900,
                rcvbuf_errors: 0,
            }],
        };
        let t = r.text();
        assert!(t.contains("pi → master  ✓ 20/20"), "{t}");
        assert!(t.contains("✗ 0/20"), "{t}");
        assert!(t.contains("pi: +0.012 ms ± 0.040 ms (20 samples)"), "{t}");
        assert!(
            t.contains("master → pi: 31/100 of 65000 B arrived whole; 31 reassembled from 4400 fragments, 2900 reassembly failures"),
            "{t}"
        );
        assert_eq!(
            r.multicast_words("pi", "master").as_deref(),
            Some("doctor: multicast pi → master: 0/20 probes on the pod network, 20/20 probes on the host network")
        );
    }
}
