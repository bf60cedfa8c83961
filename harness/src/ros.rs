//! The real ROS 2 stack on this machine: distributions installed from PyPI wheels into
//! `.venv-<distro>/` (`scripts/setup.sh`), which versions of rclpy, rmw_fastrtps_cpp and
//! Fast DDS they hold, and the stock demo nodes run on them.
//!
//! On a cluster a container `ros2 run demo_nodes_cpp talker` runs the image's node. On local
//! and netns no demo_nodes wheel exists, but rclpy and rmw_fastrtps_cpp do: such a container
//! on Fast DDS runs `ros/demo_nodes.py` (embedded here) on the chosen distribution — the same
//! topic, type, QoS and console lines, on the team's real middleware. Cyclone DDS has no
//! wheel, so its stock containers keep their stand-in.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::spec::{ContainerRole, Rmw, Scenario};

/// The rclpy demo talker and listener.
pub const DEMO_NODES_PY: &str = include_str!("../../ros/demo_nodes.py");

/// A ROS 2 distribution with wheels on PyPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distro {
    /// Jazzy Jalisco (Fast DDS 2.14).
    #[default]
    Jazzy,
    /// Kilted Kaiju (Fast DDS 3.2).
    Kilted,
}

impl Distro {
    pub fn as_str(self) -> &'static str {
        match self {
            Distro::Jazzy => "jazzy",
            Distro::Kilted => "kilted",
        }
    }
}

/// What a run used of a ROS 2 installation, recorded with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosVersions {
    pub distro: Distro,
    pub rclpy: String,
    pub rmw_fastrtps_cpp: String,
    pub fastdds: String,
}

impl RosVersions {
    /// "ROS 2 jazzy: rclpy 7.1.6, rmw_fastrtps_cpp 8.4.3, Fast DDS 2.14.5".
    pub fn describe(&self) -> String {
        format!(
            "ROS 2 {}: rclpy {}, rmw_fastrtps_cpp {}, Fast DDS {}",
            self.distro.as_str(),
            self.rclpy,
            self.rmw_fastrtps_cpp,
            self.fastdds
        )
    }
}

/// An installed distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosStack {
    pub venv: PathBuf,
    pub versions: RosVersions,
}

#[derive(Debug, thiserror::Error)]
pub enum RosError {
    #[error(
        "ROS 2 {distro} is not installed: no {} (looked in {}); run `bash scripts/setup.sh`, or pass --ros-venv",
        python(Path::new(&format!(".venv-{distro}"))).display(),
        looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotInstalled { distro: &'static str, looked: Vec<PathBuf> },
    #[error("{venv}: not a ROS 2 {distro} installation: no {what} in its site-packages", venv = venv.display())]
    Incomplete { venv: PathBuf, distro: &'static str, what: &'static str },
    #[error(
        "the r2r nodes for ROS 2 {distro} are not built (no talker and listener in {dir}): run `bash scripts/build-ros.sh {distro}`, or pass --node-bin-dir",
        dir = dir.display()
    )]
    NotBuilt { distro: &'static str, dir: PathBuf },
    #[error("could not write the rclpy demo nodes to {path}: {source}", path = path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

fn python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

impl RosStack {
    /// The installation of `distro`: `venv` when given, else `.venv-<distro>` in the working
    /// directory, else in the workspace this harness was built from.
    pub fn find(distro: Distro, venv: Option<&Path>) -> Result<RosStack, RosError> {
        let name = format!(".venv-{}", distro.as_str());
        // One in the working directory stays relative, so what a run records names no path
        // of this machine.
        let looked = match venv {
            Some(v) => vec![v.to_owned()],
            None => vec![PathBuf::from(&name), Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(&name)],
        };
        let Some(venv) = looked.iter().find(|v| python(v).is_file()) else {
            return Err(RosError::NotInstalled { distro: distro.as_str(), looked });
        };
        let venv = if venv.is_relative() {
            venv.clone()
        } else {
            std::fs::canonicalize(venv).unwrap_or_else(|_| venv.clone())
        };
        let versions = read_versions(&venv, distro)?;
        Ok(RosStack { venv, versions })
    }

    pub fn python(&self) -> PathBuf {
        python(&self.venv)
    }

    /// The directories the wheels' own programs (`fast-discovery-server`) load their
    /// libraries from: the venv's `lib` and the `ros_*.libs` directories auditwheel filled.
    pub fn library_path(&self) -> String {
        let mut dirs = vec![self.venv.join("lib")];
        let site = std::fs::read_dir(self.venv.join("lib"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
            .flat_map(|e| std::fs::read_dir(e.path().join("site-packages")).into_iter().flatten().flatten());
        let mut libs: Vec<PathBuf> = site
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.starts_with("ros_") && n.ends_with(".libs")
            })
            .map(|e| e.path())
            .collect();
        libs.sort();
        dirs.extend(libs);
        dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(":")
    }

    /// The command line of a Fast DDS discovery server with id `id` on UDP `listen:port`: the
    /// wheels' `fast-discovery-server` itself, not the `fastdds discovery` wrapper (a Python
    /// process whose SIGTERM would leave the server running). Fast DDS 3 (Kilted) takes the
    /// wrapper's command number for a plain server (42) first, and fails to listen on 0.0.0.0
    /// ("wasn't able to allocate the specified listening port", measured): an address it is.
    pub fn discovery_server(&self, id: u32, listen: &str, port: u16) -> Vec<String> {
        let mut line = vec![self.venv.join("bin").join("fast-discovery-server").display().to_string()];
        if self.versions.distro == Distro::Kilted {
            line.push("42".into());
        }
        line.extend(["-i".into(), id.to_string(), "-l".into(), listen.into(), "-p".into(), port.to_string()]);
        line
    }
}

/// Where `scripts/build-ros.sh <distro>` put the r2r talker and listener: `target/ros-<distro>/
/// release` of the workspace this harness was built from.
pub fn r2r_bin_dir(distro: Distro) -> Result<PathBuf, RosError> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(format!("target/ros-{}/release", distro.as_str()));
    if ["talker", "listener"].iter().all(|b| dir.join(b).is_file()) {
        Ok(std::fs::canonicalize(&dir).unwrap_or(dir))
    } else {
        Err(RosError::NotBuilt { distro: distro.as_str(), dir })
    }
}

/// Versions from the wheels' `*.dist-info` directory names (`ros_rclpy-7.1.6.dist-info`).
fn read_versions(venv: &Path, distro: Distro) -> Result<RosVersions, RosError> {
    let names: Vec<String> = std::fs::read_dir(venv.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
        .flat_map(|e| std::fs::read_dir(e.path().join("site-packages")).into_iter().flatten().flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let version = |dist: &str| {
        names.iter().find_map(|n| {
            let rest = n.strip_suffix(".dist-info")?.strip_prefix(dist)?.strip_prefix('-')?;
            Some(rest.to_owned())
        })
    };
    let need = |dist: &'static str, what: &'static str| {
        version(dist).ok_or(RosError::Incomplete { venv: venv.to_owned(), distro: distro.as_str(), what })
    };
    Ok(RosVersions {
        distro,
        rclpy: need("ros_rclpy", "rclpy")?,
        rmw_fastrtps_cpp: need("ros_rmw_fastrtps_cpp", "rmw_fastrtps_cpp")?,
        // Fast DDS 2.x is packaged as `fastrtps`, 3.x as `fastdds`.
        fastdds: version("ros_fastdds").map_or_else(|| need("ros_fastrtps", "Fast DDS"), Ok)?,
    })
}

/// A stock demo node a container's command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockNode {
    /// `demo_nodes_cpp` (true) or `demo_nodes_py`.
    pub cpp: bool,
    pub role: ContainerRole,
}

/// `ros2 run demo_nodes_cpp|demo_nodes_py talker|listener` (as `command`, or split between
/// `command` and `args`), with nothing after it but ROS arguments.
pub fn stock_node(command: &[String], args: &[String]) -> Option<StockNode> {
    let words: Vec<&str> = command.iter().chain(args).map(String::as_str).collect();
    let (program, rest) = words.split_first()?;
    if Path::new(program).file_name()? != "ros2" {
        return None;
    }
    let [run, package, executable, ros_args @ ..] = rest else { return None };
    if *run != "run" || !(ros_args.is_empty() || ros_args[0] == "--ros-args") {
        return None;
    }
    let cpp = match *package {
        "demo_nodes_cpp" => true,
        "demo_nodes_py" => false,
        _ => return None,
    };
    let role = match *executable {
        "talker" => ContainerRole::Talker,
        "listener" => ContainerRole::Listener,
        _ => return None,
    };
    Some(StockNode { cpp, role })
}

/// The demo nodes' file: the workspace's own `ros/demo_nodes.py` when the harness runs in the
/// workspace, else the embedded copy written to a file named by its content, so every harness
/// process of this build shares it and none overwrites a file another is running.
fn demo_nodes_file() -> Result<PathBuf, RosError> {
    use std::hash::{Hash, Hasher};
    // In the workspace itself: its own copy, by a relative path.
    let own = Path::new("ros/demo_nodes.py");
    if std::fs::read_to_string(own).is_ok_and(|s| s == DEMO_NODES_PY) {
        return Ok(own.to_owned());
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    DEMO_NODES_PY.hash(&mut h);
    let dir = std::env::temp_dir().join(format!("chatter-harness-{:016x}", h.finish()));
    let path = dir.join("demo_nodes.py");
    if std::fs::read_to_string(&path).is_ok_and(|s| s == DEMO_NODES_PY) {
        return Ok(path);
    }
    let tmp = dir.join(format!("demo_nodes.py.{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&tmp, DEMO_NODES_PY))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|source| RosError::Write { path: path.clone(), source })?;
    Ok(path)
}

/// The stock node container `c` runs on real ROS 2 on this machine: it has no `standIn`, a
/// stock command, and Fast DDS as its RMW (its own `rmw`, else the scenario's `rmw`).
fn on_wheels(c: &crate::spec::ContainerSpec, scenario_rmw: Option<Rmw>) -> Option<StockNode> {
    if c.stand_in.is_some() || c.rmw.or(scenario_rmw) != Some(Rmw::Fastdds) {
        return None;
    }
    stock_node(c.command.as_deref()?, c.args.as_deref().unwrap_or_default())
}

/// Whether any container of `s` runs a stock node on real ROS 2 here (see [`on_wheels`]).
pub fn needs_wheels(s: &Scenario) -> bool {
    s.pods.iter().flat_map(|p| &p.containers).any(|c| on_wheels(c, s.dds.rmw).is_some())
}

/// Gives every stock Fast DDS container (see [`on_wheels`]) the rclpy demo node
/// of its role as its stand-in, on `stack`. A stock talker publishes at 1 Hz, as
/// demo_nodes_cpp does, unless the container sets `rateHz`. Returns how many it changed.
pub fn run_stock_nodes_on(s: &mut Scenario, stack: &RosStack) -> Result<usize, RosError> {
    let script = demo_nodes_file()?;
    let rmw = s.dds.rmw;
    // Every stock talker of the scenario (also those that run elsewhere) gets its own phase.
    let stock_talker = |c: &crate::spec::ContainerSpec| {
        c.role == ContainerRole::Talker
            && c.command.as_deref().and_then(|cmd| stock_node(cmd, c.args.as_deref().unwrap_or_default())).is_some()
    };
    let talkers = s.pods.iter().flat_map(|p| &p.containers).filter(|c| stock_talker(c)).count().max(1);
    let mut talker = 0;
    let mut changed = 0;
    for c in s.pods.iter_mut().flat_map(|p| p.containers.iter_mut()) {
        let phase = talker as f64 / talkers as f64;
        talker += usize::from(stock_talker(c));
        let Some(stock) = on_wheels(c, rmw) else { continue };
        let mut line = vec![stack.python().display().to_string(), script.display().to_string()];
        match stock.role {
            ContainerRole::Talker => line.extend([
                "talker".into(),
                "--rate-hz".into(),
                c.rate_hz.map_or(1.0, |r| r.0).to_string(),
                "--flavour".into(),
                if stock.cpp { "cpp" } else { "py" }.into(),
                // Several stock talkers send their "Hello World: N" a share of a period apart,
                // so that receipts can be attributed by send time.
                "--phase".into(),
                phase.to_string(),
            ]),
            // (A stock node is a talker or a listener.)
            ContainerRole::Listener | ContainerRole::Process => line.push("listener".into()),
        }
        line.extend(stock_qos_and_type(c));
        c.stand_in = Some(line);
        changed += 1;
    }
    Ok(changed)
}

/// The rclpy node's message type, size and QoS where container `c` sets them (the stock
/// nodes' own defaults otherwise: String, reliable, keep-last 10).
fn stock_qos_and_type(c: &crate::spec::ContainerSpec) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(t) = c.message_type {
        args.extend(["--message-type".into(), t.as_str().into()]);
    }
    if let Some(b) = c.payload_bytes {
        args.extend(["--payload-bytes".into(), b.to_string()]);
    }
    if let Some(r) = c.reliability {
        args.extend(["--reliability".into(), r.to_string()]);
    }
    if let Some(d) = c.depth {
        args.extend(["--depth".into(), d.to_string()]);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn stock_commands_are_recognised_and_nothing_else() {
        let talker = stock_node(&words("ros2 run demo_nodes_cpp talker"), &[]);
        assert_eq!(talker, Some(StockNode { cpp: true, role: ContainerRole::Talker }));
        let split = stock_node(&words("/opt/ros/jazzy/bin/ros2"), &words("run demo_nodes_py listener"));
        assert_eq!(split, Some(StockNode { cpp: false, role: ContainerRole::Listener }));
        let ros_args = stock_node(&words("ros2 run demo_nodes_cpp listener --ros-args -r __node:=l2"), &[]);
        assert_eq!(ros_args.map(|s| s.role), Some(ContainerRole::Listener));
        for other in [
            "ros2 run demo_nodes_cpp add_two_ints_server",
            "ros2 run my_pkg talker",
            "ros2 launch demo_nodes_cpp talker_listener.launch.py",
            "ros2 run demo_nodes_cpp talker && ros2 run demo_nodes_cpp listener",
            "bash -c ros2",
            "ros2 run demo_nodes_cpp",
        ] {
            assert_eq!(stock_node(&words(other), &[]), None, "{other}");
        }
    }

    /// A stock node's message type, size and QoS reach its rclpy stand-in; a container that
    /// sets none gets the stock node's defaults (no flags).
    #[test]
    fn stock_nodes_get_their_message_type_size_and_qos() {
        let text = "name: t\npods:\n  - name: cam\n    containers:\n      - {name: t, role: talker, command: [ros2, run, demo_nodes_cpp, talker], output: demo-nodes, rmw: rmw_fastrtps_cpp, messageType: sensor_msgs/msg/Image, payloadBytes: 1048576, reliability: best-effort, depth: 1}\n      - {name: l, role: listener, command: [ros2, run, demo_nodes_cpp, listener], output: demo-nodes, rmw: rmw_fastrtps_cpp}\n";
        let mut s = crate::spec::parse(text, Path::new("t.yaml")).expect("valid");
        let versions =
            RosVersions { distro: Distro::Jazzy, rclpy: "7".into(), rmw_fastrtps_cpp: "8".into(), fastdds: "2".into() };
        let stack = RosStack { venv: PathBuf::from("/venv"), versions };
        assert_eq!(run_stock_nodes_on(&mut s, &stack).expect("rewritten"), 2);
        let line = |i: usize| s.pods[0].containers[i].stand_in.clone().expect("stand-in").join(" ");
        assert!(
            line(0).ends_with(
                "--message-type sensor_msgs/msg/Image --payload-bytes 1048576 --reliability best-effort --depth 1"
            ),
            "{}",
            line(0)
        );
        assert!(line(1).ends_with(" listener"), "{}", line(1));
    }

    #[test]
    fn versions_come_from_the_wheels_installed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let site = dir.path().join("lib/python3.11/site-packages");
        for d in ["ros_rclpy-9.1.2.dist-info", "ros_rmw_fastrtps_cpp-9.3.2.dist-info", "ros_fastdds-3.2.3.dist-info"] {
            std::fs::create_dir_all(site.join(d)).expect("mkdir");
        }
        std::fs::create_dir_all(dir.path().join("bin")).expect("mkdir");
        std::fs::write(dir.path().join("bin/python"), "").expect("python");
        let stack = RosStack::find(Distro::Kilted, Some(dir.path())).expect("found");
        assert_eq!(
            stack.versions.describe(),
            "ROS 2 kilted: rclpy 9.1.2, rmw_fastrtps_cpp 9.3.2, Fast DDS 3.2.3",
            "Fast DDS 3 is the `fastdds` wheel"
        );
        std::fs::remove_dir_all(site.join("ros_rmw_fastrtps_cpp-9.3.2.dist-info")).expect("rm");
        let err = RosStack::find(Distro::Kilted, Some(dir.path())).expect_err("incomplete");
        assert!(err.to_string().contains("no rmw_fastrtps_cpp"), "{err}");
        let missing = RosStack::find(Distro::Jazzy, Some(&dir.path().join("nothing"))).expect_err("missing");
        assert!(missing.to_string().contains("ROS 2 jazzy is not installed"), "{missing}");
    }
}
