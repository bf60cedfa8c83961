//! `fragment-loss`: a pair that matched lost large samples, because a large sample crosses the
//! link as many frames and is lost when any one of them is — IP fragments of a 64 KiB datagram
//! (the receiver's reassembly fails: `ReasmFails`), or the DDS's own fragments (RTPS
//! `DATA_FRAG`, each in a datagram under the MTU). It fires where small samples on the same path
//! arrive while large ones do not, or where reassembly failed in the listener's namespace.
//! Discovery worked (its messages are small), so this is never `no-discovery-across-nodes`.

use super::kernel::{data_reached_listener, listener_ns, lost_some, matched, talker_ns};
use crate::analysis::trial::PairReport;
use crate::analysis::Delivery;
use crate::diagnosis::{Context, FaultCheck, Finding, Severity};
use crate::spec::FaultSpec;

/// How much less of the large samples than of the small ones must arrive to blame the frames
/// (a sample of 200 frames at 2 % frame loss arrives 2 % of the time; one frame 98 %).
const FAR_WORSE: f64 = 0.2;

pub fn fragment_loss(c: &Context<'_>) -> Option<Finding> {
    if !lost_some(c) || !matched(c) {
        return None;
    }
    let fits = c.setting.fits_a_frame(&c.pair.talker);
    if fits == Some(true) {
        return None;
    }
    let (reasm_fails, rcvbuf_errors) = listener_ns(c).map_or((0, 0), |k| (k.ip.reasm_fails, k.udp.rcvbuf_errors));
    let small = small_on_the_same_path(c);
    // Without failed reassembly, only a large sample far worse off than a small one on the
    // same path says frames were lost on it — and not where the listener's socket buffer
    // overflowed, which loses large samples too (`receive-buffer-overrun` says so).
    if reasm_fails == 0 && (fits.is_none() || small.is_none() || rcvbuf_errors > 0) {
        return None;
    }
    let mut f = Finding::new(
        "fragment-loss",
        Severity::Failure,
        "large samples lost to fragment loss: each crosses the link as many frames (IP fragments or the DDS's own \
         fragments) and is lost when any one of them is, while discovery and small samples get through",
        "make a lost frame cost one frame, not the sample: keep every RTPS message in one frame, so the DDS \
         fragments samples itself and a reliable reader asks again for the fragments it lost (Fast DDS: a profile \
         whose UDP transport's maxMessageSize fits the pod MTU — on scenarios/seed-camera.yaml the least invasive \
         variant of `harness matrix` that delivered the images), with reliable QoS; or fix the lossy link. Best \
         effort cannot recover a lost fragment. Where reassembly failed far more often than queues timed out, more \
         reassembly memory held for less time in the receiving pod (ipfrag_high_thresh, ipfrag_time: unsafe \
         sysctls the kubelet must allow) lets a reliable writer's retransmissions through (`harness matrix`'s \
         fragment-sysctls, slower: p50 220 ms against 60 ms there); FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA sends \
         data over TCP but, measured there, lost discovery through ROS_STATIC_PEERS across nodes: `harness \
         matrix` measures each on your layout",
    )
    .pair(c.pair.name())
    .trial(c.trial.meta.trial)
    .evidence(format!(
        "trial {}: {} received {} of {} samples from {}, whose samples are {}",
        c.trial.meta.trial,
        c.pair.listener,
        c.pair.received,
        c.pair.expected,
        c.pair.talker,
        c.setting.payload_words(&c.pair.talker)
    ))
    .evidence(receiver_words(c, reasm_fails))
    .fault(frame_fault(c, reasm_fails));
    if let Some(words) = sender_words(c) {
        f = f.evidence(words);
    }
    if c.pair.listener_matched.is_none() && data_reached_listener(c) {
        f = f.evidence(format!(
            "trial {}: per-pair discovery is not observable for {} (stock nodes print nothing about it), but the talker's \
             fragments reached the listener's namespace, and a DDS writer sends data only to readers it matched: \
             discovery worked",
            c.trial.meta.trial,
            c.pair.name()
        ));
    }
    if let Some(s) = small {
        f = f.evidence(format!(
            "trial {}: meanwhile {} on the same path, with samples {}, delivered {} of {}",
            c.trial.meta.trial,
            s.name(),
            c.setting.payload_words(&s.talker),
            s.received,
            s.expected
        ));
    }
    Some(f)
}

/// A pair in the same trial from the talker's node to this listener whose samples fit a frame
/// and that delivered (all but a few).
fn small_on_the_same_path<'a>(c: &Context<'a>) -> Option<&'a PairReport> {
    c.trial.pairs.iter().find(|p| {
        p.listener == c.pair.listener
            && p.talker != c.pair.talker
            && p.talker_node == c.pair.talker_node
            && c.setting.fits_a_frame(&p.talker) == Some(true)
            && p.delivery != Delivery::None
            && p.ratio() > c.pair.ratio() + FAR_WORSE
    })
}

/// What the listener's namespace counted of reassembly.
fn receiver_words(c: &Context<'_>, reasm_fails: u64) -> String {
    let Some(k) = listener_ns(c) else {
        return format!("no kernel counters for {}'s namespace (the backend does not read them)", c.pair.listener);
    };
    let ip = k.ip;
    if ip.reasm_reqds == 0 && reasm_fails == 0 {
        let sent = c.pair.talker_node.as_ref().and_then(|n| c.trial.traffic.iter().find(|t| t.node == *n));
        let mean = sent.filter(|t| t.data_sent.packets > 0).map_or(String::new(), |t| {
            format!(
                " (node {}'s processes sent their data in datagrams of {} bytes on average)",
                t.node,
                t.data_sent.bytes / t.data_sent.packets
            )
        });
        return format!(
            "in {}'s namespace ({}) nothing needed IP reassembly: the DDS split each sample into datagrams that fit \
             the MTU itself{mean}, so one lost frame loses a fragment it must have to rebuild the sample",
            c.pair.listener,
            k.place(),
        );
    }
    let mut words = format!(
        "in {}'s namespace ({}) IP reassembly failed {} times (ReasmFails; {} timed out), {} datagrams reassembled \
         from {} fragments received (ReasmOKs, ReasmReqds)",
        c.pair.listener,
        k.place(),
        ip.reasm_fails,
        ip.reasm_timeout,
        ip.reasm_oks,
        ip.reasm_reqds
    );
    // The kernel counts one failure per queue that times out, and one per fragment it refuses
    // while its reassembly memory is over ipfrag_high_thresh.
    if ip.reasm_fails > 2 * ip.reasm_timeout.max(1) {
        words.push_str(
            "; most failures are not timeouts but fragments refused, as when the namespace's reassembly memory \
             (ipfrag_high_thresh) is full of incomplete datagrams that each wait ipfrag_time for a fragment lost on \
             the wire",
        );
    }
    words
}

/// What the talker's namespace counted of fragmentation, where it fragmented anything.
fn sender_words(c: &Context<'_>) -> Option<String> {
    let k = talker_ns(c)?;
    (k.ip.frag_oks > 0).then(|| {
        format!(
            "in {}'s namespace ({}) the kernel split {} datagrams into {} IP fragments (FragOKs, FragCreates)",
            c.pair.talker,
            k.place(),
            k.ip.frag_oks,
            k.ip.frag_creates
        )
    })
}

/// The injected loss or cap on this pair's link that loses its frames, if any: frames into the
/// listener's node, or out of the talker's. Frame loss first: where a link has both, a cap
/// explains itself (`link-saturated`), and the loss would otherwise be reported as unseen.
fn frame_fault(c: &Context<'_>, reasm_fails: u64) -> Option<FaultCheck> {
    let (tn, ln) = (c.pair.talker_node.as_deref()?, c.pair.listener_node.as_deref()?);
    if tn == ln {
        return None;
    }
    let caps = |f: &&FaultSpec| f.cap_mbit(ln, false).is_some() || f.cap_mbit(tn, true).is_some();
    let lost = c.setting.frame_losses(tn, ln).into_iter().next();
    lost.or_else(|| c.setting.faults.iter().find(caps)).map(|f| FaultCheck {
        injected: f.describe(),
        observed: format!(
            "{} received {} of {} large samples; {reasm_fails} reassembly failures at the listener",
            c.pair.name(),
            c.pair.received,
            c.pair.expected
        ),
        matches: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{IpCounters, KernelCounters};
    use crate::diagnosis::rules::test_support::{pair, setting, silent_rule, trial};
    use crate::spec::{Direction, FaultNumber};

    /// A camera (256 KiB samples) and a chatter talker on the master, a listener pod on the
    /// Pi that matched both; the camera's samples all lost, the chatter's all heard.
    fn camera_and_chatter(reasm_fails: u64) -> (crate::analysis::trial::TrialReport, crate::diagnosis::Setting) {
        let mut cam = pair("cam.talker", "master", "l.listener", "pi", 0);
        (cam.listener_matched, cam.talker_matched) = (Some(true), Some(true));
        let mut t = trial(vec![cam, pair("chat.talker", "master", "l.listener", "pi", 30)]);
        t.kernel.push(KernelCounters {
            node: "pi".into(),
            pod: Some("l".into()),
            ms: 4000,
            ip: IpCounters { reasm_reqds: 4500, reasm_oks: 2, reasm_fails, ..Default::default() },
            ..Default::default()
        });
        let mut s = setting();
        s.payload_bytes.insert("cam.talker".into(), 262_144);
        s.payload_bytes.insert("chat.talker".into(), 0);
        (t, s)
    }

    #[test]
    fn large_samples_lost_where_small_ones_arrive_are_fragment_loss_not_discovery() {
        let (t, mut s) = camera_and_chatter(4200);
        assert_eq!(silent_rule(&t, &s).as_deref(), Some("fragment-loss"));
        let hit = fragment_loss(&Context::new(&t.pairs[0], &t, &s)).expect("fires");
        let ev = hit.evidence.join("\n");
        assert!(ev.contains("whose samples are 262144 bytes (payloadBytes)"), "{ev}");
        assert!(ev.contains("IP reassembly failed 4200 times (ReasmFails"), "{ev}");
        assert!(ev.contains("most failures are not timeouts but fragments refused"), "{ev}");
        let mut timed_out = t.clone();
        timed_out.kernel[0].ip.reasm_timeout = 4200;
        let hit = fragment_loss(&Context::new(&timed_out.pairs[0], &timed_out, &s)).expect("fires");
        assert!(!hit.evidence.join("\n").contains("fragments refused"), "{:?}", hit.evidence);
        assert!(ev.contains("meanwhile chat.talker → l.listener on the same path"), "{ev}");
        assert!(hit.fault.is_none());
        s.faults.push(FaultSpec::Loss { node: "pi".into(), percent: FaultNumber(2.0), direction: Direction::In });
        let hit = fragment_loss(&Context::new(&t.pairs[0], &t, &s)).expect("fires");
        assert!(hit.fault.expect("the loss into the Pi").matches);
        // A cap on the same link, listed first: the frame loss is still the one named (the cap
        // has link-saturated), so fault-not-observed does not call the loss unseen.
        s.faults
            .insert(0, FaultSpec::Bandwidth { node: "pi".into(), mbit: FaultNumber(25.0), direction: Direction::Both });
        let hit = fragment_loss(&Context::new(&t.pairs[0], &t, &s)).expect("fires");
        let named = hit.fault.expect("a fault on the path").injected;
        assert!(named.contains("frame loss"), "{named}");
        let unseen: Vec<String> = crate::diagnosis::diagnose(&[&t], &[], &s)
            .into_iter()
            .filter(|f| f.rule == "fault-not-observed")
            .map(|f| f.cause)
            .collect();
        assert!(!unseen.iter().any(|c| c.contains("frame loss")), "{unseen:?}");
        // Small samples lost are not fragment loss; neither is a pair that never matched.
        assert!(fragment_loss(&Context::new(&t.pairs[1], &t, &s)).is_none());
        // One sample of thirty arrived whole: the other 29 lie before or after it, none "between".
        let mut one = t.clone();
        (one.pairs[0].received, one.pairs[0].lost_in_gaps) = (1, 0);
        one.pairs[0].delivery = Delivery::Partial;
        assert!(fragment_loss(&Context::new(&one.pairs[0], &one, &s)).is_some());
        let mut unmatched = t.clone();
        unmatched.pairs[0].listener_matched = Some(false);
        assert!(fragment_loss(&Context::new(&unmatched.pairs[0], &unmatched, &s)).is_none());
    }

    /// Stock nodes print nothing about discovery: a camera's fragments failing reassembly in
    /// the viewer's namespace say the writer matched it — fragment loss, not `no-discovery`.
    #[test]
    fn stock_nodes_whose_fragments_reach_the_listener_discovered_each_other() {
        let (mut t, s) = camera_and_chatter(211_854);
        (t.pairs[0].listener_matched, t.pairs[0].talker_matched) = (None, None);
        t.talkers.iter_mut().for_each(|x| x.node.max_peers = 0);
        t.listeners.iter_mut().for_each(|x| x.node.max_peers = 0);
        t.kernel[0].udp.rcvbuf_errors = 1;
        assert_eq!(silent_rule(&t, &s).as_deref(), Some("fragment-loss"));
        let hit = fragment_loss(&Context::new(&t.pairs[0], &t, &s)).expect("fires");
        let ev = hit.evidence.join("\n");
        assert!(ev.contains("per-pair discovery is not observable for cam.talker → l.listener"), "{ev}");
        assert!(ev.contains("IP reassembly failed 211854 times"), "{ev}");
        // Nothing reached the listener's namespace: discovery is not shown, so nothing is said.
        t.kernel[0].ip = IpCounters::default();
        t.pairs.truncate(1);
        assert!(fragment_loss(&Context::new(&t.pairs[0], &t, &s)).is_none());
    }

    #[test]
    fn without_reassembly_the_dds_fragments_and_a_small_reference_decides() {
        // RustDDS sends a 256 KiB sample as RTPS fragments under the MTU: no reassembly.
        let (mut t, s) = camera_and_chatter(0);
        t.kernel[0].ip = IpCounters::default();
        let hit = fragment_loss(&Context::new(&t.pairs[0], &t, &s)).expect("the chatter pair arrives");
        assert!(hit.evidence.join("\n").contains("nothing needed IP reassembly"), "{:?}", hit.evidence);
        t.traffic.push(crate::backend::NodeTraffic {
            node: "master".into(),
            ms: 4000,
            discovery_sent: Default::default(),
            discovery_received: Default::default(),
            data_sent: crate::backend::Counted { packets: 6337, bytes: 8_481_238 },
            data_received: Default::default(),
        });
        let hit = fragment_loss(&Context::new(&t.pairs[0], &t, &s)).expect("fires");
        assert!(hit.evidence.join("\n").contains("in datagrams of 1338 bytes on average"), "{:?}", hit.evidence);
        // Where the listener's socket buffer overflowed, that explains it instead.
        t.kernel[0].udp.rcvbuf_errors = 114;
        assert!(fragment_loss(&Context::new(&t.pairs[0], &t, &s)).is_none());
        t.kernel[0].udp.rcvbuf_errors = 0;
        // A large sample hardly worse off than the small ones is no sign of lost frames.
        t.pairs[0].received = 29;
        t.pairs[0].lost_in_gaps = 1;
        assert!(fragment_loss(&Context::new(&t.pairs[0], &t, &s)).is_none());
        // No small pair to compare with, no reassembly failure: nothing to say.
        t.pairs[0].received = 0;
        t.pairs.truncate(1);
        assert!(fragment_loss(&Context::new(&t.pairs[0], &t, &s)).is_none());
    }

    #[test]
    fn an_unknown_size_is_said_not_guessed() {
        let (t, mut s) = camera_and_chatter(4200);
        s.payload_bytes.remove("cam.talker");
        let hit = fragment_loss(&Context::new(&t.pairs[0], &t, &s)).expect("reassembly failed");
        assert!(hit.evidence[0].contains("of a size not known"), "{:?}", hit.evidence);
    }
}
