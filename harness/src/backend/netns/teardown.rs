//! Tearing a run's simulated cluster down: every process in its namespaces stopped, then its
//! /dev/shm directories and its namespaces removed.

use std::time::Duration;

use super::commands::{list_namespaces, run};
use super::registry::unregister;
use super::shm::remove_shm_dirs;
use super::topology::PREFIX;

/// The processes inside namespace `ns`.
fn pids_in(ns: &str) -> Vec<i32> {
    std::process::Command::new("ip")
        .args(["netns", "pids", ns])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().filter_map(|p| p.parse().ok()).collect())
        .unwrap_or_default()
}

/// Stops every process in the namespaces (SIGTERM, then SIGKILL after 2 s) and waits until they
/// are gone, then removes their /dev/shm directories and deletes the namespaces. Returns the
/// namespaces it removed.
pub fn remove_namespaces(prefix: &str) -> Vec<String> {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let names = list_namespaces(prefix);
    let pids: Vec<i32> = names.iter().flat_map(|ns| pids_in(ns)).collect();
    // Running: it exists and is not a zombie (a zombie has exited; its parent, or init for an
    // orphan of a killed harness, reaps it).
    let running = |p: i32| {
        kill(Pid::from_raw(p), None).is_ok()
            && std::fs::read_to_string(format!("/proc/{p}/stat"))
                .is_ok_and(|st| st.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
    };
    let alive = |pids: &[i32]| pids.iter().copied().filter(|p| running(*p)).collect::<Vec<_>>();
    for p in &pids {
        let _ = kill(Pid::from_raw(*p), Signal::SIGTERM);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let mut left = alive(&pids);
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20)); // polling another process's exit: no event to wait on
        left = alive(&pids);
    }
    for p in &left {
        let _ = kill(Pid::from_raw(*p), Signal::SIGKILL);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !alive(&left).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The directories before the namespaces: a run is found by its namespaces, so none of its
    // directories can outlive them unseen (and `runs` looks for directories too).
    remove_shm_dirs(prefix);
    // Pods first, then nodes, then the underlay: veths go with their namespaces. One `ip`
    // for all (`-force`: a namespace that is already gone does not stop the others).
    let script: String = names.iter().rev().map(|ns| format!("netns del {ns}\n")).collect();
    if !names.is_empty() {
        let _ = run("ip", &["-force".into(), "-batch".into(), "-".into()], Some(&script));
    }
    names
}

/// Removes one run's namespaces (see [`remove_namespaces`]) and its registration.
pub fn remove_run(tag: &str) -> Vec<String> {
    let removed = remove_namespaces(&format!("{PREFIX}{tag}-"));
    unregister(tag);
    removed
}
