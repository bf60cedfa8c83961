//! The command line (the only module that knows about clap) and the mapping of outcomes to
//! exit codes.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tokio::sync::watch;

use crate::backend::kube::objects::Images;
use crate::backend::kube::{KubeBackend, KubeOptions};
use crate::backend::local::LocalBackend;
use crate::backend::netns::{Arm64, NetnsBackend};
use crate::backend::{BackendError, NodeCommand};
use crate::runner::{self, RunOptions};
use crate::{report, spec};

/// Exit codes.
pub mod exit {
    /// Ran, and every expectation held.
    pub const OK: u8 = 0;
    /// Ran, but an `expect` threshold failed.
    pub const EXPECTATIONS_FAILED: u8 = 1;
    /// Bad command line or scenario.
    pub const USAGE: u8 = 2;
    /// The backend (or the results directory) failed.
    pub const BACKEND: u8 = 3;
    /// Interrupted by Ctrl-C (SIGINT); results so far were written.
    pub const INTERRUPTED: u8 = 130;
    /// Stopped by SIGTERM (e.g. a cancelled CI job); results so far were written.
    pub const TERMINATED: u8 = 143;
}

/// Turns "ROS 2 chatter sometimes doesn't cross between my nodes" into a measured experiment.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario's trials and write reports to results/<run-id>/.
    Run(RunArgs),
    /// Write the Kubernetes objects a kube run would create, for reading, diffing or
    /// `kubectl apply -f`.
    Render {
        scenario: PathBuf,
        /// Directory to write `<scenario>.yaml` into [default: print to stdout].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Pin every pod to the node placement draws, as `harness run --pin` does.
        #[arg(long)]
        pin: bool,
        #[command(flatten)]
        images: ImageArgs,
    },
    /// Which fix makes every listener hear every talker: the scenario under each fix variant
    /// (as is, unicast peers, a multicast CNI, host network) on the simulated cluster, one
    /// table, and the least invasive change that delivers everything, as a kustomize overlay.
    Matrix(MatrixArgs),
    /// Before a run: can the packets DDS needs cross between every pair of nodes, on the pod
    /// network and on the host network (unicast to the DDS ports in four sizes, SPDP
    /// multicast), and how far apart are the node clocks? Writes doctor.json.
    Doctor {
        scenario: PathBuf,
        /// Where to probe (the simulated cluster).
        #[arg(long, value_enum, default_value_t = BackendArg::Netns)]
        backend: BackendArg,
        /// Probes per kind and pair.
        #[arg(long, default_value_t = 20)]
        count: u32,
        /// Directory that receives `<id>-doctor/doctor.json`.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        #[command(flatten)]
        arm64: Arm64Args,
        /// kube: how to reach the cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
        /// kube: the talker image that carries the probe.
        #[command(flatten)]
        images: ImageArgs,
    },
    /// Find known ROS-on-Kubernetes pitfalls in manifests before running: files, directories
    /// (every .yaml/.yml inside) or `-` for stdin, all read as one deployment. Exit 1 when a
    /// warning or an error is found (notes alone exit 0), 2 when an input cannot be read.
    Lint {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = LintFormat::Text)]
        format: LintFormat,
        /// Show findings of this severity and above (exit 1 only for warnings and errors).
        #[arg(long, value_enum, default_value_t = crate::lint::Severity::Note)]
        min_severity: crate::lint::Severity,
    },
    /// Manage what kube runs leave on a cluster.
    Kube {
        #[command(subcommand)]
        action: KubeAction,
    },
    /// Manage the netns backend's namespaces.
    Netns {
        #[command(subcommand)]
        action: NetnsAction,
    },
    /// Re-analyse a run directory (from its records.csv) and rewrite its reports.
    Report {
        /// A run directory, e.g. results/20261123T104500Z-seed.
        dir: PathBuf,
    },
    /// Check a scenario and show where its pods would run.
    Validate { scenario: PathBuf },
    /// Run a built-in node: `harness node talker --help`.
    #[command(hide = true)]
    Node {
        #[arg(value_enum)]
        role: NodeRole,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

/// The flags of `harness run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Scenario file (YAML).
    pub scenario: PathBuf,
    /// Where the experiment runs (auto: the simulated cluster, netns, without root where user
    /// namespaces are enabled; else local).
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Number of trials (overrides the scenario's trials.count).
    #[arg(long)]
    pub trials: Option<u32>,
    /// Run until the verdict can no longer change at 95 % (every placement settled), at most
    /// the scenario's trials.max (or --trials) trials; the report says why it stopped.
    #[arg(long)]
    pub until_confident: bool,
    #[command(flatten)]
    pub parallel: ParallelArgs,
    /// Directory that receives the run directory.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Run separate `talker`/`listener` binaries from this directory instead of this
    /// binary's built-in nodes.
    #[arg(long)]
    pub node_bin_dir: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub arm64: Arm64Args,
    #[command(flatten)]
    pub ros: RosArgs,
    /// Run `harness doctor` first (netns or kube): its probes go into the run directory
    /// (`doctor.json`) and the diagnosis cites them; on kube, the measured clock offsets put
    /// every node's records on one clock, so cross-node latency and discovery times are shown
    /// ± their uncertainty instead of untrusted.
    #[arg(long)]
    pub preflight: bool,
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// The flags of `harness matrix`.
#[derive(Debug, Clone, clap::Args)]
pub struct MatrixArgs {
    /// Scenario file (YAML).
    pub scenario: PathBuf,
    /// Where the variants run: the simulated cluster (the only backend with node boundaries
    /// that can be changed per variant).
    #[arg(long, value_enum, default_value_t = BackendArg::Netns)]
    pub backend: BackendArg,
    /// Trials per variant (overrides the scenario's trials.count).
    #[arg(long)]
    pub trials: Option<u32>,
    #[command(flatten)]
    pub parallel: ParallelArgs,
    /// Directory that receives the matrix directory.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub arm64: Arm64Args,
    #[command(flatten)]
    pub ros: RosArgs,
    #[command(flatten)]
    pub images: ImageArgs,
}

/// Which real ROS 2 runs the stock nodes on this machine (`run`, `matrix`).
#[derive(Debug, Clone, clap::Args)]
pub struct RosArgs {
    /// local/netns: the ROS 2 distribution (PyPI wheels, `scripts/setup.sh`) that runs stock
    /// `ros2 run demo_nodes_* talker|listener` containers on Fast DDS (`rmw: rmw_fastrtps_cpp`).
    #[arg(long, value_enum, default_value_t = DistroArg::Jazzy)]
    pub ros_distro: DistroArg,
    /// The virtual environment holding that distribution [default: `.venv-<distro>` in the
    /// working directory, else in the workspace this harness was built from].
    #[arg(long)]
    pub ros_venv: Option<PathBuf>,
}

impl RosArgs {
    /// For a scenario with stock Fast DDS containers, the installation that runs them (each
    /// gets the rclpy demo node of its role as its stand-in); `None` when there are none.
    fn apply(&self, s: &mut spec::Scenario) -> Result<Option<crate::ros::RosVersions>, Failure> {
        Ok(self.apply_stack(s)?.map(|stack| stack.versions))
    }

    /// [`RosArgs::apply`], returning the installation itself.
    fn apply_stack(&self, s: &mut spec::Scenario) -> Result<Option<crate::ros::RosStack>, Failure> {
        if !crate::ros::needs_wheels(s) {
            return Ok(None);
        }
        let stack = crate::ros::RosStack::find(self.ros_distro.into(), self.ros_venv.as_deref())
            .map_err(|e| Failure::backend(e.to_string()))?;
        crate::ros::run_stock_nodes_on(s, &stack).map_err(|e| Failure::backend(e.to_string()))?;
        Ok(Some(stack))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DistroArg {
    /// ROS 2 Jazzy Jalisco (Fast DDS 2.14).
    Jazzy,
    /// ROS 2 Kilted Kaiju (Fast DDS 3.2).
    Kilted,
}

impl From<DistroArg> for crate::ros::Distro {
    fn from(d: DistroArg) -> Self {
        match d {
            DistroArg::Jazzy => crate::ros::Distro::Jazzy,
            DistroArg::Kilted => crate::ros::Distro::Kilted,
        }
    }
}

/// How many trials run at once (`run`, `matrix`).
#[derive(Debug, Clone, clap::Args)]
pub struct ParallelArgs {
    /// Trials at once on the simulated cluster (netns), each in a cluster of its own
    /// [default: twice the CPUs, at most 8; 1 on local and kube, where trials would share nodes
    /// and network].
    #[arg(long)]
    pub parallel: Option<usize>,
}

/// How the netns backend runs arm64 nodes (`run`, `matrix`, `doctor`).
#[derive(Debug, Clone, clap::Args)]
pub struct Arm64Args {
    /// netns backend: directory of aarch64 `talker`/`listener` builds for arm64 nodes, run
    /// under qemu-user [default: target/aarch64-unknown-linux-gnu/<profile> beside this
    /// binary's target dir, when it holds both builds and qemu-aarch64 ≥ 8 is installed;
    /// otherwise arm64 nodes run this machine's build and the report says why].
    #[arg(long)]
    pub arm64_bin_dir: Option<PathBuf>,
    /// netns backend: run the native build on arm64 nodes instead of aarch64 under qemu.
    #[arg(long, conflicts_with = "arm64_bin_dir")]
    pub arm64_as_amd64: bool,
}

impl Arm64Args {
    fn resolve(&self, exe: &std::path::Path) -> Arm64 {
        match (&self.arm64_bin_dir, self.arm64_as_amd64) {
            (_, true) => Arm64::Native,
            (Some(dir), false) => Arm64::Emulate { bin_dir: dir.clone() },
            // Without an explicit directory: emulate when the cross build is there.
            (None, false) => Arm64::Prefer { bin_dir: default_arm64_dir(exe) },
        }
    }
}

/// This binary, which embeds the nodes (`harness node talker …`).
fn this_exe() -> Result<PathBuf, Failure> {
    std::env::current_exe().map_err(|e| Failure::backend(format!("cannot locate this binary: {e}")))
}

/// Where the node images come from.
#[derive(Debug, Clone, clap::Args)]
pub struct ImageArgs {
    /// Registry (and path) of the talker/listener images.
    #[arg(long, default_value = Images::DEFAULT_REGISTRY)]
    pub image_registry: String,
    /// Image tag.
    #[arg(long, default_value = env!("CARGO_PKG_VERSION"))]
    pub image_tag: String,
}

impl ImageArgs {
    fn images(&self) -> Images {
        Images::new(&self.image_registry, &self.image_tag)
    }
}

/// The doctor's probe pods: pinned by node name, in a namespace of their own.
fn probe_options(images: &ImageArgs, pod_timeout: std::time::Duration) -> KubeOptions {
    KubeOptions { images: images.images(), namespace: None, pod_timeout, pin: true }
}

/// How to reach a cluster (like kubectl's flags).
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// kubeconfig file [default: $KUBECONFIG, ~/.kube/config, in-cluster, then k3s's
    /// /etc/rancher/k3s/k3s.yaml].
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context.
    #[arg(long)]
    pub context: Option<String>,
}

/// kube backend flags.
#[derive(Debug, Clone, clap::Args)]
pub struct KubeArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Pin every pod to the node placement draws (`kubernetes.io/hostname`), for a
    /// reproducible layout; by default kube-scheduler places them, as it does your manifests.
    #[arg(long)]
    pub pin: bool,
    /// Use this existing namespace instead of creating `chatter-<run-id>`.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Seconds a pod may take to start before it is reported stuck.
    #[arg(long, default_value_t = 180)]
    pub pod_timeout: u64,
    #[command(flatten)]
    pub images: ImageArgs,
}

/// Where k3s writes its kubeconfig (readable by root only: the seed's users run `sudo k3s
/// kubectl`).
pub const K3S_KUBECONFIG: &str = "/etc/rancher/k3s/k3s.yaml";

/// Which kubeconfig to use, in kubectl's order with k3s's file last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeconfigSource {
    /// `--kubeconfig`.
    Flag(PathBuf),
    /// `$KUBECONFIG`, `~/.kube/config` or the in-cluster service account (kube's inference).
    Inferred,
    /// k3s's own file, when nothing else exists.
    K3s(PathBuf),
}

/// [`KubeconfigSource`] from what exists: the flag, `$KUBECONFIG`, `~/.kube/config`, an
/// in-cluster service account; else k3s's file if present.
pub fn kubeconfig_source(
    flag: Option<&std::path::Path>,
    env: Option<&std::ffi::OsStr>,
    home_config: Option<&std::path::Path>,
    in_cluster: bool,
    k3s: &std::path::Path,
) -> KubeconfigSource {
    if let Some(f) = flag {
        return KubeconfigSource::Flag(f.to_owned());
    }
    let env_set = env.is_some_and(|e| !e.is_empty());
    if env_set || home_config.is_some_and(std::path::Path::exists) || in_cluster || !k3s.exists() {
        KubeconfigSource::Inferred
    } else {
        KubeconfigSource::K3s(k3s.to_owned())
    }
}

impl ClusterArgs {
    async fn client(&self) -> Result<kube::Client, String> {
        let options = kube::config::KubeConfigOptions { context: self.context.clone(), ..Default::default() };
        let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube/config"));
        let source = kubeconfig_source(
            self.kubeconfig.as_deref(),
            std::env::var_os("KUBECONFIG").as_deref(),
            home.as_deref(),
            std::env::var_os("KUBERNETES_SERVICE_HOST").is_some(),
            std::path::Path::new(K3S_KUBECONFIG),
        );
        let from_file = |path: PathBuf| {
            let options = options.clone();
            async move {
                let kc = kube::config::Kubeconfig::read_from(&path).map_err(|e| {
                    let mut msg = format!("{}: {e}", path.display());
                    if path == std::path::Path::new(K3S_KUBECONFIG) {
                        msg.push_str(
                            " (k3s's kubeconfig is readable by root only: run with sudo, or copy it with \
                         `sudo k3s kubectl config view --raw > ~/.kube/config`)",
                        );
                    }
                    msg
                })?;
                kube::Config::from_custom_kubeconfig(kc, &options).await.map_err(|e| e.to_string())
            }
        };
        let config = match source {
            KubeconfigSource::Flag(path) => from_file(path).await?,
            KubeconfigSource::K3s(path) => {
                eprintln!("harness: no kubeconfig found; using k3s's {}", path.display());
                from_file(path).await?
            }
            KubeconfigSource::Inferred if self.context.is_some() => {
                kube::Config::from_kubeconfig(&options).await.map_err(|e| e.to_string())?
            }
            KubeconfigSource::Inferred => kube::Config::infer().await.map_err(|e| e.to_string())?,
        };
        kube::Client::try_from(config).map_err(|e| e.to_string())
    }
}

impl KubeArgs {
    fn options(&self) -> KubeOptions {
        KubeOptions {
            images: self.images.images(),
            namespace: self.namespace.clone(),
            pod_timeout: std::time::Duration::from_secs(self.pod_timeout),
            pin: self.pin,
        }
    }

    /// The doctor's probe pods, within this run's pod timeout.
    fn doctor_options(&self) -> KubeOptions {
        probe_options(&self.images, std::time::Duration::from_secs(self.pod_timeout))
    }
}

#[derive(Debug, Subcommand)]
pub enum KubeAction {
    /// Delete what crashed or killed kube runs left: namespaces the harness created (or, with
    /// --namespace, its pods there). Only objects labelled managed-by chatter-harness with a
    /// run id are touched.
    Cleanup {
        /// Only this run's objects (the run id, e.g. 20261123T104500Z-seed).
        #[arg(long)]
        run: Option<String>,
        /// Delete the harness's pods in this namespace instead of whole run namespaces.
        #[arg(long, short = 'n')]
        namespace: Option<String>,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum NetnsAction {
    /// Remove the namespaces (and stop the processes) that crashed or killed netns runs left;
    /// those of a run still going on are kept unless --all.
    Cleanup {
        /// Only this run's (its run id).
        #[arg(long)]
        run: Option<String>,
        /// Also the namespaces of runs whose harness is still running.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// The simulated cluster when it can be built here (as root, or in a user namespace of
    /// this process's own), else local, with a note.
    Auto,
    /// Processes on this machine, in a private network namespace.
    Local,
    /// A simulated cluster of network namespaces.
    Netns,
    /// A real Kubernetes cluster.
    Kube,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NodeRole {
    Talker,
    Listener,
}

/// Parses the command line and runs it; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Node { role, args } = cli.command {
        let argv = std::iter::once(OsString::from(format!("harness node {role:?}").to_lowercase())).chain(args);
        return match role {
            NodeRole::Talker => talker::cli::main_from(argv),
            NodeRole::Listener => listener::cli::main_from(argv),
        };
    }
    init_tracing();
    ExitCode::from(dispatch(cli.command))
}

/// `target/<profile>/harness` → `target/aarch64-unknown-linux-gnu/<profile>`.
fn default_arm64_dir(exe: &std::path::Path) -> PathBuf {
    let profile_dir = exe.parent().unwrap_or(exe);
    let profile = profile_dir.file_name().map(PathBuf::from).unwrap_or_else(|| "release".into());
    profile_dir.parent().unwrap_or(profile_dir).join("aarch64-unknown-linux-gnu").join(profile)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,node=error"));
    // Log lines around the progress bar, never through it.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| runner::LogWriter).try_init();
}

static IN_USER_NAMESPACE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// This process entered a user namespace of its own (see [`resolve_backend`]).
fn in_user_namespace() -> bool {
    IN_USER_NAMESPACE.load(std::sync::atomic::Ordering::SeqCst)
}

/// The backend to use for `requested`: `auto` and `netns` need network namespaces — as root,
/// or (not root) in a user namespace this process enters now, before any thread starts;
/// `auto` falls back to local with a note when neither is possible.
fn resolve_backend(requested: BackendArg) -> Result<BackendArg, Failure> {
    if !matches!(requested, BackendArg::Auto | BackendArg::Netns) || chatter_sandbox::is_root() {
        return Ok(if requested == BackendArg::Auto { BackendArg::Netns } else { requested });
    }
    match chatter_sandbox::enter_user_namespace() {
        Ok(()) => {
            IN_USER_NAMESPACE.store(true, std::sync::atomic::Ordering::SeqCst);
            tracing::info!("not root: the simulated cluster runs in a user namespace of this process");
            Ok(BackendArg::Netns)
        }
        Err(e) if requested == BackendArg::Auto => {
            eprintln!(
                "note: the simulated cluster (netns) needs root or user namespaces ({e}); running on the local \
                 backend instead, where every pod shares one network, so what happens between nodes is NOT simulated"
            );
            Ok(BackendArg::Local)
        }
        Err(e) => Err(Failure::backend(format!("--backend netns: {e}"))),
    }
}

/// A command that could not do its job, with the exit code of its class.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    fn usage(e: impl std::fmt::Display) -> Failure {
        Failure { code: exit::USAGE, message: e.to_string() }
    }

    fn backend(e: impl std::fmt::Display) -> Failure {
        Failure { code: exit::BACKEND, message: e.to_string() }
    }
}

/// Writes the console summary to stdout. A closed pipe (`harness report DIR | head`) is not a
/// failure: the reader has what it wanted, and the reports are written.
fn emit(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::backend(format!("stdout: {e}"))),
        _ => Ok(()),
    }
}

fn fail(code: u8, e: impl std::fmt::Display) -> u8 {
    eprintln!("harness: error: {e}");
    code
}

fn dispatch(command: Command) -> u8 {
    let result = match command {
        Command::Validate { scenario } => validate(&scenario),
        Command::Report { dir } => report_dir(&dir),
        Command::Render { scenario, out, pin, images } => render(&scenario, out, pin, &images),
        Command::Kube { action: KubeAction::Cleanup { run, namespace, cluster } } => {
            kube_cleanup(run.as_deref(), namespace.as_deref(), &cluster)
        }
        Command::Netns { action: NetnsAction::Cleanup { run, all } } => Ok(netns_cleanup(run.as_deref(), all)),
        Command::Run(args) => run(args),
        Command::Matrix(args) => matrix(args),
        Command::Lint { paths, format, min_severity } => lint(&paths, format, min_severity),
        Command::Doctor { scenario, backend, count, out, arm64, cluster, images } => {
            doctor(&scenario, backend, count, &out, &arm64, (&cluster, &images))
        }
        Command::Node { .. } => Ok(exit::USAGE),
    };
    result.unwrap_or_else(|f| fail(f.code, f.message))
}

/// Loads a scenario and places it on its declared nodes with `place`; both failures are usage
/// errors naming the file.
fn load_and_place(
    scenario: &std::path::Path,
    place: impl Fn(
        &spec::Scenario,
        &[crate::placement::Node],
    ) -> Result<crate::placement::Plan, crate::placement::PlacementError>,
) -> Result<(spec::Scenario, crate::placement::Plan), Failure> {
    let s = spec::load(scenario).map_err(Failure::usage)?;
    let plan = place(&s, &crate::placement::declared_nodes(&s)).map_err(|e| unplaceable(scenario, &s, &e))?;
    Ok((s, plan))
}

/// A pod that fits no node, at its `nodeSelector` in the scenario file.
fn unplaceable(path: &std::path::Path, s: &spec::Scenario, e: &crate::placement::PlacementError) -> Failure {
    let field = match s.pods.iter().position(|p| p.name == e.pod) {
        Some(i) => format!("pods[{i}].nodeSelector"),
        None => "pods".into(),
    };
    Failure::usage(format!("{}: {field}: {e}", spec::locate(path, &field)))
}

fn validate(scenario: &std::path::Path) -> Result<u8, Failure> {
    let (s, plan) = load_and_place(scenario, |s, nodes| crate::placement::place_trial(s, nodes, 1))?;
    if s.trials.reschedule {
        println!("reschedule: pods are placed afresh each trial; trial 1 shown");
    }
    println!("{}: ok ({} pod(s), {} trial(s))", scenario.display(), plan.pods.len(), s.trials.count);
    for p in &plan.pods {
        let cs: Vec<String> = p.containers.iter().map(|c| format!("{} ({})", c.name, c.role.as_str())).collect();
        println!(
            "  {} → node {}{}: {}",
            p.name,
            p.node,
            if p.host_network { " [hostNetwork]" } else { "" },
            cs.join(", ")
        );
    }
    Ok(exit::OK)
}

/// `harness report DIR`: a directory that cannot be read is a results problem, not a usage one.
fn report_dir(dir: &std::path::Path) -> Result<u8, Failure> {
    let r = runner::reanalyze(dir).map_err(Failure::backend)?;
    emit(&format!("{}reports: {}\n", report::console(&r), dir.display()))?;
    Ok(if r.expectations_met() { exit::OK } else { exit::EXPECTATIONS_FAILED })
}

fn render(scenario: &std::path::Path, out: Option<PathBuf>, pin: bool, images: &ImageArgs) -> Result<u8, Failure> {
    let (s, plan) = load_and_place(scenario, crate::placement::place)?;
    let run_id = crate::results::run_id(&s.name, chatter::now_ns());
    let images = images.images();
    let yaml = crate::backend::kube::objects::render(&plan, &run_id, &images, pin).map_err(Failure::backend)?;
    match out {
        None => print!("{yaml}"),
        Some(dir) => {
            let path = dir.join(format!("{}.yaml", s.name));
            std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(&path, yaml))
                .map_err(|e| Failure::backend(format!("{}: {e}", path.display())))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(exit::OK)
}

fn matrix(args: MatrixArgs) -> Result<u8, Failure> {
    use crate::matrix::{self, MatrixReport, Outcome, VariantResult};
    let MatrixArgs { scenario, backend, trials, parallel, out, no_progress, arm64, ros, images } = args;
    if backend != BackendArg::Netns {
        return Err(Failure::usage(
            "harness matrix runs on the simulated cluster (--backend netns): on local every pod shares one network, \
             so no fix can be told apart; on a cluster, apply the recommended overlay and `harness run` it",
        ));
    }
    if trials == Some(0) {
        return Err(Failure::usage("--trials must be at least 1"));
    }
    let resolved = parallel.resolve(resolve_backend(backend)?)?;
    let mut s = spec::load(&scenario).map_err(Failure::usage)?;
    let parallel = parallel.for_scenario(resolved, &s);
    let stack = ros.apply_stack(&mut s)?;
    let ros = stack.as_ref().map(|st| st.versions.clone());
    let plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s))
        .map_err(|e| unplaceable(&scenario, &s, &e))?;
    let exe = this_exe()?;
    let arm64 = arm64.resolve(&exe);
    let nodes = NodeCommand::SelfExe(exe);
    let matrix_id = crate::results::run_id(&format!("{}-matrix", s.name), chatter::now_ns());
    let dir = out.join(&matrix_id);
    std::fs::create_dir_all(&dir).map_err(|e| Failure::backend(format!("{}: {e}", dir.display())))?;
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(Failure::backend)?;
    let mut report = rt.block_on(async {
        let (stop_tx, stop) = watch::channel(false);
        watch_signals(
            stop_tx,
            "network namespaces and node processes: remove them with `harness netns cleanup`".into(),
        )
        .map_err(Failure::backend)?;
        let mut report = MatrixReport {
            scenario: s.name.clone(),
            backend: "netns".into(),
            variants: Vec::new(),
            recommended: None,
            fix: None,
        };
        for v in matrix::variants(&s, &plan, "netns", stack.as_ref()) {
            let outcome = match v.scenario {
                Err(why) => Outcome::NotApplicable { why },
                Ok(_) if *stop.borrow() => Outcome::Failed { error: "interrupted".into() },
                Ok(vs) => {
                    eprintln!("harness: matrix variant {} ({})", v.id, v.title);
                    let opts = RunOptions {
                        results_root: dir.clone(),
                        trials,
                        progress: !no_progress,
                        run_id: Some(v.id.to_owned()),
                        preflight: None,
                        parallel,
                        ros: ros.clone(),
                    };
                    let mut backend = NetnsBackend::new(nodes.clone(), arm64.clone());
                    match runner::run(&vs, &mut backend, &opts, stop.clone()).await {
                        Ok(o) if o.interrupted => Outcome::Failed { error: "interrupted".into() },
                        Ok(o) => matrix::outcome_of(&o.report, v.id),
                        Err(e) => Outcome::Failed { error: e.to_string() },
                    }
                }
            };
            report.variants.push(VariantResult {
                id: v.id.into(),
                title: v.title.into(),
                rank: v.rank,
                outcome,
                note: v.note.map(str::to_owned),
            });
        }
        Ok::<_, Failure>(report)
    })?;
    report.recommend();
    let images = images.images();
    let base = crate::backend::kube::objects::render(&plan, &matrix_id, &images, false).map_err(Failure::backend)?;
    let ns = crate::backend::kube::objects::namespace_name(&matrix_id);
    let image = s.pods.iter().flat_map(|p| &p.containers).find_map(|c| c.image.as_deref());
    // Every variant that ran has its overlay in fixes/<id>/ (each validated like the fix).
    for v in report.variants.iter().filter(|v| matches!(v.outcome, Outcome::Ran { .. })) {
        if let Some(files) = matrix::fix_files(&v.id, &plan, &ns, s.dds.rmw, image) {
            matrix::write_fix(&dir.join("fixes").join(&v.id), &base, &files).map_err(Failure::backend)?;
        }
    }
    if let Some(id) = report.recommended.clone() {
        report.fix = match matrix::fix_files(&id, &plan, &ns, s.dds.rmw, image) {
            Some(files) => {
                matrix::write_fix(&dir.join("fix"), &base, &files).map_err(Failure::backend)?;
                files.get("kustomization.yaml").cloned()
            }
            None => matrix::fix_words(&id),
        };
    }
    report.write(&dir).map_err(Failure::backend)?;
    emit(&format!("{}reports: {}\n", report.console(), dir.join("matrix.md").display()))?;
    let interrupted = STOPPED_BY.load(std::sync::atomic::Ordering::SeqCst);
    Ok(if interrupted != 0 {
        interrupted
    } else if report.recommended.is_some() {
        exit::OK
    } else {
        exit::EXPECTATIONS_FAILED
    })
}

fn doctor(
    scenario: &std::path::Path,
    backend: BackendArg,
    count: u32,
    out: &std::path::Path,
    arm64: &Arm64Args,
    (cluster, images): (&ClusterArgs, &ImageArgs),
) -> Result<u8, Failure> {
    if count == 0 {
        return Err(Failure::usage("--count must be at least 1"));
    }
    let s = spec::load(scenario).map_err(Failure::usage)?;
    let backend = resolve_backend(backend)?;
    if backend == BackendArg::Local {
        return Err(Failure::usage(
            "harness doctor probes between nodes: on local every pod shares one network; use --backend netns or kube",
        ));
    }
    let exe = this_exe()?;
    let arm64 = arm64.resolve(&exe);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Failure::backend)?;
    let id = crate::results::run_id(&format!("{}-doctor", s.name), chatter::now_ns());
    let report = rt.block_on(async {
        if backend == BackendArg::Kube {
            let client = cluster
                .client()
                .await
                .map_err(|e| BackendError::Unsupported(format!("cannot reach the cluster: {e}")))?;
            let opts = probe_options(images, std::time::Duration::from_secs(180));
            KubeBackend::new(client, opts).doctor(&s, count, &id).await
        } else {
            NetnsBackend::new(NodeCommand::SelfExe(exe), arm64).doctor(&s, count).await
        }
    });
    let mut report = report.map_err(Failure::backend)?;
    // Which pods Fast DDS would take for one host without a shared /dev/shm: from placement
    // (on kube, where the scheduler may still put them together, the declared nodes').
    if let Ok(plan) = crate::placement::place(&s, &crate::placement::declared_nodes(&s)) {
        report.shared_hosts = crate::doctor::shared_hosts(&plan);
    }
    let dir = out.join(&id);
    std::fs::create_dir_all(&dir).map_err(|e| Failure::backend(format!("{}: {e}", dir.display())))?;
    crate::results::write_atomic(&dir.join("doctor.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &report).map_err(std::io::Error::from)?;
        w.write_all(b"\n")
    })
    .map_err(Failure::backend)?;
    emit(&format!("{}report: {}\n", report.text(), dir.join("doctor.json").display()))?;
    Ok(exit::OK)
}

/// The YAML files under `path` (itself, if a file), sorted.
fn yaml_files(path: &std::path::Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                yaml_files(&e, out)?;
            }
        }
    } else {
        out.push(path.to_owned());
    }
    Ok(())
}

fn lint(paths: &[PathBuf], format: LintFormat, min_severity: crate::lint::Severity) -> Result<u8, Failure> {
    use std::io::Read;
    // Every path of one invocation is one deployment: rules that compare workloads see them all.
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| Failure::usage(format!("stdin: {e}")))?;
            files.push(crate::lint::SourceFile::parse("-", text).map_err(Failure::usage)?);
            continue;
        }
        let mut found = Vec::new();
        yaml_files(path, &mut found).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
        if found.is_empty() {
            return Err(Failure::usage(format!("{}: no .yaml or .yml files", path.display())));
        }
        for f in found {
            let name = f.display().to_string();
            let text = std::fs::read_to_string(&f).map_err(|e| Failure::usage(format!("{name}: {e}")))?;
            files.push(crate::lint::SourceFile::parse(&name, text).map_err(Failure::usage)?);
        }
    }
    let mut report = crate::lint::lint_set(&files);
    report.findings.retain(|f| f.severity >= min_severity);
    match format {
        LintFormat::Text => {
            emit(&crate::lint::text(&report.findings))?;
            let skipped: Vec<String> = report.skipped.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
            eprintln!(
                "lint: {} workloads in {} files{}",
                report.workloads,
                files.len(),
                if skipped.is_empty() {
                    String::new()
                } else {
                    format!("; not workloads, skipped: {}", skipped.join(", "))
                }
            );
        }
        LintFormat::Json => {
            emit(&(serde_json::to_string_pretty(&report.findings).map_err(Failure::backend)? + "\n"))?;
        }
    }
    let failing = report.findings.iter().any(|f| f.severity >= crate::lint::Severity::Warning);
    Ok(if failing { exit::EXPECTATIONS_FAILED } else { exit::OK })
}

fn kube_cleanup(run: Option<&str>, namespace: Option<&str>, cluster: &ClusterArgs) -> Result<u8, Failure> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Failure::backend)?;
    rt.block_on(async {
        let client = cluster.client().await.map_err(|e| Failure::backend(format!("cannot reach the cluster: {e}")))?;
        let removed = tokio::select! {
            r = crate::backend::kube::cleanup_leftovers(&client, run, namespace) => r.map_err(Failure::backend)?,
            _ = tokio::signal::ctrl_c() => return Err(Failure { code: exit::INTERRUPTED, message: "interrupted".into() }),
        };
        println!("removed {} object(s){}", removed.len(), if removed.is_empty() { String::new() } else { format!(": {}", removed.join(", ")) });
        Ok(exit::OK)
    })
}

/// The signal that stopped the run: its exit code (130 SIGINT, 143 SIGTERM), 0 while none.
static STOPPED_BY: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The first SIGINT or SIGTERM stops the run cleanly (the trial ends as interrupted, results
/// are written, the backend removes what it made); a second one exits at once, after saying
/// what may be left and how to remove it.
fn watch_signals(stop: watch::Sender<bool>, leftovers: String) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        let code = tokio::select! {
            _ = int.recv() => exit::INTERRUPTED,
            _ = term.recv() => exit::TERMINATED,
        };
        STOPPED_BY.store(code, std::sync::atomic::Ordering::SeqCst);
        eprintln!(
            "harness: interrupted; stopping the trial, writing results and removing what the run created (again to \
             exit at once)"
        );
        let _ = stop.send(true);
        let code = tokio::select! {
            _ = int.recv() => exit::INTERRUPTED,
            _ = term.recv() => exit::TERMINATED,
        };
        eprintln!("harness: exiting now; left behind may be {leftovers}");
        std::process::exit(i32::from(code));
    });
    Ok(())
}

fn netns_cleanup(run: Option<&str>, all: bool) -> u8 {
    use crate::backend::netns::{remove_run, runs};
    let mut removed = Vec::new();
    for r in runs() {
        let name = r.run_id.clone().unwrap_or_else(|| "unregistered".into());
        if run.is_some_and(|id| r.run_id.as_deref() != Some(id)) {
            continue;
        }
        if r.alive && !all {
            println!(
                "kept {} namespace(s) of run {name}: its harness (pid {}) is still running (--all removes them too)",
                r.namespaces.len(),
                r.pid.unwrap_or(0)
            );
            continue;
        }
        removed.extend(remove_run(&r.tag));
    }
    if removed.is_empty() {
        println!("removed 0 namespaces");
    } else {
        println!("removed {} namespace(s): {}", removed.len(), removed.join(" "));
    }
    exit::OK
}

impl ParallelArgs {
    /// How many trials run at once on `backend`: `--parallel` where the backend can (netns:
    /// each trial in a simulated cluster of its own), by default twice the CPUs (a trial mostly
    /// waits: its nodes publish at a few Hz), at most 8; always 1 on local and kube.
    fn resolve(&self, backend: BackendArg) -> Result<usize, Failure> {
        match (self.parallel, backend) {
            (Some(0), _) => Err(Failure::usage("--parallel must be at least 1")),
            (Some(n), BackendArg::Local | BackendArg::Kube) if n > 1 => Err(Failure::usage(format!(
                "--parallel {n}: on {} trials would share nodes and network (and so disturb each other); only the \
                 simulated cluster (netns) gives each trial a cluster of its own",
                if backend == BackendArg::Kube { "kube" } else { "local" }
            ))),
            (Some(n), _) => Ok(n),
            (None, BackendArg::Netns) => {
                Ok(std::thread::available_parallelism().map_or(1, |n| n.get().saturating_mul(2)).clamp(1, 8))
            }
            (None, _) => Ok(1),
        }
    }

    /// `resolved` trials at once, except by default for stock nodes on the ROS 2 wheels: each
    /// rclpy process takes about a second of CPU to start, so several trials' worth at once on
    /// a small machine start after their trial's window (measured on 2 cores: the Fast DDS
    /// matrix with 4 trials at once read 0 everywhere) — one at a time unless `--parallel` says.
    fn for_scenario(&self, resolved: usize, s: &spec::Scenario) -> usize {
        if self.parallel.is_none() && resolved > 1 && crate::ros::needs_wheels(s) {
            eprintln!(
                "harness: stock nodes on real ROS 2 (rclpy) start slowly: trials run one at a time (--parallel N \
                 to change)"
            );
            return 1;
        }
        resolved
    }
}

fn run(args: RunArgs) -> Result<u8, Failure> {
    let RunArgs {
        scenario,
        backend,
        trials,
        until_confident,
        parallel,
        out,
        node_bin_dir,
        no_progress,
        arm64,
        ros,
        preflight,
        kube,
    } = args;
    let backend = resolve_backend(backend)?;
    let resolved = parallel.resolve(backend)?;
    if preflight && backend == BackendArg::Local {
        return Err(Failure::usage(
            "--preflight probes between nodes: on local every pod shares one network; use --backend netns or kube",
        ));
    }
    let mut s = spec::load(&scenario).map_err(Failure::usage)?;
    let parallel = parallel.for_scenario(resolved, &s);
    // On a cluster the images run the stock nodes; here the wheels do.
    let ros_versions = if backend == BackendArg::Kube { None } else { ros.apply(&mut s)? };
    if until_confident {
        s.trials.until = Some(spec::Until::Confident);
    }
    if trials == Some(0) {
        return Err(Failure::usage("--trials must be at least 1"));
    }
    let exe = this_exe()?;
    let mut arm64 = arm64.resolve(&exe);
    let mut ros_versions = ros_versions;
    let nodes = match node_bin_dir {
        Some(dir) => NodeCommand::BinDir(dir),
        // `transport: ros` here: our r2r nodes on the wheels (scripts/build-ros.sh), amd64 on
        // every node (there are no aarch64 wheels).
        None if s.dds.transport == spec::Transport::Ros && backend != BackendArg::Kube => {
            let distro = ros.ros_distro.into();
            let dir = crate::ros::r2r_bin_dir(distro).map_err(|e| Failure::backend(e.to_string()))?;
            if ros_versions.is_none() {
                let stack = crate::ros::RosStack::find(distro, ros.ros_venv.as_deref())
                    .map_err(|e| Failure::backend(e.to_string()))?;
                ros_versions = Some(stack.versions);
            }
            arm64 = Arm64::Native;
            NodeCommand::BinDir(dir)
        }
        None => NodeCommand::SelfExe(exe),
    };
    let run_id = crate::results::run_id(&s.name, chatter::now_ns());
    let leftovers = match backend {
        BackendArg::Local | BackendArg::Auto => "node processes (they end at their own --duration bound)".to_owned(),
        BackendArg::Netns if in_user_namespace() => {
            "nothing: the namespaces and node processes of a user-namespace run end with it".into()
        }
        BackendArg::Netns => "network namespaces and node processes: remove them with `harness netns cleanup`".into(),
        BackendArg::Kube => format!(
            "run {run_id}'s namespace or pods on the cluster: remove them with `harness kube cleanup --run {run_id}`{}",
            kube.namespace.as_deref().map(|n| format!(" -n {n}")).unwrap_or_default()
        ),
    };
    let mut opts = RunOptions {
        results_root: out,
        trials,
        progress: !no_progress,
        run_id: Some(run_id.clone()),
        preflight: None,
        parallel,
        ros: ros_versions,
    };
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(Failure::backend)?;
    rt.block_on(async move {
        let (stop_tx, stop) = watch::channel(false);
        watch_signals(stop_tx, leftovers).map_err(Failure::backend)?;
        let client = match backend {
            BackendArg::Kube => Some(
                kube.cluster.client().await.map_err(|e| Failure::backend(format!("cannot reach the cluster: {e}")))?,
            ),
            _ => None,
        };
        if preflight {
            eprintln!("harness: preflight: probing the cluster (harness doctor)");
            let report = match &client {
                // Its own namespace (privileged, for the host-network probes), gone before the run.
                Some(client) => {
                    let id = format!("preflight-{run_id}");
                    KubeBackend::new(client.clone(), kube.doctor_options()).doctor(&s, 20, &id).await
                }
                None => NetnsBackend::new(nodes.clone(), arm64.clone()).doctor(&s, 20).await,
            };
            let report = report.map_err(Failure::backend)?;
            eprint!("{}", report.text());
            opts.preflight = Some(report);
        }
        let outcome = match (backend, client) {
            (BackendArg::Kube, Some(client)) => {
                runner::run(&s, &mut KubeBackend::new(client, kube.options()), &opts, stop).await
            }
            (BackendArg::Netns, _) => runner::run(&s, &mut NetnsBackend::new(nodes, arm64), &opts, stop).await,
            _ => runner::run(&s, &mut LocalBackend::new(nodes), &opts, stop).await,
        };
        match outcome {
            Ok(o) => {
                emit(&format!("{}reports: {}\n", report::console(&o.report), o.dir.display()))?;
                Ok(if o.interrupted {
                    match STOPPED_BY.load(std::sync::atomic::Ordering::SeqCst) {
                        0 => exit::INTERRUPTED,
                        code => code,
                    }
                } else if o.report.expectations_met() {
                    exit::OK
                } else {
                    exit::EXPECTATIONS_FAILED
                })
            }
            Err(runner::RunError::Placement(e)) => Err(unplaceable(&scenario, &s, &e)),
            Err(e) => Err(Failure::backend(e)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// kubectl's order, with k3s's root-only file as the last resort.
    #[test]
    fn kubeconfig_resolution() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k3s = dir.path().join("k3s.yaml");
        let home = dir.path().join("config");
        let flag = Path::new("/x/kubeconfig");
        let none: Option<&std::ffi::OsStr> = None;
        assert_eq!(kubeconfig_source(Some(flag), None, None, false, &k3s), KubeconfigSource::Flag(flag.into()));
        // Nothing at all: kube's inference reports what it tried.
        assert_eq!(kubeconfig_source(None, none, Some(&home), false, &k3s), KubeconfigSource::Inferred);
        std::fs::write(&k3s, "").expect("write");
        assert_eq!(kubeconfig_source(None, none, Some(&home), false, &k3s), KubeconfigSource::K3s(k3s.clone()));
        assert_eq!(
            kubeconfig_source(None, Some(std::ffi::OsStr::new("/a")), Some(&home), false, &k3s),
            KubeconfigSource::Inferred
        );
        assert_eq!(kubeconfig_source(None, none, Some(&home), true, &k3s), KubeconfigSource::Inferred);
        std::fs::write(&home, "").expect("write");
        assert_eq!(kubeconfig_source(None, none, Some(&home), false, &k3s), KubeconfigSource::Inferred);
        assert_eq!(kubeconfig_source(Some(flag), none, Some(&home), false, &k3s), KubeconfigSource::Flag(flag.into()));
    }
}
