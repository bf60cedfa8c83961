//! Command-line pieces shared by the talker and listener binaries (the edge: the only code
//! that knows about clap).

use std::time::Duration;

use clap::ValueEnum;

/// QoS flags shared with the listener.
#[derive(Debug, clap::Args)]
pub struct QosArgs {
    #[arg(long, value_enum, default_value_t = ReliabilityArg::Reliable)]
    pub reliability: ReliabilityArg,
    #[arg(long, value_enum, default_value_t = DurabilityArg::Volatile)]
    pub durability: DurabilityArg,
    /// Keep-last history depth.
    #[arg(long, default_value_t = 10)]
    pub depth: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReliabilityArg {
    Reliable,
    BestEffort,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DurabilityArg {
    Volatile,
    TransientLocal,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TransportArg {
    /// Pure Rust (ros2-client on RustDDS).
    Rustdds,
    /// r2r on the installed ROS 2 (builds with `--features ros`).
    Ros,
}

impl From<ReliabilityArg> for chatter::Reliability {
    fn from(a: ReliabilityArg) -> Self {
        match a {
            ReliabilityArg::Reliable => chatter::Reliability::Reliable,
            ReliabilityArg::BestEffort => chatter::Reliability::BestEffort,
        }
    }
}

impl From<DurabilityArg> for chatter::Durability {
    fn from(a: DurabilityArg) -> Self {
        match a {
            DurabilityArg::Volatile => chatter::Durability::Volatile,
            DurabilityArg::TransientLocal => chatter::Durability::TransientLocal,
        }
    }
}

impl From<TransportArg> for crate::TransportKind {
    fn from(a: TransportArg) -> Self {
        match a {
            TransportArg::Rustdds => crate::TransportKind::Rustdds,
            TransportArg::Ros => crate::TransportKind::Ros,
        }
    }
}

impl From<&QosArgs> for chatter::Qos {
    fn from(a: &QosArgs) -> Self {
        chatter::Qos { reliability: a.reliability.into(), durability: a.durability.into(), depth: a.depth }
    }
}

/// Parses seconds given on the command line.
pub fn seconds(flag: &str, s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| anyhow::anyhow!("--{flag} must be a non-negative number of seconds, got {s}"))
}

/// Logs go to stderr (stdout carries records), filtered by `RUST_LOG`. By default: our warnings,
/// and nothing from ros2-client/RustDDS, which log routine discovery bookkeeping (unmatched
/// endpoint look-ups, teardown races) at error level.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,ros2_client=off,rustdds=off"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Returns once `file` (the pod's annotations, projected by the downward API) carries the
/// harness's release annotation. The kubelet swaps the projection atomically, so whole reads
/// are consistent; a file that does not exist yet counts as "not released".
pub async fn wait_for_release(file: &std::path::Path) -> anyhow::Result<()> {
    let mut poll = tokio::time::interval(std::time::Duration::from_millis(50));
    loop {
        poll.tick().await;
        match std::fs::read_to_string(file) {
            Ok(text) if chatter::released(&text) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("cannot read the release file {}: {e}", file.display()),
        }
    }
}

/// What a node's `run` gets to stop on: the first SIGINT or SIGTERM, by name.
pub type Shutdown = std::pin::Pin<Box<dyn std::future::Future<Output = &'static str>>>;

/// The whole of a node binary's `main`: parse `argv` (clap's own exit for `--help`/usage
/// errors, 2), build the config, run it on a single-threaded runtime with signal handling, and
/// map an error to an exit code with `code` (after printing it as `<name>: error: …`).
pub fn node_main<A, C, Fut>(
    name: &str,
    argv: impl IntoIterator<Item = impl Into<std::ffi::OsString> + Clone>,
    into_config: impl FnOnce(A) -> anyhow::Result<C>,
    run: impl FnOnce(C, Shutdown) -> Fut,
    code: impl Fn(&anyhow::Error) -> u8,
) -> std::process::ExitCode
where
    A: clap::Parser,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    init_tracing();
    let args = match A::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = into_config(args).and_then(|config| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(async {
            let mut shutdown: Shutdown = Box::pin(crate::shutdown_signal()?);
            if let Some(file) = std::env::var_os(chatter::RELEASE_FILE_ENV) {
                let file = std::path::PathBuf::from(file);
                eprintln!("{name}: waiting for the harness to release the start ({})", file.display());
                tokio::select! {
                    r = wait_for_release(&file) => r?,
                    // Stopped before the trial began (its pod was deleted): nothing to report.
                    _ = &mut shutdown => return Ok(()),
                }
            }
            run(config, shutdown).await
        })
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: error: {e:#}");
            std::process::ExitCode::from(code(&e))
        }
    }
}
