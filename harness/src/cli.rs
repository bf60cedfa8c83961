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
use crate::backend::NodeCommand;
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
    /// Interrupted by Ctrl-C; results so far were written.
    pub const INTERRUPTED: u8 = 130;
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
        #[command(flatten)]
        images: ImageArgs,
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
    /// Where the experiment runs.
    #[arg(long, value_enum, default_value_t = BackendArg::Local)]
    pub backend: BackendArg,
    /// Number of trials (overrides the scenario's trials.count).
    #[arg(long)]
    pub trials: Option<u32>,
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
    /// netns backend: directory of aarch64 `talker`/`listener` builds for arm64 nodes
    /// [default: target/aarch64-unknown-linux-gnu/release beside this binary's target dir].
    #[arg(long)]
    pub arm64_bin_dir: Option<PathBuf>,
    /// netns backend: run the native build on arm64 nodes instead of aarch64 under qemu.
    #[arg(long, conflicts_with = "arm64_bin_dir")]
    pub arm64_as_amd64: bool,
    #[command(flatten)]
    pub kube: KubeArgs,
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

/// kube backend flags (like kubectl's).
#[derive(Debug, Clone, clap::Args)]
pub struct KubeArgs {
    /// kubeconfig file [default: $KUBECONFIG, ~/.kube/config, or in-cluster].
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context.
    #[arg(long)]
    pub context: Option<String>,
    /// Use this existing namespace instead of creating `chatter-<run-id>`.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Seconds a pod may take to start before it is reported stuck.
    #[arg(long, default_value_t = 180)]
    pub pod_timeout: u64,
    #[command(flatten)]
    pub images: ImageArgs,
}

impl KubeArgs {
    async fn client(&self) -> Result<kube::Client, String> {
        let options = kube::config::KubeConfigOptions { context: self.context.clone(), ..Default::default() };
        let config = match &self.kubeconfig {
            Some(path) => {
                let kc = kube::config::Kubeconfig::read_from(path).map_err(|e| format!("{}: {e}", path.display()))?;
                kube::Config::from_custom_kubeconfig(kc, &options).await.map_err(|e| e.to_string())?
            }
            None if self.context.is_some() => {
                kube::Config::from_kubeconfig(&options).await.map_err(|e| e.to_string())?
            }
            None => kube::Config::infer().await.map_err(|e| e.to_string())?,
        };
        kube::Client::try_from(config).map_err(|e| e.to_string())
    }

    fn options(&self) -> KubeOptions {
        KubeOptions {
            images: Images::new(&self.images.image_registry, &self.images.image_tag),
            namespace: self.namespace.clone(),
            pod_timeout: std::time::Duration::from_secs(self.pod_timeout),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum NetnsAction {
    /// Remove every namespace (and its processes) left by a crashed netns run.
    Cleanup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// Processes on this machine, in a private network namespace.
    Local,
    /// A simulated cluster of network namespaces.
    Netns,
    /// A real Kubernetes cluster.
    Kube,
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
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
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
        Command::Render { scenario, out, images } => render(&scenario, out, &images),
        Command::Netns { action: NetnsAction::Cleanup } => Ok(netns_cleanup()),
        Command::Run(args) => run(args),
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
    let plan = place(&s, &crate::placement::declared_nodes(&s))
        .map_err(|e| Failure::usage(format!("{}: {e}", scenario.display())))?;
    Ok((s, plan))
}

fn validate(scenario: &std::path::Path) -> Result<u8, Failure> {
    let (s, plan) = load_and_place(scenario, |s, nodes| crate::placement::place_trial(s, nodes, 1))?;
    if s.trials.reschedule {
        println!("reschedule: pods are placed afresh each trial; trial 1 shown");
    }
    println!("{}: ok ({} pod(s), {} trial(s))", scenario.display(), plan.pods.len(), s.trials.count);
    for p in &plan.pods {
        let cs: Vec<String> =
            p.containers.iter().map(|c| format!("{} ({:?})", c.name, c.role).to_lowercase()).collect();
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

fn render(scenario: &std::path::Path, out: Option<PathBuf>, images: &ImageArgs) -> Result<u8, Failure> {
    let (s, plan) = load_and_place(scenario, crate::placement::place)?;
    let run_id = crate::results::run_id(&s.name, chatter::now_ns());
    let yaml =
        crate::backend::kube::objects::render(&plan, &run_id, &Images::new(&images.image_registry, &images.image_tag))
            .map_err(Failure::backend)?;
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

fn netns_cleanup() -> u8 {
    let removed = crate::backend::netns::remove_namespaces(crate::backend::netns::topology::PREFIX);
    if removed.is_empty() {
        println!("removed 0 namespaces");
    } else {
        println!("removed {} namespace(s): {}", removed.len(), removed.join(" "));
    }
    exit::OK
}

fn run(args: RunArgs) -> Result<u8, Failure> {
    let RunArgs { scenario, backend, trials, out, node_bin_dir, no_progress, arm64_bin_dir, arm64_as_amd64, kube } =
        args;
    let s = spec::load(&scenario).map_err(Failure::usage)?;
    if trials == Some(0) {
        return Err(Failure::usage("--trials must be at least 1"));
    }
    let exe = std::env::current_exe().map_err(|e| Failure::backend(format!("cannot locate this binary: {e}")))?;
    let arm64 = if arm64_as_amd64 {
        Arm64::Native
    } else {
        Arm64::Emulate { bin_dir: arm64_bin_dir.unwrap_or_else(|| default_arm64_dir(&exe)) }
    };
    let nodes = match node_bin_dir {
        Some(dir) => NodeCommand::BinDir(dir),
        None => NodeCommand::SelfExe(exe),
    };
    let opts = RunOptions { results_root: out, trials, progress: !no_progress };
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(Failure::backend)?;
    rt.block_on(async move {
        let (stop_tx, stop) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("harness: interrupted; stopping the trial and writing results");
                let _ = stop_tx.send(true);
            }
        });
        let outcome = match backend {
            BackendArg::Local => runner::run(&s, &mut LocalBackend::new(nodes), &opts, stop).await,
            BackendArg::Netns => runner::run(&s, &mut NetnsBackend::new(nodes, arm64), &opts, stop).await,
            BackendArg::Kube => {
                let client =
                    kube.client().await.map_err(|e| Failure::backend(format!("cannot reach the cluster: {e}")))?;
                runner::run(&s, &mut KubeBackend::new(client, kube.options()), &opts, stop).await
            }
        };
        match outcome {
            Ok(o) => {
                emit(&format!("{}reports: {}\n", report::console(&o.report), o.dir.display()))?;
                Ok(if o.interrupted {
                    exit::INTERRUPTED
                } else if o.report.expectations_met() {
                    exit::OK
                } else {
                    exit::EXPECTATIONS_FAILED
                })
            }
            Err(runner::RunError::Placement(e)) => Err(Failure::usage(format!("{}: {e}", scenario.display()))),
            Err(e) => Err(Failure::backend(e)),
        }
    })
}
