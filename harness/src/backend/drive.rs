//! One trial's process choreography, shared by the process-based backends: start every
//! container (honouring start delays), fire timed events (kills, partitions), wait until the
//! talkers stop by themselves, give messages in flight the drain period, stop the listeners.

use std::time::Duration;

use tokio::process::Command;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::process::NodeProcess;
use super::{BackendError, Line, TrialStart};
use crate::analysis::TrialMeta;
use crate::placement::{PlacedPod, Plan, PlannedContainer};
use crate::spec::ContainerRole;
use crate::timing::TALKER_SLACK;

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
) -> Result<TrialMeta, BackendError>
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
    steps.sort_by_key(|(at, _)| *at);

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
    let talk_until = t0 + plan.timing.talker_deadline(TALKER_SLACK);
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
                            let mut cmd = command(pod, c)?;
                            if c.role == ContainerRole::Talker && !c.is_custom() {
                                cmd.arg("--window").arg(plan.timing.duration.as_secs_f64().to_string());
                            }
                            procs.push(NodeProcess::spawn(cmd, &pod.name, &c.name, c.role, lines)?);
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
                        // Every expected pair has matched: the window opens now, for everyone.
                        opened_ns = Some(t_ns);
                        for p in procs.iter_mut().filter(|p| ours(&p.pod, &p.container)) {
                            p.signal(nix::sys::signal::Signal::SIGUSR1);
                        }
                        tracing::info!(trial = start.trial, "window opened early: every expected pair matched");
                    }
                }
            }
            _ = stopped(&mut stop) => {
                interrupted = true;
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
    for p in talkers {
        p.stop().await;
    }
    if !interrupted {
        interrupted = drain(drain_after_talkers(plan, talkers_done), &mut stop).await;
    }
    let handles: Vec<_> = listeners.into_iter().map(|p| tokio::spawn(p.stop())).collect();
    for h in handles {
        let _ = h.await;
    }
    Ok(TrialMeta { opened_ns, ..TrialMeta::ended(start.trial, origin_ns, interrupted) })
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

/// Resolves when every started talker has exited by itself.
async fn wait_talkers(procs: &mut [NodeProcess]) {
    for p in procs.iter_mut().filter(|p| p.role == ContainerRole::Talker) {
        p.wait().await;
    }
}
