//! Each namespace's kernel counters over a trial ([`KernelCounters`]): `/proc/net/snmp` (IP
//! fragmentation and reassembly, UDP errors) and `/proc/net/dev` (eth0) of every pod's and
//! node's namespace, read from a thread that enters the namespace (no process forked), as a
//! snapshot when the trial starts and the growth when it ends; and what was offered to each
//! node's link, counted by nftables `netdev` egress hooks before any queue or cap (the node's
//! eth0 for what leaves it, the underlay's end of its cable for what it is sent).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::commands::{nft, setup_err};
use super::topology::Topology;
use crate::backend::{BackendError, Counted, IpCounters, KernelCounters, LinkOffered, UdpCounters};
use crate::spec::FaultSpec;

const TABLE: &str = "chatter_link";

/// Every counted namespace's raw counters at one moment, in [`namespaces`] order.
#[derive(Debug, Clone, Default)]
pub(super) struct Snapshot(Vec<Raw>);

/// One namespace's counters by name (`Ip.ReasmFails`, `eth0.rx_bytes`).
pub(super) type Raw = BTreeMap<String, u64>;

/// Every namespace whose counters are kept: each node's (`pod: None`), then each pod-network
/// pod's, with its node's index.
fn namespaces(topo: &Topology) -> Vec<(String, usize, Option<String>)> {
    let mut out: Vec<_> = (0..topo.nodes.len()).map(|i| (topo.node_ns(i), i, None)).collect();
    for p in topo.pods.iter().filter(|p| !p.host_network) {
        if let Some(ns) = topo.pod_ns(&p.name) {
            out.push((ns, p.node, Some(p.name.clone())));
        }
    }
    out
}

/// The nftables tables counting what is offered to each node's link: one in each node's
/// namespace (its eth0's egress), one in the underlay's (each `n<i>`'s egress, toward node i).
pub(super) fn link_rulesets(topo: &Topology) -> Vec<(String, String)> {
    let table = |chains: &[(String, String)]| {
        let mut t = format!("table netdev {TABLE} {{\n");
        for (counter, device) in chains {
            let _ = writeln!(
                t,
                "\tcounter {counter} {{ }}\n\tchain {counter}_hook {{ type filter hook egress device \"{device}\" \
                 priority -100; counter name \"{counter}\"; }}"
            );
        }
        t + "}\n"
    };
    // With multicast between nodes, a node's frames also take their cable to that segment.
    let mc = topo.multicast_between_nodes;
    let mut out: Vec<(String, String)> = (0..topo.nodes.len())
        .map(|i| {
            let mut chains = vec![("out".to_owned(), "eth0".to_owned())];
            chains.extend(mc.then(|| ("out_mc".to_owned(), "mc0".to_owned())));
            (topo.node_ns(i), table(&chains))
        })
        .collect();
    let mut to_nodes: Vec<(String, String)> =
        (0..topo.nodes.len()).map(|i| (format!("to_n{i}"), format!("n{i}"))).collect();
    if mc {
        to_nodes.extend((0..topo.nodes.len()).map(|i| (format!("to_m{i}"), format!("m{i}"))));
    }
    out.push((topo.underlay_ns(), table(&to_nodes)));
    out
}

/// Puts the link counters in place. Blocking.
pub(super) fn install(topo: &Topology) -> Result<(), BackendError> {
    link_rulesets(topo).iter().try_for_each(|(ns, rules)| nft(ns, rules))
}

/// Every namespace's counters now, the link counters zeroed. Blocking.
pub(super) fn snapshot(topo: &Topology) -> Result<Snapshot, BackendError> {
    reset_links(topo)?;
    namespaces(topo).iter().map(|(ns, ..)| read_ns(ns)).collect::<Result<_, _>>().map(Snapshot)
}

/// What each namespace counted since `before`, over `ms`, with the caps `faults` put on the
/// nodes' links. Blocking.
pub(super) fn take(
    topo: &Topology,
    before: &Snapshot,
    ms: u64,
    faults: &[FaultSpec],
) -> Result<Vec<KernelCounters>, BackendError> {
    let links = reset_links(topo)?;
    let mut out = Vec::new();
    for (k, (ns, node, pod)) in namespaces(topo).into_iter().enumerate() {
        let now = read_ns(&ns)?;
        let empty = Raw::new();
        let then = before.0.get(k).unwrap_or(&empty);
        let d = |key: &str| now.get(key).copied().unwrap_or(0).saturating_sub(then.get(key).copied().unwrap_or(0));
        let name = topo.nodes[node].clone();
        let cap = |outbound: bool| {
            faults.iter().find_map(|f| f.cap_mbit(&name, outbound)).map(|m| (m * 1000.0).round() as u64)
        };
        let link = pod.is_none().then(|| LinkOffered {
            out: links.get(&(node, true)).copied().unwrap_or_default(),
            into: links.get(&(node, false)).copied().unwrap_or_default(),
            cap_out_kbit: cap(true),
            cap_in_kbit: cap(false),
        });
        out.push(counters(name, pod, ms, &d, link));
    }
    Ok(out)
}

/// The named growths `d` as [`KernelCounters`].
fn counters(
    node: String,
    pod: Option<String>,
    ms: u64,
    d: &dyn Fn(&str) -> u64,
    link: Option<LinkOffered>,
) -> KernelCounters {
    KernelCounters {
        node,
        pod,
        ms,
        ip: IpCounters {
            reasm_reqds: d("Ip.ReasmReqds"),
            reasm_oks: d("Ip.ReasmOKs"),
            reasm_fails: d("Ip.ReasmFails"),
            reasm_timeout: d("Ip.ReasmTimeout"),
            frag_oks: d("Ip.FragOKs"),
            frag_fails: d("Ip.FragFails"),
            frag_creates: d("Ip.FragCreates"),
        },
        udp: UdpCounters {
            in_datagrams: d("Udp.InDatagrams"),
            out_datagrams: d("Udp.OutDatagrams"),
            in_errors: d("Udp.InErrors"),
            rcvbuf_errors: d("Udp.RcvbufErrors"),
            sndbuf_errors: d("Udp.SndbufErrors"),
        },
        eth0_rx: Counted { packets: d("eth0.rx_packets"), bytes: d("eth0.rx_bytes") },
        eth0_tx: Counted { packets: d("eth0.tx_packets"), bytes: d("eth0.tx_bytes") },
        link,
    }
}

/// Reads and zeroes the link counters: (node index, outbound) → what was offered (over both
/// of a node's cables where multicast between nodes has one of its own).
fn reset_links(topo: &Topology) -> Result<BTreeMap<(usize, bool), Counted>, BackendError> {
    let mut out: BTreeMap<(usize, bool), Counted> = BTreeMap::new();
    for (i, ns) in (0..topo.nodes.len()).map(|i| (Some(i), topo.node_ns(i))).chain([(None, topo.underlay_ns())]) {
        for (name, c) in super::traffic::reset(&ns, "netdev", TABLE)? {
            let to = name.strip_prefix("to_n").or_else(|| name.strip_prefix("to_m"));
            match (i, to.and_then(|n| n.parse::<usize>().ok())) {
                (Some(i), _) if name.starts_with("out") => *out.entry((i, true)).or_default() += c,
                (None, Some(j)) => *out.entry((j, false)).or_default() += c,
                _ => {}
            }
        }
    }
    Ok(out)
}

/// `/proc/net/snmp` and `/proc/net/dev` of namespace `ns`, read by a thread that enters it and
/// ends with the read (a thread in another namespace never runs anything else).
pub(super) fn read_ns(ns: &str) -> Result<Raw, BackendError> {
    let path = format!("/run/netns/{ns}");
    let fail = |e: String| setup_err(&format!("read the counters of {ns}"), e);
    let file = std::fs::File::open(&path).map_err(|e| fail(format!("{path}: {e}")))?;
    let (snmp, dev) = std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns: {e}"))?;
            let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
            Ok::<_, String>((read("/proc/thread-self/net/snmp")?, read("/proc/thread-self/net/dev")?))
        })
        .join()
        .unwrap_or_else(|_| Err("the reading thread panicked".into()))
    })
    .map_err(fail)?;
    let mut raw = parse_snmp(&snmp);
    raw.extend(parse_dev(&dev, "eth0"));
    Ok(raw)
}

/// `/proc/net/snmp`: each protocol's line of names, then its line of values, as `Proto.Name`.
fn parse_snmp(text: &str) -> Raw {
    let mut out = Raw::new();
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.chunks(2) {
        let [names, values] = pair else { continue };
        let (Some((proto, names)), Some((_, values))) = (names.split_once(':'), values.split_once(':')) else {
            continue;
        };
        for (n, v) in names.split_whitespace().zip(values.split_whitespace()) {
            if let Ok(v) = v.parse::<u64>() {
                out.insert(format!("{proto}.{n}"), v);
            }
        }
    }
    out
}

/// `/proc/net/dev`'s line for `device`: its received and sent bytes and packets.
fn parse_dev(text: &str, device: &str) -> Raw {
    let mut out = Raw::new();
    let Some(fields) = text.lines().find_map(|l| {
        let (name, rest) = l.split_once(':')?;
        (name.trim() == device)
            .then(|| rest.split_whitespace().filter_map(|v| v.parse::<u64>().ok()).collect::<Vec<_>>())
    }) else {
        return out;
    };
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets …
    for (name, at) in [("rx_bytes", 0), ("rx_packets", 1), ("tx_bytes", 8), ("tx_packets", 9)] {
        if let Some(v) = fields.get(at) {
            out.insert(format!("{device}.{name}"), *v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNMP: &str = "Ip: Forwarding DefaultTTL InReceives ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates\n\
                        Ip: 1 64 50000 3 45068 24 42147 7 0 315\n\
                        Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n\
                        Udp: 1008 0 362 12 362 0\n";

    #[test]
    fn snmp_and_dev_are_read_by_name() {
        let raw = parse_snmp(SNMP);
        assert_eq!(raw["Ip.ReasmFails"], 42147);
        assert_eq!(raw["Ip.FragCreates"], 315);
        assert_eq!(raw["Udp.RcvbufErrors"], 362);
        assert_eq!(raw["Udp.OutDatagrams"], 12);
        let dev = "Inter-|   Receive                            |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n";
        let raw = parse_dev(dev, "eth0");
        assert_eq!(
            (raw["eth0.rx_bytes"], raw["eth0.rx_packets"], raw["eth0.tx_bytes"], raw["eth0.tx_packets"]),
            (1000, 10, 2000, 20)
        );
        assert!(parse_dev(dev, "eth1").is_empty());
    }

    #[test]
    fn each_nodes_link_is_counted_where_its_frames_queue() {
        let sets = link_rulesets(&Topology::two_empty_nodes("x"));
        assert_eq!(sets.len(), 3);
        assert_eq!(sets[1].0, "chh-x-n1");
        assert!(
            sets[1].1.contains(
                "chain out_hook { type filter hook egress device \"eth0\" priority -100; counter name \"out\"; }"
            ),
            "{}",
            sets[1].1
        );
        assert_eq!(sets[2].0, "chh-x-u");
        assert!(sets[2].1.contains("hook egress device \"n1\" priority -100; counter name \"to_n1\""), "{}", sets[2].1);
    }
}
