//! How arm64 nodes run on a machine of another architecture ([`Arm64`]): aarch64 builds under
//! qemu-user when they can run here, or this machine's build.

use std::path::{Path, PathBuf};

use crate::backend::BackendError;
use crate::placement::{Plan, ARCH_LABEL};

/// How arm64 nodes run on a machine of another architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arm64 {
    /// aarch64 `talker`/`listener` from `bin_dir`, under `qemu-aarch64`.
    Emulate { bin_dir: PathBuf },
    /// The native build, knowingly (`--arm64-as-amd64`).
    Native,
    /// aarch64 builds from `bin_dir` under qemu when both are there; otherwise the native build,
    /// and the report says why (the default: a fresh clone runs before any cross build).
    Prefer { bin_dir: PathBuf },
}

/// Lowest qemu-user that handles DDS (7.2 fails `IP_MULTICAST_IF` with ENOPROTOOPT).
const MIN_QEMU: u32 = 8;

fn qemu_major() -> Option<u32> {
    let out = std::process::Command::new("qemu-aarch64").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("version ").nth(1)?.split('.').next()?.trim().parse().ok()
}

/// Why the aarch64 `binaries` in `bin_dir` cannot run here under qemu-user, or `None` when they
/// can.
fn cannot_emulate(bin_dir: &Path, binaries: &[&str]) -> Option<String> {
    if let Some(b) = binaries.iter().find(|b| !bin_dir.join(b).is_file()) {
        return Some(format!("no aarch64 build at {} (bash scripts/build-arm64.sh)", bin_dir.join(b).display()));
    }
    match qemu_major() {
        Some(v) if v >= MIN_QEMU => None,
        found => Some(format!(
            "qemu-aarch64 ≥ {MIN_QEMU} is needed (older versions fail IP_MULTICAST_IF), found {}; scripts/setup.sh \
             installs qemu-user from bookworm-backports",
            found.map_or("none".into(), |v| v.to_string())
        )),
    }
}

/// Whether `node` of `plan` is labelled `kubernetes.io/arch: arm64`.
pub(super) fn is_arm64(plan: &Plan, node: &str) -> bool {
    plan.nodes.iter().any(|n| n.name == node && n.labels.get(ARCH_LABEL).map(String::as_str) == Some("arm64"))
}

impl Arm64 {
    /// Settles how arm64 nodes that run `binaries` (ours) run them, on a machine that is not
    /// arm64: [`Arm64::Prefer`] becomes emulation when it can run here, else the native build
    /// — returning the reason, for the report; [`Arm64::Emulate`] that cannot run is an error.
    pub(super) fn settle(&mut self, binaries: &[&str]) -> Result<Option<String>, BackendError> {
        match self {
            Arm64::Native => {}
            Arm64::Emulate { bin_dir } => {
                if let Some(why) = cannot_emulate(bin_dir, binaries) {
                    return Err(BackendError::Unsupported(format!(
                        "arm64 nodes run aarch64 builds under qemu-user: {why}; or pass --arm64-as-amd64 to run this \
                         machine's build on them"
                    )));
                }
            }
            Arm64::Prefer { bin_dir } => match cannot_emulate(bin_dir, binaries) {
                None => *self = Arm64::Emulate { bin_dir: bin_dir.clone() },
                Some(why) => {
                    tracing::warn!("arm64 nodes run this machine's build: {why}");
                    *self = Arm64::Native;
                    return Ok(Some(why));
                }
            },
        }
        Ok(None)
    }
}
