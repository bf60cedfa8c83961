//! Command line of the listener binary (the only place that knows about clap).

use std::path::PathBuf;

use chatter_transport::cli::{seconds, QosArgs, TransportArg};
use clap::Parser;

use crate::{Config, ListenerError};

/// ROS 2 listener on /chatter that reports every message it receives as JSON lines on stdout.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Args {
    /// Listener id used in its records [default: $POD_NAME, else the host name].
    #[arg(long, env = "POD_NAME")]
    pub id: Option<String>,
    /// ROS topic.
    #[arg(long, default_value = chatter::DEFAULT_TOPIC)]
    pub topic: String,
    /// DDS domain.
    #[arg(long, env = "ROS_DOMAIN_ID", default_value_t = 0)]
    pub domain: u16,
    /// Stop after this many seconds.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Stop after receiving this many messages.
    #[arg(long)]
    pub count: Option<u64>,
    /// Exit with status 1 if fewer distinct talkers were heard when stopping on count/duration.
    #[arg(long)]
    pub expect_talkers: Option<u32>,
    /// Also write every record to this CSV file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    #[command(flatten)]
    pub qos: QosArgs,
    /// Transport implementation.
    #[arg(long, value_enum, default_value_t = TransportArg::Rustdds)]
    pub transport: TransportArg,
}

impl Args {
    pub fn into_config(self) -> anyhow::Result<Config> {
        Ok(Config {
            id: self.id.unwrap_or_else(chatter_transport::hostname),
            topic: self.topic,
            domain: self.domain,
            qos: (&self.qos).into(),
            transport: self.transport.into(),
            duration: self.duration.map(|d| seconds("duration", d)).transpose()?,
            count: self.count,
            expect_talkers: self.expect_talkers,
            csv: self.csv,
        })
    }
}

/// Entry point of the binary: 0 on a clean stop, 1 when expected talkers were missing, 2 when
/// the listener could not run.
pub fn main() -> std::process::ExitCode {
    main_from(std::env::args_os())
}

/// [`main`] with explicit arguments (the first is the program name), so another binary can
/// embed this node.
pub fn main_from<I: IntoIterator<Item = T>, T: Into<std::ffi::OsString> + Clone>(argv: I) -> std::process::ExitCode {
    chatter_transport::cli::node_main(
        "listener",
        argv,
        Args::into_config,
        |config, shutdown| async move {
            crate::run(&config, std::io::stdout().lock(), shutdown).await?;
            Ok(())
        },
        |e| match e.downcast_ref::<ListenerError>() {
            Some(ListenerError::MissingTalkers { .. }) => 1,
            _ => 2,
        },
    )
}
