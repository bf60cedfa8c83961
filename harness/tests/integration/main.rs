//! The harness CLI driven as a user would: real scenarios on the default backend (the simulated
//! cluster, as these tests run as root) or the one a test names, real result files; the kube
//! backend against a mock API server.
#![allow(clippy::unwrap_used)]

mod browser;
mod cli;
mod fastdds;
mod kube;
mod links;
mod malformed;
mod netns;
mod plain;
mod robots;
mod soak;
mod sweep;
mod sysctls;
mod zenoh;

/// Starts `cmd` (a `harness run`) with its info log on a pipe and returns once `trials` of its
/// trials have each collected a first message — an event, not a sleep — with the rest of its log drained in the
/// background so the run never blocks on a full pipe.
fn started_and_hearing(cmd: &mut std::process::Command, trials: usize) -> std::process::Child {
    use std::io::{BufRead, BufReader};
    let mut child = cmd.env("RUST_LOG", "harness=info").stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let mut hearing = 0;
    while hearing < trials {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "harness exited before {trials} trial(s) heard a message");
        hearing += usize::from(line.contains("first message received"));
    }
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    child
}
