//! Running this machine's networking commands (`ip`, `nft`, `tc`) for the simulated cluster:
//! blocking, so async code calls them through [`off_runtime`]; a failed command's stderr
//! becomes the error.

use super::topology::PREFIX;
use crate::backend::BackendError;

pub(super) fn setup_err(cmd: &str, detail: impl Into<String>) -> BackendError {
    BackendError::Setup { command: cmd.to_owned(), detail: detail.into() }
}

/// Runs a command to completion; its stderr becomes the error.
pub(super) fn run(program: &str, args: &[String], stdin: Option<&str>) -> Result<(), BackendError> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let line = format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| setup_err(&line, e.to_string()))?;
    if let (Some(text), Some(mut w)) = (stdin, child.stdin.take()) {
        w.write_all(text.as_bytes()).map_err(|e| setup_err(&line, e.to_string()))?;
    }
    let out = child.wait_with_output().map_err(|e| setup_err(&line, e.to_string()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(setup_err(&line, String::from_utf8_lossy(&out.stderr).trim().to_owned()))
    }
}

pub(super) fn nft(ns: &str, script: &str) -> Result<(), BackendError> {
    run("ip", &["netns".into(), "exec".into(), ns.into(), "nft".into(), "-f".into(), "-".into()], Some(script))
}

/// Whether this kernel has `tc netem` (tried in a scratch namespace).
pub fn has_netem() -> bool {
    let ns = format!("{PREFIX}probe-{}", std::process::id());
    let s = |a: &str| a.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let ok = run("ip", &s(&format!("netns add {ns}")), None).is_ok()
        && run("ip", &s(&format!("-n {ns} link add d0 type dummy")), None).is_ok()
        && run("tc", &s(&format!("-n {ns} qdisc add dev d0 root netem delay 1ms")), None).is_ok();
    let _ = run("ip", &s(&format!("netns del {ns}")), None);
    ok
}

/// Names of existing network namespaces starting with `prefix`.
pub fn list_namespaces(prefix: &str) -> Vec<String> {
    let out = std::process::Command::new("ip").args(["netns", "list"]).output();
    out.map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| n.starts_with(prefix))
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// Runs blocking work (forked commands, waiting for other processes to exit) on tokio's
/// blocking pool, so the runtime's workers keep reading node output and timing the trial.
pub async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
