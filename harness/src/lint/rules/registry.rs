//! The registry: every lint rule, in the order the engine runs them. Adding a rule is one
//! line here (and its file, declared in `rules/mod.rs`).

use super::*;
use crate::lint::rule::Rule;

/// Every rule, in the order the engine runs them: the per-workload ones on each workload in
/// turn, then the ones across workloads.
pub(in crate::lint) const RULES: &[Rule] = &[
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
    Rule::AcrossWorkloads(static_peers_beyond_range::check),
    Rule::AcrossWorkloads(duplicate_node_name::check),
    Rule::AcrossWorkloads(localhost_between_pods::check),
    Rule::AcrossWorkloads(zenoh_bridge_dds_also_crosses::check),
    Rule::AcrossWorkloads(zenoh_bridge_unconnected::check),
];
