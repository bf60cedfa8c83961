//! `receive-buffer-overrun`: the kernel dropped datagrams for the listener because its socket's
//! receive buffer was full (`Udp: RcvbufErrors` in the listener's namespace): data arrived
//! faster than the process read it — large samples in bursts of fragments, a slow reader.

use super::kernel::{listener_ns, lost_some};
use crate::diagnosis::{Context, Finding, Severity};

pub fn receive_buffer_overrun(c: &Context<'_>) -> Option<Finding> {
    if !lost_some(c) {
        return None;
    }
    let k = listener_ns(c)?;
    if k.udp.rcvbuf_errors == 0 {
        return None;
    }
    Some(
        Finding::new(
            "receive-buffer-overrun",
            Severity::Failure,
            "UDP receive buffer overrun at the listener: datagrams arrived faster than its process read them, and \
             the kernel dropped them",
            "give the reader a larger socket buffer (the DDS's receive buffer size, within net.core.rmem_max on the \
             node: a pod's namespace cannot raise it), lower the rate or size of samples, or use reliable QoS so \
             dropped ones are repaired",
        )
        .pair(c.pair.name())
        .trial(c.trial.meta.trial)
        .evidence(format!(
            "trial {}: in {}'s namespace ({}) the kernel dropped {} UDP datagrams for a full receive buffer \
             (RcvbufErrors; {} datagrams delivered, InDatagrams); {} received {} of {} from {}, whose samples are {}",
            c.trial.meta.trial,
            c.pair.listener,
            k.place(),
            k.udp.rcvbuf_errors,
            k.udp.in_datagrams,
            c.pair.listener,
            c.pair.received,
            c.pair.expected,
            c.pair.talker,
            c.setting.payload_words(&c.pair.talker)
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{KernelCounters, UdpCounters};
    use crate::diagnosis::rules::test_support::{pair, setting, trial};

    #[test]
    fn dropped_datagrams_for_a_full_buffer_are_cited_with_their_count() {
        let mut t = trial(vec![pair("t.talker", "master", "l.listener", "pi", 20)]);
        t.pairs[0].lost_in_gaps = 10;
        let k = KernelCounters {
            node: "pi".into(),
            pod: Some("l".into()),
            udp: UdpCounters { in_datagrams: 900, rcvbuf_errors: 362, ..Default::default() },
            ..Default::default()
        };
        t.kernel.push(k);
        let hit = receive_buffer_overrun(&Context::new(&t.pairs[0], &t, &setting())).expect("fires");
        assert!(hit.evidence[0].contains("dropped 362 UDP datagrams for a full receive buffer"), "{:?}", hit.evidence);
        assert!(hit.evidence[0].contains("(pod l on pi)"), "{:?}", hit.evidence);
        // Another namespace's errors are not this listener's; no loss, nothing to explain.
        t.kernel[0].pod = Some("other".into());
        assert!(receive_buffer_overrun(&Context::new(&t.pairs[0], &t, &setting())).is_none());
        t.kernel[0].pod = Some("l".into());
        t.pairs[0] = pair("t.talker", "master", "l.listener", "pi", 30);
        assert!(receive_buffer_overrun(&Context::new(&t.pairs[0], &t, &setting())).is_none());
    }
}
