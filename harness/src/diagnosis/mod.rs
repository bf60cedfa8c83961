//! Diagnosis: for every pair that failed in any way — delivered nothing, lost messages, went
//! silent, lost an end — the likely cause, from the facts the nodes reported and what the
//! scenario set up. Pure; the rules live in [`rules`], each a small function tested on its own.
//!
//! Rules run on every complete trial, not only the first failing one, and on partial pairs as
//! well as silent ones. Findings with one cause are grouped into one [`Finding`] listing the pairs
//! and trials, so a report says each cause once. Where the scenario injected a fault, the
//! finding says whether the symptom matches it (a self-check of the simulator).

mod context;
mod engine;
mod finding;
mod plain_words;
pub mod rules;
mod setting;

pub use crate::hosts::{builtin_transports_include_shm, InitialPeers, ShmEnd};
pub use context::Context;
pub use engine::{diagnose, group};
pub use finding::{FaultCheck, Finding, Severity};
pub use setting::Setting;
