//! The rules, one file each, and the registry (`registry.rs`) that lists them in the order
//! they run.
//!
//! To add a rule: write `rules/<rule_name>.rs` with a `//!` line saying what it flags, its
//! `pub(super) fn check` (one of the three shapes of `Rule`: a workload alone, a workload in
//! its set, or the set's workloads compared), the facts and constants only it uses, and its
//! tests (one manifest that fires it, one that does not); add `mod <rule_name>;` below and one
//! `Rule::…(<rule_name>::check)` line to `RULES` in `registry.rs`. Findings are sorted by
//! file, line and rule afterwards; the registry's order settles findings of one rule on one
//! line.

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
mod registry;
mod ros_domain_mismatch;
mod ros_localhost_only;
mod runtime_package_install;
mod shell_operator_without_shell;
mod static_peers_beyond_range;
mod zenoh_bridge_dds_also_crosses;
mod zenoh_bridge_unconnected;

pub(super) use registry::RULES;
