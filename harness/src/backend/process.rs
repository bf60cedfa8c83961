//! Node processes: spawn with stdout forwarded line by line, stop with SIGTERM and then
//! SIGKILL after a grace period.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{lossy_line, BackendError, Lifecycle, Line};
use crate::spec::ContainerRole;

/// How long a node may take to exit after SIGTERM before it is killed.
pub const GRACE: Duration = Duration::from_secs(5);

/// A running container process.
#[derive(Debug)]
pub struct NodeProcess {
    pub pod: String,
    pub container: String,
    pub role: ContainerRole,
    child: Child,
    readers: Vec<JoinHandle<()>>,
}

impl NodeProcess {
    /// Spawns `cmd`, forwarding stdout lines to `lines` and logging stderr lines.
    pub fn spawn(
        mut cmd: Command,
        pod: &str,
        container: &str,
        role: ContainerRole,
        lines: &mpsc::UnboundedSender<Line>,
    ) -> Result<NodeProcess, BackendError> {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child =
            cmd.spawn().map_err(|source| BackendError::Spawn { what: format!("{pod}/{container}"), source })?;
        let mut readers = Vec::new();
        let _ = lines.send(Line::event(pod, container, Lifecycle::Started { t_ns: chatter::now_ns() }));
        if let Some(out) = child.stdout.take() {
            let (tx, pod, container) = (lines.clone(), pod.to_owned(), container.to_owned());
            readers.push(tokio::spawn(async move {
                // Byte lines, not `lines()`: output that is not UTF-8 must not end the reading.
                let mut out = BufReader::new(out);
                let mut buf = Vec::new();
                while matches!(out.read_until(b'\n', &mut buf).await, Ok(n) if n > 0) {
                    if tx.send(Line::text(&pod, &container, lossy_line(&buf))).is_err() {
                        break;
                    }
                    buf.clear();
                }
                let _ = tx.send(Line::event(&pod, &container, Lifecycle::Ended { t_ns: chatter::now_ns() }));
            }));
        }
        if let Some(err) = child.stderr.take() {
            let who = format!("{pod}/{container}");
            readers.push(tokio::spawn(async move {
                let mut err = BufReader::new(err).lines();
                while let Ok(Some(text)) = err.next_line().await {
                    tracing::warn!(target: "node", "{who}: {text}");
                }
            }));
        }
        Ok(NodeProcess { pod: pod.to_owned(), container: container.to_owned(), role, child, readers })
    }

    /// Waits for the process to exit by itself.
    pub async fn wait(&mut self) {
        let _ = self.child.wait().await;
    }

    /// SIGKILL now (a fault), keeping its output readers so nothing printed is lost.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// SIGTERM now, without waiting: a program that does not stop by itself (a stock talker)
    /// ends its part of the trial.
    pub fn terminate(&mut self) {
        self.signal(Signal::SIGTERM);
    }

    /// Sends `signal`, unless it has exited.
    pub fn signal(&mut self, signal: Signal) {
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            let _ = kill(Pid::from_raw(pid), signal);
        }
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// SIGTERM, then SIGKILL after [`GRACE`]; then waits until its output is fully read.
    pub async fn stop(mut self) {
        if !self.exited() {
            if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
            if tokio::time::timeout(GRACE, self.child.wait()).await.is_err() {
                tracing::warn!("{}/{} ignored SIGTERM for {GRACE:?}; killing it", self.pod, self.container);
                let _ = self.child.kill().await;
            }
        }
        for r in self.readers.drain(..) {
            let _ = r.await;
        }
    }
}
