//! The doctor's large-datagram burst: from one node's probe pod to another's, a burst of
//! [`BURST`] UDP datagrams of [`BURST_BYTES`] bytes (45 IP fragments each at MTU 1450), sent
//! and received by threads that enter the two pods' network namespaces, and what the
//! receiver's kernel counted of reassembly meanwhile (`/proc/net/snmp`): how a node pair's link
//! treats a 64 KiB datagram, as Fast DDS sends them, before any run.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::commands::setup_err;
use super::kernel::read_ns;
use crate::backend::BackendError;
use crate::doctor::LargeDatagrams;

/// Datagrams per burst: enough that lost fragments fill the receiver's reassembly memory as a
/// sensor stream would, few enough to take a fraction of a second.
pub(super) const BURST: u32 = 100;
/// A 64 KiB datagram's payload, as the probes send it.
pub(super) const BURST_BYTES: usize = 65_000;
/// Between two datagrams (~260 Mbit/s): faster than any link the doctor simulates needs, slow
/// enough that the receiving thread keeps up (its socket buffer is not what is measured).
const PACE: Duration = Duration::from_millis(2);
/// Silence after the last datagram that ends the receiver's wait.
const QUIET: Duration = Duration::from_millis(500);

/// Sends the burst from namespace `from_ns` to `to_addr` in `to_ns`, counting what arrives
/// whole and what the receiver's kernel counted. Blocking.
pub(super) fn burst(
    from: &str,
    to: &str,
    from_ns: &str,
    to_ns: &str,
    to_addr: &str,
) -> Result<LargeDatagrams, BackendError> {
    let fail = |e: String| setup_err(&format!("large-datagram burst {from} → {to}"), e);
    let enter = |ns: &str| -> Result<(), String> {
        let file = std::fs::File::open(format!("/run/netns/{ns}")).map_err(|e| format!("{ns}: {e}"))?;
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns {ns}: {e}"))
    };
    let before = read_ns(to_ns)?;
    let done = AtomicBool::new(false);
    let received = std::thread::scope(|s| -> Result<u32, String> {
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (done, enter) = (&done, &enter);
        let receiver = s.spawn(move || -> Result<u32, String> {
            enter(to_ns)?;
            let sock = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
            let _ = port_tx.send(sock.local_addr().map_err(|e| e.to_string())?.port());
            sock.set_read_timeout(Some(QUIET)).map_err(|e| e.to_string())?;
            let (mut buf, mut whole) = (vec![0u8; BURST_BYTES + 1], 0);
            loop {
                match sock.recv(&mut buf) {
                    Ok(n) => whole += u32::from(n == BURST_BYTES),
                    Err(_) if done.load(Ordering::SeqCst) => return Ok(whole),
                    Err(_) => {}
                }
            }
        });
        let port = port_rx.recv().map_err(|_| "the receiver did not start".to_owned())?;
        let sender = s.spawn(move || -> Result<(), String> {
            enter(from_ns)?;
            let sock = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
            let data = vec![0x5a_u8; BURST_BYTES];
            for _ in 0..BURST {
                sock.send_to(&data, (to_addr, port)).map_err(|e| e.to_string())?;
                std::thread::sleep(PACE);
            }
            Ok(())
        });
        let sent = sender.join().unwrap_or_else(|_| Err("the sender panicked".into()));
        done.store(true, Ordering::SeqCst);
        let got = receiver.join().unwrap_or_else(|_| Err("the receiver panicked".into()));
        sent.and(got)
    })
    .map_err(fail)?;
    let after = read_ns(to_ns)?;
    let d = |k: &str| after.get(k).copied().unwrap_or(0).saturating_sub(before.get(k).copied().unwrap_or(0));
    Ok(LargeDatagrams {
        from: from.to_owned(),
        to: to.to_owned(),
        bytes: BURST_BYTES as u32,
        sent: BURST,
        received,
        reassembled: d("Ip.ReasmOKs"),
        fragments: d("Ip.ReasmReqds"),
        reasm_fails: d("Ip.ReasmFails"),
        rcvbuf_errors: d("Udp.RcvbufErrors"),
    })
}
