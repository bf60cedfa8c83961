//! Zenoh bridges for ROS 2 over DDS, as the lint sees them: a container running upstream's
//! `zenoh-bridge-ros2dds` (binary or `eclipse/zenoh-bridge-ros2dds` image) or chatter's
//! `chatter-zenoh-bridge`, its zenoh role and endpoints from its command line, and which ROS
//! workloads it bridges (its own pod's, or its node's when both are on the host network).

use super::container::Container;
use super::workload::Workload;

/// Executables (last path component) and image names that are a Zenoh bridge for ROS 2.
const BRIDGE_EXECUTABLES: [&str; 2] = ["zenoh-bridge-ros2dds", "chatter-zenoh-bridge"];

/// A bridge's zenoh settings, from its command line (the flags upstream's bridge and ours share).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Bridge<'a> {
    /// `-m/--mode`: router (the default since the bridge's 0.11), peer or client.
    pub(super) mode: &'a str,
    /// `-e/--connect` endpoints.
    pub(super) connect: Vec<&'a str>,
    /// A `-c/--config` file sets what the command line does not show.
    pub(super) config_file: bool,
}

/// The bridge container `c` runs, if it is one.
pub(super) fn bridge_of<'a>(c: &Container<'a>) -> Option<Bridge<'a>> {
    let image = c.image.to_ascii_lowercase();
    let exe = |w: &str| BRIDGE_EXECUTABLES.contains(&w.rsplit('/').next().unwrap_or(w));
    let at = c.words.iter().position(|w| exe(w));
    if at.is_none() && !BRIDGE_EXECUTABLES.iter().any(|b| image.contains(b)) {
        return None;
    }
    let mut bridge = Bridge { mode: "router", connect: Vec::new(), config_file: false };
    let mut words = c.words[at.map_or(0, |i| i + 1)..].iter();
    while let Some(w) = words.next() {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (*w, None),
        };
        let mut value = || inline.or_else(|| words.next().copied());
        match flag {
            "-m" | "--mode" => bridge.mode = value().unwrap_or("router"),
            "-e" | "--connect" => bridge.connect.extend(value()),
            "-c" | "--config" => bridge.config_file = true,
            _ => {}
        }
    }
    Some(bridge)
}

/// Whether a workload runs a bridge in any container.
pub(super) fn runs_bridge(w: &Workload) -> bool {
    w.containers.iter().any(|c| bridge_of(c).is_some())
}

/// The workload whose bridge carries `w`'s DDS traffic: `w` itself (a bridge in its own pod),
/// or, for a pod on its node's network, a host-network bridge on every node (a DaemonSet) or
/// pinned to `w`'s node.
pub(super) fn bridged_by<'s, 'a>(w: &Workload, all: &'s [Workload<'a>]) -> Option<&'s Workload<'a>> {
    if runs_bridge(w) {
        return all.iter().find(|o| std::ptr::eq(*o, w));
    }
    if !w.host_network() {
        return None;
    }
    all.iter().find(|b| {
        runs_bridge(b)
            && b.host_network()
            && (b.daemon() || (b.pinned_node().is_some() && b.pinned_node() == w.pinned_node()))
    })
}

/// DDS discovery kept on the host's loopback (the bridge README's setting).
pub(super) fn localhost_only(c: &Container) -> bool {
    c.env_is("ROS_LOCALHOST_ONLY", |v| v == "1")
        || c.env_is("ROS_AUTOMATIC_DISCOVERY_RANGE", |v| matches!(v, "LOCALHOST" | "OFF"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::document::SourceFile;
    use crate::lint::manifest_set::ManifestSet;

    fn first_bridge(yaml: &str, f: impl Fn(Option<Bridge>)) {
        let files = [SourceFile::parse("t.yaml", yaml.to_owned()).expect("yaml")];
        let set = ManifestSet::read(&files);
        f(set.workloads[0].containers.first().and_then(bridge_of));
    }

    #[test]
    fn a_bridge_is_known_by_executable_or_image_and_its_flags_are_read() {
        let pod = |c: &str| format!("kind: Pod\nmetadata: {{name: z}}\nspec:\n  containers:\n    - name: z\n{c}");
        first_bridge(
            &pod("      image: eclipse/zenoh-bridge-ros2dds:1.10.2\n      args: [-e, 'tcp/master:7447']\n"),
            |b| assert_eq!(b, Some(Bridge { mode: "router", connect: vec!["tcp/master:7447"], config_file: false })),
        );
        first_bridge(
            &pod("      image: ghcr.io/x/robot:1\n      command: [/usr/local/bin/chatter-zenoh-bridge, --mode=peer, -c, /z.json5]\n"),
            |b| assert_eq!(b, Some(Bridge { mode: "peer", connect: vec![], config_file: true })),
        );
        first_bridge(&pod("      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, talker]\n"), |b| {
            assert_eq!(b, None)
        });
    }
}
