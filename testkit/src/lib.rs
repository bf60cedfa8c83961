//! Helpers for the workspace's integration tests: locate (and build) the node binaries, find
//! the independent DDS peer (Cyclone DDS through its Python binding), and read the JSON-line
//! records a process prints, waiting on events with a bound that only turns a hang into a
//! failure.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chatter::record::parse_line;
use chatter::Record;

/// A `start` record as a RustDDS node on domain 0 with default QoS would print, for
/// synthetic record streams.
pub fn start_record(t_ns: u64, id: &str, role: chatter::Role, host: &str, guid: Option<&str>) -> Record {
    let info = chatter::StartInfo {
        host,
        pid: 1,
        transport: "rustdds",
        domain: 0,
        topic: "/chatter",
        qos: chatter::Qos::default(),
        guid,
    };
    Record::start(t_ns, id, role, &info)
}

/// Root of the workspace.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Path of a workspace binary, built (debug) on first use so tests of one crate can run
/// another crate's binary as a real process.
pub fn cargo_bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "talker", "-p", "listener", "-p", "harness"])
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the workspace binaries failed");
    });
    // Test executables live in target/<profile>/deps/.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let path = profile_dir.join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// Python with the `cyclonedds` package: `$CHATTER_PYTHON`, else the workspace's `.venv`.
pub fn cyclone_python() -> PathBuf {
    let path = std::env::var_os("CHATTER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"));
    assert!(
        path.exists(),
        "{} not found: run `bash scripts/setup.sh` (creates .venv with cyclonedds) or set CHATTER_PYTHON",
        path.display()
    );
    path
}

/// The Python of ROS 2 `distro` from PyPI wheels (rclpy, rmw_fastrtps_cpp): the workspace's
/// `.venv-<distro>`, made by `scripts/setup.sh`.
pub fn ros_python(distro: &str) -> PathBuf {
    let path = workspace_root().join(format!(".venv-{distro}/bin/python"));
    assert!(
        path.exists(),
        "{} not found: run `bash scripts/setup.sh` (installs ROS 2 {distro} from PyPI into .venv-{distro})",
        path.display()
    );
    path
}

/// The Cyclone DDS peer script.
pub fn cyclone_peer() -> PathBuf {
    workspace_root().join("tests/peers/cyclone_peer.py")
}

/// A running process whose stdout lines are read on a thread.
#[derive(Debug)]
pub struct Proc {
    pub name: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl Proc {
    /// Spawns `cmd` with stdout piped (stderr inherited, so failures show in test output).
    pub fn spawn(name: &str, mut cmd: Command) -> Proc {
        let mut child =
            cmd.stdout(Stdio::piped()).stdin(Stdio::null()).spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc { name: name.to_owned(), child, lines, seen: Vec::new() }
    }

    /// Waits for a line satisfying `pred`; panics after `limit` (a hang guard, not a sleep).
    pub fn wait_line(&mut self, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("{}: no matching line within {limit:?}; saw:\n{}", self.name, self.seen.join("\n"))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("{}: exited before a matching line; saw:\n{}", self.name, self.seen.join("\n"))
                }
            }
        }
    }

    /// Waits for the process to exit by itself and returns its status and all its records.
    pub fn finish(mut self, limit: Duration) -> (ExitStatus, Vec<Record>) {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("{}: did not exit within {limit:?}; saw:\n{}", self.name, self.seen.join("\n"));
                }
            }
        }
        let status = self.child.wait().unwrap();
        let records = self.seen.iter().filter_map(|l| parse_line(l).ok()).collect();
        (status, records)
    }

    /// Sends `sig` (`USR1`, `TERM`, …) to the process.
    pub fn signal(&self, sig: &str) {
        signal(&self.child, sig);
    }

    /// Sends SIGTERM, then collects as [`Proc::finish`] does.
    pub fn terminate(self, limit: Duration) -> (ExitStatus, Vec<Record>) {
        signal(&self.child, "TERM");
        self.finish(limit)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a signal with kill(1) (no unsafe code needed).
pub fn signal(child: &Child, sig: &str) {
    let _ = Command::new("kill").arg(format!("-{sig}")).arg(child.id().to_string()).status();
}

pub use chatter_sandbox::Sandbox;

/// A generous bound for anything DDS does on loopback; exceeding it means a hang.
pub const HANG: Duration = Duration::from_secs(60);

/// The first piece of Rust `Debug` output in `text` — `Some(…)`, `None`, `Ok(…)`, `Err(…)`, a
/// struct dump (`NodeFacts { started: …`) or a debug-escaped quote (`\"`) — with a little of
/// its context, or `None` when `text` is in plain words. Reports, findings and notes are read
/// by people: none of these belongs in them.
pub fn debug_text(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let word_start = |i: usize| i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
    let context = |i: usize, len: usize| {
        let mut from = i.saturating_sub(30);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let mut to = (i + len + 30).min(text.len());
        while !text.is_char_boundary(to) {
            to += 1;
        }
        format!("`{}` in …{}…", &text[i..i + len], &text[from..to])
    };
    for (i, _) in text.char_indices() {
        let rest = &text[i..];
        for open in ["Some(", "Ok(", "Err("] {
            if rest.starts_with(open) && word_start(i) {
                return Some(context(i, open.len()));
            }
        }
        // `None` as a value: a whole word closed by punctuation or the end, not the English
        // "None of them".
        if rest.starts_with("None") && word_start(i) {
            let next = rest[4..].chars().next();
            if next.is_none_or(|c| matches!(c, ')' | ',' | ']' | '}' | ';' | '\n' | '"')) {
                return Some(context(i, 4));
            }
        }
        if rest.starts_with("\\\"") {
            return Some(context(i, 2));
        }
        // `Name { field: `: a derived Debug of a struct.
        if b[i].is_ascii_uppercase() && word_start(i) {
            let name_len = rest.bytes().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_').count();
            let after = &rest[name_len..];
            if let Some(body) = after.strip_prefix(" { ") {
                let field = body.bytes().take_while(|c| c.is_ascii_lowercase() || *c == b'_').count();
                if field > 0 && body[field..].starts_with(": ") {
                    return Some(context(i, name_len + 3 + field + 1));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::debug_text;

    #[test]
    fn debug_output_is_found_and_plain_words_are_not() {
        for debug in [
            r#"stop reason Some("output ended")"#,
            "stop reason None",
            "latency (None, 3)",
            "Ok(())",
            "Err(Timeout)",
            "NodeFacts { started: true, start_ns: Some(1) }",
            r#"args [\"-c\"]"#,
        ] {
            assert!(debug_text(debug).is_some(), "{debug}");
        }
        for plain in [
            "stop reason: output ended",
            "None of the pairs delivered",
            "no stop record",
            "Something(ish)",
            "I heard: \"Hello World: 3\"",
            "nodeSelector {kubernetes.io/arch: arm64}",
            "Hello { world }",
        ] {
            assert_eq!(debug_text(plain), None, "{plain}");
        }
    }
}
