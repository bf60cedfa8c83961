//! chatter-zenoh-bridge: see `chatter_bridge` (lib.rs) and bridge/README.md.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    // Logs on stderr (RUST_LOG, default info): stdout carries only the ready line.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cfg = chatter_bridge::config::BridgeConfig::from(chatter_bridge::cli::Args::parse());
    match chatter_bridge::run::serve(&cfg).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chatter-zenoh-bridge: {e}");
            ExitCode::from(2)
        }
    }
}
