//! Backends execute a [`Plan`](crate::placement::Plan); they decide nothing about placement or
//! analysis. Each trial starts every container fresh, forwards every stdout line it prints, and
//! stops it cleanly.

mod api;
mod command;
pub mod drive;
mod error;
mod exit;
pub mod kube;
mod line;
pub mod local;
pub mod netns;
pub mod participants;
pub mod process;
pub mod traffic;
mod trial;

pub use api::Backend;
pub use command::{check_commands, program, NodeCommand, AARCH64_SYSROOT};
pub use error::BackendError;
pub use exit::ContainerExit;
pub use line::{lossy_line, Lifecycle, Line};
pub use participants::{Participant, ParticipantId};
pub use traffic::{Counted, IpCounters, KernelCounters, LinkOffered, NodeTraffic, UdpCounters};
pub use trial::{TrialFacts, TrialMeta, TrialStart};
