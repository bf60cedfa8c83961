//! The run registry: every netns run (and doctor) registers its tag while it runs, so that
//! `harness netns cleanup` can tell a crashed run's leftovers ([`runs`]) from a run still going
//! on beside it.

use super::commands::{list_namespaces, setup_err};
use super::shm::list_shm_dirs;
use super::topology::PREFIX;
use crate::backend::BackendError;

/// Where every netns run (and doctor) registers itself while it runs: a file per tag holding
/// the harness's pid and the run id, so `harness netns cleanup` can tell a crashed run's
/// leftovers from a run still going on beside it.
pub const REGISTRY: &str = "/run/chatter-harness";

pub(super) fn register(tag: &str, run_id: &str) -> Result<(), BackendError> {
    let dir = std::path::Path::new(REGISTRY);
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join(tag), format!("{} {run_id}\n", std::process::id())))
        .map_err(|e| setup_err("register the run", format!("{REGISTRY}/{tag}: {e}")))
}

pub(super) fn unregister(tag: &str) {
    let _ = std::fs::remove_file(std::path::Path::new(REGISTRY).join(tag));
}

/// One run's namespaces (and /dev/shm directories, removed with them), and whether the harness
/// that made them is still running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub tag: String,
    pub run_id: Option<String>,
    pub pid: Option<u32>,
    /// Its harness process is still running: not a leftover (yet).
    pub alive: bool,
    pub namespaces: Vec<String>,
}

/// Whether `pid` is a running harness.
fn harness_alive(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| String::from_utf8_lossy(&c).split('\0').next().is_some_and(|exe| exe.contains("harness")))
}

/// Every tag's namespaces, with its registration.
pub fn runs() -> Vec<Leftover> {
    let mut by_tag: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let tag_of = |name: &str| name.trim_start_matches(PREFIX).split('-').next().unwrap_or("").to_owned();
    for ns in list_namespaces(PREFIX) {
        by_tag.entry(tag_of(&ns)).or_default().push(ns);
    }
    // A run that left directories without namespaces is a leftover too.
    for dir in list_shm_dirs(PREFIX) {
        by_tag.entry(tag_of(&dir.file_name().unwrap_or_default().to_string_lossy())).or_default();
    }
    by_tag
        .into_iter()
        .map(|(tag, namespaces)| {
            let reg = std::fs::read_to_string(std::path::Path::new(REGISTRY).join(&tag)).ok();
            let mut parts = reg.as_deref().unwrap_or("").split_whitespace();
            let pid = parts.next().and_then(|p| p.parse().ok());
            let run_id = parts.next().map(str::to_owned);
            Leftover { alive: pid.is_some_and(harness_alive), tag, run_id, pid, namespaces }
        })
        .collect()
}
