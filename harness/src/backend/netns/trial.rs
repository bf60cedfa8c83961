//! What one trial on the simulated cluster needs beyond the trial driver and its faults
//! ([`faults`](super::faults)): fresh /dev/shm directories for its pods, and each container's
//! command inside its pod's namespaces.

use std::path::{Path, PathBuf};

use super::arm64::{is_arm64, Arm64};
use super::commands::{off_runtime, setup_err};
use super::shm::{make_shm_dirs, shm_base};
use super::topology::{container_args, Topology};
use crate::backend::{program, BackendError, NodeCommand};
use crate::placement::{local_arch, PlacedPod, Plan, PlannedContainer};

/// Where the pods' /dev/shm directories go, emptied: a new trial's pods are new sandboxes,
/// their /dev/shm starts empty (a node's does not).
pub(super) async fn fresh_pod_shm(topo: &Topology) -> Result<&'static Path, BackendError> {
    let shm = shm_base()?;
    let fresh = topo.pod_shm_dirs(shm);
    off_runtime(move || make_shm_dirs(&fresh, true)).await?;
    Ok(shm)
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
