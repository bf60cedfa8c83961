//! The run's notes (`run.json`, the reports): what a reader must know about the clocks, the
//! nodes, the windows and the run's own choices, each kind of note from its own function.

use crate::placement::Plan;
use crate::results::RunMeta;
use crate::spec::{FaultSpec, Scenario};

/// Why an `until: confident` run stopped where it did: the trial that settled the verdict
/// (and the trials already running then, which ran to the end and count), or that it ran them
/// all.
pub(super) fn stopped_note(settled_at: Option<&(u32, String)>, trials: u32, count: u32) -> String {
    match settled_at {
        Some((at, why)) if *at == trials => {
            format!(
                "stopped after {trials} of at most {count} trials: the verdict can no longer change at 95 % — {why}"
            )
        }
        Some((at, why)) => format!(
            "stopped after {trials} of at most {count} trials: the verdict could no longer change at 95 % after trial \
             {at} — {why}; the {} trial(s) already running then ran to the end and count",
            trials - at
        ),
        None => format!("ran all {count} trials (trials.max) without the verdict settling at 95 %"),
    }
}

/// Why a backend that starts the talkers itself cannot hold this scenario's windows at a start
/// barrier (nor open them early): the scenario's own timing matters.
pub(super) fn no_barrier(scenario: &Scenario, plan: &Plan) -> Option<&'static str> {
    if plan.containers().any(|(_, c)| c.is_custom()) {
        Some(
            "programs other than the harness's own nodes (stock nodes, standIn, command) keep the scenario's timing: \
             no start barrier holds them (they know no window signal), so each pair's window opens warmupS after both \
             its ends started and those talkers are stopped warmupS + durationS into the trial; a pair whose ends came \
             up late expects fewer than durationS × rateHz messages",
        )
    } else if plan.containers().any(|(_, c)| !c.start_delay.is_zero()) {
        Some(
            "startDelayS keeps the scenario's timing: no start barrier; each pair's window opens warmupS after both \
             its ends started",
        )
    } else if scenario.faults.iter().any(|f| matches!(f, FaultSpec::Partition { .. } | FaultSpec::Kill { .. })) {
        Some(
            "timed faults keep the scenario's timing: no start barrier; each pair's window opens warmupS after both \
             its ends started, and fault times count from the trial's start",
        )
    } else {
        None
    }
}

/// The backend's notes, plus what the reader must know about the clock and the scenario's own
/// choices.
pub(super) fn run_notes(meta: &RunMeta, mut notes: Vec<String>, barrier_off: Option<&str>) -> Vec<String> {
    notes.push(clock_note(meta));
    notes.extend(demo_nodes_note(meta));
    notes.extend(ros_note(meta));
    if let Some(why) = &meta.stopped {
        notes.push(format!("trials.until confident: {why}"));
    }
    notes.extend(start_barrier_note(meta));
    if let Some(why) = barrier_off {
        notes.push(why.to_owned());
    }
    notes.extend(early_windows_note(meta));
    notes.extend(parallel_note(meta));
    notes.extend(reschedule_note(meta));
    notes
}

/// Whether times between nodes can be trusted: one clock, clocks put on one by the preflight's
/// offsets, or clocks of their own.
fn clock_note(meta: &RunMeta) -> String {
    if meta.shared_clock() {
        "one clock: every node stamps records with this machine's clock, so one-way latency and discovery times \
         between nodes are real"
            .to_owned()
    } else if let Some(c) = meta.clock_correction() {
        let others: Vec<String> = c
            .offsets
            .iter()
            .filter(|(n, _)| **n != c.reference)
            .map(|(n, (o, u))| format!("{n} {:+.3} ms ± {:.3} ms", *o as f64 / 1e6, *u as f64 / 1e6))
            .collect();
        format!(
            "nodes have their own clocks: records were put on node {}'s clock with the offsets the preflight measured \
             ({}), so latency and discovery times between measured nodes are shown ± the offsets' uncertainty; \
             pairs with an unmeasured node stay untrusted; negative latencies are counted, not clamped",
            c.reference,
            others.join(", ")
        )
    } else {
        "nodes have their own clocks: latency and discovery times between different nodes are marked untrusted \
         (no clock offsets measured: `--preflight` measures them); negative latencies are counted, not clamped"
            .to_owned()
    }
}

/// How the stock demo nodes' console lines were read, where there are any.
fn demo_nodes_note(meta: &RunMeta) -> Option<String> {
    meta.plan.containers().any(|(_, c)| c.output == crate::spec::Output::DemoNodes).then(|| {
        "stock demo nodes: their console lines, stdout and stderr as `kubectl logs` shows them (ROS 2 loggers \
         write to stderr, unbuffered), are read as records (logs kept in logs/); \"Hello World: N\" names no \
         talker, so each receipt is attributed to the demo talker whose send of N came last before it (ambiguous \
         ones count as anonymous)"
            .to_owned()
    })
}

/// Which real ROS 2 ran which nodes, where the run used the wheels.
fn ros_note(meta: &RunMeta) -> Option<String> {
    let ros = meta.ros.as_ref()?;
    let arm64 = meta.plan.nodes.iter().any(|n| n.arch() == Some("arm64"));
    let r2r = meta.plan.containers().any(|(_, c)| !c.is_custom() && c.transport == crate::spec::Transport::Ros);
    let stock = meta.plan.containers().any(|(_, c)| c.output == crate::spec::Output::DemoNodes);
    let ran = match (stock, r2r) {
        (true, true) => "the stock nodes as rclpy demo talkers and listeners, the harness's own as r2r nodes",
        (false, true) => "the harness's talkers and listeners as r2r nodes (scripts/build-ros.sh)",
        _ => {
            "the stock nodes as rclpy demo talkers and listeners (demo_nodes' topic, type, QoS and console \
              lines; no demo_nodes wheel exists)"
        }
    };
    Some(format!(
        "real ROS 2 from PyPI wheels — {} — ran {ran}{}",
        ros.describe(),
        if arm64 { "; on arm64 nodes too, as amd64 programs: there are no aarch64 wheels" } else { "" }
    ))
}

/// When the start barrier opened each trial's windows, where it held them.
fn start_barrier_note(meta: &RunMeta) -> Option<String> {
    meta.start_barrier.then(|| {
        format!(
            "start barrier: each trial's windows opened at once for every pair, {} s (warmupS) after the last of its \
             nodes had started (trials.csv last_started_s, warmup_ends_s), or earlier when every pair had matched, \
             so each pair expects durationS × rateHz messages whatever order its nodes came up in; the harness's \
             talkers publish their window from then",
            meta.scenario.trials.warmup_s.0
        )
    })
}

/// How often, and how early, windows opened because every pair had matched.
fn early_windows_note(meta: &RunMeta) -> Option<String> {
    if !meta.early_windows {
        return None;
    }
    let warmup = meta.scenario.trials.warmup_s.0;
    let mut early: Vec<f64> =
        meta.trials.iter().filter_map(|t| t.opened_ns.map(|o| crate::timing::secs_since(t.start_ns, o))).collect();
    early.sort_by(f64::total_cmp);
    Some(match early.get(early.len() / 2) {
        Some(median) => format!(
            "measurement windows opened as soon as every pair had matched both ways (per-pair discovery) in {} of {} \
             trial(s), median {median:.2} s into the trial, instead of when the {warmup} s warm-up ran out; \
             trials.csv has both times (all_matched_s, warmup_ends_s)",
            early.len(),
            meta.trials.len()
        ),
        None => format!(
            "measurement windows open as soon as every pair has matched both ways, else when the {warmup} s warm-up \
             runs out: in every trial the warm-up ran out first (some pair never matched)"
        ),
    })
}

/// That trials ran at once, and what they shared.
fn parallel_note(meta: &RunMeta) -> Option<String> {
    (meta.parallel > 1).then(|| {
        format!(
            "trials ran {} at a time (--parallel), each in a simulated cluster of its own (its own namespaces: no \
             interface, route or multicast group in common); they share this machine's CPUs, so latency tails can be \
             longer than with one trial at a time (--parallel 1)",
            meta.parallel
        )
    })
}

/// That placement was redrawn every trial.
fn reschedule_note(meta: &RunMeta) -> Option<String> {
    meta.scenario.trials.reschedule.then(|| {
        format!(
            "placement redrawn every trial (trials.reschedule, seed {}): pods without a fixed node moved between \
             trials; each trial's placement is in trials.csv and pairs.csv",
            meta.scenario.trials.seed
        )
    })
}

#[cfg(test)]
mod tests {
    use super::stopped_note;

    #[test]
    fn the_stop_note_says_when_the_verdict_settled() {
        let why = (5, "one outcome in 5 trials".to_owned());
        assert!(stopped_note(Some(&why), 5, 50).starts_with("stopped after 5 of at most 50 trials: the verdict can"));
        let late = stopped_note(Some(&why), 8, 50);
        assert!(late.contains("after trial 5") && late.contains("the 3 trial(s) already running"), "{late}");
        assert!(stopped_note(None, 50, 50).starts_with("ran all 50 trials"));
    }
}
