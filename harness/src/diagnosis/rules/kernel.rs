//! What the kernel counted where a pair's ends ran (see [`KernelCounters`]), for the rules that
//! cite it: `fragment-loss`, `receive-buffer-overrun`, `link-saturated`.

use crate::analysis::trial::TrialReport;
use crate::backend::KernelCounters;
use crate::diagnosis::{Context, Setting};

/// The counters of the namespace container `id` ran in on `node` in `trial`: its pod's own, or
/// its node's when the pod is on the host network.
pub(super) fn namespace_of<'a>(
    trial: &'a TrialReport,
    setting: &Setting,
    id: &str,
    node: Option<&str>,
) -> Option<&'a KernelCounters> {
    let node = node?;
    let pod = id.split('.').next().unwrap_or(id);
    let host = setting.on_host_network(id);
    trial.kernel.iter().find(|k| {
        k.node == node
            && match &k.pod {
                Some(p) => !host && p == pod,
                None => host,
            }
    })
}

/// The listener's namespace in this pair's trial.
pub(super) fn listener_ns<'a>(c: &Context<'a>) -> Option<&'a KernelCounters> {
    namespace_of(c.trial, c.setting, &c.pair.listener, c.pair.listener_node.as_deref())
}

/// The talker's namespace in this pair's trial.
pub(super) fn talker_ns<'a>(c: &Context<'a>) -> Option<&'a KernelCounters> {
    namespace_of(c.trial, c.setting, &c.pair.talker, c.pair.talker_node.as_deref())
}

/// The pair lost messages of its window, between those that arrived or at its edges (one large
/// sample of twenty arriving whole leaves the other nineteen before or after it).
pub(super) fn lost_some(c: &Context<'_>) -> bool {
    c.pair.expected > 0 && c.pair.received < c.pair.expected
}

/// Whether the pair matched: per pair where the transport says, else both ends matched something,
/// else (stock nodes print nothing about discovery) whether the talker's large samples reached
/// the listener's namespace ([`data_reached_listener`]).
pub(super) fn matched(c: &Context<'_>) -> bool {
    match c.pair.listener_matched {
        Some(m) => m,
        None => {
            let both =
                c.talker.is_some_and(|t| t.node.max_peers > 0) && c.listener.is_some_and(|l| l.node.max_peers > 0);
            both || data_reached_listener(c)
        }
    }
}

/// Where discovery cannot be observed: the talker sends samples larger than a frame and IP
/// fragments arrived in the listener's namespace to be reassembled. A DDS writer sends user data
/// only to the readers it matched, so its data arriving there says the pair discovered itself.
pub(super) fn data_reached_listener(c: &Context<'_>) -> bool {
    c.setting.fits_a_frame(&c.pair.talker) == Some(false) && listener_ns(c).is_some_and(|k| k.ip.reasm_reqds > 0)
}
