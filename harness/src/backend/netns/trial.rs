//! What one trial on the simulated cluster needs beyond the trial driver: fresh /dev/shm
//! directories for its pods, its faults as timed events (partitions on and off, kills), each
//! container's command inside its pod's namespaces, and no partition left after it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::arm64::{is_arm64, Arm64};
use super::commands::{nft, off_runtime, setup_err};
use super::shm::{make_shm_dirs, shm_base};
use super::topology::{container_args, partition_rules, Topology};
use crate::backend::drive::Event;
use crate::backend::{program, BackendError, NodeCommand};
use crate::placement::{local_arch, PlacedPod, Plan, PlannedContainer};
use crate::spec::FaultSpec;

/// Where the pods' /dev/shm directories go, emptied: a new trial's pods are new sandboxes,
/// their /dev/shm starts empty (a node's does not).
pub(super) async fn fresh_pod_shm(topo: &Topology) -> Result<&'static Path, BackendError> {
    let shm = shm_base()?;
    let fresh = topo.pod_shm_dirs(shm);
    off_runtime(move || make_shm_dirs(&fresh, true)).await?;
    Ok(shm)
}

/// The scenario's partitions and kills as events of the trial's timeline; loss and delay
/// are in place for the whole run.
pub(super) fn fault_events(faults: &[FaultSpec]) -> Vec<(Duration, Event)> {
    let mut events = Vec::new();
    for f in faults {
        match f {
            FaultSpec::Partition { between, from_s, to_s } => {
                let pair = format!("{}:{}", between[0], between[1]);
                events.push((Duration::from_secs_f64(from_s.0), Event::Backend(format!("partition-on:{pair}"))));
                events.push((Duration::from_secs_f64(to_s.0), Event::Backend(format!("partition-off:{pair}"))));
            }
            FaultSpec::Kill { pod, container, at_s } => {
                events.push((
                    Duration::from_secs_f64(at_s.0),
                    Event::Kill { pod: pod.clone(), container: container.clone() },
                ));
            }
            FaultSpec::Loss { .. } | FaultSpec::Delay { .. } => {}
        }
    }
    events
}

/// Applies `partition-on:<a>:<b>` or `partition-off:<a>:<b>` between the two nodes, off the
/// runtime.
pub(super) async fn partition_event(topo: Topology, what: String) -> Result<(), BackendError> {
    off_runtime(move || {
        let (action, pair) = what.split_once(':').unwrap_or((&what, ""));
        let (a, b) = pair.split_once(':').unwrap_or(("", ""));
        let (Some(ia), Some(ib)) = (topo.node_index(a), topo.node_index(b)) else {
            return Err(setup_err(&what, "unknown nodes"));
        };
        let on = action == "partition-on";
        nft(&topo.node_ns(ia), &partition_rules(ib, on))?;
        nft(&topo.node_ns(ib), &partition_rules(ia, on))?;
        tracing::info!("{what}");
        Ok(())
    })
    .await
}

/// What runs container `c` of `pod`: in its network namespace, with its pod's /dev/shm; on an
/// arm64 node of another machine our nodes' aarch64 build under qemu when emulated.
pub(super) fn container_command(
    topo: &Topology,
    shm: &Path,
    plan: &Plan,
    nodes: &NodeCommand,
    arm64: &Arm64,
    pod: &PlacedPod,
    c: &PlannedContainer,
) -> Result<tokio::process::Command, BackendError> {
    let missing = |what: &str| setup_err("run", format!("no {what} for pod {}", pod.name));
    let ns = topo.pod_ns(&pod.name).ok_or_else(|| missing("namespace"))?;
    let dir = topo.shm_dir(shm, &pod.name).ok_or_else(|| missing("/dev/shm"))?;
    // In its network namespace, with its pod's /dev/shm; `program` appends what runs.
    let mut cmd = tokio::process::Command::new("nsenter");
    cmd.args(container_args(&ns, &dir));
    let emulate = match arm64 {
        Arm64::Emulate { bin_dir } if is_arm64(plan, &pod.node) && local_arch() != "arm64" && !c.is_custom() => {
            Some(bin_dir)
        }
        _ => None,
    };
    program(&mut cmd, nodes, pod, c, emulate.map(PathBuf::as_path))?;
    Ok(cmd)
}

/// Lifts every partition between the nodes: none outlives its trial.
pub(super) async fn lift_partitions(topo: Topology) -> Result<(), BackendError> {
    off_runtime(move || (0..topo.nodes.len()).try_for_each(|i| nft(&topo.node_ns(i), &partition_rules(0, false)))).await
}
