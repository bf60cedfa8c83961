//! The command line as clap reads it: the subcommands and their flags, and the conversions of
//! flag values into the harness's own types.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::backend::kube::objects::Images;

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
    /// At what message size does the link break? The scenario once per size, with
    /// `payloadBytes` set on its talkers (those that set it; if none does, all), each size a
    /// normal run directory inside results/<sweep-id>/; sweep.md, report.html (plots), sweep.json
    /// and sweep.csv give delivered %, p50/p99 latency and goodput per pair relation and size,
    /// and the size where delivery first drops below the scenario's expect.minDelivery (95 %
    /// without one). Exit 1 when it drops below at some size, 3 when a size could not run.
    Sweep(SweepArgs),
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
    /// Re-analyse a run directory (from its records.csv) and rewrite its reports; given a size
    /// sweep's directory, every size's run and then the sweep's files.
    Report {
        /// A run directory, e.g. results/20261123T104500Z-seed, or a sweep's.
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
    /// The deployment's manifests (a file or directory, as `harness lint` reads them; repeat for
    /// more): the matrix says when they put more ROS 2 processes on one IP than it measured.
    #[arg(long, value_name = "PATH")]
    pub manifests: Vec<PathBuf>,
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

/// The flags of `harness sweep`.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// Scenario file (YAML).
    pub scenario: PathBuf,
    /// Message sizes, comma-separated: whole bytes with an optional unit B, KiB or MiB
    /// (1024-based), e.g. `1KiB,64KiB,256KiB,1MiB,4MiB`; run smallest first.
    #[arg(long, required = true, value_parser = parse_sizes)]
    pub sizes: Sizes,
    /// Where the sizes run (auto: the simulated cluster, netns, where it can be built; else
    /// local); kube is not supported yet.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Trials per size (overrides the scenario's trials.count).
    #[arg(long)]
    pub trials: Option<u32>,
    #[command(flatten)]
    pub parallel: ParallelArgs,
    /// Directory that receives the sweep directory.
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
}

/// The message sizes of `--sizes`, in bytes, smallest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes(pub Vec<u32>);

fn parse_sizes(text: &str) -> Result<Sizes, String> {
    crate::sweep::parse_sizes(text).map(Sizes).map_err(|e| e.to_string())
}

/// Which real ROS 2 runs the stock nodes on this machine (`run`, `matrix`, `sweep`).
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
