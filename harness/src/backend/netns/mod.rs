//! The `netns` backend: a simulated k3s + flannel cluster on this machine (see [`topology`]).
//! Requires root. Everything it creates is named `chh-<tag>-…` and removed at the end, after an
//! error and on Ctrl-C or SIGTERM; each run registers its tag under [`REGISTRY`] so that
//! `harness netns cleanup` removes only the leftovers of runs whose harness is gone. So are the
//! pods' /dev/shm directories (`<base>/chh-<tag>-…` on a tmpfs, see [`topology`]), which every
//! container has bind-mounted on /dev/shm in a mount namespace of its own.
//!
//! Faults ([`faults`], one file per kind): frame loss through nftables `netdev` hooks on the
//! links, partitions through nftables in the node namespaces, bandwidth caps through `tc tbf`;
//! delay through `tc netem` when the kernel has it (refused before the run
//! otherwise, never skipped); kills through the trial driver. Nodes labelled `kubernetes.io/arch: arm64` run aarch64 builds
//! under qemu-user on an amd64 machine.

mod arm64;
mod backend;
mod build;
mod burst;
mod commands;
mod doctor;
mod faults;
mod kernel;
mod registry;
mod shm;
mod sysctls;
mod teardown;
pub mod topology;
mod traffic;
mod trial;

pub use arm64::Arm64;
pub use backend::NetnsBackend;
pub use build::{build_topology, BuildMode};
pub use commands::{has_netem, list_namespaces, off_runtime};
pub use registry::{runs, Leftover, REGISTRY};
pub use shm::list_shm_dirs;
pub use teardown::{remove_namespaces, remove_run};
