//! Command line of the talker binary (the only place that knows about clap).

use chatter_transport::cli::{seconds, QosArgs, TransportArg};
use clap::Parser;

use crate::Config;

/// ROS 2 talker on /chatter that reports every message it sends as JSON lines on stdout.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Args {
    /// Talker id carried in every message [default: $POD_NAME, else the host name].
    #[arg(long, env = "POD_NAME")]
    pub id: Option<String>,
    /// ROS topic.
    #[arg(long, default_value = chatter::DEFAULT_TOPIC)]
    pub topic: String,
    /// DDS domain.
    #[arg(long, env = "ROS_DOMAIN_ID", default_value_t = 0)]
    pub domain: u16,
    /// Messages per second.
    #[arg(long, default_value_t = 10.0)]
    pub rate_hz: f64,
    /// Stop after this many messages.
    #[arg(long)]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    pub duration: Option<f64>,
    /// When the harness opens the measurement window early (SIGUSR1), publish this many
    /// seconds from then on and stop (unless --duration ends first).
    #[arg(long)]
    pub window: Option<f64>,
    /// Pad messages to at least this many bytes.
    #[arg(long, default_value_t = 0)]
    pub payload_bytes: usize,
    #[command(flatten)]
    pub qos: QosArgs,
    /// Transport implementation.
    #[arg(long, value_enum, default_value_t = TransportArg::Rustdds)]
    pub transport: TransportArg,
    /// Emit a `sent` record for every message.
    #[arg(long)]
    pub log_sent: bool,
    /// Seconds to stay on the network after the last message.
    #[arg(long, default_value_t = 0.5)]
    pub linger: f64,
}

impl Args {
    pub fn into_config(self) -> anyhow::Result<Config> {
        Ok(Config {
            id: self.id.unwrap_or_else(chatter_transport::hostname),
            topic: self.topic,
            domain: self.domain,
            qos: (&self.qos).into(),
            transport: self.transport.into(),
            rate_hz: self.rate_hz,
            count: self.count,
            duration: self.duration.map(|d| seconds("duration", d)).transpose()?,
            window: self.window.map(|d| seconds("window", d)).transpose()?,
            payload_bytes: self.payload_bytes,
            log_sent: self.log_sent,
            linger: seconds("linger", self.linger)?,
        })
    }
}

/// `talker probe …`: the network and clock probe of `harness doctor`, in the same binary (and
/// so the same images and qemu path) as the node.
#[derive(Debug, Parser)]
#[command(name = "talker probe", about = "Network and clock probes between nodes (harness doctor)")]
pub struct ProbeArgs {
    #[command(subcommand)]
    pub mode: ProbeMode,
}

#[derive(Debug, clap::Subcommand)]
pub enum ProbeMode {
    /// Answer probes on the domain's DDS ports until SIGTERM/SIGINT.
    Serve {
        #[arg(long)]
        node: String,
        #[arg(long, env = "ROS_DOMAIN_ID", default_value_t = 0)]
        domain: u16,
    },
    /// Probe every target; print one JSON report.
    Send {
        #[arg(long)]
        node: String,
        #[arg(long, env = "ROS_DOMAIN_ID", default_value_t = 0)]
        domain: u16,
        /// Probes per kind and target.
        #[arg(long, default_value_t = 20)]
        count: u32,
        /// `name=IPv4` of a node to probe (repeatable).
        #[arg(long = "target", value_parser = parse_target)]
        targets: Vec<(String, std::net::Ipv4Addr)>,
        /// Seconds to wait for late answers after the last probe.
        #[arg(long, default_value_t = 1.0)]
        settle: f64,
    },
}

fn parse_target(s: &str) -> Result<(String, std::net::Ipv4Addr), String> {
    let (name, ip) = s.split_once('=').ok_or_else(|| format!("expected name=IPv4, got {s:?}"))?;
    Ok((name.to_owned(), ip.parse().map_err(|e| format!("{ip}: {e}"))?))
}

fn probe_main(argv: Vec<std::ffi::OsString>) -> std::process::ExitCode {
    let args = match ProbeArgs::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match args.mode {
        ProbeMode::Serve { node, domain } => {
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = std::sync::Arc::clone(&stop);
            let watcher = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(async {
                        if let Ok(signal) = chatter_transport::shutdown_signal() {
                            signal.await;
                        }
                    });
                }
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            eprintln!("talker probe: serving as {node} on domain {domain}");
            let r = chatter::probe::serve(&node, domain, || stop.load(std::sync::atomic::Ordering::SeqCst));
            let _ = watcher.join();
            r.map(|()| String::new())
        }
        ProbeMode::Send { node, domain, count, targets, settle } => {
            let targets = targets.into_iter().collect();
            chatter::probe::probe(&node, domain, &targets, count, std::time::Duration::from_secs_f64(settle.max(0.0)))
                .map(|r| serde_json::to_string(&r).unwrap_or_default() + "\n")
        }
    };
    match result {
        Ok(out) => {
            print!("{out}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("talker probe: error: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

/// Entry point of the binary: parse, run, map the outcome to an exit code.
pub fn main() -> std::process::ExitCode {
    main_from(std::env::args_os())
}

/// [`main`] with explicit arguments (the first is the program name), so another binary can
/// embed this node.
pub fn main_from<I: IntoIterator<Item = T>, T: Into<std::ffi::OsString> + Clone>(argv: I) -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = argv.into_iter().map(Into::into).collect();
    if argv.get(1).is_some_and(|a| a == "probe") {
        let mut probe_argv = vec![std::ffi::OsString::from("talker probe")];
        probe_argv.extend(argv.into_iter().skip(2));
        return probe_main(probe_argv);
    }
    chatter_transport::cli::node_main(
        "talker",
        argv,
        Args::into_config,
        |config, shutdown| async move {
            crate::run(&config, std::io::stdout().lock(), shutdown).await?;
            Ok(())
        },
        |_| 2,
    )
}
