//! Building a simulated cluster ([`build_topology`]): its namespaces, links and routes, its
//! /dev/shm directories, the pods' sysctls, each node's forwarding and nftables rules, and what the scenario's
//! faults put in place for the whole run (see [`faults`](super::faults)).

use super::commands::{run, setup_err};
use super::faults::netns_faults;
use super::shm::{make_shm_dirs, shm_base};
use super::topology::{base_ruleset, Topology};
use crate::backend::BackendError;
use crate::spec::FaultSpec;

/// How [`build_topology`] runs its `ip` commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildMode {
    /// One `ip -batch` process per run of commands for one namespace (the default).
    Batched,
    /// One `ip` process per command (what the backend did before batching; kept for the
    /// topology benchmark's side-by-side figures).
    PerCommand,
}

/// Creates the namespaces, links, routes and fault rules of `topo`, and its /dev/shm
/// directories. Blocking (it forks `ip`, `sysctl`, `nft` and waits for them): async code calls
/// it through [`off_runtime`](super::off_runtime).
pub fn build_topology(topo: &Topology, faults: &[FaultSpec], mode: BuildMode) -> Result<(), BackendError> {
    let faults = netns_faults(faults);
    for node in faults.iter().flat_map(|f| f.nodes()) {
        if topo.node_index(node).is_none() {
            return Err(setup_err("fault", format!("unknown node {node}")));
        }
    }
    match mode {
        BuildMode::Batched => {
            for (ns, lines) in topo.batches() {
                let mut args: Vec<String> = ns.map(|n| vec!["-n".to_owned(), n]).unwrap_or_default();
                args.extend(["-batch".to_owned(), "-".to_owned()]);
                run("ip", &args, Some(&(lines.join("\n") + "\n")))?;
            }
        }
        BuildMode::PerCommand => {
            for cmd in topo.build_commands() {
                run("ip", &cmd, None)?;
            }
        }
    }
    // After the namespaces, which are how a run's leftovers are found.
    make_shm_dirs(&topo.shm_dirs(shm_base()?), false)?;
    // Before any container starts, as the kubelet sets them in the pod sandbox.
    super::sysctls::apply(topo)?;
    for i in 0..topo.nodes.len() {
        let ns = topo.node_ns(i);
        // Forwarding on, then the base table and this node's fault rules in one `nft -f`.
        let mut rules = base_ruleset();
        for f in &faults {
            rules.push_str(&f.node_rules(topo, i));
        }
        let script = "sysctl -qw net.ipv4.ip_forward=1 && nft -f -";
        run("ip", &["netns".into(), "exec".into(), ns, "sh".into(), "-c".into(), script.into()], Some(&rules))?;
    }
    super::traffic::install(topo)?;
    super::kernel::install(topo)?;
    faults.iter().try_for_each(|f| f.link_setup(topo))
}
