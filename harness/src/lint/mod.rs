//! `harness lint`: ROS-on-Kubernetes pitfalls found in manifests before anything runs, each
//! with `file:line`, a severity and a fix. Every file of one invocation is one deployment, so
//! rules that compare workloads (domains, pods that can share a node, localhost links) see
//! them all. Reads Pod, Deployment, DaemonSet, StatefulSet, ReplicaSet, Job and CronJob
//! documents (multi-document YAML, `List`s opened), ConfigMaps for the environment they give
//! and Kustomizations for the image tags they set; other kinds are counted and skipped. Each
//! rule states a fact for the distro and RMW the manifest uses; what the manifest cannot say
//! is a note. Lines come from the YAML parser's own positions (granit-parser, the parser kube's
//! serde-saphyr uses), never from searching the text.

mod container;
mod context;
mod distro;
mod document;
mod engine;
mod env;
mod finding;
mod ip_share;
mod manifest_set;
mod placement;
mod rule;
mod rules;
mod workload;
mod zenoh;

pub use document::{parse_documents, LintInputError, Node, SourceFile};
pub use engine::{lint, lint_set, text, LintReport};
pub use finding::{LintFinding, Severity};
pub use ip_share::{busiest_ip, BusiestIp};

#[cfg(test)]
mod testing;
