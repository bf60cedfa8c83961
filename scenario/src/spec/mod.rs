//! Scenario files: the serde model of an experiment, loaded strictly (unknown fields and
//! duplicate keys are errors; serde-saphyr, the maintained YAML deserializer kube already
//! brings, in place of the deprecated serde_yaml) and then validated against real ranges. Every
//! error names `file:line:col` of the offending value and its field path, both from the YAML
//! parser's own positions ([`crate::yaml`]).
//!
//! Field names follow Kubernetes (`nodeSelector`, `hostNetwork`) so a scenario reads like the
//! pods it describes.
//!
//! The model has one file per section of a scenario (`scenario`, `nodes`, `pods`, `trials`,
//! `dds`, `faults`, `expect`, a pod's `sysctls`, with the range-checked `numbers` they share); `parse` reads a
//! file, `recovery` lets it report every error at once, `error` says where each is, and
//! `validate` checks what the types cannot.

mod dds;
mod error;
mod expand;
mod expect;
mod faults;
mod nodes;
mod numbers;
mod parse;
mod pods;
mod recovery;
mod scenario;
mod sysctls;
mod trials;
mod validate;

pub use dds::{DdsSpec, Rmw, Transport};
pub use error::{Location, SpecError};
pub use expand::{expanded_names, MAX_NODE_COUNT, MAX_PROCESSES, MAX_REPLICAS};
pub use expect::ExpectSpec;
pub use faults::{Direction, FaultNumber, FaultSpec};
pub use nodes::{NodeSpec, Taint, Toleration, TolerationOperator};
pub use numbers::{Fraction, NonNegativeF64, PositiveF64};
pub use parse::{load, locate, parse, MAX_SCENARIO_BYTES};
pub use pods::{ContainerRole, ContainerSpec, MessageType, Output, PodSpec};
pub use scenario::{NetworkSpec, Scenario, DEFAULT_POD_MTU, MIN_MTU, UNDERLAY_MTU};
pub use sysctls::{
    write_order as sysctl_write_order, IPFRAG_HIGH_THRESH, IPFRAG_LOW_THRESH, IPFRAG_MAX_DIST, IPFRAG_TIME,
};
pub use trials::{TrialSpec, Until};
pub use validate::{validate, violations, Violation, MAX_DOMAIN};
