//! Validation: what the types cannot check (names, uniqueness, references, roles, real
//! ranges), one function per section of the scenario. Every failure is a [`Violation`] naming
//! its field, so parsing can place it at the field's line and column.

use std::collections::HashSet;

use super::{
    expanded_names, ContainerRole, ContainerSpec, DdsSpec, FaultNumber, FaultSpec, MessageType, NetworkSpec, NodeSpec,
    Output, Scenario, Transport, TrialSpec, MAX_NODE_COUNT, MAX_PROCESSES, MAX_REPLICAS, MIN_MTU, UNDERLAY_MTU,
};

/// A validation failure: the field (its path) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Path of the offending field, e.g. `pods[1].containers[0].name`.
    pub field: String,
    pub message: String,
    /// Other fields the check read (`pods[*].name`: every pod's name): a violation is not
    /// reported when one of them could not be parsed.
    pub about: Vec<String>,
}

pub(super) fn violation(field: impl Into<String>, message: impl Into<String>) -> Violation {
    Violation { field: field.into(), message: message.into(), about: Vec::new() }
}

impl Violation {
    fn about(mut self, fields: &[&str]) -> Violation {
        self.about.extend(fields.iter().map(|f| (*f).to_owned()));
        self
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// The highest ROS domain id: DDS maps domain `d` to UDP ports 7400 + 250·d + 0…11, which must
/// stay below 65 536 (and above 101 they run into Linux's ephemeral port range, see
/// `harness lint`).
pub const MAX_DOMAIN: u16 = 232;
/// Bounds that keep a run something one machine and one report can hold.
const MAX_TRIALS: u32 = 10_000;
const MAX_RATE_HZ: f64 = 10_000.0;
const MAX_DURATION_S: f64 = 86_400.0;
const MAX_WARMUP_S: f64 = 3_600.0;
const MAX_DEPTH: u32 = 100_000;
const MAX_PAYLOAD_BYTES: u32 = 16 << 20;
const MAX_DELAY_MS: f64 = 60_000.0;
/// A link faster than 100 Gbit/s is no cap a trial could reach.
const MAX_MBIT: f64 = 100_000.0;

/// Checks what the types cannot: names, uniqueness, references, roles, real ranges; the first
/// violation (see [`violations`] for all).
pub fn validate(s: &Scenario) -> Result<(), Violation> {
    violations(s).into_iter().next().map_or(Ok(()), Err)
}

/// Every violation of what the types cannot check, in the order of the scenario's sections.
pub fn violations(s: &Scenario) -> Vec<Violation> {
    let mut out = Vec::new();
    check_trials(&s.trials, &mut out);
    check_dds(&s.dds, &mut out);
    if s.pods.is_empty() {
        out.push(violation("pods", "a scenario needs at least one pod"));
    }
    check_nodes(&s.nodes, &mut out);
    check_network(&s.network, &mut out);
    check_pods(s, &mut out);
    check_talkers_and_listeners(s, &mut out);
    check_faults(s, &mut out);
    out
}

/// `v` (in `unit`) is at most `max`.
fn at_most(field: &str, v: f64, max: f64, unit: &str) -> Result<(), Violation> {
    if v > max {
        Err(violation(field, format!("{v} {unit} is more than the {max} {unit} a trial can use")))
    } else {
        Ok(())
    }
}

/// Domain `d` has DDS ports (see [`MAX_DOMAIN`]).
fn domain_in_range(field: String, d: u16) -> Result<(), Violation> {
    if d > MAX_DOMAIN {
        Err(violation(
            field,
            format!(
                "domain {d} is out of range: DDS maps domain d to UDP ports 7400 + 250·d + 0…11, which must stay \
                 below 65536, so the highest domain is {MAX_DOMAIN}"
            ),
        ))
    } else {
        Ok(())
    }
}

/// `trials`: counts and times a run can hold.
fn check_trials(t: &TrialSpec, out: &mut Vec<Violation>) {
    if t.count == 0 || t.count > MAX_TRIALS {
        out.push(violation("trials.count", format!("must be between 1 and {MAX_TRIALS}, got {}", t.count)));
    }
    if t.max == 0 || t.max > MAX_TRIALS {
        out.push(violation("trials.max", format!("must be between 1 and {MAX_TRIALS}, got {}", t.max)));
    }
    out.extend(at_most("trials.durationS", t.duration_s.0, MAX_DURATION_S, "s").err());
    out.extend(at_most("trials.warmupS", t.warmup_s.0, MAX_WARMUP_S, "s").err());
    out.extend(at_most("trials.drainS", t.drain_s.0, MAX_WARMUP_S, "s").err());
    out.extend(at_most("trials.rateHz", t.rate_hz.0, MAX_RATE_HZ, "Hz").err());
}

/// `dds`: the domain and the history depth.
fn check_dds(dds: &DdsSpec, out: &mut Vec<Violation>) {
    out.extend(domain_in_range("dds.domain".into(), dds.domain).err());
    out.extend(depth_in_range("dds.depth".into(), dds.depth).err());
}

/// A keep-last depth (at `field`) between 1 and [`MAX_DEPTH`].
fn depth_in_range(field: String, depth: u32) -> Result<(), Violation> {
    if depth == 0 || depth > MAX_DEPTH {
        return Err(violation(field, format!("a keep-last history holds 1 to {MAX_DEPTH} samples, got {depth}")));
    }
    Ok(())
}

/// A `count`, `replicas` or `processes` (at `field`) between 1 and `max`.
fn copies_in_range(field: String, n: Option<u32>, max: u32, out: &mut Vec<Violation>) {
    match n {
        Some(0) => out.push(violation(field, "must be at least 1 (leave it out for one)")),
        Some(n) if n > max => out.push(violation(field, format!("{n} is more than {max}"))),
        _ => {}
    }
}

/// The names of `name` written `n` times, where `n` is in range (else just `name`, which its
/// own violation covers).
fn names_of(name: &str, n: Option<u32>, max: u32) -> Vec<String> {
    expanded_names(name, n.filter(|n| (1..=max).contains(n)))
}

/// `nodes`: names that are DNS labels, each declared once (a fleet's `<name>-<i>` too).
fn check_nodes(nodes: &[NodeSpec], out: &mut Vec<Violation>) {
    let mut node_names = HashSet::new();
    for (i, n) in nodes.iter().enumerate() {
        let field = format!("nodes[{i}].name");
        copies_in_range(format!("nodes[{i}].count"), n.count, MAX_NODE_COUNT, out);
        if !is_dns_label(&n.name) {
            out.push(violation(field, format!("`{}` is not a DNS label (lowercase letters, digits, '-')", n.name)));
        } else if let Some(taken) =
            names_of(&n.name, n.count, MAX_NODE_COUNT).into_iter().find(|x| !node_names.insert(x.clone()))
        {
            out.push(violation(field, format!("node `{taken}` is declared twice")));
        }
    }
}

/// `pods`: names that are DNS labels, each declared once, each pod with containers, and every
/// container's own checks.
fn check_pods(s: &Scenario, out: &mut Vec<Violation>) {
    let t = &s.trials;
    let talkers_end = t.warmup_s.0 + t.duration_s.0;
    let mut pod_names = HashSet::new();
    for (i, p) in s.pods.iter().enumerate() {
        if !is_dns_label(&p.name) {
            out.push(violation(
                format!("pods[{i}].name"),
                format!("`{}` is not a DNS label (lowercase letters, digits, '-')", p.name),
            ));
        } else if let Some(taken) =
            names_of(&p.name, p.replicas, MAX_REPLICAS).into_iter().find(|x| !pod_names.insert(x.clone()))
        {
            out.push(violation(format!("pods[{i}].name"), format!("pod `{taken}` is declared twice")));
        }
        copies_in_range(format!("pods[{i}].replicas"), p.replicas, MAX_REPLICAS, out);
        super::sysctls::check_sysctls(i, p, out);
        if p.containers.is_empty() {
            let all = format!("pods[{i}].containers[*]");
            out.push(violation(format!("pods[{i}].containers"), "a pod needs at least one container").about(&[&all]));
        }
        let mut container_names = HashSet::new();
        for (j, c) in p.containers.iter().enumerate() {
            let field = format!("pods[{i}].containers[{j}]");
            if !is_dns_label(&c.name) {
                out.push(violation(format!("{field}.name"), format!("`{}` is not a DNS label", c.name)));
            } else if let Some(taken) =
                names_of(&c.name, c.processes, MAX_PROCESSES).into_iter().find(|x| !container_names.insert(x.clone()))
            {
                out.push(violation(
                    format!("{field}.name"),
                    format!("container `{taken}` appears twice in pod `{}`", p.name),
                ));
            }
            copies_in_range(format!("{field}.processes"), c.processes, MAX_PROCESSES, out);
            check_container(&field, c, talkers_end, out);
            check_role(&field, c, out);
            check_rustdds_size(&field, c, s.dds.transport, out);
        }
    }
}

/// One container's settings (`field` is its path): ranges, and what needs your own program.
fn check_container(field: &str, c: &ContainerSpec, talkers_end: f64, out: &mut Vec<Violation>) {
    let sub = |name: &str| format!("{field}.{name}");
    if let Some(d) = c.domain {
        out.extend(domain_in_range(sub("domain"), d).err());
    }
    if let Some(r) = c.rate_hz {
        out.extend(at_most(&sub("rateHz"), r.0, MAX_RATE_HZ, "Hz").err());
    }
    if let Some(b) = c.payload_bytes.filter(|b| *b > MAX_PAYLOAD_BYTES) {
        out.push(violation(
            sub("payloadBytes"),
            format!("{b} bytes is more than {MAX_PAYLOAD_BYTES} (16 MiB, the largest message measured to cross, r2r on Fast DDS)"),
        ));
    }
    if let Some(d) = c.depth {
        out.extend(depth_in_range(sub("depth"), d).err());
    }
    if c.message_type.is_some_and(|t| t != MessageType::String) && c.output != Output::DemoNodes {
        out.push(violation(
            sub("messageType"),
            "images and point clouds are published by the stock demo nodes run on rclpy (a `ros2 run \
             demo_nodes_cpp talker|listener` command with `output: demo-nodes`); the harness's own nodes send \
             std_msgs/msg/String: size those with payloadBytes",
        ));
    }
    if c.args.is_some() && !c.is_custom() {
        out.push(violation(
            sub("args"),
            "args replace a program's arguments: set `command` (or `image` on kube) too; the harness's own \
             nodes get theirs from the scenario",
        ));
    }
    if c.output == Output::DemoNodes && !c.is_custom() {
        out.push(violation(
            sub("output"),
            "`output: demo-nodes` reads a stock demo node's console: set the `command` (or `image`) that runs it",
        ));
    }
    if c.command.as_ref().is_some_and(Vec::is_empty) {
        out.push(violation(sub("command"), "command must name a program"));
    }
    if let Some(d) = c.start_delay_s.filter(|d| d.0 >= talkers_end) {
        out.push(
            violation(
                sub("startDelayS"),
                format!(
                    "starts at {} s, when the talkers have stopped (warmupS + durationS = {talkers_end} s): it would \
                 never take part; start it earlier or lengthen the trial",
                    d.0
                ),
            )
            .about(&["trials.warmupS", "trials.durationS"]),
        );
    }
    if c.stand_in.as_ref().is_some_and(Vec::is_empty) {
        out.push(violation(sub("standIn"), "standIn must name a program"));
    }
}

/// The largest message RustDDS (ros2-client 0.12, RustDDS 0.15) was measured to deliver on
/// loopback: 8 MiB arrived within 3 s; one 10 MiB message of two took 28 s, 12 and 16 MiB none
/// in 40 s (cf. Atostek/RustDDS#319). The r2r nodes on Fast DDS delivered 16 MiB.
const MAX_RUSTDDS_PAYLOAD_BYTES: u32 = 8 << 20;

/// Our own talker on RustDDS (the default transport) sends at most [`MAX_RUSTDDS_PAYLOAD_BYTES`].
fn check_rustdds_size(field: &str, c: &ContainerSpec, transport: Transport, out: &mut Vec<Violation>) {
    let Some(b) = c.payload_bytes.filter(|b| *b > MAX_RUSTDDS_PAYLOAD_BYTES && *b <= MAX_PAYLOAD_BYTES) else {
        return;
    };
    if transport == Transport::Rustdds && !c.is_custom() {
        out.push(
            violation(
                format!("{field}.payloadBytes"),
                format!(
                    "{b} bytes: the RustDDS nodes deliver at most {MAX_RUSTDDS_PAYLOAD_BYTES} (8 MiB; 10 MiB took 28 s, \
                     16 MiB never arrived): set `dds: {{transport: ros}}` (r2r on Fast DDS, measured to 16 MiB) or send less"
                ),
            )
            .about(&["dds.transport"]),
        );
    }
}

/// What a container's role allows: talker settings on talkers only, and a process that says what
/// it runs and whose output is not read.
fn check_role(field: &str, c: &ContainerSpec, out: &mut Vec<Violation>) {
    let sub = |name: &str| format!("{field}.{name}");
    if c.role != ContainerRole::Talker && (c.rate_hz.is_some() || c.payload_bytes.is_some()) {
        let which = if c.rate_hz.is_some() { "rateHz" } else { "payloadBytes" };
        out.push(violation(sub(which), "rateHz and payloadBytes apply to talkers only"));
    }
    if c.role == ContainerRole::Process {
        if c.command.is_none() && c.stand_in.is_none() {
            out.push(violation(sub("role"), "`role: process` runs your own program: set its `command` (or `standIn`)"));
        }
        if c.output == Output::DemoNodes {
            out.push(violation(sub("output"), "a process's output is not read: drop `output: demo-nodes`"));
        }
    }
}

/// The experiment itself: at least one talker and one listener (a process is neither).
fn check_talkers_and_listeners(s: &Scenario, out: &mut Vec<Violation>) {
    let roles = || s.pods.iter().flat_map(|p| &p.containers).map(|c| c.role);
    let talkers = roles().filter(|r| *r == ContainerRole::Talker).count();
    let listeners = roles().filter(|r| *r == ContainerRole::Listener).count();
    if talkers == 0 || listeners == 0 {
        out.push(
            violation(
                "pods",
                format!(
                    "an experiment needs at least one talker and one listener (found {talkers} talker(s), {listeners} \
                 listener(s))"
                ),
            )
            .about(&["pods[*].containers[*].role"]),
        );
    }
}

/// `network`: the pod MTU fits under the simulated underlay's.
fn check_network(n: &NetworkSpec, out: &mut Vec<Violation>) {
    if let Some(mtu) = n.mtu.filter(|m| !(MIN_MTU..=UNDERLAY_MTU).contains(m)) {
        out.push(violation(
            "network.mtu",
            format!(
                "the pod MTU must be between {MIN_MTU} (the least IPv4 allows) and {UNDERLAY_MTU} (the simulated \
                 underlay's; flannel's VXLAN makes it 1450), got {mtu}"
            ),
        ));
    }
}

/// `faults`: each fault's numbers in range, and what it names (nodes, pods, containers, times)
/// in the scenario.
fn check_faults(s: &Scenario, out: &mut Vec<Violation>) {
    for (i, f) in s.faults.iter().enumerate() {
        check_fault_numbers(i, f, out);
        check_fault_against_scenario(s, i, f, out);
    }
}

/// Fault `i`'s numbers, each in its own range.
fn check_fault_numbers(i: usize, f: &FaultSpec, out: &mut Vec<Violation>) {
    let range = |name: &str, v: FaultNumber, ok: fn(f64) -> bool, what: &str| {
        if v.0.is_finite() && ok(v.0) {
            Ok(())
        } else {
            Err(violation(format!("faults[{i}].{name}"), format!("must be {what}, got {}", v.0)))
        }
    };
    match f {
        FaultSpec::Loss { percent, .. } => out
            .extend(range("percent", *percent, |v| (0.0..=100.0).contains(&v), "a percentage between 0 and 100").err()),
        FaultSpec::Bandwidth { mbit, .. } => {
            out.extend(range("mbit", *mbit, |v| v > 0.0 && v <= MAX_MBIT, "a rate above 0 and up to 100000").err())
        }
        FaultSpec::Delay { ms, jitter_ms, .. } => {
            out.extend(range("ms", *ms, |v| v > 0.0, "a positive number").err());
            if let Some(j) = jitter_ms {
                out.extend(range("jitterMs", *j, |v| v >= 0.0, "zero or more").err());
            }
        }
        FaultSpec::Partition { from_s, to_s, .. } => {
            out.extend(range("fromS", *from_s, |v| v >= 0.0, "zero or more").err());
            out.extend(range("toS", *to_s, |v| v > 0.0, "a positive number").err());
        }
        FaultSpec::Kill { at_s, .. } => out.extend(range("atS", *at_s, |v| v >= 0.0, "zero or more").err()),
    }
}

/// Fault `i` against the rest of the scenario: the nodes, pod and container it names are
/// declared, and it happens before the trial ends.
fn check_fault_against_scenario(s: &Scenario, i: usize, f: &FaultSpec, out: &mut Vec<Violation>) {
    let t = &s.trials;
    let trial_end = t.warmup_s.0 + t.duration_s.0 + t.drain_s.0;
    let node_known =
        |n: &str| s.nodes.iter().any(|d| names_of(&d.name, d.count, MAX_NODE_COUNT).iter().any(|x| x == n));
    let sub = |name: &str| format!("faults[{i}].{name}");
    let unknown = |field: String, n: &str| {
        violation(field, format!("node `{n}` is not declared under nodes")).about(&["nodes[*].name"])
    };
    let during = |field: String, at: f64| {
        if at >= trial_end {
            Err(violation(field, format!("{at} s is after the trial ends ({trial_end} s): it would never happen"))
                .about(&["trials.warmupS", "trials.durationS", "trials.drainS"]))
        } else {
            Ok(())
        }
    };
    match f {
        FaultSpec::Loss { node, .. } | FaultSpec::Delay { node, .. } | FaultSpec::Bandwidth { node, .. }
            if !node_known(node) =>
        {
            out.push(unknown(sub("node"), node))
        }
        FaultSpec::Delay { ms, jitter_ms, .. } => {
            out.extend(at_most(&sub("ms"), ms.0, MAX_DELAY_MS, "ms").err());
            if let Some(j) = jitter_ms.filter(|j| j.0 > ms.0) {
                out.push(violation(sub("jitterMs"), format!("jitter {} ms is more than the delay {} ms", j.0, ms.0)));
            }
        }
        FaultSpec::Partition { between, from_s, to_s } => {
            if let Some(k) = between.iter().position(|n| !node_known(n)) {
                out.push(unknown(format!("faults[{i}].between[{k}]"), &between[k]));
            }
            if between[0] == between[1] {
                out.push(violation(sub("between"), "a partition needs two different nodes"));
            }
            if to_s.0 <= from_s.0 {
                out.push(violation(sub("toS"), format!("toS ({}) must be after fromS ({})", to_s.0, from_s.0)));
            }
            out.extend(during(sub("fromS"), from_s.0).err());
        }
        FaultSpec::Kill { pod, container, at_s } => {
            let Some(p) = s.pods.iter().find(|p| names_of(&p.name, p.replicas, MAX_REPLICAS).contains(pod)) else {
                out.push(violation(sub("pod"), format!("no pod `{pod}`")).about(&["pods[*].name"]));
                return;
            };
            if !p.containers.iter().any(|c| names_of(&c.name, c.processes, MAX_PROCESSES).contains(container)) {
                out.push(
                    violation(sub("container"), format!("no container `{container}` in pod `{pod}`"))
                        .about(&["pods[*].containers[*].name"]),
                );
            }
            out.extend(during(sub("atS"), at_s.0).err());
        }
        FaultSpec::Loss { .. } | FaultSpec::Bandwidth { .. } => {}
    }
}
