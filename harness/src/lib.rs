//! chatter-harness: scenario → placement → backend trials → records → analysis → reports.
//!
//! Data flows one way: [`spec`] loads a [`spec::Scenario`]; [`placement`] (pure) turns it into
//! a [`placement::Plan`]; a [`backend`] runs the plan's trials and forwards every line the
//! nodes print; [`runner`] parses, stores ([`results`]) and analyses ([`analysis`], pure and
//! streaming) them; [`report`] renders the [`analysis::RunReport`]; [`diagnosis`] explains
//! failed pairs.

pub mod analysis;
pub mod backend;
pub mod cli;
pub mod diagnosis;
pub mod placement;
pub mod report;
pub mod results;
pub mod runner;
pub mod spec;
