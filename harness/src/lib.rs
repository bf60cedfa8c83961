//! chatter-harness: scenario → placement → backend trials → records → analysis → reports.
//!
//! Data flows one way: [`spec`] loads a [`spec::Scenario`]; [`placement`] (pure) turns it into
//! a [`placement::Plan`]; a [`backend`] runs the plan's trials and forwards every line the
//! nodes print; [`runner`] parses, stores ([`results`]) and analyses ([`analysis`], pure and
//! streaming) them; [`diagnosis`] explains every failure; [`summary`] gives the verdict (placement
//! aware) and the [`summary::RunReport`] that [`report`] renders. [`timing`] holds the timing
//! policy.

pub mod analysis;
pub mod backend;
pub mod cli;
pub mod dds_xml;
pub mod demo;
pub mod diagnosis;
pub mod doctor;
pub mod hosts;
pub mod lint;
pub mod matrix;
pub mod placement;
pub mod report;
pub mod results;
pub mod ros;
pub mod runner;
pub mod summary;
pub mod sweep;
pub mod timing;

/// The scenario model and its parser (the `chatter-scenario` crate).
pub use chatter_scenario::{spec, yaml};
