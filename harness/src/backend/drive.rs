//! One trial's process choreography, shared by the process-based backends: start every
//! container (honouring start delays), fire timed events (kills, partitions), wait until the
//! talkers stop by themselves, give messages in flight the drain period, stop the listeners.
//! Processes that end by themselves when they should not (an error exit, a signal, a listener
//! or your own talker exiting early) come back as [`ContainerExit`]s, with their last stderr
//! lines.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::participants::{bound_udp_ports, Participant};
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
    /// The DDS participant each process was, from the ports it bound (see
    /// [`super::participants`]), in the plan's order.
    pub participants: Vec<Participant>,
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

/// The steps still to take, in time order.
type Pending<'p> = std::iter::Peekable<std::vec::IntoIter<(Duration, Step<'p>)>>;

/// Why the timeline stopped before every step was taken.
enum TimelineEnd {
    /// Every talker ended by itself, after its linger.
    TalkersDone,
    /// The talkers overran their duration.
    Overran,
    /// `stop` became true, at this time (wall clock ns): ends after that are the harness's
    /// (or the terminal's).
    Interrupted { at_ns: u64 },
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
    let mut run = Running::new(plan, &start, lines);
    let mut pending = timeline(plan, events).into_iter().peekable();
    let mut open = start.open.clone();
    let end = run_timeline(&mut run, &mut pending, &mut open, &mut stop, &mut command, &mut on_event).await?;
    // Events still due (e.g. a partition's end) must not be left half-applied.
    for (_, step) in pending {
        if let Step::Fire(Event::Backend(what)) = step {
            on_event(what).await?;
        }
    }
    let mut interrupted_ns = match end {
        TimelineEnd::Interrupted { at_ns } => Some(at_ns),
        TimelineEnd::TalkersDone | TimelineEnd::Overran => None,
    };
    // Processes that came up after the window opened, or had not yet bound their ports then.
    run.observe_participants();
    let procs = std::mem::take(&mut run.procs);
    let (talkers, listeners): (Vec<_>, Vec<_>) = procs.into_iter().partition(|p| p.role == ContainerRole::Talker);
    let mut ends = stop_talkers(talkers).await;
    let talkers_done = matches!(end, TimelineEnd::TalkersDone);
    if interrupted_ns.is_none() && drain(drain_after_talkers(plan, talkers_done), &mut stop).await {
        interrupted_ns = Some(chatter::now_ns());
    }
    ends.extend(stop_listeners(listeners).await);
    let origin_ns = run.origin_ns;
    let exits = ends
        .into_iter()
        .filter(|(_, end)| interrupted_ns.is_none_or(|i| end.t_ns < i))
        .filter_map(|((pod, container), end)| exit_of(plan, &pod, &container, end, origin_ns))
        .collect();
    let ended = TrialMeta::ended(start.trial, origin_ns, interrupted_ns.is_some());
    let participants = plan.containers().filter_map(|(_, c)| run.participants.remove(&c.id)).collect();
    Ok(Driven { meta: TrialMeta { opened_ns: run.opened_ns, ..ended }, exits, participants })
}

/// The trial's steps in time order: every container's start (after its delay and stagger),
/// the end of your own talkers' part, and the timed events. Helper processes (a discovery
/// server) start before the nodes that need them.
fn timeline(plan: &Plan, events: Vec<(Duration, Event)>) -> Vec<(Duration, Step<'_>)> {
    let mut steps: Vec<(Duration, Step<'_>)> =
        plan.containers().map(|(p, c)| (c.start_delay + c.stagger, Step::Start(p, c))).collect();
    steps.extend(
        plan.containers()
            .filter(|(_, c)| c.role == ContainerRole::Talker && c.is_custom())
            .map(|(p, c)| (plan.timing.talker_runs_for(Duration::ZERO) + c.stagger, Step::Stop(p, c))),
    );
    steps.extend(events.into_iter().map(|(at, e)| (at, Step::Fire(e))));
    let helper = |s: &Step<'_>| matches!(s, Step::Start(_, c) if c.role == ContainerRole::Process);
    steps.sort_by_key(|(at, s)| (*at, !helper(s)));
    steps
}

/// How often the processes not yet seen as DDS participants are looked at.
const PARTICIPANT_LOOK: Duration = Duration::from_millis(500);

/// Until the talkers are done: takes the timeline's steps on time, and watches for the talkers
/// to finish, for the window to open early and for `stop`.
async fn run_timeline<F>(
    run: &mut Running<'_>,
    pending: &mut Pending<'_>,
    open: &mut watch::Receiver<Option<u64>>,
    stop: &mut watch::Receiver<bool>,
    command: &mut impl FnMut(&PlacedPod, &PlannedContainer) -> Result<Command, BackendError>,
    on_event: &mut impl FnMut(String) -> F,
) -> Result<TimelineEnd, BackendError>
where
    F: std::future::Future<Output = Result<(), BackendError>>,
{
    let mut watching_open = true;
    // Programs that no window signal reaches (stock nodes) may exit before the window would
    // show their ports: look at the processes not yet seen as participants as they run.
    let mut look = tokio::time::interval(PARTICIPANT_LOOK);
    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let next_at = pending.peek().map(|(at, _)| run.t0 + *at);
        tokio::select! {
            _ = look.tick() => run.observe_participants(),
            _ = async { tokio::time::sleep_until(next_at.unwrap_or(run.t0)).await }, if next_at.is_some() => {
                if let Some((_, step)) = pending.next() {
                    run.take(step, command, on_event).await?;
                }
            }
            _ = wait_talkers(&mut run.procs), if run.talkers_to_start == 0 => return Ok(TimelineEnd::TalkersDone),
            _ = tokio::time::sleep_until(run.talk_until) => {
                tracing::warn!("talkers overran their duration; stopping them");
                return Ok(TimelineEnd::Overran);
            }
            changed = open.changed(), if watching_open && run.opened_ns.is_none() => {
                let at = *open.borrow();
                match (changed, at) {
                    (Err(_), _) => watching_open = false,
                    (Ok(()), None) => {}
                    (Ok(()), Some(t_ns)) => run.open_window(t_ns),
                }
            }
            _ = stopped(stop) => return Ok(TimelineEnd::Interrupted { at_ns: chatter::now_ns() }),
        }
    }
}

/// One trial while its timeline runs: the processes started so far and the talkers' deadline.
struct Running<'p> {
    plan: &'p Plan,
    trial: u32,
    /// Our talkers are held at the start barrier (see [`TrialStart::barrier`]).
    barrier: bool,
    lines: &'p mpsc::UnboundedSender<Line>,
    t0: Instant,
    /// The trial's origin on the wall clock: fault times and reported times count from here.
    origin_ns: u64,
    procs: Vec<NodeProcess>,
    talkers_to_start: usize,
    talk_until: Instant,
    opened_ns: Option<u64>,
    /// What each process (by container id) had bound when last looked at.
    participants: BTreeMap<String, Participant>,
}

impl<'p> Running<'p> {
    fn new(plan: &'p Plan, start: &TrialStart, lines: &'p mpsc::UnboundedSender<Line>) -> Running<'p> {
        let t0 = Instant::now();
        Running {
            plan,
            trial: start.trial,
            barrier: start.barrier,
            lines,
            t0,
            origin_ns: chatter::now_ns(),
            procs: Vec::new(),
            talkers_to_start: plan.containers().filter(|(_, c)| c.role == ContainerRole::Talker).count(),
            talk_until: t0 + plan.timing.talker_deadline(TALKER_SLACK + start_allowance(plan, start.barrier)),
            opened_ns: None,
            participants: BTreeMap::new(),
        }
    }

    /// Takes one step of the timeline.
    async fn take<F>(
        &mut self,
        step: Step<'_>,
        command: &mut impl FnMut(&PlacedPod, &PlannedContainer) -> Result<Command, BackendError>,
        on_event: &mut impl FnMut(String) -> F,
    ) -> Result<(), BackendError>
    where
        F: std::future::Future<Output = Result<(), BackendError>>,
    {
        match step {
            Step::Start(pod, c) => self.start(pod, c, command)?,
            Step::Stop(pod, c) => {
                if let Some(p) = self.procs.iter_mut().find(|p| p.pod == pod.name && p.container == c.name) {
                    p.terminate();
                }
            }
            Step::Fire(Event::Kill { pod, container }) => {
                if let Some(p) = self.procs.iter_mut().find(|p| p.pod == pod && p.container == container) {
                    p.kill().await;
                }
            }
            Step::Fire(Event::Backend(what)) => on_event(what).await?,
        }
        Ok(())
    }

    /// Starts container `c` of `pod`; our talkers publish for the window's length once it
    /// opens (`--window`).
    fn start(
        &mut self,
        pod: &PlacedPod,
        c: &PlannedContainer,
        command: &mut impl FnMut(&PlacedPod, &PlannedContainer) -> Result<Command, BackendError>,
    ) -> Result<(), BackendError> {
        if c.role == ContainerRole::Talker {
            self.talkers_to_start -= 1;
        }
        let ours = c.role == ContainerRole::Talker && !c.is_custom();
        let mut cmd = if ours && self.barrier {
            // Held at the start barrier: long enough to publish a whole window after the last
            // node's start (SIGUSR1 ends it sooner).
            command(pod, &held_at_barrier(self.plan, c))?
        } else {
            command(pod, c)?
        };
        if ours {
            cmd.arg("--window").arg(self.plan.timing.duration.as_secs_f64().to_string());
        }
        let stderr_is_output = c.output == crate::spec::Output::DemoNodes;
        self.procs.push(NodeProcess::spawn(cmd, &pod.name, &c.name, c.role, stderr_is_output, self.lines)?);
        Ok(())
    }

    /// Every expected pair has matched, or the start barrier's warm-up ran out: the window
    /// opens now (`t_ns`), for everyone.
    fn open_window(&mut self, t_ns: u64) {
        self.opened_ns = Some(t_ns);
        let plan = self.plan;
        for p in self.procs.iter_mut().filter(|p| opens_on_signal(plan, &p.pod, &p.container)) {
            p.signal(nix::sys::signal::Signal::SIGUSR1);
        }
        // Talkers publish a window from now: give them that, whenever it is.
        let window_ends = self.plan.timing.duration + TALKER_SLACK;
        let late = Duration::from_nanos(t_ns.saturating_sub(self.origin_ns)) + window_ends;
        self.talk_until = self.talk_until.max(self.t0 + late);
        tracing::info!(trial = self.trial, "window opened");
        // Every node has started and discovered what it will by now.
        self.observe_participants();
    }

    /// Reads the ports of every running process that has not shown an RTPS participant yet.
    fn observe_participants(&mut self) {
        for p in &self.procs {
            let Some((pod, c)) = self.plan.containers().find(|(q, c)| q.name == p.pod && c.name == p.container) else {
                continue;
            };
            if self.participants.get(&c.id).is_some_and(|seen| !seen.ids.is_empty()) {
                continue;
            }
            let Some(pid) = p.pid() else { continue };
            let ports = bound_udp_ports(pid);
            self.participants.insert(c.id.clone(), Participant::from_ports(&c.id, &pod.node, None, ports));
        }
    }
}

/// Whether container `container` of `pod` is one of our talkers, which open their window on
/// SIGUSR1 (`--window`); your own programs do not.
fn opens_on_signal(plan: &Plan, pod: &str, container: &str) -> bool {
    plan.containers()
        .any(|(p, c)| p.name == pod && c.name == container && c.role == ContainerRole::Talker && !c.is_custom())
}

/// Who a process was (pod, container) and how it ended.
type End = ((String, String), Ended);

/// Stops the talkers one after another.
async fn stop_talkers(talkers: Vec<NodeProcess>) -> Vec<End> {
    let mut ends = Vec::new();
    for p in talkers {
        let who = (p.pod.clone(), p.container.clone());
        ends.push((who, p.stop().await));
    }
    ends
}

/// Stops the listeners all at once, each in a task of its own.
async fn stop_listeners(listeners: Vec<NodeProcess>) -> Vec<End> {
    let handles: Vec<_> = listeners
        .into_iter()
        .map(|p| {
            let who = (p.pod.clone(), p.container.clone());
            tokio::spawn(async move { (who, p.stop().await) })
        })
        .collect();
    let mut ends = Vec::new();
    for h in handles {
        if let Ok(end) = h.await {
            ends.push(end);
        }
    }
    ends
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

/// At the start barrier, the time a trial's process starts may spread over (beyond
/// [`crate::timing::BARRIER_BOUND`]): the harness waits that much longer before it stops
/// talkers that have not stopped by themselves.
fn start_allowance(plan: &Plan, barrier: bool) -> Duration {
    if barrier {
        crate::timing::start_spread(plan.containers().count())
    } else {
        Duration::ZERO
    }
}

/// Our talker `c` with a `--duration` long enough to publish a whole window after the start
/// barrier opens ([`crate::timing::TrialTiming::barrier_talker_runs_for`]); SIGUSR1 then ends
/// it a window after that.
fn held_at_barrier(plan: &Plan, c: &PlannedContainer) -> PlannedContainer {
    let mut c = c.clone();
    if let Some(i) = c.args.iter().position(|a| a == "--duration") {
        if let Some(v) = c.args.get_mut(i + 1) {
            *v = plan.timing.barrier_talker_runs_for(plan.containers().count()).as_secs_f64().to_string();
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
