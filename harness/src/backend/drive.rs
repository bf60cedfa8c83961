//! One trial's process choreography, shared by the process-based backends: start every
//! container (honouring start delays), fire timed events (kills, partitions), wait until the
//! talkers stop by themselves, give messages in flight the drain period, stop the listeners.
//! Processes that end by themselves when they should not (an error exit, a signal, a listener
//! or your own talker exiting early) come back as [`ContainerExit`]s, with their last stderr
//! lines.

use std::time::Duration;

use tokio::process::Command;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::process::{Ended, NodeProcess};
use super::{BackendError, ContainerExit, Line, TrialStart};
use crate::analysis::TrialMeta;
use crate::placement::{PlacedPod, Plan, PlannedContainer, ARCH_LABEL};
use crate::spec::ContainerRole;
use crate::timing::TALKER_SLACK;

/// One trial as [`drive`] ran it.
#[derive(Debug)]
pub struct Driven {
    pub meta: TrialMeta,
    /// Containers that ended by themselves when they should not have.
    pub exits: Vec<ContainerExit>,
}

/// Something that happens at a time during the trial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// SIGKILL a container.
    Kill { pod: String, container: String },
    /// Backend-specific (e.g. partition on/off), handled by the backend's callback.
    Backend(String),
}

/// Resolves when `stop` is (or becomes) true; never if its sender is gone.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Gives messages still in flight `drain`, unless `stop` comes first; returns whether it did
/// (the trial is then interrupted).
pub async fn drain(drain: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(drain) => false,
        _ = stopped(stop) => true,
    }
}

enum Step<'p> {
    Start(&'p PlacedPod, &'p PlannedContainer),
    /// A talker that does not stop by itself (your own program) ends its publishing here.
    Stop(&'p PlacedPod, &'p PlannedContainer),
    Fire(Event),
}

/// Runs one trial: `command` builds the command for a container, `on_event` handles
/// [`Event::Backend`] events (asynchronously: it may fork, off the runtime).
pub async fn drive<F>(
    plan: &Plan,
    start: TrialStart,
    lines: &mpsc::UnboundedSender<Line>,
    mut stop: watch::Receiver<bool>,
    mut command: impl FnMut(&PlacedPod, &PlannedContainer) -> Result<Command, BackendError>,
    events: Vec<(Duration, Event)>,
    mut on_event: impl FnMut(String) -> F,
) -> Result<Driven, BackendError>
where
    F: std::future::Future<Output = Result<(), BackendError>>,
{
    let t0 = Instant::now();
    // The trial's origin on the wall clock: fault times and reported times count from here.
    let origin_ns = chatter::now_ns();
    let mut steps: Vec<(Duration, Step<'_>)> =
        plan.containers().map(|(p, c)| (c.start_delay + c.stagger, Step::Start(p, c))).collect();
    steps.extend(
        plan.containers()
            .filter(|(_, c)| c.role == ContainerRole::Talker && c.is_custom())
            .map(|(p, c)| (plan.timing.talker_runs_for(Duration::ZERO) + c.stagger, Step::Stop(p, c))),
    );
    steps.extend(events.into_iter().map(|(at, e)| (at, Step::Fire(e))));
    // Helper processes (a discovery server) start before the nodes that need them.
    let helper = |s: &Step<'_>| matches!(s, Step::Start(_, c) if c.role == ContainerRole::Process);
    steps.sort_by_key(|(at, s)| (*at, !helper(s)));

    let mut procs: Vec<NodeProcess> = Vec::new();
    // Our talkers, which open their window on SIGUSR1 (`--window`); your own programs do not.
    let ours = |pod: &str, container: &str| {
        plan.containers()
            .any(|(p, c)| p.name == pod && c.name == container && c.role == ContainerRole::Talker && !c.is_custom())
    };
    let mut open = start.open.clone();
    let mut watching_open = true;
    let mut opened_ns = None;
    let mut interrupted = false;
    let mut talk_until = t0 + plan.timing.talker_deadline(TALKER_SLACK);
    // When the trial was interrupted: ends after that are the harness's (or the terminal's).
    let mut interrupted_ns = None;
    let mut talkers_to_start = plan.containers().filter(|(_, c)| c.role == ContainerRole::Talker).count();
    let mut pending = steps.into_iter().peekable();
    // Whether every talker ended by itself, after its linger.
    let mut talkers_done = false;
    // Until the talkers are done: run the timeline, and watch for the talkers to finish.
    loop {
        let next_at = pending.peek().map(|(at, _)| t0 + *at);
        tokio::select! {
            _ = async { tokio::time::sleep_until(next_at.unwrap_or(t0)).await }, if next_at.is_some() => {
                if let Some((_, step)) = pending.next() {
                    match step {
                        Step::Start(pod, c) => {
                            if c.role == ContainerRole::Talker {
                                talkers_to_start -= 1;
                            }
                            let ours = c.role == ContainerRole::Talker && !c.is_custom();
                            let mut cmd = if ours && start.barrier {
                                // Held at the start barrier: long enough to publish a whole
                                // window after the last node's start (SIGUSR1 ends it sooner).
                                command(pod, &held_at_barrier(plan, c))?
                            } else {
                                command(pod, c)?
                            };
                            if ours {
                                cmd.arg("--window").arg(plan.timing.duration.as_secs_f64().to_string());
                            }
                            let stderr_is_output = c.output == crate::spec::Output::DemoNodes;
                            procs.push(NodeProcess::spawn(cmd, &pod.name, &c.name, c.role, stderr_is_output, lines)?);
                        }
                        Step::Stop(pod, c) => {
                            if let Some(p) = procs.iter_mut().find(|p| p.pod == pod.name && p.container == c.name) {
                                p.terminate();
                            }
                        }
                        Step::Fire(Event::Kill { pod, container }) => {
                            if let Some(p) = procs.iter_mut().find(|p| p.pod == pod && p.container == container) {
                                p.kill().await;
                            }
                        }
                        Step::Fire(Event::Backend(what)) => on_event(what).await?,
                    }
                }
            }
            _ = wait_talkers(&mut procs), if talkers_to_start == 0 => {
                talkers_done = true;
                break;
            }
            _ = tokio::time::sleep_until(talk_until) => {
                tracing::warn!("talkers overran their duration; stopping them");
                break;
            }
            changed = open.changed(), if watching_open && opened_ns.is_none() => {
                let at = *open.borrow();
                match (changed, at) {
                    (Err(_), _) => watching_open = false,
                    (Ok(()), None) => {}
                    (Ok(()), Some(t_ns)) => {
                        // Every expected pair has matched, or the start barrier's warm-up ran
                        // out: the window opens now, for everyone.
                        opened_ns = Some(t_ns);
                        for p in procs.iter_mut().filter(|p| ours(&p.pod, &p.container)) {
                            p.signal(nix::sys::signal::Signal::SIGUSR1);
                        }
                        // Talkers publish a window from now: give them that, whenever it is.
                        let window_ends = plan.timing.duration + TALKER_SLACK;
                        let late = Duration::from_nanos(t_ns.saturating_sub(origin_ns)) + window_ends;
                        talk_until = talk_until.max(t0 + late);
                        tracing::info!(trial = start.trial, "window opened");
                    }
                }
            }
            _ = stopped(&mut stop) => {
                interrupted = true;
                interrupted_ns = Some(chatter::now_ns());
                break;
            }
        }
    }
    // Events still due (e.g. a partition's end) must not be left half-applied.
    for (_, step) in pending {
        if let Step::Fire(Event::Backend(what)) = step {
            on_event(what).await?;
        }
    }
    let (talkers, listeners): (Vec<_>, Vec<_>) = procs.into_iter().partition(|p| p.role == ContainerRole::Talker);
    let mut ends = Vec::new();
    for p in talkers {
        let who = (p.pod.clone(), p.container.clone());
        ends.push((who, p.stop().await));
    }
    if !interrupted {
        interrupted = drain(drain_after_talkers(plan, talkers_done), &mut stop).await;
        if interrupted {
            interrupted_ns = Some(chatter::now_ns());
        }
    }
    let handles: Vec<_> = listeners
        .into_iter()
        .map(|p| {
            let who = (p.pod.clone(), p.container.clone());
            tokio::spawn(async move { (who, p.stop().await) })
        })
        .collect();
    for h in handles {
        if let Ok(end) = h.await {
            ends.push(end);
        }
    }
    let exits = ends
        .into_iter()
        .filter(|(_, end)| interrupted_ns.is_none_or(|i| end.t_ns < i))
        .filter_map(|((pod, container), end)| exit_of(plan, &pod, &container, end, origin_ns))
        .collect();
    Ok(Driven { meta: TrialMeta { opened_ns, ..TrialMeta::ended(start.trial, origin_ns, interrupted) }, exits })
}

/// The [`ContainerExit`] of a process that ended by itself when it should not have: with an
/// error or a signal, or — a listener, or your own talker, which the harness stops — at all.
/// Our talkers end by themselves with status 0; anything the harness stopped is not counted.
fn exit_of(plan: &Plan, pod: &str, container: &str, end: Ended, origin_ns: u64) -> Option<ContainerExit> {
    let (p, c) = plan.containers().find(|(p, c)| p.name == pod && c.name == container)?;
    let stops_by_itself = c.role == ContainerRole::Talker && !c.is_custom();
    if end.by_harness || (end.success() && stops_by_itself) {
        return None;
    }
    let arch = plan.nodes.iter().find(|n| n.name == p.node).and_then(|n| n.labels.get(ARCH_LABEL)).cloned();
    let exit = ContainerExit::of_process(c.id.clone(), p.node.clone(), arch, end, origin_ns);
    tracing::warn!("{}", exit.describe());
    Some(exit)
}

/// What is left of the drain period once the talkers have exited: our talkers stay on the
/// network [`crate::timing::TrialTiming::talker_linger`] after their last message (the drain
/// has begun then), so only the rest is waited for; talkers that were stopped (your own
/// programs, overruns) or killed get the whole drain.
fn drain_after_talkers(plan: &Plan, talkers_done: bool) -> Duration {
    let lingered = talkers_done && plan.containers().all(|(_, c)| c.role != ContainerRole::Talker || !c.is_custom());
    if lingered {
        plan.timing.drain.saturating_sub(plan.timing.talker_linger())
    } else {
        plan.timing.drain
    }
}

/// Our talker `c` with a `--duration` long enough to publish a whole window after the start
/// barrier opens ([`crate::timing::TrialTiming::barrier_talker_runs_for`]); SIGUSR1 then ends
/// it a window after that.
fn held_at_barrier(plan: &Plan, c: &PlannedContainer) -> PlannedContainer {
    let mut c = c.clone();
    if let Some(i) = c.args.iter().position(|a| a == "--duration") {
        if let Some(v) = c.args.get_mut(i + 1) {
            *v = plan.timing.barrier_talker_runs_for().as_secs_f64().to_string();
        }
    }
    c
}

/// Resolves when every started talker has exited by itself.
async fn wait_talkers(procs: &mut [NodeProcess]) {
    for p in procs.iter_mut().filter(|p| p.role == ContainerRole::Talker) {
        p.wait().await;
    }
}
