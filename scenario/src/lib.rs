//! Scenario files for chatter-harness: [`spec`] is the serde model of an experiment, parsed
//! strictly and validated, every error at `file:line:col` with its field path; [`yaml`] finds
//! those positions from the YAML parser's events. Kept apart from the harness (no async, no
//! DDS, no Kubernetes) so the parser can be fuzzed and reused on its own.

pub mod spec;
pub mod yaml;
