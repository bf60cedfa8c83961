//! The `netns` backend: a simulated k3s + flannel cluster on this machine (see [`topology`]).
//! Requires root. Everything it creates is named `chh-<tag>-…` and removed at the end, after an
//! error and on Ctrl-C or SIGTERM; each run registers its tag under [`REGISTRY`] so that
//! `harness netns cleanup` removes only the leftovers of runs whose harness is gone. So are the
//! pods' /dev/shm directories (`<base>/chh-<tag>-…` on a tmpfs, see [`topology`]), which every
//! container has bind-mounted on /dev/shm in a mount namespace of its own.
//!
//! Faults: loss and partitions through nftables in the node namespaces; delay through
//! `tc netem` when the kernel has it (refused before the run otherwise, never skipped); kills
//! through the trial driver. Nodes labelled `kubernetes.io/arch: arm64` run aarch64 builds
//! under qemu-user on an amd64 machine.

pub mod topology;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use self::topology::{
    base_ruleset, container_args, loss_rules, partition_rules, tmpfs_base, Topology, PREFIX, SHM_BASES,
};
use super::drive::{drive, Event};
use super::{Backend, BackendError, Line, NodeCommand, TrialFacts, TrialStart};
use crate::analysis::TrialMeta;
use crate::placement::{declared_nodes, local_arch, Node, PlacedPod, Plan, PlannedContainer, ARCH_LABEL};
use crate::spec::{FaultSpec, Scenario};

/// How arm64 nodes run on a machine of another architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arm64 {
    /// aarch64 `talker`/`listener` from `bin_dir`, under `qemu-aarch64`.
    Emulate { bin_dir: PathBuf },
    /// The native build, knowingly (`--arm64-as-amd64`).
    Native,
    /// aarch64 builds from `bin_dir` under qemu when both are there; otherwise the native build,
    /// and the report says why (the default: a fresh clone runs before any cross build).
    Prefer { bin_dir: PathBuf },
}

/// Lowest qemu-user that handles DDS (7.2 fails `IP_MULTICAST_IF` with ENOPROTOOPT).
const MIN_QEMU: u32 = 8;

#[derive(Debug)]
pub struct NetnsBackend {
    nodes: NodeCommand,
    arm64: Arm64,
    tag: String,
    topology: Option<Topology>,
    faults: Vec<FaultSpec>,
    /// Why arm64 nodes ran the native build although aarch64 under qemu was preferred.
    arm64_fallback: Option<String>,
    /// Per trial, the processes that ended by themselves.
    facts: std::collections::BTreeMap<u32, TrialFacts>,
}

impl NetnsBackend {
    pub fn new(nodes: NodeCommand, arm64: Arm64) -> NetnsBackend {
        // Short and unique enough per run: interface and namespace names stay small.
        let seed = u64::from(std::process::id()) ^ chatter::now_ns();
        NetnsBackend {
            nodes,
            arm64,
            tag: format!("{:06x}", seed & 0xff_ffff),
            topology: None,
            faults: Vec::new(),
            arm64_fallback: None,
            facts: Default::default(),
        }
    }
}

fn setup_err(cmd: &str, detail: impl Into<String>) -> BackendError {
    BackendError::Setup { command: cmd.to_owned(), detail: detail.into() }
}

/// Runs a command to completion; its stderr becomes the error.
fn run(program: &str, args: &[String], stdin: Option<&str>) -> Result<(), BackendError> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let line = format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| setup_err(&line, e.to_string()))?;
    if let (Some(text), Some(mut w)) = (stdin, child.stdin.take()) {
        w.write_all(text.as_bytes()).map_err(|e| setup_err(&line, e.to_string()))?;
    }
    let out = child.wait_with_output().map_err(|e| setup_err(&line, e.to_string()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(setup_err(&line, String::from_utf8_lossy(&out.stderr).trim().to_owned()))
    }
}

fn nft(ns: &str, script: &str) -> Result<(), BackendError> {
    run("ip", &["netns".into(), "exec".into(), ns.into(), "nft".into(), "-f".into(), "-".into()], Some(script))
}

/// Whether this kernel has `tc netem` (tried in a scratch namespace).
pub fn has_netem() -> bool {
    let ns = format!("{PREFIX}probe-{}", std::process::id());
    let s = |a: &str| a.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let ok = run("ip", &s(&format!("netns add {ns}")), None).is_ok()
        && run("ip", &s(&format!("-n {ns} link add d0 type dummy")), None).is_ok()
        && run("tc", &s(&format!("-n {ns} qdisc add dev d0 root netem delay 1ms")), None).is_ok();
    let _ = run("ip", &s(&format!("netns del {ns}")), None);
    ok
}

/// Names of existing network namespaces starting with `prefix`.
pub fn list_namespaces(prefix: &str) -> Vec<String> {
    let out = std::process::Command::new("ip").args(["netns", "list"]).output();
    out.map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| n.starts_with(prefix))
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// Where this run's /dev/shm directories go: the first of [`SHM_BASES`] on a tmpfs here.
fn shm_base() -> Result<&'static Path, BackendError> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    tmpfs_base(&mounts).map(Path::new).ok_or_else(|| {
        BackendError::Unsupported(format!(
            "the pods' /dev/shm directories need a tmpfs, and neither of {} is on one",
            SHM_BASES.join(", ")
        ))
    })
}

/// Creates `dirs` (mode 1777, as /dev/shm is), emptied first when `fresh`.
fn make_shm_dirs(dirs: &[PathBuf], fresh: bool) -> Result<(), BackendError> {
    use std::os::unix::fs::PermissionsExt;
    for dir in dirs {
        let fail = |e: std::io::Error| setup_err("make a pod's /dev/shm", format!("{}: {e}", dir.display()));
        if fresh {
            match std::fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(fail(e)),
                _ => {}
            }
        }
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777)))
            .map_err(fail)?;
    }
    Ok(())
}

/// The /dev/shm directories whose names start with `prefix`, under every one of [`SHM_BASES`].
pub fn list_shm_dirs(prefix: &str) -> Vec<PathBuf> {
    SHM_BASES
        .iter()
        .filter_map(|base| std::fs::read_dir(base).ok())
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect()
}

/// Removes the /dev/shm directories starting with `prefix` (see [`list_shm_dirs`]), and a base
/// left empty by that.
fn remove_shm_dirs(prefix: &str) {
    for dir in list_shm_dirs(prefix) {
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            tracing::warn!("could not remove {}: {e}", dir.display());
        }
    }
    for base in SHM_BASES {
        // Only when empty: another run's directories keep it.
        let _ = std::fs::remove_dir(base);
    }
}

/// Where every netns run (and doctor) registers itself while it runs: a file per tag holding
/// the harness's pid and the run id, so `harness netns cleanup` can tell a crashed run's
/// leftovers from a run still going on beside it.
pub const REGISTRY: &str = "/run/chatter-harness";

fn register(tag: &str, run_id: &str) -> Result<(), BackendError> {
    let dir = std::path::Path::new(REGISTRY);
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join(tag), format!("{} {run_id}\n", std::process::id())))
        .map_err(|e| setup_err("register the run", format!("{REGISTRY}/{tag}: {e}")))
}

fn unregister(tag: &str) {
    let _ = std::fs::remove_file(std::path::Path::new(REGISTRY).join(tag));
}

/// One run's namespaces (and /dev/shm directories, removed with them), and whether the harness
/// that made them is still running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub tag: String,
    pub run_id: Option<String>,
    pub pid: Option<u32>,
    /// Its harness process is still running: not a leftover (yet).
    pub alive: bool,
    pub namespaces: Vec<String>,
}

/// Whether `pid` is a running harness.
fn harness_alive(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| String::from_utf8_lossy(&c).split('\0').next().is_some_and(|exe| exe.contains("harness")))
}

/// Every tag's namespaces, with its registration.
pub fn runs() -> Vec<Leftover> {
    let mut by_tag: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let tag_of = |name: &str| name.trim_start_matches(PREFIX).split('-').next().unwrap_or("").to_owned();
    for ns in list_namespaces(PREFIX) {
        by_tag.entry(tag_of(&ns)).or_default().push(ns);
    }
    // A run that left directories without namespaces is a leftover too.
    for dir in list_shm_dirs(PREFIX) {
        by_tag.entry(tag_of(&dir.file_name().unwrap_or_default().to_string_lossy())).or_default();
    }
    by_tag
        .into_iter()
        .map(|(tag, namespaces)| {
            let reg = std::fs::read_to_string(std::path::Path::new(REGISTRY).join(&tag)).ok();
            let mut parts = reg.as_deref().unwrap_or("").split_whitespace();
            let pid = parts.next().and_then(|p| p.parse().ok());
            let run_id = parts.next().map(str::to_owned);
            Leftover { alive: pid.is_some_and(harness_alive), tag, run_id, pid, namespaces }
        })
        .collect()
}

/// The processes inside namespace `ns`.
fn pids_in(ns: &str) -> Vec<i32> {
    std::process::Command::new("ip")
        .args(["netns", "pids", ns])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().filter_map(|p| p.parse().ok()).collect())
        .unwrap_or_default()
}

/// Stops every process in the namespaces (SIGTERM, then SIGKILL after 2 s) and waits until they
/// are gone, then removes their /dev/shm directories and deletes the namespaces. Returns the
/// namespaces it removed.
pub fn remove_namespaces(prefix: &str) -> Vec<String> {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let names = list_namespaces(prefix);
    let pids: Vec<i32> = names.iter().flat_map(|ns| pids_in(ns)).collect();
    // Running: it exists and is not a zombie (a zombie has exited; its parent, or init for an
    // orphan of a killed harness, reaps it).
    let running = |p: i32| {
        kill(Pid::from_raw(p), None).is_ok()
            && std::fs::read_to_string(format!("/proc/{p}/stat"))
                .is_ok_and(|st| st.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
    };
    let alive = |pids: &[i32]| pids.iter().copied().filter(|p| running(*p)).collect::<Vec<_>>();
    for p in &pids {
        let _ = kill(Pid::from_raw(*p), Signal::SIGTERM);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let mut left = alive(&pids);
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20)); // polling another process's exit: no event to wait on
        left = alive(&pids);
    }
    for p in &left {
        let _ = kill(Pid::from_raw(*p), Signal::SIGKILL);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !alive(&left).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The directories before the namespaces: a run is found by its namespaces, so none of its
    // directories can outlive them unseen (and `runs` looks for directories too).
    remove_shm_dirs(prefix);
    // Pods first, then nodes, then the underlay: veths go with their namespaces. One `ip`
    // for all (`-force`: a namespace that is already gone does not stop the others).
    let script: String = names.iter().rev().map(|ns| format!("netns del {ns}\n")).collect();
    if !names.is_empty() {
        let _ = run("ip", &["-force".into(), "-batch".into(), "-".into()], Some(&script));
    }
    names
}

/// Removes one run's namespaces (see [`remove_namespaces`]) and its registration.
pub fn remove_run(tag: &str) -> Vec<String> {
    let removed = remove_namespaces(&format!("{PREFIX}{tag}-"));
    unregister(tag);
    removed
}

fn qemu_major() -> Option<u32> {
    let out = std::process::Command::new("qemu-aarch64").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("version ").nth(1)?.split('.').next()?.trim().parse().ok()
}

/// Why the aarch64 `binaries` in `bin_dir` cannot run here under qemu-user, or `None` when they
/// can.
fn cannot_emulate(bin_dir: &Path, binaries: &[&str]) -> Option<String> {
    if let Some(b) = binaries.iter().find(|b| !bin_dir.join(b).is_file()) {
        return Some(format!("no aarch64 build at {} (bash scripts/build-arm64.sh)", bin_dir.join(b).display()));
    }
    match qemu_major() {
        Some(v) if v >= MIN_QEMU => None,
        found => Some(format!(
            "qemu-aarch64 ≥ {MIN_QEMU} is needed (older versions fail IP_MULTICAST_IF), found {}; scripts/setup.sh \
             installs qemu-user from bookworm-backports",
            found.map_or("none".into(), |v| v.to_string())
        )),
    }
}

fn is_arm64(plan: &Plan, node: &str) -> bool {
    plan.nodes.iter().any(|n| n.name == node && n.labels.get(ARCH_LABEL).map(String::as_str) == Some("arm64"))
}

/// How [`build_topology`] runs its `ip` commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildMode {
    /// One `ip -batch` process per run of commands for one namespace (the default).
    Batched,
    /// One `ip` process per command (what the backend did before batching; kept for the
    /// topology benchmark's side-by-side figures).
    PerCommand,
}

/// Creates the namespaces, links, routes and fault rules of `topo`, and its /dev/shm
/// directories. Blocking (it forks `ip`, `sysctl`, `nft` and waits for them): async code calls
/// it through [`off_runtime`].
pub fn build_topology(topo: &Topology, faults: &[FaultSpec], mode: BuildMode) -> Result<(), BackendError> {
    for f in faults {
        if let FaultSpec::Loss { node, .. } | FaultSpec::Delay { node, .. } = f {
            if topo.node_index(node).is_none() {
                return Err(setup_err("fault", format!("unknown node {node}")));
            }
        }
    }
    match mode {
        BuildMode::Batched => {
            for (ns, lines) in topo.batches() {
                let mut args: Vec<String> = ns.map(|n| vec!["-n".to_owned(), n]).unwrap_or_default();
                args.extend(["-batch".to_owned(), "-".to_owned()]);
                run("ip", &args, Some(&(lines.join("\n") + "\n")))?;
            }
        }
        BuildMode::PerCommand => {
            for cmd in topo.build_commands() {
                run("ip", &cmd, None)?;
            }
        }
    }
    // After the namespaces, which are how a run's leftovers are found.
    make_shm_dirs(&topo.shm_dirs(shm_base()?), false)?;
    for i in 0..topo.nodes.len() {
        let ns = topo.node_ns(i);
        // Forwarding on, then the base table and this node's loss rules in one `nft -f`.
        let mut rules = base_ruleset();
        for f in faults {
            if let FaultSpec::Loss { node, percent } = f {
                if topo.node_index(node) == Some(i) {
                    rules.push_str(&loss_rules(percent.0));
                }
            }
        }
        let script = "sysctl -qw net.ipv4.ip_forward=1 && nft -f -";
        run("ip", &["netns".into(), "exec".into(), ns, "sh".into(), "-c".into(), script.into()], Some(&rules))?;
    }
    for f in faults {
        if let FaultSpec::Delay { node, ms, jitter_ms } = f {
            let ns = topo.node_index(node).map(|i| topo.node_ns(i)).unwrap_or_default();
            let mut args: Vec<String> = format!("-n {ns} qdisc add dev eth0 root netem delay {}ms", ms.0)
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            if let Some(j) = jitter_ms {
                args.push(format!("{}ms", j.0));
            }
            run("tc", &args, None)?;
        }
    }
    Ok(())
}

/// Runs blocking work (forked commands, waiting for other processes to exit) on tokio's
/// blocking pool, so the runtime's workers keep reading node output and timing the trial.
pub async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

impl NetnsBackend {
    /// Settles how arm64 nodes that run `binaries` (ours) run them, on a machine that is not
    /// arm64: [`Arm64::Prefer`] becomes emulation when it can run here, else the native build
    /// with the reason kept for the report; [`Arm64::Emulate`] that cannot run is an error.
    fn settle_arm64(&mut self, binaries: &[&str]) -> Result<(), BackendError> {
        match &self.arm64 {
            Arm64::Native => {}
            Arm64::Emulate { bin_dir } => {
                if let Some(why) = cannot_emulate(bin_dir, binaries) {
                    return Err(BackendError::Unsupported(format!(
                        "arm64 nodes run aarch64 builds under qemu-user: {why}; or pass --arm64-as-amd64 to run this \
                         machine's build on them"
                    )));
                }
            }
            Arm64::Prefer { bin_dir } => match cannot_emulate(bin_dir, binaries) {
                None => self.arm64 = Arm64::Emulate { bin_dir: bin_dir.clone() },
                Some(why) => {
                    tracing::warn!("arm64 nodes run this machine's build: {why}");
                    self.arm64 = Arm64::Native;
                    self.arm64_fallback = Some(why);
                }
            },
        }
        Ok(())
    }

    /// Builds `topo` off the runtime and remembers it.
    async fn build(&mut self, topo: Topology) -> Result<(), BackendError> {
        self.topology = Some(topo.clone());
        let faults = self.faults.clone();
        off_runtime(move || build_topology(&topo, &faults, BuildMode::Batched)).await
    }
}

impl NetnsBackend {
    /// `harness doctor` on the simulated cluster: one probe pod per node plus each node's host
    /// network, the scenario's loss and partition faults in place (partitions for the whole
    /// doctor), a responder on every node and network, then a prober on every node and network
    /// against every other node. Removes everything it made.
    pub async fn doctor(
        &mut self,
        scenario: &Scenario,
        count: u32,
    ) -> Result<crate::doctor::DoctorReport, BackendError> {
        if !chatter_sandbox::is_root() {
            return Err(BackendError::Unsupported("the netns doctor needs root (it builds network namespaces)".into()));
        }
        let nodes = declared_nodes(scenario);
        // arm64 nodes probe with the (aarch64) talker.
        if nodes.iter().any(|n| n.arch() == Some("arm64")) && local_arch() != "arm64" {
            self.settle_arm64(&["talker"])?;
        }
        let plan = Plan {
            scenario: scenario.name.clone(),
            nodes: nodes.clone(),
            pods: nodes
                .iter()
                .map(|n| PlacedPod {
                    name: format!("probe-{}", n.name),
                    node: n.name.clone(),
                    node_selector: Default::default(),
                    host_network: false,
                    host_ipc: false,
                    tolerations: Vec::new(),
                    containers: Vec::new(),
                })
                .collect(),
            timing: crate::timing::TrialTiming {
                warmup: Duration::ZERO,
                duration: Duration::ZERO,
                drain: Duration::ZERO,
            },
        };
        self.faults = scenario.faults.iter().filter(|f| !matches!(f, FaultSpec::Delay { .. })).cloned().collect();
        register(&self.tag, &format!("doctor-{}", scenario.name))?;
        let result = self.doctor_on(scenario, &plan, count).await;
        let cleaned = self.cleanup().await;
        let report = result?;
        cleaned?;
        Ok(report)
    }

    async fn doctor_on(
        &mut self,
        scenario: &Scenario,
        plan: &Plan,
        count: u32,
    ) -> Result<crate::doctor::DoctorReport, BackendError> {
        use tokio::io::AsyncBufReadExt;
        let topo = Topology::new(&self.tag, plan, scenario.network.multicast_between_nodes);
        self.build(topo.clone()).await?;
        let mut notes = vec![
            format!("probed in namespaces {PREFIX}{}-* (removed afterwards)", self.tag),
            "one clock: every simulated node uses this machine's clock, so offsets are ~0".to_owned(),
        ];
        if let Some(why) = &self.arm64_fallback {
            notes.push(format!("arm64 nodes probed with this machine's build, not aarch64 under qemu: {why}"));
        }
        for f in &self.faults {
            if let FaultSpec::Partition { between, .. } = f {
                let (Some(a), Some(b)) = (topo.node_index(&between[0]), topo.node_index(&between[1])) else {
                    continue;
                };
                let (na, nb) = (topo.node_ns(a), topo.node_ns(b));
                off_runtime(move || {
                    nft(&na, &partition_rules(b, true))?;
                    nft(&nb, &partition_rules(a, true))
                })
                .await?;
            }
            notes.push(format!("fault in place for the whole doctor: {}", f.describe()));
        }
        let domain = scenario.dds.domain;
        // The talker binary, natively or (arm64 nodes) its aarch64 build under qemu.
        let talker = |node: &str| -> Result<Vec<String>, BackendError> {
            match &self.arm64 {
                Arm64::Emulate { bin_dir } if is_arm64(plan, node) && local_arch() != "arm64" => Ok(vec![
                    "qemu-aarch64".into(),
                    "-L".into(),
                    super::AARCH64_SYSROOT.into(),
                    bin_dir.join("talker").display().to_string(),
                ]),
                _ => {
                    let (program, lead) = self.nodes.resolve("talker")?;
                    Ok(std::iter::once(program.display().to_string()).chain(lead).collect())
                }
            }
        };
        let ns_of = |i: usize, net: &str| -> String {
            if net == "pod" {
                topo.pod_ns(&plan.pods[i].name).unwrap_or_default()
            } else {
                topo.node_ns(i)
            }
        };
        let addr_of = |i: usize, net: &str| -> String {
            if net == "pod" {
                format!("10.42.{i}.{}", i + 2)
            } else {
                Topology::node_addr(i)
            }
        };
        let mut responders = Vec::new();
        for (i, n) in plan.nodes.iter().enumerate() {
            for net in crate::doctor::NETWORKS {
                let mut cmd = tokio::process::Command::new("nsenter");
                cmd.arg(format!("--net=/run/netns/{}", ns_of(i, net))).arg("--").args(talker(&n.name)?);
                cmd.args(["probe", "serve", "--node", &format!("{}/{net}", n.name), "--domain", &domain.to_string()]);
                cmd.stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped());
                cmd.kill_on_drop(true);
                let mut child = cmd
                    .spawn()
                    .map_err(|source| BackendError::Spawn { what: format!("probe responder on {}", n.name), source })?;
                // Event: the responder says it is serving.
                if let Some(err) = child.stderr.take() {
                    let mut lines = tokio::io::BufReader::new(err).lines();
                    let mut said = Vec::new();
                    let ready = tokio::time::timeout(Duration::from_secs(30), async {
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l.contains("serving as") {
                                return true;
                            }
                            said.push(l);
                        }
                        false
                    })
                    .await;
                    if !matches!(ready, Ok(true)) {
                        return Err(setup_err(
                            "probe serve",
                            format!("the responder on {} did not start: {}", n.name, said.join(" / ")),
                        ));
                    }
                }
                responders.push(child);
            }
        }
        let mut networks = Vec::new();
        for net in crate::doctor::NETWORKS {
            let mut reports = Vec::new();
            for (i, n) in plan.nodes.iter().enumerate() {
                let mut cmd = tokio::process::Command::new("nsenter");
                cmd.arg(format!("--net=/run/netns/{}", ns_of(i, net))).arg("--").args(talker(&n.name)?);
                cmd.args(["probe", "send", "--node", &format!("{}/{net}", n.name), "--domain", &domain.to_string()]);
                cmd.args(["--count", &count.to_string(), "--settle", "1"]);
                for (j, m) in plan.nodes.iter().enumerate().filter(|(j, _)| *j != i) {
                    cmd.arg("--target").arg(format!("{}/{net}={}", m.name, addr_of(j, net)));
                }
                let out = cmd
                    .output()
                    .await
                    .map_err(|source| BackendError::Spawn { what: format!("prober on {}", n.name), source })?;
                if !out.status.success() {
                    return Err(setup_err("probe send", String::from_utf8_lossy(&out.stderr).trim().to_owned()));
                }
                let report: chatter::probe::ProbeReport = serde_json::from_slice(&out.stdout)
                    .map_err(|e| setup_err("probe send", format!("unreadable report: {e}")))?;
                reports.push(crate::doctor::without_network(report));
            }
            networks.push(crate::doctor::NetworkProbes { network: net.to_owned(), reports });
        }
        for mut r in responders {
            let _ = r.kill().await;
        }
        let reference = plan.nodes.first().map_or("", |n| n.name.as_str());
        Ok(crate::doctor::DoctorReport::new(&scenario.name, "netns", domain, networks, reference, notes))
    }
}

impl Backend for NetnsBackend {
    fn name(&self) -> &'static str {
        "netns"
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = vec![format!(
            "netns backend: simulated flannel-like cluster in namespaces {PREFIX}{}-*; multicast {} between nodes",
            self.tag,
            if self.topology.as_ref().is_some_and(|t| t.multicast_between_nodes) { "allowed" } else { "dropped" }
        )];
        notes.push(
            "each pod has a /dev/shm of its own, shared by its containers only (hostIPC pods: their node's), as \
             Kubernetes makes pods: hostNetwork pods on one node share its network, not its shared memory"
                .into(),
        );
        match (&self.arm64, &self.arm64_fallback) {
            (Arm64::Native, Some(why)) => {
                notes.push(format!("arm64 nodes ran this machine's build, not aarch64 binaries under qemu: {why}"));
            }
            (Arm64::Native, None) => {
                notes.push("arm64 nodes ran this machine's (amd64) build, not aarch64 binaries under qemu".into());
            }
            _ => {}
        }
        notes.extend(self.faults.iter().map(|f| format!("fault injected: {}", f.describe())));
        notes
    }

    async fn nodes(&mut self, scenario: &Scenario) -> Result<Vec<Node>, BackendError> {
        Ok(declared_nodes(scenario))
    }

    /// Its talkers are processes it started: SIGUSR1 opens their window.
    fn opens_windows_early(&self) -> bool {
        true
    }

    fn trial_facts(&mut self, trial: u32) -> TrialFacts {
        self.facts.remove(&trial).unwrap_or_default()
    }

    /// A simulated cluster of its own: namespaces `chh-<tag>s<slot>-*`, registered and removed
    /// like this one's. Every cluster uses the same addresses: each lives in namespaces of its
    /// own, with no interface, route or bridge in common, so their traffic never meets.
    fn sibling(&self, slot: usize) -> Option<Self> {
        Some(NetnsBackend {
            nodes: self.nodes.clone(),
            arm64: self.arm64.clone(),
            tag: format!("{}s{slot}", self.tag),
            topology: None,
            faults: Vec::new(),
            arm64_fallback: self.arm64_fallback.clone(),
            facts: Default::default(),
        })
    }

    async fn prepare(&mut self, scenario: &Scenario, plan: &Plan, run_id: &str) -> Result<(), BackendError> {
        if !chatter_sandbox::is_root() {
            return Err(BackendError::Unsupported(
                "the netns backend needs root (it creates network namespaces, veths and nftables rules)".into(),
            ));
        }
        if scenario.faults.iter().any(|f| matches!(f, FaultSpec::Delay { .. })) && !off_runtime(has_netem).await {
            return Err(BackendError::Unsupported(
                "a delay fault needs `tc netem`, which this kernel does not have (\"Specified qdisc kind is unknown\"); \
                 remove the delay fault or run on a kernel with sch_netem"
                    .into(),
            ));
        }
        super::check_commands(plan)?;
        // Your own commands run as they are (this machine's build); the harness's nodes on
        // arm64 nodes run their aarch64 build under qemu.
        let arm_pods = plan.pods.iter().any(|p| is_arm64(plan, &p.node) && p.containers.iter().any(|c| !c.is_custom()));
        if arm_pods && local_arch() != "arm64" {
            self.settle_arm64(&["talker", "listener"])?;
        }
        self.faults.clone_from(&scenario.faults);
        register(&self.tag, run_id)?;
        self.build(Topology::new(&self.tag, plan, scenario.network.multicast_between_nodes)).await
    }

    async fn run_trial(
        &mut self,
        plan: &Plan,
        start: TrialStart,
        lines: mpsc::UnboundedSender<Line>,
        stop: watch::Receiver<bool>,
    ) -> Result<TrialMeta, BackendError> {
        let prepared = self.topology.clone().ok_or_else(|| setup_err("run", "topology not prepared"))?;
        // A rescheduled trial moves pods between nodes: rebuild the cluster to match.
        let wanted = Topology::new(&self.tag, plan, prepared.multicast_between_nodes);
        if wanted != prepared {
            let prefix = format!("{PREFIX}{}-", self.tag);
            off_runtime(move || remove_namespaces(&prefix)).await;
            self.build(wanted.clone()).await?;
        }
        let topo = wanted;
        // A new trial's pods are new sandboxes: their /dev/shm starts empty (a node's does not).
        let shm = shm_base()?;
        let fresh = topo.pod_shm_dirs(shm);
        off_runtime(move || make_shm_dirs(&fresh, true)).await?;
        let mut events = Vec::new();
        for f in &self.faults {
            match f {
                FaultSpec::Partition { between, from_s, to_s } => {
                    let pair = format!("{}:{}", between[0], between[1]);
                    events.push((Duration::from_secs_f64(from_s.0), Event::Backend(format!("partition-on:{pair}"))));
                    events.push((Duration::from_secs_f64(to_s.0), Event::Backend(format!("partition-off:{pair}"))));
                }
                FaultSpec::Kill { pod, container, at_s } => {
                    events.push((
                        Duration::from_secs_f64(at_s.0),
                        Event::Kill { pod: pod.clone(), container: container.clone() },
                    ));
                }
                FaultSpec::Loss { .. } | FaultSpec::Delay { .. } => {}
            }
        }
        let on_event = |what: String| {
            let topo = topo.clone();
            off_runtime(move || {
                let (action, pair) = what.split_once(':').unwrap_or((&what, ""));
                let (a, b) = pair.split_once(':').unwrap_or(("", ""));
                let (Some(ia), Some(ib)) = (topo.node_index(a), topo.node_index(b)) else {
                    return Err(setup_err(&what, "unknown nodes"));
                };
                let on = action == "partition-on";
                nft(&topo.node_ns(ia), &partition_rules(ib, on))?;
                nft(&topo.node_ns(ib), &partition_rules(ia, on))?;
                tracing::info!("{what}");
                Ok(())
            })
        };
        let (nodes, arm64) = (&self.nodes, &self.arm64);
        let command = |pod: &PlacedPod, c: &PlannedContainer| {
            let missing = |what: &str| setup_err("run", format!("no {what} for pod {}", pod.name));
            let ns = topo.pod_ns(&pod.name).ok_or_else(|| missing("namespace"))?;
            let dir = topo.shm_dir(shm, &pod.name).ok_or_else(|| missing("/dev/shm"))?;
            // In its network namespace, with its pod's /dev/shm; `program` appends what runs.
            let mut cmd = tokio::process::Command::new("nsenter");
            cmd.args(container_args(&ns, &dir));
            let emulate = match arm64 {
                Arm64::Emulate { bin_dir }
                    if is_arm64(plan, &pod.node) && local_arch() != "arm64" && !c.is_custom() =>
                {
                    Some(bin_dir)
                }
                _ => None,
            };
            super::program(&mut cmd, nodes, pod, c, emulate.map(PathBuf::as_path))?;
            Ok(cmd)
        };
        let trial = start.trial;
        let driven = drive(plan, start, &lines, stop, command, events, on_event).await?;
        self.facts.insert(trial, TrialFacts { containers: driven.exits, ..TrialFacts::default() });
        let meta = driven.meta;
        // A partition must not outlive its trial.
        if self.faults.iter().any(|f| matches!(f, FaultSpec::Partition { .. })) {
            off_runtime(move || {
                (0..topo.nodes.len()).try_for_each(|i| nft(&topo.node_ns(i), &partition_rules(0, false)))
            })
            .await?;
        }
        Ok(meta)
    }

    async fn cleanup(&mut self) -> Result<(), BackendError> {
        let tag = self.tag.clone();
        let removed = off_runtime(move || remove_run(&tag)).await;
        tracing::info!("removed {} namespaces", removed.len());
        let prefix = format!("{PREFIX}{}-", self.tag);
        let left = list_namespaces(&prefix);
        let dirs = list_shm_dirs(&prefix);
        if !left.is_empty() {
            Err(setup_err("cleanup", format!("namespaces left behind: {}", left.join(", "))))
        } else if !dirs.is_empty() {
            let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            Err(setup_err("cleanup", format!("/dev/shm directories left behind: {}", dirs.join(", "))))
        } else {
            Ok(())
        }
    }
}
