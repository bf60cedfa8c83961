//! A private network namespace that DDS processes join, so discovery multicast never reaches a
//! real interface.
//!
//! A small *holder* process creates the namespace (`unshare --net`, plus `--user
//! --map-root-user` when not root), brings `lo` up with multicast and a `224.0.0.0/4` route,
//! prints `ready` and then waits on its stdin. Other processes join with `nsenter`. The
//! namespace lives exactly as long as its processes: dropping the [`Sandbox`] (or the parent
//! dying, which closes the holder's stdin) ends the holder, and nothing is left behind to clean.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::process::{Child, ChildStdin, Command, Stdio};

/// Shell run by the holder inside the new namespace.
const HOLDER_SCRIPT: &str = "set -e
ip link set lo up
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
echo ready
read -r _ || true";

/// Sandbox failures.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("could not start `unshare` to create a network namespace: {0}")]
    Spawn(#[source] std::io::Error),
    #[error(
        "could not create a private network namespace ({how}): {detail}\n\
         DDS experiments run only inside one, so multicast never leaves on a real interface; \
         run as root, or enable unprivileged user namespaces"
    )]
    Setup { how: &'static str, detail: String },
}

/// A private network namespace with only a multicast-capable loopback.
#[derive(Debug)]
pub struct Sandbox {
    holder: Child,
    /// Kept open: the holder exits when it closes.
    stdin: Option<ChildStdin>,
    pid: u32,
    user_ns: bool,
}

/// Whether this process runs as root (effective uid 0).
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// Why this process cannot have a user namespace of its own, from the kernel's switches (the
/// sysctl to change named), or `None` when nothing forbids it.
pub fn user_namespaces_disabled() -> Option<String> {
    let read = |p: &str| std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned());
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return Some("unprivileged user namespaces are off (sysctl kernel.unprivileged_userns_clone=0)".into());
    }
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return Some("user namespaces are off (sysctl user.max_user_namespaces=0)".into());
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        return Some(
            "AppArmor restricts unprivileged user namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns=1)"
                .into(),
        );
    }
    None
}

/// Moves this process into a new user, mount and network namespace in which it is root (its
/// own uid and gid mapped to 0), with a private tmpfs on `/run` — so `ip netns add`, veths,
/// bridges and nftables work without root, and everything made there (namespaces, the
/// registry under `/run`) ends with the process. Call it before starting any thread: the
/// kernel refuses a new user namespace to a multi-threaded process.
pub fn enter_user_namespace() -> Result<(), SandboxError> {
    use nix::mount::{mount, MsFlags};
    use nix::sched::{unshare, CloneFlags};
    let how = "unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET)";
    let fail = |detail: String| SandboxError::Setup { how, detail };
    let (uid, gid) = (nix::unistd::getuid(), nix::unistd::getgid());
    unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET).map_err(|e| {
        fail(match user_namespaces_disabled() {
            Some(why) => format!("{e}: {why}"),
            None => e.to_string(),
        })
    })?;
    let write = |path: &str, text: String| std::fs::write(path, text).map_err(|e| fail(format!("{path}: {e}")));
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("0 {uid} 1"))?;
    write("/proc/self/gid_map", format!("0 {gid} 1"))?;
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(|e| fail(format!("making mounts private: {e}")))?;
    mount(Some("tmpfs"), "/run", Some("tmpfs"), MsFlags::empty(), Some("mode=0755"))
        .map_err(|e| fail(format!("a tmpfs on /run: {e}")))?;
    Ok(())
}

impl Sandbox {
    /// Creates the namespace and waits until its loopback is configured.
    pub fn new() -> Result<Sandbox, SandboxError> {
        let user_ns = !is_root();
        let how = if user_ns { "unshare --user --map-root-user --net" } else { "unshare --net" };
        let mut cmd = Command::new("unshare");
        if user_ns {
            cmd.args(["--user", "--map-root-user"]);
        }
        cmd.args(["--net", "--", "sh", "-c", HOLDER_SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut holder = cmd.spawn().map_err(SandboxError::Spawn)?;
        let stdin = holder.stdin.take();
        let mut line = String::new();
        if let Some(out) = holder.stdout.take() {
            // Blocks until the holder reports ready or exits (EOF): an event, not a timeout.
            let _ = BufReader::new(out).read_line(&mut line);
        }
        if line.trim() != "ready" {
            let _ = holder.kill();
            let output = holder.wait_with_output();
            let detail =
                output.map(|o| String::from_utf8_lossy(&o.stderr).trim().to_owned()).unwrap_or_else(|e| e.to_string());
            return Err(SandboxError::Setup { how, detail });
        }
        let pid = holder.id();
        tracing::debug!(pid, user_ns, "network sandbox ready");
        Ok(Sandbox { holder, stdin, pid, user_ns })
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.args(self.nsenter_args()).arg(program);
        cmd
    }

    /// The `nsenter` arguments (up to and including `--`) that enter this namespace; a caller
    /// that builds its own command (e.g. `tokio::process::Command`) prefixes them.
    pub fn nsenter_args(&self) -> Vec<String> {
        let mut args = vec![format!("--target={}", self.pid)];
        if self.user_ns {
            args.extend(["--user".into(), "--preserve-credentials".into()]);
        }
        args.extend(["--net".into(), "--".into()]);
        args
    }

    /// Path of the namespace, for tools that take one (`ip netns attach`, `nsenter --net=`).
    pub fn netns_path(&self) -> String {
        format!("/proc/{}/ns/net", self.pid)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Closing stdin ends the holder's `read`; kill in case it is stuck elsewhere.
        drop(self.stdin.take());
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip_addr_in(sb: &Sandbox) -> String {
        let out = sb.command("ip").args(["-o", "link"]).output().expect("run ip");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn sandbox_has_only_multicast_loopback() {
        let sb = Sandbox::new().expect("sandbox");
        let links = ip_addr_in(&sb);
        assert_eq!(links.lines().count(), 1, "only lo expected: {links}");
        assert!(links.contains("lo:") && links.contains("MULTICAST") && links.contains("UP"), "{links}");
        let route = sb.command("ip").args(["route", "show", "224.0.0.0/4"]).output().expect("ip route");
        assert!(String::from_utf8_lossy(&route.stdout).contains("dev lo"));
    }

    #[test]
    fn namespace_is_gone_after_drop() {
        let sb = Sandbox::new().expect("sandbox");
        let path = sb.netns_path();
        let inode = std::fs::read_link(&path).expect("ns link");
        drop(sb);
        assert!(std::fs::read_link(&path).map(|l| l != inode).unwrap_or(true), "holder still alive");
    }
}
