//! What the kernel counted in each namespace over the trials (see
//! [`KernelCounters`](crate::backend::KernelCounters)), as one compact table: only the
//! namespaces where something happened — IP fragments made or reassembled, reassembly
//! failures, UDP datagrams dropped — and the nodes whose link has a rate cap, with what was
//! offered to it against the cap.

use super::table::Table;
use crate::backend::KernelCounters;
use crate::summary::RunReport;

/// One row per namespace where something happened, summed over the complete trials; `None`
/// where nothing did (or the backend read nothing).
pub fn kernel_table(r: &RunReport) -> Option<Table> {
    let mut per: Vec<KernelCounters> = Vec::new();
    for k in r.complete().flat_map(|t| &t.kernel) {
        match per.iter_mut().find(|s| s.node == k.node && s.pod == k.pod) {
            Some(s) => add(s, k),
            None => per.push(k.clone()),
        }
    }
    let mut t = Table::new(
        "Kernel counters per namespace, summed over the trials (only where something happened): IP fragments \
         made, reassembly at the receiver, UDP datagrams dropped, and what was offered to a capped node link",
        [
            ("where", false),
            ("fragments made (FragCreates)", true),
            ("reassembled / failed (ReasmOKs / ReasmFails)", true),
            ("UDP errors (InErrors, RcvbufErrors, SndbufErrors)", true),
            ("offered out / cap (Mbit/s)", true),
            ("offered in / cap (Mbit/s)", true),
        ],
    );
    for k in per.iter().filter(|k| interesting(k)) {
        let (ip, udp) = (k.ip, k.udp);
        let link = |out: bool| {
            k.link.map_or("–".to_owned(), |l| {
                let (c, cap) = if out { (l.out, l.cap_out_kbit) } else { (l.into, l.cap_in_kbit) };
                let cap = cap.map_or("none".to_owned(), |c| format!("{}", c as f64 / 1000.0));
                format!("{:.1} / {cap}", k.mbit_per_s(c.bytes))
            })
        };
        t.rows.push(vec![
            k.place(),
            ip.frag_creates.to_string(),
            format!("{} / {}", ip.reasm_oks, ip.reasm_fails),
            format!("{}, {}, {}", udp.in_errors, udp.rcvbuf_errors, udp.sndbuf_errors),
            link(true),
            link(false),
        ]);
    }
    (!t.rows.is_empty()).then_some(t)
}

/// Something worth a row: fragments, reassembly, UDP errors, or a capped link.
fn interesting(k: &KernelCounters) -> bool {
    let (ip, udp) = (k.ip, k.udp);
    ip.frag_creates + ip.reasm_reqds + ip.reasm_fails + udp.in_errors + udp.rcvbuf_errors + udp.sndbuf_errors > 0
        || k.link.is_some_and(|l| l.cap_out_kbit.is_some() || l.cap_in_kbit.is_some())
}

/// Adds `k`'s counts (and time) to `s`.
fn add(s: &mut KernelCounters, k: &KernelCounters) {
    s.ms += k.ms;
    let (a, b) = (&mut s.ip, k.ip);
    a.reasm_reqds += b.reasm_reqds;
    a.reasm_oks += b.reasm_oks;
    a.reasm_fails += b.reasm_fails;
    a.reasm_timeout += b.reasm_timeout;
    a.frag_oks += b.frag_oks;
    a.frag_fails += b.frag_fails;
    a.frag_creates += b.frag_creates;
    let (a, b) = (&mut s.udp, k.udp);
    a.in_datagrams += b.in_datagrams;
    a.out_datagrams += b.out_datagrams;
    a.in_errors += b.in_errors;
    a.rcvbuf_errors += b.rcvbuf_errors;
    a.sndbuf_errors += b.sndbuf_errors;
    s.eth0_rx += k.eth0_rx;
    s.eth0_tx += k.eth0_tx;
    if let (Some(a), Some(b)) = (&mut s.link, k.link) {
        a.out += b.out;
        a.into += b.into;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture;
    use crate::backend::{Counted, IpCounters, LinkOffered, UdpCounters};

    #[test]
    fn only_namespaces_where_something_happened_summed_over_trials() {
        let mut r = fixture::report();
        assert!(kernel_table(&r).is_none(), "nothing counted, no table");
        let quiet = KernelCounters { node: "master".into(), ms: 4000, ..Default::default() };
        let listener = KernelCounters {
            node: "pi".into(),
            pod: Some("cam-listener".into()),
            ms: 4000,
            ip: IpCounters { reasm_reqds: 450, reasm_oks: 8, reasm_fails: 400, ..Default::default() },
            udp: UdpCounters { rcvbuf_errors: 3, ..Default::default() },
            ..Default::default()
        };
        let link = LinkOffered {
            out: Counted { packets: 10, bytes: 10_000_000 },
            cap_out_kbit: Some(10_000),
            ..Default::default()
        };
        let pi = KernelCounters { node: "pi".into(), ms: 4000, link: Some(link), ..Default::default() };
        let complete: Vec<usize> = (0..r.trials.len()).filter(|&i| !r.trials[i].meta.interrupted).take(2).collect();
        for &i in &complete {
            r.trials[i].kernel = vec![quiet.clone(), listener.clone(), pi.clone()];
        }
        let t = kernel_table(&r).expect("a table");
        let n = complete.len() as u64;
        assert_eq!(t.rows.len(), 2, "the quiet namespace has no row: {:?}", t.rows);
        assert_eq!(t.rows[0][0], "pod cam-listener on pi");
        assert_eq!(t.rows[0][2], format!("{} / {}", 8 * n, 400 * n));
        assert_eq!(t.rows[0][3], format!("0, {}, 0", 3 * n));
        assert_eq!(t.rows[1][0], "node pi (host network)");
        assert_eq!(t.rows[1][4], "20.0 / 10", "10 MB per 4 s is 20 Mbit/s, against 10");
        assert_eq!(t.rows[1][5], "0.0 / none");
    }
}
