//! Network and clock probes between nodes, for `harness doctor`: can the packets DDS needs
//! cross, and how far apart are the node clocks? A responder on every node answers; a prober on
//! every node sends, per target, small and large unicast datagrams to the domain's DDS ports and
//! SPDP multicast to 239.255.0.1, and counts the answers. Clock offsets come from the small
//! unicast exchanges, NTP-style (four timestamps, the median of N, uncertainty = RTT/2).
//!
//! Plain UDP from the standard library: the probe is a mode of the node binary
//! (`talker probe serve|send …`), so the same images and the same qemu path serve it.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The SPDP multicast group.
pub const SPDP_GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 0, 1);

/// DDS's well-known ports for `domain` (RTPS 2.x mapping, participant 0): SPDP multicast
/// (7400 + 250·d), metatraffic unicast (+10), user unicast (+11).
pub fn ports(domain: u16) -> (u16, u16, u16) {
    let base = 7400 + 250 * domain;
    (base, base + 10, base + 11)
}

/// The datagram sizes probed: small, one full 1500-byte-MTU frame, a jumbo frame (fragmented
/// at 1500), and 64 KiB (always fragmented).
pub const SIZES: [usize; 4] = [64, 1472, 8972, 65000];

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Request {
    k: String,
    id: u64,
    t1: u64,
    from: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Reply {
    id: u64,
    t1: u64,
    t2: u64,
    t3: u64,
    node: String,
    size: usize,
}

/// A probe datagram of `size` bytes: a JSON header line, then padding.
fn datagram(req: &Request, size: usize) -> Vec<u8> {
    let mut d = serde_json::to_vec(req).unwrap_or_default();
    d.push(b'\n');
    if d.len() < size {
        d.resize(size, b' ');
    }
    d
}

fn header(buf: &[u8]) -> Option<Request> {
    let end = buf.iter().position(|b| *b == b'\n').unwrap_or(buf.len());
    serde_json::from_slice(&buf[..end]).ok()
}

/// Answers probes on the domain's three ports until `until` returns true (checked at least
/// every 200 ms). Replies go back, unicast, to the sender.
pub fn serve(node: &str, domain: u16, until: impl Fn() -> bool + Sync) -> std::io::Result<()> {
    let (spdp, meta, user) = ports(domain);
    let mc = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, spdp))?;
    mc.join_multicast_v4(&SPDP_GROUP, &Ipv4Addr::UNSPECIFIED)?;
    let sockets =
        [mc, UdpSocket::bind((Ipv4Addr::UNSPECIFIED, meta))?, UdpSocket::bind((Ipv4Addr::UNSPECIFIED, user))?];
    for s in &sockets {
        s.set_read_timeout(Some(Duration::from_millis(200)))?;
    }
    std::thread::scope(|scope| {
        for s in &sockets {
            let until = &until;
            scope.spawn(move || {
                let mut buf = vec![0u8; 70_000];
                while !until() {
                    let Ok((n, from)) = s.recv_from(&mut buf) else { continue };
                    let t2 = crate::now_ns();
                    // Our own multicast comes back to us: not an answer to give.
                    let Some(req) = header(&buf[..n]).filter(|r| r.from != node) else { continue };
                    let reply =
                        Reply { id: req.id, t1: req.t1, t2, t3: crate::now_ns(), node: node.to_owned(), size: n };
                    let _ = s.send_to(&serde_json::to_vec(&reply).unwrap_or_default(), from);
                }
            });
        }
    });
    Ok(())
}

/// One kind of probe from one node to one target: how many of `sent` were answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeCount {
    pub kind: String,
    pub to: String,
    pub sent: u32,
    pub answered: u32,
}

/// A clock offset of `node` against the prober: its clock minus ours, ns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockOffset {
    pub node: String,
    pub offset_ns: i64,
    /// Half the median round trip: the offset is known to within this.
    pub uncertainty_ns: u64,
    pub samples: u32,
}

/// What one prober found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    pub from: String,
    pub counts: Vec<ProbeCount>,
    pub clocks: Vec<ClockOffset>,
}

/// Probes every target (node name → address) `n` times per kind: unicast of every size in
/// [`SIZES`] to the metatraffic port, and SPDP multicast (answered by every responder that
/// receives it). Waits `settle` after the last send for late answers.
pub fn probe(
    node: &str,
    domain: u16,
    targets: &BTreeMap<String, Ipv4Addr>,
    n: u32,
    settle: Duration,
) -> std::io::Result<ProbeReport> {
    let (spdp, meta, _) = ports(domain);
    let sock = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
    sock.set_multicast_ttl_v4(4)?;
    // Every probe has its own id, the clock exchanges' too, so no answer is taken for another's.
    let mut next_id = 0u64;
    let asked = send_probes(&sock, node, targets, n, (spdp, meta), &mut next_id);
    let answered = collect_answers(&sock, &asked, settle)?;
    let rtts = exchange_clocks(&sock, node, targets, n, meta, &mut next_id)?;
    let mut counts = Vec::new();
    for name in targets.keys() {
        for kind in SIZES.iter().map(|s| format!("unicast-{s}")).chain(["multicast".to_owned()]) {
            let got = answered.get(&(kind.clone(), name.clone())).copied().unwrap_or(0);
            counts.push(ProbeCount { kind, to: name.clone(), sent: n, answered: got.min(n) });
        }
    }
    let clocks = rtts.into_iter().map(|(node, samples)| clock_offset(node, samples)).collect();
    Ok(ProbeReport { from: node.to_owned(), counts, clocks })
}

/// Sends `n` rounds of probes: unicast of every size to each target's metatraffic port `meta`,
/// and one SPDP multicast to port `spdp`. Returns what each id asked: id → (kind, target, or
/// "*" for multicast).
fn send_probes(
    sock: &UdpSocket,
    node: &str,
    targets: &BTreeMap<String, Ipv4Addr>,
    n: u32,
    (spdp, meta): (u16, u16),
    next_id: &mut u64,
) -> BTreeMap<u64, (String, String)> {
    let mut asked: BTreeMap<u64, (String, String)> = BTreeMap::new();
    let mut send = |kind: &str, to: &str, addr: SocketAddr, size: usize| {
        *next_id += 1;
        let req = Request { k: "probe".into(), id: *next_id, t1: crate::now_ns(), from: node.to_owned() };
        asked.insert(*next_id, (kind.to_owned(), to.to_owned()));
        let _ = sock.send_to(&datagram(&req, size), addr);
    };
    for _ in 0..n {
        for (name, ip) in targets {
            for size in SIZES {
                send(&format!("unicast-{size}"), name, SocketAddr::from((*ip, meta)), size);
            }
        }
        send("multicast", "*", SocketAddr::from((SPDP_GROUP, spdp)), 64);
        std::thread::sleep(Duration::from_millis(10)); // pacing, so a burst does not overflow buffers
    }
    asked
}

/// Counts the answers to `asked` that arrive within `settle`: (kind, answering node) → answers.
fn collect_answers(
    sock: &UdpSocket,
    asked: &BTreeMap<u64, (String, String)>,
    settle: Duration,
) -> std::io::Result<BTreeMap<(String, String), u32>> {
    let mut answered: BTreeMap<(String, String), u32> = BTreeMap::new();
    let mut buf = vec![0u8; 4096];
    let end = Instant::now() + settle;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        sock.set_read_timeout(Some(left))?;
        let Ok((len, _)) = sock.recv_from(&mut buf) else { break };
        let Ok(reply) = serde_json::from_slice::<Reply>(&buf[..len]) else { continue };
        let Some((kind, to)) = asked.get(&reply.id) else { continue };
        let to = if to == "*" { reply.node.clone() } else { to.clone() };
        *answered.entry((kind.clone(), to)).or_default() += 1;
    }
    Ok(answered)
}

/// `n` NTP-style exchanges with each target, one at a time, so each answer is stamped the
/// moment it arrives: target → (round trip, offset) samples, ns.
fn exchange_clocks(
    sock: &UdpSocket,
    node: &str,
    targets: &BTreeMap<String, Ipv4Addr>,
    n: u32,
    meta: u16,
    next_id: &mut u64,
) -> std::io::Result<BTreeMap<String, Vec<(u64, i64)>>> {
    let mut buf = vec![0u8; 4096];
    let mut rtts: BTreeMap<String, Vec<(u64, i64)>> = BTreeMap::new();
    for (name, ip) in targets {
        for _ in 0..n {
            *next_id += 1;
            let id = *next_id;
            let req = Request { k: "probe".into(), id, t1: crate::now_ns(), from: node.to_owned() };
            sock.send_to(&datagram(&req, 64), SocketAddr::from((*ip, meta)))?;
            let end = Instant::now() + Duration::from_millis(300);
            while let Some(left) = end.checked_duration_since(Instant::now()).filter(|l| !l.is_zero()) {
                sock.set_read_timeout(Some(left))?;
                let Ok((len, _)) = sock.recv_from(&mut buf) else { break };
                let t4 = crate::now_ns();
                let Ok(reply) = serde_json::from_slice::<Reply>(&buf[..len]) else { continue };
                if reply.id != id {
                    continue; // a late answer to an earlier probe
                }
                let rtt = (t4.saturating_sub(reply.t1)).saturating_sub(reply.t3.saturating_sub(reply.t2));
                let offset =
                    ((i128::from(reply.t2) - i128::from(reply.t1)) + (i128::from(reply.t3) - i128::from(t4))) / 2;
                rtts.entry(name.clone()).or_default().push((rtt, i64::try_from(offset).unwrap_or(0)));
                break;
            }
        }
    }
    Ok(rtts)
}

/// `node`'s clock offset from its (round trip, offset) samples: the median offset, known to
/// within half the median round trip.
fn clock_offset(node: String, mut samples: Vec<(u64, i64)>) -> ClockOffset {
    samples.sort_unstable_by_key(|(rtt, _)| *rtt);
    let mid = samples[samples.len() / 2];
    let mut offsets: Vec<i64> = samples.iter().map(|(_, o)| *o).collect();
    offsets.sort_unstable();
    ClockOffset {
        node,
        offset_ns: offsets[offsets.len() / 2],
        uncertainty_ns: mid.0 / 2,
        samples: u32::try_from(samples.len()).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dds_ports_follow_the_domain() {
        assert_eq!(ports(0), (7400, 7410, 7411));
        assert_eq!(ports(3), (8150, 8160, 8161));
    }

    #[test]
    fn datagrams_carry_their_header_and_size() {
        let req = Request { k: "probe".into(), id: 7, t1: 9, from: "pi".into() };
        for size in SIZES {
            let d = datagram(&req, size);
            assert_eq!(d.len(), size);
            assert_eq!(header(&d).map(|r| (r.id, r.from)), Some((7, "pi".to_owned())));
        }
        assert!(header(b"garbage").is_none());
    }
}
