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
            payload_bytes: self.payload_bytes,
            log_sent: self.log_sent,
            linger: seconds("linger", self.linger)?,
        })
    }
}

/// Entry point of the binary: parse, run, map the outcome to an exit code.
pub fn main() -> std::process::ExitCode {
    main_from(std::env::args_os())
}

/// [`main`] with explicit arguments (the first is the program name), so another binary can
/// embed this node.
pub fn main_from<I: IntoIterator<Item = T>, T: Into<std::ffi::OsString> + Clone>(argv: I) -> std::process::ExitCode {
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
