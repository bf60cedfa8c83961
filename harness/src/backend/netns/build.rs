//! Building a simulated cluster ([`build_topology`]): its namespaces, links and routes, its
//! /dev/shm directories, each node's forwarding and nftables rules (with its loss faults) and
//! its delay faults.

use super::commands::{run, setup_err};
use super::shm::{make_shm_dirs, shm_base};
use super::topology::{base_ruleset, loss_rules, Topology};
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
    for f in faults {
        if let FaultSpec::Loss { node, .. } | FaultSpec::Delay { node, .. } = f {
            if topo.node_index(node).is_none() {
                return Err(setup_err("fault", format!("unknown node {node}")));
            }
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
    for i in 0..topo.nodes.len() {
        let ns = topo.node_ns(i);
        // Forwarding on, then the base table and this node's loss rules in one `nft -f`.
        let mut rules = base_ruleset();
        for f in faults {
            if let FaultSpec::Loss { node, percent } = f {
                if topo.node_index(node) == Some(i) {
                    rules.push_str(&loss_rules(percent.0));
                }
            }
        }
        let script = "sysctl -qw net.ipv4.ip_forward=1 && nft -f -";
        run("ip", &["netns".into(), "exec".into(), ns, "sh".into(), "-c".into(), script.into()], Some(&rules))?;
    }
    for f in faults {
        if let FaultSpec::Delay { node, ms, jitter_ms } = f {
            let ns = topo.node_index(node).map(|i| topo.node_ns(i)).unwrap_or_default();
            let mut args: Vec<String> = format!("-n {ns} qdisc add dev eth0 root netem delay {}ms", ms.0)
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            if let Some(j) = jitter_ms {
                args.push(format!("{}ms", j.0));
            }
            run("tc", &args, None)?;
        }
    }
    Ok(())
}
