//! Two simulated hosts and the bridges between them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

use testkit::{workspace_root, Proc, HANG};

/// The holder of one host: its own network and mount namespaces, loopback with multicast, and
/// a private tmpfs on /dev/shm (Fast DDS's shared memory stays on its host).
const HOLDER: &str = "set -e
mount -t tmpfs -o size=64m tmpfs /dev/shm
ip link set lo up
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
echo ready
read -r _ || true";

/// One host: processes join its namespaces with nsenter; dropping it ends them.
#[derive(Debug)]
pub struct Host {
    holder: Child,
    stdin: Option<ChildStdin>,
    pid: u32,
    pub addr: &'static str,
}

impl Host {
    fn new(addr: &'static str) -> Host {
        let mut holder = Command::new("unshare")
            .args(["--net", "--mount", "--propagation", "private", "--", "sh", "-c", HOLDER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn unshare");
        let stdin = holder.stdin.take();
        let mut line = String::new();
        // Blocks until the holder says ready or exits: an event, not a timeout.
        let _ = BufReader::new(holder.stdout.take().unwrap()).read_line(&mut line);
        assert_eq!(line.trim(), "ready", "host namespace setup failed");
        let pid = holder.id();
        Host { holder, stdin, pid, addr }
    }

    /// `program` run inside this host's network and mount namespaces.
    pub fn command(&self, program: impl Into<PathBuf>) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.args([format!("--target={}", self.pid), "--net".into(), "--mount".into(), "--".into()]);
        cmd.arg(program.into());
        cmd
    }

    fn sh(&self, script: &str) {
        let out = self.command("sh").args(["-c", script]).output().unwrap();
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// Whether DDS multicast crosses the link between the hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Multicast dropped on the veth both ways: DDS discovery cannot cross.
    NoMulticast,
    /// A LAN: the multicast route goes out on the veth (and loops back to the host itself).
    Lan,
}

/// Host `a` (10.77.0.1) and host `b` (10.77.0.2) on one veth.
#[derive(Debug)]
pub struct TwoHosts {
    pub a: Host,
    pub b: Host,
}

impl TwoHosts {
    pub fn new(link: Link) -> TwoHosts {
        let (a, b) = (Host::new("10.77.0.1"), Host::new("10.77.0.2"));
        a.sh(&format!("ip link add veth-a type veth peer name veth-b netns {}", b.pid));
        for (host, dev) in [(&a, "veth-a"), (&b, "veth-b")] {
            host.sh(&format!("ip addr add {}/24 dev {dev} && ip link set {dev} multicast on up", host.addr));
            match link {
                Link::NoMulticast => host.sh(&format!(
                    "nft add table inet nomcast && \
                     nft add chain inet nomcast out '{{ type filter hook output priority 0; }}' && \
                     nft add rule inet nomcast out oifname {dev} ip daddr 224.0.0.0/4 drop"
                )),
                Link::Lan => host.sh(&format!("ip route replace 224.0.0.0/4 dev {dev}")),
            }
        }
        TwoHosts { a, b }
    }

    /// A bridge on each host, as deployed: `a` the router listening on tcp/7447, `b` connecting
    /// to it, both with `env` on their DDS side. Returns when both are up.
    pub fn bridges(&self, env: &[(&str, &str)]) -> (Proc, Proc) {
        let exe = bridge_path();
        let a_listen = format!("tcp/{}:7447", self.a.addr);
        let mut a = self.a.command(&exe);
        a.args(["--mode", "router", "--listen", &a_listen, "--no-multicast-scouting"]);
        let mut b = self.b.command(&exe);
        b.args(["--mode", "router", "--connect", &a_listen, "--no-multicast-scouting"]);
        let mut procs = [(a, "bridge on a"), (b, "bridge on b")].map(|(mut cmd, name)| {
            for k in ["ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_LOCALHOST_ONLY", "ROS_DISTRO", "CYCLONEDDS_URI"] {
                cmd.env_remove(k);
            }
            cmd.env("ROS_DOMAIN_ID", "0").env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()));
            cmd.envs(env.iter().copied());
            Proc::spawn(name, cmd)
        });
        for p in &mut procs {
            p.wait_line(HANG, |l| l.contains("\"bridge\":\"ready\""));
        }
        let [a, b] = procs;
        (a, b)
    }
}

/// The bridge's Cyclone DDS on loopback, multicast on: it hears the host's nodes announce
/// themselves, and nothing of it leaves the host. Measured with Fast DDS nodes that start after
/// the bridge: with the plugin's ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST instead (from Iron on:
/// multicast off and a localhost peer, Cyclone left on the host's other interface) none was ever
/// heard (0 of 494 in 50 s), whatever the nodes' setting; nodes already up when it started were.
pub const CYCLONE_ON_LOOPBACK: &str = r#"<CycloneDDS><Domain><General><Interfaces><NetworkInterface name="lo"/></Interfaces></General></Domain></CycloneDDS>"#;

/// Whether this process can build hosts (root), or `None` with the reason printed, outside CI.
pub fn can_run() -> Option<PathBuf> {
    let root = chatter_sandbox::is_root();
    let exe = bridge();
    if root && exe.is_some() {
        return exe;
    }
    let why = if root {
        format!("{} missing: run `bash scripts/build-bridge.sh`", bridge_path().display())
    } else {
        "needs root (veths, nftables, a tmpfs per host)".to_owned()
    };
    assert!(std::env::var_os("CI").is_none(), "{why}");
    eprintln!("skipped: {why}");
    None
}

/// Where scripts/build-bridge.sh puts the bridge.
pub fn bridge_path() -> PathBuf {
    workspace_root().join("target/bridge/chatter-zenoh-bridge")
}

fn bridge() -> Option<PathBuf> {
    let path = bridge_path();
    path.is_file().then_some(path)
}
