//! The rules. For a pair that delivered nothing, [`SILENT_RULES`] in priority order (the first
//! that fires explains it); for a pair that delivered something, [`LATE_RULES`]; per trial,
//! [`nodes_died`] and [`outages`]; over the run, [`loss`]; and [`faults_not_seen`] for injected
//! faults that left no trace.

use chatter::Durability;

use super::{Context, FaultCheck, Finding, Setting, Severity};
use crate::analysis::run::wilson;
use crate::analysis::trial::{PairReport, TrialReport};
use crate::analysis::{Delivery, PairSummary, Relation, DELIVERED_RATIO};
use crate::spec::FaultSpec;
use crate::timing::{FAULT_TOLERANCE, LATE_JOIN};

type PairRule = fn(&Context<'_>) -> Option<Finding>;

/// Why a pair delivered nothing, most specific first.
pub const SILENT_RULES: &[PairRule] = &[
    listener_not_started,
    talker_not_started,
    domain_mismatch,
    qos_incompatible,
    talker_sent_nothing,
    fastdds_shared_memory,
    no_discovery_across_nodes,
    matched_but_no_data,
    no_discovery,
];

/// What else to say about a pair that delivered something.
pub const LATE_RULES: &[PairRule] = &[late_joiner, late_discovery];

/// The first silent rule that fires, with where the two ends sat. A pair one of whose
/// containers failed is explained by [`containers_failed`] instead.
pub fn why_silent(c: &Context<'_>) -> Option<Finding> {
    if container_failed(c.trial, &c.pair.talker) || container_failed(c.trial, &c.pair.listener) {
        return None;
    }
    SILENT_RULES.iter().find_map(|rule| rule(c)).map(|h| {
        let placed =
            format!("trial {}: {} ({}), {}", c.trial.meta.trial, c.pair.name(), where_(c.pair), discovery_words(c));
        let mut h = h.pair(c.pair.name()).trial(c.trial.meta.trial);
        h.evidence.insert(0, placed);
        h
    })
}

fn where_(p: &PairReport) -> String {
    let at = |n: &Option<String>| n.clone().unwrap_or_else(|| "?".into());
    match p.relation {
        Relation::SamePod => format!("same pod on {}", at(&p.listener_node)),
        Relation::SameNode => format!("different pods on {}", at(&p.listener_node)),
        Relation::CrossNode => format!("{} → {}", at(&p.talker_node), at(&p.listener_node)),
        Relation::Unknown => "talker not in the plan".into(),
    }
}

/// Per-pair discovery in words, never contradicting the finding's title.
fn discovery_words(c: &Context<'_>) -> String {
    let p = c.pair;
    let stock = c.setting.stock.contains(&p.talker) || c.setting.stock.contains(&p.listener);
    let listener = match (p.listener_matched, p.matched_ms) {
        (Some(true), Some(ms)) => format!("the listener matched this talker's writer after {}", ms_words(ms)),
        (Some(true), None) => "the listener matched this talker's writer".into(),
        (Some(false), _) => "the listener never matched this talker's writer".into(),
        (None, _) if stock => "per-pair discovery not observable (the stock nodes print nothing about it)".into(),
        (None, _) => "per-pair discovery unknown (the transport does not list matched endpoints)".into(),
    };
    match p.talker_matched {
        Some(true) => format!("{listener}; the talker matched this listener's reader"),
        Some(false) => format!("{listener}; the talker never matched this listener's reader"),
        None => listener,
    }
}

fn ms_words(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

pub fn listener_not_started(c: &Context<'_>) -> Option<Finding> {
    if c.listener.is_some_and(|l| l.node.started) {
        return None;
    }
    Some(
        Finding::new(
            "listener-not-started",
            Severity::Failure,
            format!("listener `{}` never started (it printed no start record)", c.pair.listener),
            "check the container's command and args: `ros2 run a b && ros2 run c d` in `args` without a shell runs \
             nothing; use one process per container or `command: [sh, -c]`",
        )
        .evidence(format!("trial {}: no records from {}", c.trial.meta.trial, c.pair.listener)),
    )
}

pub fn talker_not_started(c: &Context<'_>) -> Option<Finding> {
    match c.talker {
        Some(t) if !t.node.started => Some(
            Finding::new(
                "talker-not-started",
                Severity::Failure,
                format!("talker `{}` never started (it printed no start record)", c.pair.talker),
                "check the talker container's command and args (see listener-not-started)",
            )
            .evidence(format!("trial {}: no records from {}", c.trial.meta.trial, c.pair.talker)),
        ),
        _ => None,
    }
}

pub fn domain_mismatch(c: &Context<'_>) -> Option<Finding> {
    let (t, l) = (c.talker?.node.domain?, c.listener?.node.domain?);
    (t != l).then(|| {
        Finding::new(
            "domain-mismatch",
            Severity::Failure,
            "different DDS domains: the two can never discover each other",
            "set the same ROS_DOMAIN_ID in every pod",
        )
        .evidence(format!("start records: {} on domain {t}, {} on domain {l}", c.pair.talker, c.pair.listener))
    })
}

pub fn qos_incompatible(c: &Context<'_>) -> Option<Finding> {
    use chatter::Reliability::{BestEffort, Reliable};
    let (t, l) = (c.talker?.node.reliability?, c.listener?.node.reliability?);
    (t == BestEffort && l == Reliable).then(|| {
        Finding::new(
            "qos-incompatible",
            Severity::Failure,
            "incompatible QoS: a best-effort publisher cannot serve a reliable subscription",
            "make the listener best-effort or the talker reliable",
        )
        .evidence(format!("{} is best-effort, {} requests reliable", c.pair.talker, c.pair.listener))
    })
}

pub fn talker_sent_nothing(c: &Context<'_>) -> Option<Finding> {
    let t = c.talker?;
    (t.sent == 0).then(|| {
        Finding::new(
            "talker-sent-nothing",
            Severity::Failure,
            format!("talker `{}` published nothing", c.pair.talker),
            "check the talker's logs; it started but did not publish",
        )
        .evidence(format!(
            "trial {}: sent 0, {}",
            c.trial.meta.trial,
            t.node.stop_reason.as_deref().map_or("no stop record".to_owned(), |r| format!("stop reason: {r}"))
        ))
    })
}

/// Same-node or same-pod delivery to this listener, or from this talker, in the same trial.
fn local_delivery<'a>(c: &Context<'a>) -> Option<&'a PairReport> {
    c.trial.pairs.iter().find(|p| {
        matches!(p.relation, Relation::SamePod | Relation::SameNode)
            && p.delivery != Delivery::None
            && (p.listener == c.pair.listener || p.talker == c.pair.talker)
    })
}

/// Why multicast cannot be what failed between these two, if it cannot.
fn multicast_excuse(c: &Context<'_>) -> Option<String> {
    let s = c.setting;
    if !s.separate_nodes {
        return Some(format!("the {} backend runs every pod in one network: no node boundary to cross", s.backend));
    }
    if s.multicast_between_nodes {
        return Some("the scenario lets multicast cross between nodes (network.multicastBetweenNodes)".into());
    }
    if s.on_host_network(&c.pair.talker) && s.on_host_network(&c.pair.listener) {
        return Some("both pods are on the host network, which carries multicast between nodes".into());
    }
    let (tn, ln) = (c.pair.talker_node.as_deref()?, c.pair.listener_node.as_deref()?);
    if let Some(f) = s.partitions_between(tn, ln).first() {
        return Some(format!("a fault was injected between these nodes: {}", f.describe()));
    }
    None
}

pub fn no_discovery_across_nodes(c: &Context<'_>) -> Option<Finding> {
    if c.pair.relation != Relation::CrossNode || c.pair.listener_matched == Some(true) || multicast_excuse(c).is_some()
    {
        return None;
    }
    let local = local_delivery(c)?;
    let doctor = c.setting.doctor.as_ref().and_then(|d| {
        let (from, to) = (c.pair.talker_node.as_deref()?, c.pair.listener_node.as_deref()?);
        d.multicast_words(from, to)
    });
    // On Fast DDS with shared memory, hostNetwork alone trades this failure for another
    // (pods of one node lose each other to shared memory: measured, 0 of 3 trials).
    let fastdds = c.setting.shm.contains_key(&c.pair.talker) && c.setting.shm.contains_key(&c.pair.listener);
    let fix = if fastdds {
        "configure unicast discovery: ROS_STATIC_PEERS with the peers' addresses (Jazzy and later) or a Fast DDS \
         discovery server (ROS_DISCOVERY_SERVER); hostNetwork: true only with FASTDDS_BUILTIN_TRANSPORTS=UDPv4 (or \
         hostIPC), since alone it loses pods of one node to shared memory; `harness matrix` measures each"
    } else {
        "use hostNetwork: true for ROS pods, configure unicast discovery peers (CYCLONEDDS_URI Peers / Fast DDS \
         initial peers), or run a Fast DDS discovery server"
    };
    let finding = Some(
        Finding::new(
            "no-discovery-across-nodes",
            Severity::Failure,
            "no discovery across nodes while same-node delivery works: SPDP multicast (239.255.0.1) does not cross \
             nodes on the pod network (flannel VXLAN drops multicast)",
            fix,
        )
        .evidence(format!(
            "trial {}: meanwhile {} ({}) delivered {} of {}",
            c.trial.meta.trial,
            local.name(),
            local.relation.as_str(),
            local.received,
            local.expected
        )),
    );
    finding.map(|f| match doctor {
        Some(words) => f.evidence(words),
        None => f,
    })
}

/// Two pods on the host network of one node share its network namespace, so Fast DDS (whose
/// host id comes from the network interfaces) takes them for one host and sends data through
/// shared memory — but each pod has a /dev/shm of its own (Kubernetes gives every pod one,
/// unless both are `hostIPC`), so it never arrives. Containers of one pod share theirs.
pub fn fastdds_shared_memory(c: &Context<'_>) -> Option<Finding> {
    let s = c.setting;
    let (p, tid, lid) = (c.pair, c.pair.talker.as_str(), c.pair.listener.as_str());
    if !s.separate_nodes || p.relation != Relation::SameNode || !s.on_host_network(tid) || !s.on_host_network(lid) {
        return None;
    }
    let (t, l) = (s.shm.get(tid)?, s.shm.get(lid)?);
    if t.host_ipc && l.host_ipc {
        return None;
    }
    let node = p.listener_node.as_deref().unwrap_or("?");
    // Unknown (stock nodes, a transport that lists nothing): the placement line says so.
    let discovery = match (p.listener_matched, p.talker_matched) {
        (Some(true), Some(true)) => "; both ends matched (discovery worked over UDP), no data arrived",
        (Some(true), _) => "; the listener matched this talker's writer (discovery worked), no data arrived",
        (Some(false), _) => "; the listener never matched this talker's writer",
        (None, _) => "",
    };
    let mut h = Finding::new(
        "fastdds-shared-memory",
        Severity::Failure,
        "Fast DDS shared memory between pods that share a network namespace but not /dev/shm: hostNetwork pods on \
         one node look like one host to Fast DDS, which then sends data through shared memory, but every pod has a \
         /dev/shm of its own",
        "disable Fast DDS's shared-memory transport in these pods (FASTDDS_BUILTIN_TRANSPORTS=UDPv4, or a profile \
         with UDP transports only), or give both pods hostIPC: true so they share the node's /dev/shm",
    )
    .evidence(format!(
        "trial {}: {} and {} are both on the host network of {node}: one network namespace, two /dev/shm ({}){discovery}",
        c.trial.meta.trial,
        t.pod,
        l.pod,
        match (t.host_ipc, l.host_ipc) {
            (false, false) => "neither pod has hostIPC".to_owned(),
            (true, _) => format!("only {} has hostIPC", t.pod),
            (_, true) => format!("only {} has hostIPC", l.pod),
        }
    ));
    if let Some(other) = c.trial.pairs.iter().find(|o| o.talker == p.talker && o.delivery != Delivery::None) {
        h = h.evidence(format!(
            "trial {}: meanwhile {} ({}) delivered {} of {}",
            c.trial.meta.trial,
            other.name(),
            other.relation.as_str(),
            other.received,
            other.expected
        ));
    }
    Some(h)
}

pub fn matched_but_no_data(c: &Context<'_>) -> Option<Finding> {
    let matched = match c.pair.listener_matched {
        Some(m) => m,
        // Without per-pair facts: both ends matched something.
        None => c.talker?.node.max_peers > 0 && c.listener?.node.max_peers > 0,
    };
    matched.then(|| {
        Finding::new(
            "matched-but-no-data",
            Severity::Failure,
            "discovery matched but no data arrived: the data path fails (e.g. unicast data ports blocked, or \
             Fast DDS shared memory between processes that share a network namespace but not /dev/shm)",
            "check that UDP 7400–7500 passes between the pods; on Fast DDS, try FASTDDS_BUILTIN_TRANSPORTS=UDPv4",
        )
        .evidence(format!(
            "trial {}: {} sent {} in the window, none arrived",
            c.trial.meta.trial, c.pair.talker, c.pair.expected
        ))
    })
}

pub fn no_discovery(c: &Context<'_>) -> Option<Finding> {
    let l = c.listener?;
    let mut h = Finding::new(
        "no-discovery",
        Severity::Failure,
        "no discovery and no data between these two",
        "check that discovery traffic (multicast, or unicast peers) reaches both ends",
    )
    .evidence(format!(
        "trial {}: the listener matched at most {} writer(s); {} sent {}",
        c.trial.meta.trial,
        l.node.max_peers,
        c.pair.talker,
        c.talker.map_or(0, |t| t.sent)
    ));
    if let Some(why) = multicast_excuse(c) {
        h = h.evidence(format!("not multicast across nodes: {why}"));
    }
    Some(h)
}

/// When `listener` came up relative to `talker`, s (positive: later).
fn start_lag_s(c: &Context<'_>) -> Option<f64> {
    let (t, l) = (c.talker?.node.start_ns?, c.listener?.node.start_ns?);
    Some((l as f64 - t as f64) / 1e9)
}

pub fn late_joiner(c: &Context<'_>) -> Option<Finding> {
    let lag = start_lag_s(c)?;
    if lag < c.setting.warmup_s.max(LATE_JOIN.as_secs_f64()) {
        return None;
    }
    let t = c.talker?;
    let missed = t.sent.saturating_sub(c.pair.expected);
    let by_design = match c.setting.durability {
        Durability::Volatile => "volatile durability: a new reader gets nothing sent before it joined".to_owned(),
        Durability::TransientLocal => format!(
            "transient-local durability: a new reader gets at most the last {} (history depth); {} arrived",
            c.setting.depth, c.pair.before_window
        ),
    };
    let configured = c.setting.start_delays.get(&c.pair.listener).copied();
    let fault = configured.map(|d| FaultCheck {
        injected: format!("{} startDelayS {d} s", c.pair.listener),
        observed: format!("started {lag:.2} s after {}", c.pair.talker),
        // The start record comes after the participant is up: allow for that.
        matches: (lag - d).abs() <= FAULT_TOLERANCE.as_secs_f64() + 0.2,
    });
    Some(
        Finding::new(
            "late-joiner",
            Severity::Info,
            format!("listener `{}` joined late, after the talker was already publishing", c.pair.listener),
            "not loss: the window counts only what was sent while the listener was up; use transient-local \
             durability if late joiners must get recent messages",
        )
        .pair(c.pair.name())
        .trial(c.trial.meta.trial)
        .evidence(format!(
            "trial {}: started {lag:.2} s after {}; {missed} message(s) sent before its window are not expected ({by_design})",
            c.trial.meta.trial, c.pair.talker
        ))
        .fault(fault),
    )
}

pub fn late_discovery(c: &Context<'_>) -> Option<Finding> {
    let warmup_ms = c.setting.warmup_s * 1000.0;
    let (what, ms) = match (c.pair.matched_ms, c.pair.first_message_ms) {
        (Some(m), _) => ("matched", m),
        // Without a match record the first message stands in, and it also waits for the
        // talker's first send (a stock node's start-up is in it): late only if the window
        // lost messages before it.
        (None, Some(f)) if c.pair.lost > c.pair.lost_in_gaps => ("first message", f),
        _ => return None,
    };
    if ms <= warmup_ms || !c.pair.clock_trusted {
        return None;
    }
    Some(
        Finding::new(
            "late-discovery",
            Severity::Warning,
            if what == "matched" {
                "late discovery: the pair matched only after the warm-up, so its window opened before discovery"
            } else {
                "late first message: the pair heard its first message only after the warm-up, and the window lost \
                 messages before it (slow discovery, or a talker that started publishing late)"
            },
            "messages sent before the match are lost to this listener; look at why discovery is slow (SPDP \
             announcement period, multicast reaching only some interfaces) or raise trials.warmupS",
        )
        .pair(c.pair.name())
        .trial(c.trial.meta.trial)
        .evidence(format!(
            "trial {}: {} {what} {} after both ends were up (warm-up {})",
            c.trial.meta.trial,
            c.pair.name(),
            ms_words(ms),
            ms_words(warmup_ms)
        )),
    )
}

/// Containers the backend saw end badly: a wrong-architecture image, OOMKilled, a non-zero
/// exit, restarts. They explain their pairs better than "never started" or "died".
pub fn containers_failed(trial: &TrialReport) -> Vec<Finding> {
    trial
        .containers
        .iter()
        .map(|c| {
            let (severity, cause, advice) = if c.wrong_arch {
                (
                    Severity::Failure,
                    format!(
                        "`{}` could not run on {} node {}: its image has no build for that architecture",
                        c.id,
                        c.arch.as_deref().unwrap_or("this"),
                        c.node
                    ),
                    "publish multi-arch images (docker-bake.hcl builds amd64 and arm64), or keep the pod off that \
                     architecture with a kubernetes.io/arch nodeSelector",
                )
            } else if c.reason == "OOMKilled" {
                (
                    Severity::Failure,
                    format!("`{}` was OOMKilled on node {}: it reached its memory limit", c.id, c.node),
                    "raise the container's memory limit (resources.limits.memory), or lower its message rate or \
                     payload size",
                )
            } else if let Some(how) = c.ended() {
                // A process on this machine, reaped by the harness: how and when, and its last
                // words on stderr.
                let words = c.last_words().map(|w| format!(": {w}")).unwrap_or_default();
                if c.exit_code == Some(0) {
                    (
                        Severity::Warning,
                        format!(
                            "`{}` on node {} ended by itself before the trial was over: it {how}{words}",
                            c.id, c.node
                        ),
                        "a node that exits at once usually ran the wrong command (check its command and args); \
                         messages it would have sent or received after that are not network loss",
                    )
                } else {
                    (
                        Severity::Failure,
                        format!("`{}` on node {} {how}{words}", c.id, c.node),
                        "a program that exits at once usually has a wrong command, a missing package or a missing \
                         environment: its last stderr line is quoted above; run its command by hand to see more. What \
                         it would have sent or received after that is not network loss",
                    )
                }
            } else if c.exit_code.is_some_and(|x| x != 0) || c.signal.is_some() {
                (
                    Severity::Failure,
                    format!("`{}` exited with an error on node {} ({})", c.id, c.node, c.reason),
                    "read the container's log (`kubectl logs --previous`) for its last words; messages it would \
                     have sent or received after that are not network loss",
                )
            } else {
                (
                    Severity::Warning,
                    format!("`{}` restarted on node {}", c.id, c.node),
                    "a restarted node starts DDS discovery afresh; find why it stopped in `kubectl logs --previous`",
                )
            };
            let pairs: Vec<String> =
                trial.pairs.iter().filter(|p| p.talker == c.id || p.listener == c.id).map(PairReport::name).collect();
            let mut h = Finding::new("container-failed", severity, cause, advice)
                .trial(trial.meta.trial)
                .evidence(format!("trial {}: {}", trial.meta.trial, c.describe()));
            if c.stderr.len() > 1 {
                h = h.evidence(format!("its last {} stderr lines: {}", c.stderr.len(), c.stderr.join(" | ")));
            }
            h.pairs = pairs;
            h
        })
        .collect()
}

/// Whether the backend saw container `id` end badly in this trial (a
/// [`containers_failed`] finding explains it).
fn container_failed(trial: &TrialReport, id: &str) -> bool {
    trial.containers.iter().any(|c| {
        c.id == id
            && (c.wrong_arch
                || c.exit_code.is_some_and(|x| x != 0)
                || c.reason == "OOMKilled"
                || c.signal.is_some()
                // A process on this machine that ended by itself early, even with status 0.
                || c.at_ms.is_some())
    })
}

/// Talkers and listeners that ended without a stop record.
pub fn nodes_died(trial: &TrialReport, setting: &Setting) -> Vec<Finding> {
    let ends = trial
        .talkers
        .iter()
        .map(|t| ("talker", &t.id, &t.node))
        .chain(trial.listeners.iter().map(|l| ("listener", &l.id, &l.node)));
    let mut hits = Vec::new();
    for (role, id, node) in ends {
        if !node.died() || container_failed(trial, id) {
            continue;
        }
        let at = node.last_ns.map(|t| trial.at_s(t));
        let pairs: Vec<String> = trial
            .pairs
            .iter()
            .filter(|p| (&p.talker == id || &p.listener == id) && p.expected > 0)
            .map(PairReport::name)
            .collect();
        let fault = kill_fault(setting, id).map(|(f, at_s)| FaultCheck {
            injected: f.describe(),
            observed: at.map_or("no record at all".into(), |a| format!("last record at {a:.2} s")),
            matches: at.is_some_and(|a| a <= at_s + FAULT_TOLERANCE.as_secs_f64() && a >= at_s - 1.0),
        });
        let mut h = Finding::new(
            "node-died",
            Severity::Failure,
            format!("{role} `{id}` died mid-trial: it ended without a stop record (killed or crashed)"),
            "look at the container's exit: OOMKilled, a crash, or an external kill; messages it would have sent \
             or received after that are not counted as network loss",
        )
        .trial(trial.meta.trial)
        .evidence(format!(
            "trial {}: last record at {}",
            trial.meta.trial,
            at.map_or("?".into(), |a| format!("{a:.2} s"))
        ))
        .fault(fault);
        h.pairs = pairs;
        hits.push(h);
    }
    hits
}

/// The injected kill of container id `pod.container`, and its time.
fn kill_fault<'s>(setting: &'s Setting, id: &str) -> Option<(&'s FaultSpec, f64)> {
    setting.faults.iter().find_map(|f| match f {
        FaultSpec::Kill { pod, container, at_s } if format!("{pod}.{container}") == id => Some((f, at_s.0)),
        _ => None,
    })
}

/// Outage-length silences, grouped when they overlap in time, named by what they share.
pub fn outages(trial: &TrialReport, setting: &Setting) -> Vec<Finding> {
    let mut silences: Vec<&crate::analysis::trial::Silence> = trial.silences.iter().collect();
    silences.sort_by(|a, b| a.from_s.total_cmp(&b.from_s));
    // Cluster by overlap.
    let mut clusters: Vec<Vec<&crate::analysis::trial::Silence>> = Vec::new();
    for s in silences {
        match clusters.last_mut() {
            Some(c) if c.iter().any(|o| s.from_s <= o.to_s) => c.push(s),
            _ => clusters.push(vec![s]),
        }
    }
    let pair_of =
        |talker: &str, listener: &str| trial.pairs.iter().find(|p| p.talker == talker && p.listener == listener);
    let mut hits = Vec::new();
    for cluster in clusters {
        let pairs: Vec<&PairReport> = cluster.iter().filter_map(|s| pair_of(&s.talker, &s.listener)).collect();
        let from = cluster.iter().map(|s| s.from_s).fold(f64::INFINITY, f64::min);
        let to = cluster.iter().map(|s| s.to_s).fold(f64::NEG_INFINITY, f64::max);
        let open = cluster.iter().all(|s| s.open_ended);
        let nodes =
            |p: &PairReport| (p.talker_node.clone().unwrap_or_default(), p.listener_node.clone().unwrap_or_default());
        let cross = pairs.iter().all(|p| p.relation == Relation::CrossNode);
        let mut link: Vec<String> = pairs
            .iter()
            .flat_map(|p| {
                let (a, b) = nodes(p);
                [a, b]
            })
            .collect();
        link.sort();
        link.dedup();
        let common_node = link.iter().find(|n| pairs.iter().all(|p| nodes(p).0 == **n || nodes(p).1 == **n)).cloned();
        let talkers: Vec<&str> = pairs.iter().map(|p| p.talker.as_str()).collect();
        let what = if cross && link.len() == 2 {
            format!("the link between nodes {} and {}", link[0], link[1])
        } else if cross && common_node.is_some() {
            format!("node {} (unreachable from the other nodes)", common_node.clone().unwrap_or_default())
        } else if pairs.len() > 1 && talkers.iter().all(|t| *t == talkers[0]) {
            format!("talker `{}` (silent to every listener)", talkers[0])
        } else if pairs.len() == 1 {
            format!("the pair {}", pairs[0].name())
        } else {
            "several pairs at once".into()
        };
        let ends = if open { "and did not resume" } else { "then resumed" };
        let lost: u64 = pairs.iter().map(|p| p.lost).sum();
        let fault = partition_check(setting, &link, cross, from, to);
        let mut h = Finding::new(
            "outage",
            Severity::Failure,
            format!("outage on {what}: messages stopped {ends}"),
            "a link or node went away for a while: look at the node (network, power, CPU starvation) for that \
             time; with reliable QoS, a history depth that covers the outage lets messages be recovered",
        )
        .trial(trial.meta.trial)
        .evidence(format!(
            "trial {}: silent from {from:.2} s to {to:.2} s ({:.2} s) on {}; {lost} message(s) lost on these pair(s)",
            trial.meta.trial,
            to - from,
            pairs.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
        ))
        .fault(fault);
        h.pairs = pairs.iter().map(|p| p.name()).collect();
        hits.push(h);
    }
    hits
}

/// Whether an outage on cross-node `link` from `from` to `to` matches an injected partition.
fn partition_check(setting: &Setting, link: &[String], cross: bool, from: f64, to: f64) -> Option<FaultCheck> {
    if !cross || link.len() != 2 {
        return None;
    }
    let f = setting.partitions_between(&link[0], &link[1]).into_iter().next()?;
    let FaultSpec::Partition { from_s, to_s, .. } = f else { return None };
    let tol = FAULT_TOLERANCE.as_secs_f64();
    Some(FaultCheck {
        injected: f.describe(),
        observed: format!("silent {from:.2}–{to:.2} s"),
        matches: (from - from_s.0).abs() <= tol && (to - to_s.0).abs() <= tol,
    })
}

/// Messages lost on pairs that delivered (outside outages, which explain their own losses).
pub fn loss(trials: &[&TrialReport], pairs: &[PairSummary], setting: &Setting) -> Vec<Finding> {
    let mut hits = Vec::new();
    for s in pairs {
        let rows: Vec<&PairReport> = trials
            .iter()
            .flat_map(|t| &t.pairs)
            .filter(|p| p.talker == s.talker && p.listener == s.listener && p.relation == s.relation)
            .filter(|p| p.delivery != Delivery::None && p.outages == 0)
            .collect();
        let (all_lost, expected) = rows.iter().fold((0, 0), |(l, e), p| (l + p.lost, e + p.expected));
        // Loss in transit is what went missing between received messages; what the window
        // missed before the first or after the last is a late start or discovery, or an early
        // end, and says nothing about the link.
        let lost: u64 = rows.iter().map(|p| p.lost_in_gaps.min(p.lost)).sum();
        let edges = all_lost - lost;
        if all_lost == 0 || expected == 0 {
            continue;
        }
        if lost == 0 {
            hits.push(missed_window_edges(s, &rows, edges, expected, setting));
            continue;
        }
        let runs: u64 = rows.iter().map(|p| p.loss_runs).sum::<u64>().max(1);
        let longest = rows.iter().map(|p| p.longest_gap).max().unwrap_or(0);
        let rate = lost as f64 / expected as f64;
        let (lo, hi) = wilson(lost, expected);
        // Independent (Bernoulli) loss at rate p has runs of mean length 1 / (1 - p).
        let mean_run = lost as f64 / runs as f64;
        let bursty = mean_run > 2.0 / (1.0 - rate).max(0.05) && longest >= 5;
        let spread = format!(
            "{} (mean run {mean_run:.1} message(s), longest {longest})",
            if bursty { "bursty" } else { "random" }
        );
        let reliability = trials
            .iter()
            .find_map(|t| t.talker(&s.talker).and_then(|f| f.node.reliability))
            .unwrap_or(chatter::Reliability::Reliable);
        let advice = match reliability {
            chatter::Reliability::BestEffort => {
                "best-effort QoS does not retransmit: a lost packet is a lost message; use reliable QoS, or find the \
                 lossy link (Wi-Fi, an overloaded Pi)"
            }
            chatter::Reliability::Reliable => {
                "reliable QoS lost messages: the writer's history (keep-last depth) was overwritten before the reader \
                 acknowledged; raise the depth, lower the rate, or find the lossy link"
            }
        };
        let partial = rows.iter().any(|p| p.delivery == Delivery::Partial) || s.ratio < DELIVERED_RATIO;
        let fault = loss_check(setting, s, rate, lo, hi);
        hits.push(
            Finding::new(
                "loss",
                if partial { Severity::Failure } else { Severity::Warning },
                format!(
                    "{} lost {} of messages (95 % CI {}–{}), {reliability} QoS",
                    s.name(),
                    pct(rate),
                    pct(lo),
                    pct(hi)
                ),
                advice,
            )
            .pair(s.name())
            .evidence(format!(
                "{lost} of {expected} messages lost between received ones over {} trial(s) ({}); loss is {spread}{}",
                rows.len(),
                s.relation.as_str(),
                if edges > 0 {
                    format!("; {edges} more missing before the first or after the last message received, not counted as loss")
                } else {
                    String::new()
                }
            ))
            .fault(fault),
        );
        if let Some(h) = hits.last_mut() {
            h.trials = rows.iter().map(|p| p.trial).collect();
        }
    }
    hits
}

/// A pair whose window missed messages only before its first or after its last receipt.
fn missed_window_edges(s: &PairSummary, rows: &[&PairReport], edges: u64, expected: u64, setting: &Setting) -> Finding {
    let warmup_ms = setting.warmup_s * 1000.0;
    let mut evidence: Vec<String> = rows
        .iter()
        .filter(|p| p.lost > 0)
        .map(|p| {
            let first = p
                .first_message_ms
                .filter(|_| p.clock_trusted)
                .map_or(String::new(), |f| format!(", first message {} after both ends were up", ms_words(f)));
            format!("trial {}: {} of {} missed, none between received messages{first}", p.trial, p.lost, p.expected)
        })
        .collect();
    evidence.push(format!("warm-up {}", ms_words(warmup_ms)));
    let partial = rows.iter().any(|p| p.delivery == Delivery::Partial) || s.ratio < DELIVERED_RATIO;
    let mut f = Finding::new(
        "missed-window-edges",
        if partial { Severity::Failure } else { Severity::Warning },
        format!(
            "{} missed {edges} of {expected} messages of its windows, all before its first message or after its last — \
             a late first message (slow discovery or start-up) or an early end, not loss between messages",
            s.name()
        ),
        "see late-discovery for a late first message; raise trials.warmupS if discovery is slow but steady, or find \
         why the node started late or ended early",
    )
    .pair(s.name());
    f.evidence = evidence;
    f.trials = rows.iter().filter(|p| p.lost > 0).map(|p| p.trial).collect();
    f
}

/// Whether measured loss on a pair into node X matches an injected loss fault on X.
fn loss_check(setting: &Setting, s: &PairSummary, rate: f64, lo: f64, hi: f64) -> Option<FaultCheck> {
    setting.faults.iter().find_map(|f| match f {
        FaultSpec::Loss { node, percent } if s.relation == Relation::CrossNode => {
            let into = s.placements.keys().all(|k| k.ends_with(&format!("→ {node}")));
            into.then(|| {
                let p = percent.0 / 100.0;
                FaultCheck {
                    injected: f.describe(),
                    observed: format!("{} lost on {}", pct(rate), s.name()),
                    // Inside the interval, or within 5 points (packets are not messages).
                    matches: (lo..=hi).contains(&p) || (rate - p).abs() <= 0.05,
                }
            })
        }
        _ => None,
    })
}

/// Injected faults with no symptom at all: the simulator did not do what the scenario says.
pub fn faults_not_seen(hits: &[Finding], setting: &Setting) -> Vec<Finding> {
    setting
        .faults
        .iter()
        .filter(|f| !matches!(f, FaultSpec::Delay { .. }))
        .filter(|f| {
            let described = f.describe();
            !hits.iter().any(|h| h.fault.as_ref().is_some_and(|c| c.injected == described))
        })
        .map(|f| {
            Finding::new(
                "fault-not-observed",
                Severity::Warning,
                format!("injected fault left no trace: {}", f.describe()),
                "check that the fault applies to the pairs you expect (loss and partitions act between nodes; a \
                 kill needs the pod and container names)",
            )
            .evidence("no loss, outage or node death that matches it was measured")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::analysis::trial::{ListenerFacts, NodeFacts, Silence, TalkerFacts};
    use crate::analysis::TrialMeta;
    use crate::diagnosis::{diagnose, Context};
    use crate::spec::FaultNumber;

    const S: u64 = 1_000_000_000;

    fn up() -> NodeFacts {
        NodeFacts {
            started: true,
            start_ns: Some(0),
            domain: Some(0),
            reliability: Some(chatter::Reliability::Reliable),
            max_peers: 1,
            stop_reason: Some("duration".into()),
            last_ns: Some(4 * S),
            ..NodeFacts::default()
        }
    }

    fn setting() -> Setting {
        Setting::netns_flannel()
    }

    /// `t` on node `tn` → `l` on node `ln`, `received` of 30.
    fn pair(t: &str, tn: &str, l: &str, ln: &str, received: u64) -> PairReport {
        let pod = |id: &str| id.split('.').next().unwrap_or(id).to_owned();
        let relation = if pod(t) == pod(l) {
            Relation::SamePod
        } else if tn == ln {
            Relation::SameNode
        } else {
            Relation::CrossNode
        };
        PairReport {
            trial: 1,
            talker: t.into(),
            listener: l.into(),
            talker_node: Some(tn.into()),
            listener_node: Some(ln.into()),
            relation,
            window_from_s: Some(1.0),
            window_to_s: Some(4.0),
            expected: 30,
            received,
            lost: 30 - received,
            lost_in_gaps: 30 - received,
            duplicates: 0,
            reordered: 0,
            before_window: 0,
            first_seq: None,
            longest_gap: 0,
            loss_runs: 0,
            max_silence_ms: None,
            outages: 0,
            listener_matched: Some(received > 0),
            talker_matched: Some(received > 0),
            matched_ms: (received > 0).then_some(120.0),
            first_message_ms: (received > 0).then_some(130.0),
            latency_p50_us: None,
            latency_p90_us: None,
            latency_p99_us: None,
            latency_max_us: None,
            negative_latency: 0,
            clock_trusted: true,
            clock_uncertainty_ms: None,
            delivery: Delivery::classify(received, 30),
        }
    }

    fn trial(pairs: Vec<PairReport>) -> TrialReport {
        let mut talkers: Vec<TalkerFacts> = Vec::new();
        let mut listeners: Vec<ListenerFacts> = Vec::new();
        for p in &pairs {
            if talkers.iter().all(|t| t.id != p.talker) {
                talkers.push(TalkerFacts { id: p.talker.clone(), node: up(), sent: 40, last_seq: 40 });
            }
            if listeners.iter().all(|l| l.id != p.listener) {
                listeners.push(ListenerFacts { id: p.listener.clone(), node: up(), ..Default::default() });
            }
        }
        TrialReport {
            meta: TrialMeta { trial: 1, start_ns: 0, end_ns: 5 * S, interrupted: false, opened_ns: None },
            placement: BTreeMap::new(),
            talkers,
            listeners,
            pairs,
            silences: Vec::new(),
            outcome: String::new(),
            stray: 0,
            containers: Vec::new(),
            incomplete: Vec::new(),
            warmup_ends_ns: None,
            last_started_ns: None,
        }
    }

    fn silent_rule(t: &TrialReport, s: &Setting) -> Option<String> {
        let p = t.pairs.iter().find(|p| p.delivery == Delivery::None)?;
        why_silent(&Context::new(p, t, s)).map(|h| h.rule)
    }

    /// The seed: the Pi talker's pod reaches its own listener, not the master's.
    fn seed() -> TrialReport {
        trial(vec![
            pair("tl.talker", "pi", "tl.listener", "pi", 30),
            pair("tl.talker", "pi", "l.listener", "master", 0),
        ])
    }

    fn exit(id: &str, reason: &str, code: i32, message: &str) -> crate::backend::ContainerExit {
        crate::backend::ContainerExit {
            id: id.into(),
            node: "master".into(),
            arch: Some("amd64".into()),
            reason: reason.into(),
            exit_code: Some(code),
            signal: None,
            restarts: 0,
            message: message.into(),
            wrong_arch: message.contains("exec format error"),
            at_ms: None,
            stderr: Vec::new(),
        }
    }

    /// A listener whose container could not run is explained by that, not by the `&&` advice
    /// of listener-not-started, and not twice.
    #[test]
    fn failed_container_explains_its_pairs() {
        let mut t = seed();
        t.listeners[1].node = NodeFacts::default();
        t.containers.push(exit("l.listener", "StartError", 128, "exec /listener: exec format error"));
        assert_eq!(silent_rule(&t, &setting()), None);
        let hits = containers_failed(&t);
        assert_eq!(hits.len(), 1);
        assert_eq!(
            hits[0].cause,
            "`l.listener` could not run on amd64 node master: its image has no build for that architecture"
        );
        assert_eq!(hits[0].pairs, ["tl.talker → l.listener"]);
        assert!(hits[0].evidence[0].contains("StartError, exit 128"), "{:?}", hits[0].evidence);
        let oom = containers_failed(&trial_with(exit("tl.talker", "OOMKilled", 137, "")));
        assert!(oom[0].cause.contains("OOMKilled") && oom[0].severity == Severity::Failure);
        let restarted =
            crate::backend::ContainerExit { exit_code: None, restarts: 2, ..exit("tl.talker", "Restarted", 0, "") };
        let hits = containers_failed(&trial_with(restarted));
        assert_eq!(
            (hits[0].severity, hits[0].cause.as_str()),
            (Severity::Warning, "`tl.talker` restarted on node master")
        );
    }

    /// A process on this machine that exited at once: its status, time and last words, and
    /// never "published nothing" for its pairs.
    #[test]
    fn a_process_exit_is_named_with_its_status_time_and_stderr() {
        let end = crate::backend::process::Ended {
            code: Some(1),
            signal: None,
            t_ns: 1_020_000_000,
            by_harness: false,
            stderr: vec!["starting".into(), "error: package not found".into()],
        };
        let e = crate::backend::ContainerExit::of_process("tl.talker".into(), "pi".into(), None, end, 1_000_000_000);
        let mut t = trial_with(e);
        t.talkers[0].sent = 0;
        let pair = t.pairs.iter().find(|p| p.talker == "tl.talker").cloned();
        assert!(pair.is_some_and(|p| container_failed(&t, &p.talker)), "its pairs are explained by the exit");
        let hits = containers_failed(&t);
        assert_eq!(hits[0].cause, "`tl.talker` on node pi exited with status 1 at 0.02 s: error: package not found");
        assert_eq!(hits[0].severity, Severity::Failure);
        assert_eq!(hits[0].evidence[1], "its last 2 stderr lines: starting | error: package not found");
        let signalled = crate::backend::process::Ended {
            code: None,
            signal: Some(11),
            t_ns: 2_500_000_000,
            by_harness: false,
            stderr: Vec::new(),
        };
        let e = crate::backend::ContainerExit::of_process("tl.talker".into(), "pi".into(), None, signalled, 0);
        assert_eq!(
            containers_failed(&trial_with(e))[0].cause,
            "`tl.talker` on node pi was killed by signal 11 (SIGSEGV) at 2.50 s"
        );
    }

    fn trial_with(e: crate::backend::ContainerExit) -> TrialReport {
        let mut t = seed();
        t.containers.push(e);
        t
    }

    /// Two hostNetwork pods on one node, both on Fast DDS with shared memory.
    fn host_network_fastdds(host_ipc: [bool; 2]) -> Setting {
        let mut s = setting();
        for (id, pod, ipc) in [("t.talker", "t", host_ipc[0]), ("l.listener", "l", host_ipc[1])] {
            s.host_network.insert(id.into(), true);
            s.shm.insert(id.into(), crate::diagnosis::ShmEnd { pod: pod.into(), host_ipc: ipc });
            s.stock.insert(id.into());
        }
        s
    }

    #[test]
    fn host_network_pods_on_one_node_are_a_shared_memory_failure_never_multicast() {
        let mut t = trial(vec![pair("t.talker", "master", "l.listener", "master", 0)]);
        t.pairs[0].listener_matched = None;
        t.pairs[0].talker_matched = None;
        let s = host_network_fastdds([false, false]);
        let hit = why_silent(&Context::new(&t.pairs[0], &t, &s)).expect("a finding");
        assert_eq!(hit.rule, "fastdds-shared-memory");
        assert!(!hit.cause.contains("multicast"), "{}", hit.cause);
        let ev = hit.evidence.join("\n");
        assert!(ev.contains("t and l are both on the host network of master"), "{ev}");
        assert!(ev.contains("(neither pod has hostIPC)") && ev.contains("not observable (the stock nodes"), "{ev}");
        // Matched both ways: discovery worked, data did not.
        t.pairs[0].listener_matched = Some(true);
        t.pairs[0].talker_matched = Some(true);
        let ev = why_silent(&Context::new(&t.pairs[0], &t, &s)).expect("a finding").evidence.join("\n");
        assert!(ev.contains("both ends matched"), "{ev}");
        // Not when both share the node's /dev/shm, nor off the host network, nor on RustDDS.
        assert_ne!(silent_rule(&t, &host_network_fastdds([true, true])).as_deref(), Some("fastdds-shared-memory"));
        assert_eq!(silent_rule(&t, &host_network_fastdds([true, false])).as_deref(), Some("fastdds-shared-memory"));
        let mut pod_network = host_network_fastdds([false, false]);
        pod_network.host_network.clear();
        assert_ne!(silent_rule(&t, &pod_network).as_deref(), Some("fastdds-shared-memory"));
        let mut rustdds = host_network_fastdds([false, false]);
        rustdds.shm.clear();
        assert_ne!(silent_rule(&t, &rustdds).as_deref(), Some("fastdds-shared-memory"));
    }

    #[test]
    fn listener_that_never_started() {
        let mut t = seed();
        t.listeners[1].node = NodeFacts::default();
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("listener-not-started"));
    }

    #[test]
    fn talker_that_never_started() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "pi", 0)]);
        t.talkers[0].node = NodeFacts::default();
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("talker-not-started"));
    }

    #[test]
    fn domains_differ() {
        let mut t = seed();
        t.listeners[1].node.domain = Some(7);
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("domain-mismatch"));
    }

    #[test]
    fn best_effort_talker_reliable_listener() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "pi", 0)]);
        t.talkers[0].node.reliability = Some(chatter::Reliability::BestEffort);
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("qos-incompatible"));
    }

    #[test]
    fn silent_talker() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "pi", 0)]);
        t.talkers[0].sent = 0;
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("talker-sent-nothing"));
    }

    #[test]
    fn cross_node_silence_with_working_local_pairs_is_multicast_and_says_so_per_pair() {
        let t = seed();
        let p = &t.pairs[1];
        let hit = why_silent(&Context::new(p, &t, &setting())).expect("explained");
        assert_eq!(hit.rule, "no-discovery-across-nodes");
        // The evidence agrees with the title: this listener never matched *this* talker.
        assert!(hit.evidence[0].contains("never matched this talker's writer"), "{:?}", hit.evidence);
        assert!(hit.evidence.iter().all(|e| !e.contains("yes")), "{:?}", hit.evidence);
        assert!(hit.advice.starts_with("use hostNetwork: true"), "{}", hit.advice);
        // On Fast DDS with shared memory, hostNetwork alone is not offered as the fix.
        let mut s = setting();
        for (id, pod) in [(p.talker.as_str(), "tl"), (p.listener.as_str(), "l")] {
            s.shm.insert(id.into(), crate::diagnosis::ShmEnd { pod: pod.into(), host_ipc: false });
        }
        let hit = why_silent(&Context::new(p, &t, &s)).expect("explained");
        assert!(hit.advice.contains("only with FASTDDS_BUILTIN_TRANSPORTS=UDPv4"), "{}", hit.advice);
        assert!(!hit.advice.starts_with("use hostNetwork"), "{}", hit.advice);
    }

    #[test]
    fn no_multicast_blame_where_multicast_cannot_be_missing() {
        let t = seed();
        let mut s = setting();
        s.host_network = BTreeMap::from([("tl.talker".into(), true), ("l.listener".into(), true)]);
        assert_eq!(silent_rule(&t, &s).as_deref(), Some("no-discovery"), "host network carries multicast");
        let mut s = setting();
        s.multicast_between_nodes = true;
        assert_eq!(silent_rule(&t, &s).as_deref(), Some("no-discovery"));
        let mut s = setting();
        s.faults.push(FaultSpec::Partition {
            between: ["master".into(), "pi".into()],
            from_s: FaultNumber(0.0),
            to_s: FaultNumber(10.0),
        });
        assert_eq!(silent_rule(&t, &s).as_deref(), Some("no-discovery"));
        let mut s = setting();
        s.separate_nodes = false;
        assert_eq!(silent_rule(&t, &s).as_deref(), Some("no-discovery"), "local backend: one network");
    }

    #[test]
    fn cross_node_without_local_reference_is_not_blamed_on_multicast() {
        let t = trial(vec![pair("a.talker", "pi", "b.listener", "master", 0)]);
        assert_eq!(silent_rule(&t, &setting()).as_deref(), Some("no-discovery"));
    }

    #[test]
    fn matched_per_pair_but_no_data() {
        let mut t = seed();
        t.pairs[1].listener_matched = Some(true);
        assert_eq!(
            silent_rule(&t, &setting()).as_deref(),
            Some("matched-but-no-data"),
            "discovery worked, data did not"
        );
    }

    #[test]
    fn late_listener_is_a_late_joiner_not_loss() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "pi", 20)]);
        t.pairs[0].expected = 20;
        t.pairs[0].lost = 0;
        t.pairs[0].delivery = Delivery::Delivered;
        t.listeners[0].node.start_ns = Some(2 * S);
        let mut s = setting();
        s.start_delays.insert("b.listener".into(), 2.0);
        let hit = late_joiner(&Context::new(&t.pairs[0], &t, &s)).expect("late joiner");
        assert_eq!(hit.severity, Severity::Info);
        assert!(
            hit.evidence[0].contains("20 message(s) sent before its window are not expected"),
            "{:?}",
            hit.evidence
        );
        assert!(hit.fault.expect("configured delay").matches);
        t.listeners[0].node.start_ns = Some(S / 10);
        assert!(late_joiner(&Context::new(&t.pairs[0], &t, &s)).is_none(), "a 0.1 s lag is not late");
    }

    #[test]
    fn discovery_after_the_warmup_is_late() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "master", 25)]);
        t.pairs[0].matched_ms = Some(1800.0);
        let hit = late_discovery(&Context::new(&t.pairs[0], &t, &setting())).expect("late");
        assert!(hit.evidence[0].contains("1.80 s"), "{:?}", hit.evidence);
        t.pairs[0].matched_ms = Some(300.0);
        assert!(late_discovery(&Context::new(&t.pairs[0], &t, &setting())).is_none());
    }

    /// Without a match record (stock nodes), a first message after the warm-up is late only if
    /// the window lost messages before it: a stock talker that first published just before the
    /// window opened, heard at once, is not late discovery.
    #[test]
    fn a_first_message_after_the_warmup_is_late_only_if_the_window_missed_some() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "master", 30)]);
        (t.pairs[0].matched_ms, t.pairs[0].first_message_ms) = (None, Some(1010.0));
        assert!(late_discovery(&Context::new(&t.pairs[0], &t, &setting())).is_none());
        let p = &mut t.pairs[0];
        (p.received, p.lost, p.lost_in_gaps, p.first_message_ms) = (22, 8, 0, Some(5150.0));
        let hit = late_discovery(&Context::new(&t.pairs[0], &t, &setting())).expect("late");
        assert!(hit.evidence[0].contains("first message 5.15 s"), "{:?}", hit.evidence);
    }

    #[test]
    fn a_talker_without_stop_record_died_when_the_kill_said() {
        let mut t = trial(vec![pair("a.talker", "pi", "b.listener", "pi", 30)]);
        t.talkers[0].node.stop_reason = None;
        t.talkers[0].node.last_ns = Some(2_450_000_000);
        let mut s = setting();
        s.faults.push(FaultSpec::Kill { pod: "a".into(), container: "talker".into(), at_s: FaultNumber(2.5) });
        let hits = nodes_died(&t, &s);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].cause.contains("talker `a.talker` died"), "{}", hits[0].cause);
        assert!(hits[0].evidence[0].contains("2.45 s"));
        assert!(hits[0].fault.as_ref().expect("kill fault").matches);
        s.faults[0] = FaultSpec::Kill { pod: "a".into(), container: "talker".into(), at_s: FaultNumber(3.5) };
        assert!(!nodes_died(&t, &s)[0].fault.as_ref().expect("kill fault").matches, "1 s early is not the kill");
    }

    fn silence(t: &str, l: &str, from_s: f64, to_s: f64) -> Silence {
        Silence { talker: t.into(), listener: l.into(), from_s, to_s, open_ended: false }
    }

    #[test]
    fn an_outage_on_one_link_names_the_link_and_matches_the_partition() {
        let mut t = trial(vec![
            pair("m.talker", "master", "p.listener", "pi", 28),
            pair("q.talker", "pi", "p.listener", "pi", 30),
        ]);
        t.pairs[0].outages = 1;
        t.silences.push(silence("m.talker", "p.listener", 2.52, 4.03));
        let mut s = setting();
        s.faults.push(FaultSpec::Partition {
            between: ["master".into(), "pi".into()],
            from_s: FaultNumber(2.5),
            to_s: FaultNumber(4.0),
        });
        let hits = outages(&t, &s);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].cause.contains("the link between nodes master and pi"), "{}", hits[0].cause);
        assert!(hits[0].evidence[0].contains("from 2.52 s to 4.03 s"), "{:?}", hits[0].evidence);
        assert!(hits[0].fault.as_ref().expect("partition").matches);
        t.silences[0].from_s = 1.9;
        assert!(!outages(&t, &s)[0].fault.as_ref().expect("partition").matches, "0.6 s early");
    }

    #[test]
    fn overlapping_silences_into_one_node_name_the_node() {
        let mut t = trial(vec![
            pair("a.talker", "master", "p.listener", "pi", 20),
            pair("b.talker", "edge", "p.listener", "pi", 20),
        ]);
        t.silences.push(silence("a.talker", "p.listener", 2.5, 4.0));
        t.silences.push(silence("b.talker", "p.listener", 2.6, 4.0));
        let hits = outages(&t, &setting());
        assert_eq!(hits.len(), 1, "one outage, not two");
        assert!(hits[0].cause.contains("node pi"), "{}", hits[0].cause);
        assert_eq!(hits[0].pairs.len(), 2);
    }

    fn summary_of(t: &TrialReport, i: usize) -> PairSummary {
        let mut a = crate::analysis::RunAnalyzer::default();
        a.add(t.clone(), Vec::new());
        a.pair_summaries()
            .into_iter()
            .find(|s| s.talker == t.pairs[i].talker && s.listener == t.pairs[i].listener)
            .expect("summary")
    }

    #[test]
    fn partial_delivery_gets_a_loss_finding_that_checks_the_injected_rate() {
        let mut t = trial(vec![pair("a.talker", "master", "b.listener", "pi", 0)]);
        let p = &mut t.pairs[0];
        (p.expected, p.received, p.lost, p.loss_runs, p.longest_gap) = (400, 284, 116, 90, 4);
        p.lost_in_gaps = 116;
        p.delivery = Delivery::Partial;
        t.talkers[0].node.reliability = Some(chatter::Reliability::BestEffort);
        let summary = summary_of(&t, 0);
        let mut s = setting();
        s.faults.push(FaultSpec::Loss { node: "pi".into(), percent: FaultNumber(30.0) });
        let hits = loss(&[&t], std::slice::from_ref(&summary), &s);
        assert_eq!(hits.len(), 1);
        let h = &hits[0];
        assert_eq!(h.severity, Severity::Failure);
        assert!(h.cause.contains("lost 29.0 %") && h.cause.contains("best-effort"), "{}", h.cause);
        assert!(h.evidence[0].contains("random"), "{:?}", h.evidence);
        assert!(h.fault.as_ref().expect("loss fault").matches);
        s.faults[0] = FaultSpec::Loss { node: "pi".into(), percent: FaultNumber(60.0) };
        assert!(!loss(&[&t], &[summary], &s)[0].fault.as_ref().expect("loss fault").matches);
    }

    /// The seed's static-peers variant under load: a pair first heard 5.15 s after both ends
    /// were up (warm-up 3 s) missed the window's first 8 messages and none after — a late
    /// first message, never reported as random loss "(mean run 8.0, longest 0)".
    #[test]
    fn a_late_first_message_is_not_loss() {
        let mut t = trial(vec![pair("a.talker", "master", "b.listener", "pi", 0)]);
        let p = &mut t.pairs[0];
        (p.expected, p.received, p.lost, p.lost_in_gaps, p.loss_runs, p.longest_gap) = (20, 12, 8, 0, 0, 0);
        (p.first_message_ms, p.clock_trusted, p.delivery) = (Some(5150.0), true, Delivery::Partial);
        let summary = summary_of(&t, 0);
        let hits = loss(&[&t], std::slice::from_ref(&summary), &setting());
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].rule, "missed-window-edges");
        assert!(
            hits[0].cause.contains("8 of 20") && hits[0].cause.contains("not loss between messages"),
            "{}",
            hits[0].cause
        );
        assert!(hits[0].evidence[0].contains("first message 5.15 s after both ends were up"), "{:?}", hits[0].evidence);
        // Some in gaps as well: loss, counting only those, and saying what else went missing.
        t.pairs[0].lost_in_gaps = 3;
        let hits = loss(&[&t], &[summary], &setting());
        assert_eq!(hits[0].rule, "loss");
        assert!(
            hits[0].evidence[0].starts_with("3 of 20") && hits[0].evidence[0].contains("5 more missing"),
            "{:?}",
            hits[0].evidence
        );
    }

    #[test]
    fn long_loss_runs_are_bursty() {
        let mut t = trial(vec![pair("a.talker", "master", "b.listener", "pi", 0)]);
        let p = &mut t.pairs[0];
        (p.expected, p.received, p.lost, p.loss_runs, p.longest_gap) = (400, 340, 60, 2, 40);
        p.lost_in_gaps = 60;
        p.delivery = Delivery::Partial;
        let summary = summary_of(&t, 0);
        let hits = loss(&[&t], &[summary], &setting());
        assert!(hits[0].evidence[0].contains("bursty"), "{:?}", hits[0].evidence);
    }

    #[test]
    fn findings_with_one_cause_are_grouped() {
        // Two silent cross-node pairs in two trials: one finding listing both pairs.
        let t1 = trial(vec![
            pair("tl.talker", "pi", "tl.listener", "pi", 30),
            pair("tl.talker", "pi", "l.listener", "master", 0),
            pair("t.talker", "pi", "l.listener", "master", 0),
            pair("t.talker", "pi", "tl.listener", "pi", 30),
        ]);
        let mut t2 = t1.clone();
        t2.meta.trial = 2;
        let findings = diagnose(&[&t1, &t2], &[], &setting());
        let multicast: Vec<_> = findings.iter().filter(|f| f.rule == "no-discovery-across-nodes").collect();
        assert_eq!(multicast.len(), 1, "{findings:#?}");
        assert_eq!(multicast[0].pairs.len(), 2);
        assert_eq!(multicast[0].trials, [1, 2]);
    }

    #[test]
    fn an_injected_fault_without_symptom_is_reported() {
        let t = trial(vec![pair("a.talker", "master", "b.listener", "pi", 30)]);
        let mut s = setting();
        s.faults.push(FaultSpec::Loss { node: "pi".into(), percent: FaultNumber(30.0) });
        let findings = diagnose(&[&t], &[summary_of(&t, 0)], &s);
        assert!(findings.iter().any(|f| f.rule == "fault-not-observed"), "{findings:#?}");
    }
}
