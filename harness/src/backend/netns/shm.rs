//! The pods' /dev/shm directories: made on a tmpfs (mode 1777, as /dev/shm is), found by
//! their run's prefix, and removed with its namespaces.

use std::path::{Path, PathBuf};

use super::commands::setup_err;
use super::topology::{tmpfs_base, SHM_BASES};
use crate::backend::BackendError;

/// Where this run's /dev/shm directories go: the first of [`SHM_BASES`] on a tmpfs here.
pub(super) fn shm_base() -> Result<&'static Path, BackendError> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    tmpfs_base(&mounts).map(Path::new).ok_or_else(|| {
        BackendError::Unsupported(format!(
            "the pods' /dev/shm directories need a tmpfs, and neither of {} is on one",
            SHM_BASES.join(", ")
        ))
    })
}

/// Creates `dirs` (mode 1777, as /dev/shm is), emptied first when `fresh`.
pub(super) fn make_shm_dirs(dirs: &[PathBuf], fresh: bool) -> Result<(), BackendError> {
    use std::os::unix::fs::PermissionsExt;
    for dir in dirs {
        let fail = |e: std::io::Error| setup_err("make a pod's /dev/shm", format!("{}: {e}", dir.display()));
        if fresh {
            match std::fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(fail(e)),
                _ => {}
            }
        }
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777)))
            .map_err(fail)?;
    }
    Ok(())
}

/// The /dev/shm directories whose names start with `prefix`, under every one of [`SHM_BASES`].
pub fn list_shm_dirs(prefix: &str) -> Vec<PathBuf> {
    SHM_BASES
        .iter()
        .filter_map(|base| std::fs::read_dir(base).ok())
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect()
}

/// Removes the /dev/shm directories starting with `prefix` (see [`list_shm_dirs`]), and a base
/// left empty by that.
pub(super) fn remove_shm_dirs(prefix: &str) {
    for dir in list_shm_dirs(prefix) {
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            tracing::warn!("could not remove {}: {e}", dir.display());
        }
    }
    for base in SHM_BASES {
        // Only when empty: another run's directories keep it.
        let _ = std::fs::remove_dir(base);
    }
}
