//! The command line (the only module that knows about clap) and the mapping of outcomes to
//! exit codes.

mod args;
mod backend_choice;
mod cluster;
mod commands;
mod dispatch;
pub mod exit;
mod node_programs;
mod outcome;
mod scenario;
mod signals;

pub use args::{
    Arm64Args, BackendArg, Cli, ClusterArgs, Command, DistroArg, ImageArgs, KubeAction, KubeArgs, LintFormat,
    MatrixArgs, NetnsAction, NodeRole, ParallelArgs, RosArgs, RunArgs, Sizes, SweepArgs,
};
pub use cluster::{kubeconfig_source, KubeconfigSource, K3S_KUBECONFIG};
pub use dispatch::main;
pub use outcome::Failure;
