//! Which backend a command runs on (entering a user namespace for the simulated cluster when
//! not root), and how many trials run on it at once.

use super::args::{BackendArg, ParallelArgs};
use super::outcome::Failure;
use crate::spec;

static IN_USER_NAMESPACE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// This process entered a user namespace of its own (see [`resolve_backend`]).
pub(super) fn in_user_namespace() -> bool {
    IN_USER_NAMESPACE.load(std::sync::atomic::Ordering::SeqCst)
}

/// The backend to use for `requested`: `auto` and `netns` need network namespaces — as root,
/// or (not root) in a user namespace this process enters now, before any thread starts;
/// `auto` falls back to local with a note when neither is possible.
pub(super) fn resolve_backend(requested: BackendArg) -> Result<BackendArg, Failure> {
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

impl ParallelArgs {
    /// How many trials run at once on `backend`: `--parallel` where the backend can (netns:
    /// each trial in a simulated cluster of its own), by default twice the CPUs (a trial mostly
    /// waits: its nodes publish at a few Hz), at most 8; always 1 on local and kube.
    pub(super) fn resolve(&self, backend: BackendArg) -> Result<usize, Failure> {
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
    pub(super) fn for_scenario(&self, resolved: usize, s: &spec::Scenario) -> usize {
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
