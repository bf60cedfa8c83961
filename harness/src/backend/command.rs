//! What runs a container on this machine: the harness's node binaries ([`NodeCommand`]), or your
//! own program; and the check that every container of a plan has one.

use std::path::PathBuf;

use super::BackendError;
use crate::placement::Plan;

/// How a backend runs node processes: which program, with which leading arguments, for a role
/// (`talker`/`listener`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeCommand {
    /// This harness binary's hidden `node` subcommand (`harness node talker …`).
    SelfExe(PathBuf),
    /// Separate `talker` and `listener` binaries in a directory.
    BinDir(PathBuf),
}

impl NodeCommand {
    /// Program and leading arguments for `binary` (`talker` or `listener`).
    pub fn resolve(&self, binary: &str) -> Result<(PathBuf, Vec<String>), BackendError> {
        match self {
            NodeCommand::SelfExe(exe) => Ok((exe.clone(), vec!["node".into(), binary.into()])),
            NodeCommand::BinDir(dir) => {
                let path = dir.join(binary);
                if path.is_file() {
                    Ok((path, Vec::new()))
                } else {
                    Err(BackendError::MissingBinary(path))
                }
            }
        }
    }
}

/// Appends to `cmd` (a wrapper such as `nsenter … --`) what runs container `c`: your own
/// `command` + `args` with its environment, or the harness's node (under qemu-aarch64 from
/// `arm64_bin_dir` when given).
pub fn program(
    cmd: &mut tokio::process::Command,
    nodes: &NodeCommand,
    pod: &crate::placement::PlacedPod,
    c: &crate::placement::PlannedContainer,
    arm64_bin_dir: Option<&std::path::Path>,
) -> Result<(), BackendError> {
    cmd.env("POD_NAME", &pod.name).envs(&c.env);
    if let Some(stand_in) = &c.stand_in {
        cmd.args(stand_in);
        return Ok(());
    }
    if let Some(command) = &c.command {
        cmd.args(command).args(&c.args);
        return Ok(());
    }
    match arm64_bin_dir {
        Some(dir) => {
            cmd.arg("qemu-aarch64").args(["-L", AARCH64_SYSROOT]).arg(dir.join(c.binary()));
        }
        None => {
            let (program, lead) = nodes.resolve(c.binary())?;
            cmd.arg(program).args(lead);
        }
    }
    cmd.args(&c.args);
    Ok(())
}

/// Sysroot of Debian's aarch64 cross libc, for qemu's dynamic loader.
pub const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// On this machine a container runs a program, not an image: one that names only an image
/// cannot run here.
pub fn check_commands(plan: &Plan) -> Result<(), BackendError> {
    match plan.containers().find(|(_, c)| c.image.is_some() && c.command.is_none() && c.stand_in.is_none()) {
        Some((p, c)) => Err(BackendError::Unsupported(format!(
            "container {}/{} names an image but no command: on this machine the harness runs programs, not \
             images; give it `standIn:` (e.g. tests/peers/demo_nodes.py for the stock demo nodes) or `command:` or use --backend kube",
            p.name, c.name
        ))),
        None => Ok(()),
    }
}
