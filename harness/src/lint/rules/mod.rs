//! The rules, one file each, and the registry that lists them in the order they run.
//!
//! To add a rule: write `rules/<rule_name>.rs` with a `//!` line saying what it flags, its
//! `pub(super) fn check` (one of the three shapes of `Rule`: a workload alone, a workload in
//! its set, or the set's workloads compared), the facts and constants only it uses, and its
//! tests (one manifest that fires it, one that does not); add `mod <rule_name>;` below and one
//! `Rule::…(<rule_name>::check)` line to `RULES`. Findings are sorted by file, line and rule
//! afterwards; the order here settles findings of one rule on one line.

mod arch_image_without_selector;
mod discovery_server_single;
mod duplicate_node_name;
mod fastdds_host_network_shm;
mod host_network_dns;
mod host_network_port_taken;
mod host_pid_ipc_unneeded;
mod image_pull_always_on_robot;
mod localhost_between_pods;
mod multicast_discovery_across_nodes;
mod python_stdout_buffered;
mod ros_domain_mismatch;
mod ros_localhost_only;
mod runtime_package_install;
mod shell_operator_without_shell;

use crate::lint::rule::Rule;

/// Every rule, in the order the engine runs them: the per-workload ones on each workload in
/// turn, then the ones across workloads.
pub(super) const RULES: &[Rule] = &[
    Rule::PerWorkload(shell_operator_without_shell::check),
    Rule::PerWorkloadInSet(ros_localhost_only::check),
    Rule::PerWorkload(arch_image_without_selector::check),
    Rule::PerWorkloadInSet(host_network_dns::check),
    Rule::PerWorkload(python_stdout_buffered::check),
    Rule::PerWorkload(runtime_package_install::check),
    Rule::PerWorkload(image_pull_always_on_robot::check),
    Rule::PerWorkload(host_pid_ipc_unneeded::check),
    Rule::PerWorkload(host_network_port_taken::check),
    Rule::PerWorkload(discovery_server_single::check),
    Rule::AcrossWorkloads(ros_domain_mismatch::check),
    Rule::AcrossWorkloads(fastdds_host_network_shm::check),
    Rule::AcrossWorkloads(multicast_discovery_across_nodes::check),
    Rule::AcrossWorkloads(duplicate_node_name::check),
    Rule::AcrossWorkloads(localhost_between_pods::check),
];
