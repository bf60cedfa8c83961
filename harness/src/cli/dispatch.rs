//! The entry point: parse the command line, set up logging, hand each command to its function
//! and turn its result into the exit code.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use super::args::{Cli, Command, KubeAction, NetnsAction, NodeRole};
use super::commands;
use super::exit;
use crate::runner;

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

/// Log lines to stderr (`RUST_LOG`, by default warnings only), around the progress bar.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,node=error"));
    // Log lines around the progress bar, never through it.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| runner::LogWriter).try_init();
}

/// Shows a command's failure on stderr; returns its exit code.
fn fail(code: u8, e: impl std::fmt::Display) -> u8 {
    eprintln!("harness: error: {e}");
    code
}

/// Runs `command`; returns its exit code.
fn dispatch(command: Command) -> u8 {
    let result = match command {
        Command::Validate { scenario } => commands::validate(&scenario),
        Command::Report { dir } => commands::report_dir(&dir),
        Command::Render { scenario, out, pin, images } => commands::render(&scenario, out, pin, &images),
        Command::Kube { action: KubeAction::Cleanup { run, namespace, cluster } } => {
            commands::kube_cleanup(run.as_deref(), namespace.as_deref(), &cluster)
        }
        Command::Netns { action: NetnsAction::Cleanup { run, all } } => {
            Ok(commands::netns_cleanup(run.as_deref(), all))
        }
        Command::Run(args) => commands::run(args),
        Command::Matrix(args) => commands::matrix(args),
        Command::Sweep(args) => commands::sweep(args),
        Command::Lint { paths, format, min_severity } => commands::lint(&paths, format, min_severity),
        Command::Doctor { scenario, backend, count, out, arm64, cluster, images } => {
            commands::doctor(&scenario, backend, count, &out, &arm64, (&cluster, &images))
        }
        Command::Node { .. } => Ok(exit::USAGE),
    };
    result.unwrap_or_else(|f| fail(f.code, f.message))
}
