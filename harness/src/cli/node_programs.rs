//! The programs a run's containers run: this binary's built-in nodes, their aarch64 builds for
//! arm64 nodes, and the real ROS 2 installation for stock nodes.

use std::path::PathBuf;

use super::args::{Arm64Args, BackendArg, RosArgs};
use super::outcome::Failure;
use crate::backend::netns::Arm64;
use crate::backend::NodeCommand;
use crate::spec;

impl RosArgs {
    /// For a scenario with stock Fast DDS containers, the installation that runs them (each
    /// gets the rclpy demo node of its role as its stand-in); `None` when there are none.
    pub(super) fn apply(&self, s: &mut spec::Scenario) -> Result<Option<crate::ros::RosVersions>, Failure> {
        Ok(self.apply_stack(s)?.map(|stack| stack.versions))
    }

    /// [`RosArgs::apply`], returning the installation itself.
    pub(super) fn apply_stack(&self, s: &mut spec::Scenario) -> Result<Option<crate::ros::RosStack>, Failure> {
        if !crate::ros::needs_wheels(s) {
            return Ok(None);
        }
        let stack = crate::ros::RosStack::find(self.ros_distro.into(), self.ros_venv.as_deref())
            .map_err(|e| Failure::backend(e.to_string()))?;
        crate::ros::run_stock_nodes_on(s, &stack).map_err(|e| Failure::backend(e.to_string()))?;
        Ok(Some(stack))
    }
}

impl Arm64Args {
    pub(super) fn resolve(&self, exe: &std::path::Path) -> Arm64 {
        match (&self.arm64_bin_dir, self.arm64_as_amd64) {
            (_, true) => Arm64::Native,
            (Some(dir), false) => Arm64::Emulate { bin_dir: dir.clone() },
            // Without an explicit directory: emulate when the cross build is there.
            (None, false) => Arm64::Prefer { bin_dir: default_arm64_dir(exe) },
        }
    }
}

/// This binary, which embeds the nodes (`harness node talker …`).
pub(super) fn this_exe() -> Result<PathBuf, Failure> {
    std::env::current_exe().map_err(|e| Failure::backend(format!("cannot locate this binary: {e}")))
}

/// `target/<profile>/harness` → `target/aarch64-unknown-linux-gnu/<profile>`.
fn default_arm64_dir(exe: &std::path::Path) -> PathBuf {
    let profile_dir = exe.parent().unwrap_or(exe);
    let profile = profile_dir.file_name().map(PathBuf::from).unwrap_or_else(|| "release".into());
    profile_dir.parent().unwrap_or(profile_dir).join("aarch64-unknown-linux-gnu").join(profile)
}

/// What a run's containers run: the node programs, how arm64 nodes run them, and the real ROS 2
/// recorded with the run.
pub(super) struct Programs {
    pub(super) nodes: NodeCommand,
    pub(super) arm64: Arm64,
    pub(super) ros: Option<crate::ros::RosVersions>,
}

/// The programs of `harness run`: `--node-bin-dir`'s, our r2r nodes on the wheels for
/// `transport: ros` off a cluster, else this binary's built-in nodes. `ros_versions` is the
/// installation that runs the stock nodes, if any.
pub(super) fn run_programs(
    s: &spec::Scenario,
    backend: BackendArg,
    node_bin_dir: Option<PathBuf>,
    arm64: &Arm64Args,
    ros: &RosArgs,
    ros_versions: Option<crate::ros::RosVersions>,
) -> Result<Programs, Failure> {
    let exe = this_exe()?;
    let mut arm64 = arm64.resolve(&exe);
    let mut ros_versions = ros_versions;
    let nodes = match node_bin_dir {
        Some(dir) => NodeCommand::BinDir(dir),
        // `transport: ros` here: our r2r nodes on the wheels (scripts/build-ros.sh), amd64 on
        // every node (there are no aarch64 wheels).
        None if s.dds.transport == spec::Transport::Ros && backend != BackendArg::Kube => {
            let distro = ros.ros_distro.into();
            let dir = crate::ros::r2r_bin_dir(distro).map_err(|e| Failure::backend(e.to_string()))?;
            if ros_versions.is_none() {
                let stack = crate::ros::RosStack::find(distro, ros.ros_venv.as_deref())
                    .map_err(|e| Failure::backend(e.to_string()))?;
                ros_versions = Some(stack.versions);
            }
            arm64 = Arm64::Native;
            NodeCommand::BinDir(dir)
        }
        None => NodeCommand::SelfExe(exe),
    };
    Ok(Programs { nodes, arm64, ros: ros_versions })
}
