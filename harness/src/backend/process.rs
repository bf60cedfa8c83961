//! Node processes: spawn with stdout forwarded line by line, stop with SIGTERM and then
//! SIGKILL after a grace period. Each process is reaped by a task of its own the moment it
//! exits, so how and when it ended is known (see [`Ended`]) — with the last lines it wrote to
//! stderr — whether the harness stopped it or it exited by itself.

use std::collections::VecDeque;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::{lossy_line, BackendError, Lifecycle, Line};
use crate::spec::ContainerRole;

/// How long a node may take to exit after SIGTERM before it is killed.
pub const GRACE: Duration = Duration::from_secs(5);

/// How many of a process's last stderr lines are kept for the report, …
pub const STDERR_TAIL: usize = 5;
/// … each cut to this many characters.
pub const STDERR_LINE_MAX: usize = 300;

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// Exit status; `None` with `signal` when a signal ended it, `None` with neither when its
    /// status could not be read.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    /// When it was reaped (wall clock, ns).
    pub t_ns: u64,
    /// The harness stopped it (SIGTERM, SIGKILL, a kill fault) before it ended: its end is the
    /// harness's doing, not the container's.
    pub by_harness: bool,
    /// Its last [`STDERR_TAIL`] non-empty stderr lines, oldest first, once its output is read.
    pub stderr: Vec<String>,
}

impl Ended {
    /// Exit status 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// The last lines a process wrote to stderr.
#[derive(Debug, Default)]
struct Tail(VecDeque<String>);

impl Tail {
    fn push(&mut self, line: &str) {
        let line = line.trim_end();
        if line.trim().is_empty() {
            return;
        }
        if self.0.len() == STDERR_TAIL {
            self.0.pop_front();
        }
        let cut: String = line.chars().take(STDERR_LINE_MAX).collect();
        self.0.push_back(if cut.len() < line.len() { format!("{cut}…") } else { cut });
    }
}

/// Aborts a task when dropped: the reaper owns the child (`kill_on_drop`), so a process whose
/// [`NodeProcess`] is dropped without [`NodeProcess::stop`] (an error mid-trial) is killed.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running container process.
#[derive(Debug)]
pub struct NodeProcess {
    pub pod: String,
    pub container: String,
    pub role: ContainerRole,
    pid: Option<i32>,
    /// Set by the reaper: exit status and when (wall clock, ns).
    exit: watch::Receiver<Option<(ExitStatus, u64)>>,
    _reaper: AbortOnDrop,
    readers: Vec<JoinHandle<()>>,
    stderr: Arc<Mutex<Tail>>,
    /// The harness has told it to stop, or killed it.
    stopping: bool,
}

impl NodeProcess {
    /// Spawns `cmd`, forwarding its stdout lines to `lines` — and its stderr lines too when
    /// `stderr_is_output` (the stock ROS 2 nodes log to stderr, and `kubectl logs` shows both
    /// streams); otherwise stderr lines are logged. Either way its last stderr lines are kept
    /// (see [`Ended::stderr`]). `Ended` follows once both streams closed.
    pub fn spawn(
        mut cmd: Command,
        pod: &str,
        container: &str,
        role: ContainerRole,
        stderr_is_output: bool,
        lines: &mpsc::UnboundedSender<Line>,
    ) -> Result<NodeProcess, BackendError> {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child =
            cmd.spawn().map_err(|source| BackendError::Spawn { what: format!("{pod}/{container}"), source })?;
        let _ = lines.send(Line::event(pod, container, Lifecycle::Started { t_ns: chatter::now_ns() }));
        let pid = child.id().and_then(|p| i32::try_from(p).ok());
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let (exit_tx, exit) = watch::channel(None);
        let reaper = tokio::spawn(async move {
            let status = child.wait().await;
            let t_ns = chatter::now_ns();
            if let Ok(status) = status {
                let _ = exit_tx.send(Some((status, t_ns)));
            }
        });
        let stderr = Arc::new(Mutex::new(Tail::default()));
        let (tx, pod_name, container_name, tail) =
            (lines.clone(), pod.to_owned(), container.to_owned(), stderr.clone());
        let reader = tokio::spawn(async move {
            let who = format!("{pod_name}/{container_name}");
            let forward = |text: String| tx.send(Line::text(&pod_name, &container_name, text)).is_ok();
            let stdout = read_lines(out, &forward);
            let stderr = read_lines(err, |text: String| {
                if let Ok(mut t) = tail.lock() {
                    t.push(&text);
                }
                if stderr_is_output {
                    forward(text)
                } else {
                    tracing::warn!(target: "node", "{who}: {text}");
                    true
                }
            });
            tokio::join!(stdout, stderr);
            let _ = tx.send(Line::event(&pod_name, &container_name, Lifecycle::Ended { t_ns: chatter::now_ns() }));
        });
        Ok(NodeProcess {
            pod: pod.to_owned(),
            container: container.to_owned(),
            role,
            pid,
            exit,
            _reaper: AbortOnDrop(reaper),
            readers: vec![reader],
            stderr,
            stopping: false,
        })
    }

    /// Waits for the process to exit by itself.
    pub async fn wait(&mut self) {
        // An error means the reaper is gone without a status (it could not wait): nothing to
        // wait for either way.
        let _ = self.exit.wait_for(Option::is_some).await;
    }

    /// SIGKILL now (a fault), keeping its output readers so nothing printed is lost.
    pub async fn kill(&mut self) {
        self.stopping = true;
        self.signal(Signal::SIGKILL);
        self.wait().await;
    }

    /// SIGTERM now, without waiting: a program that does not stop by itself (a stock talker)
    /// ends its part of the trial.
    pub fn terminate(&mut self) {
        self.stopping = true;
        self.signal(Signal::SIGTERM);
    }

    /// Sends `signal`, unless it has exited.
    pub fn signal(&mut self, signal: Signal) {
        if let (Some(pid), false) = (self.pid, self.exited()) {
            let _ = kill(Pid::from_raw(pid), signal);
        }
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<i32> {
        self.pid.filter(|_| !self.exited())
    }

    /// Whether it has exited.
    pub fn exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// SIGTERM, then SIGKILL after [`GRACE`]; then waits until its output is fully read, and
    /// says how it ended.
    pub async fn stop(mut self) -> Ended {
        if !self.exited() {
            self.terminate();
            if tokio::time::timeout(GRACE, self.wait()).await.is_err() {
                tracing::warn!("{}/{} ignored SIGTERM for {GRACE:?}; killing it", self.pod, self.container);
                self.kill().await;
            }
        }
        for r in self.readers.drain(..) {
            let _ = r.await;
        }
        let exit = *self.exit.borrow();
        let stderr = self.stderr.lock().map(|t| t.0.iter().cloned().collect()).unwrap_or_default();
        let (code, signal, t_ns) = match exit {
            Some((status, t_ns)) => {
                use std::os::unix::process::ExitStatusExt;
                (status.code(), status.signal(), t_ns)
            }
            None => (None, None, chatter::now_ns()),
        };
        Ended { code, signal, t_ns, by_harness: self.stopping, stderr }
    }
}

/// Reads `stream` line by line into `each` until it ends or `each` returns false. Byte lines,
/// not `lines()`: output that is not UTF-8 must not end the reading.
async fn read_lines<R: tokio::io::AsyncRead + Unpin>(stream: Option<R>, each: impl Fn(String) -> bool) {
    let Some(stream) = stream else { return };
    let mut stream = BufReader::new(stream);
    let mut buf = Vec::new();
    while matches!(stream.read_until(b'\n', &mut buf).await, Ok(n) if n > 0) {
        if !each(lossy_line(&buf)) {
            break;
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stderr_tail_keeps_the_last_lines_cut_short() {
        let mut t = Tail::default();
        for i in 0..8 {
            t.push(&format!("line {i}"));
        }
        t.push("   ");
        t.push(&"x".repeat(STDERR_LINE_MAX + 10));
        let kept: Vec<&str> = t.0.iter().map(String::as_str).collect();
        assert_eq!(kept.len(), STDERR_TAIL);
        assert_eq!(kept[0], "line 4", "{kept:?}");
        assert_eq!(kept[STDERR_TAIL - 1].chars().count(), STDERR_LINE_MAX + 1, "cut, with an ellipsis");
    }

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[tokio::test]
    async fn a_process_that_fails_at_once_says_how_with_its_last_words() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut p = NodeProcess::spawn(
            sh("echo starting; echo 'error: package not found' >&2; exit 3"),
            "p",
            "c",
            ContainerRole::Talker,
            false,
            &tx,
        )
        .expect("sh runs");
        p.wait().await;
        let ended = p.stop().await;
        assert_eq!((ended.code, ended.signal, ended.by_harness), (Some(3), None, false));
        assert_eq!(ended.stderr, ["error: package not found"]);
        drop(tx);
        // Every line it printed came through before its end.
        let mut texts = Vec::new();
        while let Some(l) = rx.recv().await {
            texts.push((l.text, l.event.is_some()));
        }
        assert_eq!(texts.iter().filter(|(t, _)| t == "starting").count(), 1, "{texts:?}");
        assert!(texts.last().is_some_and(|(_, ev)| *ev), "Ended comes last: {texts:?}");
    }

    #[tokio::test]
    async fn a_process_the_harness_stops_ends_by_the_harness() {
        let (tx, _rx) = mpsc::unbounded_channel();
        let p =
            NodeProcess::spawn(sh("exec sleep 30"), "p", "c", ContainerRole::Listener, false, &tx).expect("sh runs");
        let ended = p.stop().await;
        assert!(ended.by_harness);
        assert_eq!(ended.signal, Some(15), "SIGTERM: {ended:?}");
    }
}
