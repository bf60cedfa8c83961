//! A container as the rules see it: its image (as the set's Kustomizations rewrite it), its
//! command and args as words, its environment, the ROS and RMW it runs, its ports, and the DDS
//! configuration it loads.

use super::context::Context;
use super::distro::{image_ros, Ros};
use super::document::Node;
use super::env::{env_of, mounted_file, Env};

/// One container (or init container) of a workload.
pub(super) struct Container<'a> {
    pub(super) node: &'a Node,
    pub(super) name: &'a str,
    /// The image, as a Kustomization of the set rewrites it.
    pub(super) image: String,
    /// Command and args, each argument split at whitespace (a `sh -c` line is many words).
    pub(super) words: Vec<&'a str>,
    /// The arguments as written, with their lines.
    pub(super) args: Vec<&'a Node>,
    pub(super) env: Env,
    pub(super) ros: Ros,
    /// `rmw_fastrtps_cpp`, `rmw_cyclonedds_cpp`, … (ROS 2 only; the distro's default when unset).
    rmw: String,
    pub(super) ports: Vec<(u64, usize)>,
    /// A Fast DDS XML profile it loads: `None` without one, `Some(None)` when the set does not
    /// hold it (not from a ConfigMap of the set), else its text.
    pub(super) fastdds_profile: Option<Option<String>>,
    /// Its Cyclone DDS configuration (`CYCLONEDDS_URI`: inline XML, or a file from a ConfigMap).
    pub(super) cyclone_config: Option<Option<String>>,
}

impl<'a> Container<'a> {
    pub(super) fn fast_dds(&self) -> bool {
        matches!(self.ros, Ros::Two(_)) && (self.rmw.contains("fastrtps") || self.rmw.contains("fastdds"))
    }
    pub(super) fn cyclone_dds(&self) -> bool {
        matches!(self.ros, Ros::Two(_)) && self.rmw.contains("cyclonedds")
    }
    pub(super) fn dds(&self) -> bool {
        matches!(self.ros, Ros::Two(_)) && !self.rmw.contains("zenoh")
    }
    pub(super) fn distro(&self) -> Option<&'static str> {
        match self.ros {
            Ros::Two(d) => d,
            _ => None,
        }
    }
    pub(super) fn env_is(&self, key: &str, pred: impl Fn(&str) -> bool) -> bool {
        self.env.get(key).is_some_and(|(v, _)| pred(v))
    }

    /// Reads container `c` of the pod spec `spec`, in `namespace`.
    pub(super) fn read(spec: &'a Node, c: &'a Node, namespace: &str, cx: &Context) -> Self {
        let args: Vec<&Node> = c.get("command").into_iter().chain(c.get("args")).flat_map(Node::items).collect();
        let words: Vec<&str> = args.iter().filter_map(|a| a.str()).flat_map(str::split_whitespace).collect();
        let image = cx.image(c.get("image").and_then(Node::str).unwrap_or(""));
        let env = env_of(c, namespace, &cx.config_maps);
        let ros = image_ros(&image, &words);
        let rmw = rmw_of(ros, &env);
        let file = |path: &str| mounted_file(spec, c, path, namespace, &cx.config_maps);
        let profile_vars = match ros {
            Ros::Two(d) => super::distro::fastdds_profile_vars(d),
            _ => &["FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE"],
        };
        let fastdds_profile = profile_vars.iter().find_map(|k| env.get(*k)).map(|(path, _)| file(path));
        let cyclone_config = env.get("CYCLONEDDS_URI").map(|(uri, _)| {
            if uri.trim_start().starts_with('<') {
                Some(uri.clone())
            } else {
                file(uri.trim().trim_start_matches("file://"))
            }
        });
        Container {
            node: c,
            name: c.get("name").and_then(Node::str).unwrap_or("?"),
            image,
            words,
            args,
            env,
            ros,
            rmw,
            ports: ports_of(c),
            fastdds_profile,
            cyclone_config,
        }
    }
}

/// The containers and init containers of the pod spec `spec`, in `namespace`.
pub(super) fn containers_of<'a>(spec: &'a Node, namespace: &str, cx: &Context) -> Vec<Container<'a>> {
    spec.get("containers")
        .into_iter()
        .chain(spec.get("initContainers"))
        .flat_map(Node::items)
        .map(|c| Container::read(spec, c, namespace, cx))
        .collect()
}

/// The RMW a container uses: `RMW_IMPLEMENTATION`, else its distro's default (Cyclone DDS on
/// Galactic, Fast DDS on the others).
fn rmw_of(ros: Ros, env: &Env) -> String {
    let default_rmw = if let Ros::Two(Some("galactic")) = ros { "rmw_cyclonedds_cpp" } else { "rmw_fastrtps_cpp" };
    env.get("RMW_IMPLEMENTATION").map_or(default_rmw.to_owned(), |(v, _)| v.clone())
}

/// The `containerPort`s of container `c`, with their lines.
fn ports_of(c: &Node) -> Vec<(u64, usize)> {
    c.get("ports")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            let n = p.get("containerPort")?;
            Some((n.str()?.parse().ok()?, n.line()))
        })
        .collect()
}
