//! `harness lint`: ROS-on-Kubernetes pitfalls found in manifests before anything runs, each
//! with `file:line`, a severity and a fix. Every file of one invocation is one deployment, so
//! rules that compare workloads (domains, pods that can share a node, localhost links) see
//! them all. Reads Pod, Deployment, DaemonSet, StatefulSet, ReplicaSet, Job and CronJob
//! documents (multi-document YAML, `List`s opened), ConfigMaps for the environment they give
//! and Kustomizations for the image tags they set; other kinds are counted and skipped. Each
//! rule states a fact for the distro and RMW the manifest uses; what the manifest cannot say
//! is a note. Lines come from the YAML parser's own positions (granit-parser, the parser kube's
//! serde-saphyr uses), never from searching the text.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use granit_parser::{Event, Parser};
use serde::Serialize;

/// A YAML node with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Scalar(String, usize),
    Seq(Vec<Node>, usize),
    Map(Vec<(String, Node)>, usize),
    /// Aliases and anything the lint does not look into.
    Other(usize),
}

impl Node {
    pub fn line(&self) -> usize {
        match self {
            Node::Scalar(_, l) | Node::Seq(_, l) | Node::Map(_, l) | Node::Other(l) => *l,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries, _) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a path of keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }

    pub fn str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Node] {
        match self {
            Node::Seq(items, _) => items,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Map(entries, _) => entries,
            _ => &[],
        }
    }
}

/// Unreadable input: not YAML.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{col}: not YAML: {message}")]
pub struct LintInputError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// Every document of `text`, as trees with line numbers.
pub fn parse_documents(file: &str, text: &str) -> Result<Vec<Node>, LintInputError> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    // A stack of partially built collections: (sequence items | mapping entries, pending key).
    enum Open {
        Seq(Vec<Node>, usize),
        Map(Vec<(String, Node)>, Option<String>, usize),
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let push = |stack: &mut Vec<Open>, root: &mut Option<Node>, node: Node| match stack.last_mut() {
        Some(Open::Seq(items, _)) => items.push(node),
        Some(Open::Map(entries, key, _)) => match key.take() {
            Some(k) => entries.push((k, node)),
            None => *key = Some(node.str().map(str::to_owned).unwrap_or_default()),
        },
        None => *root = Some(node),
    };
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| LintInputError {
            file: file.to_owned(),
            line: e.marker().line(),
            col: e.marker().col() + 1,
            message: e.info().to_owned(),
        })?;
        let line = span.start.line();
        match event {
            Event::Scalar(value, ..) => push(&mut stack, &mut root, Node::Scalar(value.into_owned(), line)),
            Event::SequenceStart(..) => stack.push(Open::Seq(Vec::new(), line)),
            Event::MappingStart(..) => stack.push(Open::Map(Vec::new(), None, line)),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match stack.pop() {
                    Some(Open::Seq(items, l)) => Node::Seq(items, l),
                    Some(Open::Map(entries, _, l)) => Node::Map(entries, l),
                    None => Node::Other(line),
                };
                push(&mut stack, &mut root, node);
            }
            Event::Alias(..) | Event::UnresolvedAlias(..) => push(&mut stack, &mut root, Node::Other(line)),
            Event::DocumentEnd => {
                if let Some(r) = root.take() {
                    docs.push(r);
                }
                stack.clear();
            }
            _ => {}
        }
    }
    Ok(docs)
}

/// How sure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; the manifest alone cannot say whether it matters.
    Note,
    /// Fails under a condition the manifest cannot rule out (the message names it).
    Warning,
    /// Will not work as written.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One pitfall found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintFinding {
    pub file: String,
    pub line: usize,
    pub severity: Severity,
    pub rule: &'static str,
    /// `Kind/name` of the object.
    pub object: String,
    pub message: String,
    pub fix: String,
}

impl LintFinding {
    pub fn line_text(&self) -> String {
        format!(
            "{}:{}: {} [{}] {}: {} — fix: {}",
            self.file,
            self.line,
            self.severity.as_str(),
            self.rule,
            self.object,
            self.message,
            self.fix
        )
    }
}

/// One file of the set: its name, its text (for `# harness-lint: allow <rule>` comments) and
/// its documents.
#[derive(Debug)]
pub struct SourceFile {
    pub file: String,
    pub text: String,
    pub docs: Vec<Node>,
}

impl SourceFile {
    pub fn parse(file: &str, text: String) -> Result<Self, LintInputError> {
        let docs = parse_documents(file, &text)?;
        Ok(SourceFile { file: file.to_owned(), text, docs })
    }
}

/// What a lint of one set of manifests found, and what it did not look into.
#[derive(Debug, Default)]
pub struct LintReport {
    pub findings: Vec<LintFinding>,
    /// Workloads (pod templates) read.
    pub workloads: usize,
    /// Documents of kinds the lint does not look into, by kind (ConfigMaps are read for the
    /// environment they give, and counted here too).
    pub skipped: BTreeMap<String, usize>,
}

/// Shell operators that mean "a shell was expected here".
const SHELL_OPERATORS: [&str; 4] = ["&&", "||", ";", "|"];
const SHELLS: [&str; 8] = ["sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/bash", "/usr/bin/sh", "dash", "zsh"];
const WORKLOAD_KINDS: [&str; 7] = ["Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob"];
/// Ports k3s itself holds on every node (k3s docs, "Inbound rules for K3s nodes"; 80 and 443
/// through ServiceLB for the bundled Traefik): a hostNetwork container on one of them collides.
const K3S_NODE_PORTS: [(u64, &str); 9] = [
    (80, "Traefik through ServiceLB"),
    (443, "Traefik through ServiceLB"),
    (2379, "embedded etcd"),
    (2380, "embedded etcd"),
    (6443, "the Kubernetes API server"),
    (8472, "flannel VXLAN"),
    (10250, "the kubelet"),
    (51820, "flannel WireGuard"),
    (51821, "flannel WireGuard (IPv6)"),
];

/// Which ROS a container runs, as far as its image and command say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ros {
    None,
    /// ROS 1: no DDS.
    One,
    /// ROS 2, with the distro if the image names one.
    Two(Option<&'static str>),
}

const ROS1_DISTROS: [&str; 5] = ["noetic", "melodic", "kinetic", "lunar", "indigo"];
const ROS2_DISTROS: [&str; 10] =
    ["foxy", "galactic", "humble", "iron", "jazzy", "kilted", "rolling", "eloquent", "dashing", "lyrical"];

/// Distros whose Fast DDS has `FASTDDS_BUILTIN_TRANSPORTS` (Fast DDS 2.13 and later: Jazzy on)
/// and whose rmw has `ROS_STATIC_PEERS` (Iron on); `None` (no distro in the tag) counts as recent.
fn distro_at_least_jazzy(d: Option<&str>) -> bool {
    !matches!(d, Some("foxy" | "galactic" | "humble" | "iron" | "eloquent" | "dashing"))
}
fn distro_has_static_peers(d: Option<&str>) -> bool {
    !matches!(d, Some("foxy" | "galactic" | "humble" | "eloquent" | "dashing"))
}

struct Container<'a> {
    node: &'a Node,
    name: &'a str,
    /// The image, as a Kustomization of the set rewrites it.
    image: String,
    /// Command and args, each argument split at whitespace (a `sh -c` line is many words).
    words: Vec<&'a str>,
    /// The arguments as written, with their lines.
    args: Vec<&'a Node>,
    env: BTreeMap<String, (String, usize)>,
    ros: Ros,
    /// `rmw_fastrtps_cpp`, `rmw_cyclonedds_cpp`, … (ROS 2 only; the distro's default when unset).
    rmw: String,
    ports: Vec<(u64, usize)>,
    /// A Fast DDS XML profile it loads: `None` without one, `Some(None)` when the set does not
    /// hold it (not from a ConfigMap of the set), else its text.
    fastdds_profile: Option<Option<String>>,
    /// Its Cyclone DDS configuration (`CYCLONEDDS_URI`: inline XML, or a file from a ConfigMap).
    cyclone_config: Option<Option<String>>,
}

impl Container<'_> {
    fn fast_dds(&self) -> bool {
        matches!(self.ros, Ros::Two(_)) && (self.rmw.contains("fastrtps") || self.rmw.contains("fastdds"))
    }
    fn dds(&self) -> bool {
        matches!(self.ros, Ros::Two(_)) && !self.rmw.contains("zenoh")
    }
    fn distro(&self) -> Option<&'static str> {
        match self.ros {
            Ros::Two(d) => d,
            _ => None,
        }
    }
    fn env_is(&self, key: &str, pred: impl Fn(&str) -> bool) -> bool {
        self.env.get(key).is_some_and(|(v, _)| pred(v))
    }
    /// Fast DDS without shared memory: only UDP/TCP built-in transports, or a profile (which
    /// the lint cannot read: `None`).
    fn fastdds_without_shm(&self) -> Option<bool> {
        if self.env_is("FASTDDS_BUILTIN_TRANSPORTS", |v| !crate::diagnosis::builtin_transports_include_shm(v)) {
            return Some(true);
        }
        match &self.fastdds_profile {
            None => Some(false),
            Some(None) => None,
            // Shared memory stays unless the built-in transports are off and no SHM descriptor
            // is added back.
            Some(Some(xml)) => {
                Some(xml.contains("<useBuiltinTransports>false</useBuiltinTransports>") && !xml.contains("SHM"))
            }
        }
    }
    /// Discovery that does not rely on multicast, or configuration the lint cannot read.
    fn unicast_discovery(&self) -> bool {
        let set = |k: &str| self.env_is(k, |v| !v.trim().is_empty());
        let profile = |c: &Option<Option<String>>, unicast: &[&str]| match c {
            None => false,
            Some(None) => true,
            Some(Some(xml)) => unicast.iter().any(|u| xml.contains(u)),
        };
        let fastdds_unicast = [
            "initialPeersList",
            "<discoveryProtocol>CLIENT",
            "<discoveryProtocol>SUPER_CLIENT",
            "<discoveryProtocol>SERVER",
            "<discoveryProtocol>BACKUP",
        ];
        (set("ROS_STATIC_PEERS") && distro_has_static_peers(self.distro()))
            || set("ROS_DISCOVERY_SERVER")
            || profile(&self.fastdds_profile, &fastdds_unicast)
            || profile(&self.cyclone_config, &["<Peers>", "<Peer "])
            || self.env_is("ROS_AUTOMATIC_DISCOVERY_RANGE", |v| matches!(v, "OFF" | "LOCALHOST"))
            || self.env_is("ROS_LOCALHOST_ONLY", |v| v == "1")
    }
    /// The node name the container's ROS node gets, where the command fixes it.
    fn node_name(&self) -> Option<String> {
        if let Some(n) = self.words.iter().find_map(|w| w.strip_prefix("__node:=")) {
            return Some(n.to_owned());
        }
        // `ros2 run demo_nodes_cpp talker`: the demo nodes' names are their executables'.
        let i = self.words.iter().position(|w| *w == "run")?;
        let (pkg, exe) = (self.words.get(i + 1)?, self.words.get(i + 2)?);
        (pkg.starts_with("demo_nodes_") && matches!(*exe, "talker" | "listener")).then(|| (*exe).to_owned())
    }
}

/// Where the scheduler may put a workload's pods: key → allowed values.
#[derive(Default)]
struct Placement {
    node_name: Option<String>,
    constraints: BTreeMap<String, BTreeSet<String>>,
    /// Label sets this workload refuses to share a node with (required pod anti-affinity on
    /// the hostname topology).
    anti: Vec<BTreeMap<String, String>>,
}

struct Workload<'a> {
    file: &'a str,
    kind: &'a str,
    namespace: String,
    label: String,
    spec: &'a Node,
    labels: BTreeMap<String, String>,
    replicas: u64,
    host_network: Option<&'a Node>,
    host_ipc: Option<&'a Node>,
    host_pid: Option<&'a Node>,
    placement: Placement,
    containers: Vec<Container<'a>>,
}

fn is_true(n: Option<&Node>) -> bool {
    n.and_then(Node::str) == Some("true")
}

impl Workload<'_> {
    fn host_network(&self) -> bool {
        is_true(self.host_network)
    }
    fn host_ipc(&self) -> bool {
        is_true(self.host_ipc)
    }
    fn ros2(&self) -> bool {
        self.containers.iter().any(Container::dds)
    }
    fn fast_dds(&self) -> bool {
        self.containers.iter().any(Container::fast_dds)
    }
    fn daemon(&self) -> bool {
        self.kind == "DaemonSet"
    }
    fn pinned_node(&self) -> Option<&str> {
        if let Some(n) = &self.placement.node_name {
            return Some(n);
        }
        let h = self.placement.constraints.get("kubernetes.io/hostname")?;
        (h.len() == 1).then(|| h.iter().next().map(String::as_str)).flatten()
    }
    fn arch(&self) -> Option<&BTreeSet<String>> {
        self.placement.constraints.get("kubernetes.io/arch")
    }
    fn refuses(&self, other: &Workload) -> bool {
        self.placement.anti.iter().any(|sel| sel.iter().all(|(k, v)| other.labels.get(k) == Some(v)))
    }
    /// Two pods of these workloads can run on one node (the manifests do not rule it out).
    fn may_share_node(&self, other: &Workload) -> bool {
        if let (Some(a), Some(b)) = (&self.placement.node_name, &other.placement.node_name) {
            if a != b {
                return false;
            }
        }
        let (a, b) = (&self.placement.constraints, &other.placement.constraints);
        if a.iter().any(|(k, va)| b.get(k).is_some_and(|vb| va.is_disjoint(vb))) {
            return false;
        }
        !(self.refuses(other) || other.refuses(self))
    }
    /// Two pods of these workloads can run on different nodes.
    fn may_split(&self, other: &Workload) -> bool {
        match (self.pinned_node(), other.pinned_node()) {
            (Some(a), Some(b)) => a != b,
            _ => true,
        }
    }
    /// Several pods of this one workload can share a node.
    fn replicas_share_node(&self) -> bool {
        self.replicas > 1 && !self.daemon() && !self.refuses(self)
    }
    fn other_names(&self, others: &[&Workload]) -> String {
        others.iter().map(|o| o.label.as_str()).collect::<Vec<_>>().join(", ")
    }
}

fn image_ros(image: &str, words: &[&str]) -> Ros {
    let lower = image.to_ascii_lowercase();
    let repo = lower.rsplit('/').next().unwrap_or(&lower);
    let tag_words: Vec<&str> = repo.split([':', '-', '_', '.']).collect();
    let ours = lower.contains("chatter-harness/");
    let runs_ros2 = words.contains(&"ros2");
    let runs_ros1 = words.iter().any(|w| matches!(*w, "roslaunch" | "rosrun" | "roscore"));
    let ros_image = repo.starts_with("ros:") || repo.starts_with("ros-") || lower.contains("/ros:");
    if ours || !(runs_ros2 || runs_ros1 || ros_image) {
        return Ros::None;
    }
    if runs_ros1 || (!runs_ros2 && tag_words.iter().any(|w| ROS1_DISTROS.contains(w))) {
        return Ros::One;
    }
    Ros::Two(ROS2_DISTROS.iter().find(|d| tag_words.contains(d)).copied())
}

/// ConfigMaps of the set: (namespace, name) → key → (value, line).
type ConfigMaps = BTreeMap<(String, String), BTreeMap<String, (String, usize)>>;

/// What the set knows besides its workloads: ConfigMaps, and the image names a
/// Kustomization's `images:` rewrites (name → `newName:newTag` or `@digest`).
#[derive(Default)]
struct Context {
    config_maps: ConfigMaps,
    images: BTreeMap<String, String>,
}

impl Context {
    fn image(&self, image: &str) -> String {
        let name = image.split(['@', ':']).next().unwrap_or(image);
        // A tag after the last '/' (a registry port is not a tag).
        let tag_at = image.rfind(':').filter(|i| !image[*i..].contains('/'));
        match self.images.get(name) {
            Some(new) if tag_at.is_none() && !image.contains('@') => new.clone(),
            _ => image.to_owned(),
        }
    }
}

fn env_of(c: &Node, namespace: &str, config_maps: &ConfigMaps) -> BTreeMap<String, (String, usize)> {
    let mut env = BTreeMap::new();
    for from in c.get("envFrom").map(Node::items).unwrap_or_default() {
        let Some(name) = from.at(&["configMapRef", "name"]).and_then(Node::str) else { continue };
        let prefix = from.get("prefix").and_then(Node::str).unwrap_or("");
        for (k, v) in config_maps.get(&(namespace.to_owned(), name.to_owned())).into_iter().flatten() {
            env.insert(format!("{prefix}{k}"), v.clone());
        }
    }
    for e in c.get("env").map(Node::items).unwrap_or_default() {
        let Some(name) = e.get("name").and_then(Node::str) else { continue };
        let value = match (e.get("value"), e.at(&["valueFrom", "configMapKeyRef"])) {
            (Some(v), _) => (v.str().unwrap_or("").to_owned(), v.line()),
            (None, Some(r)) => {
                let cm = r.get("name").and_then(Node::str).unwrap_or("");
                let key = r.get("key").and_then(Node::str).unwrap_or("");
                config_maps
                    .get(&(namespace.to_owned(), cm.to_owned()))
                    .and_then(|m| m.get(key))
                    .cloned()
                    .unwrap_or((String::new(), e.line()))
            }
            (None, None) => (String::new(), e.line()),
        };
        env.insert(name.to_owned(), value);
    }
    env
}

fn placement_of(spec: &Node) -> Placement {
    let mut p =
        Placement { node_name: spec.get("nodeName").and_then(Node::str).map(str::to_owned), ..Placement::default() };
    let mut allow = |key: &str, values: BTreeSet<String>| {
        let entry = p.constraints.entry(key.to_owned()).or_insert_with(|| values.clone());
        *entry = entry.intersection(&values).cloned().collect();
    };
    for (k, v) in spec.get("nodeSelector").map(Node::entries).unwrap_or_default() {
        allow(k, v.str().into_iter().map(str::to_owned).collect());
    }
    let required = ["affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"];
    let terms = spec.at(&required).map(Node::items).unwrap_or_default();
    // Terms are ORed: only a single term narrows the placement for certain.
    if let [term] = terms {
        for e in term.get("matchExpressions").map(Node::items).unwrap_or_default() {
            let (Some(key), Some("In")) = (e.get("key").and_then(Node::str), e.get("operator").and_then(Node::str))
            else {
                continue;
            };
            allow(
                key,
                e.get("values")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::str)
                    .map(str::to_owned)
                    .collect(),
            );
        }
    }
    let anti = ["affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"];
    for term in spec.at(&anti).map(Node::items).unwrap_or_default() {
        if term.get("topologyKey").and_then(Node::str) != Some("kubernetes.io/hostname") {
            continue;
        }
        let labels = term.at(&["labelSelector", "matchLabels"]).map(Node::entries).unwrap_or_default();
        let sel: BTreeMap<String, String> =
            labels.iter().filter_map(|(k, v)| Some((k.clone(), v.str()?.to_owned()))).collect();
        if !sel.is_empty() {
            p.anti.push(sel);
        }
    }
    p
}

/// The documents of a file, `List`s opened.
fn flatten<'a>(docs: &'a [Node], out: &mut Vec<&'a Node>) {
    for d in docs {
        let kind = d.get("kind").and_then(Node::str).unwrap_or("");
        if kind.ends_with("List") && d.get("items").is_some() {
            flatten(d.get("items").map(Node::items).unwrap_or_default(), out);
        } else {
            out.push(d);
        }
    }
}

/// The text of `path` in a container, where a ConfigMap of the set is mounted there.
fn mounted_file(spec: &Node, c: &Node, path: &str, namespace: &str, config_maps: &ConfigMaps) -> Option<String> {
    for m in c.get("volumeMounts").map(Node::items).unwrap_or_default() {
        let (Some(at), Some(volume)) = (m.get("mountPath").and_then(Node::str), m.get("name").and_then(Node::str))
        else {
            continue;
        };
        let key = match m.get("subPath").and_then(Node::str) {
            Some(sub) if path == at => sub.to_owned(),
            Some(_) => continue,
            None => match path.strip_prefix(at.trim_end_matches('/')).and_then(|r| r.strip_prefix('/')) {
                Some(key) if !key.contains('/') => key.to_owned(),
                _ => continue,
            },
        };
        let volumes = spec.get("volumes").map(Node::items).unwrap_or_default();
        let vol = volumes.iter().find(|v| v.get("name").and_then(Node::str) == Some(volume))?;
        let cm = vol.at(&["configMap", "name"]).and_then(Node::str)?;
        // `items` may map keys to other file names.
        let items = vol.at(&["configMap", "items"]).map(Node::items).unwrap_or_default();
        let key = items
            .iter()
            .find(|i| i.get("path").and_then(Node::str) == Some(key.as_str()))
            .and_then(|i| i.get("key").and_then(Node::str))
            .map_or(key.clone(), str::to_owned);
        return config_maps.get(&(namespace.to_owned(), cm.to_owned()))?.get(&key).map(|(v, _)| v.clone());
    }
    None
}

fn workload<'a>(file: &'a str, doc: &'a Node, cx: &Context) -> Option<Workload<'a>> {
    let kind = doc.get("kind").and_then(Node::str)?;
    let name = doc.at(&["metadata", "name"]).and_then(Node::str).unwrap_or("?");
    let namespace = doc.at(&["metadata", "namespace"]).and_then(Node::str).unwrap_or("default").to_owned();
    let (meta, spec) = match kind {
        "Pod" => (doc.get("metadata"), doc.get("spec")?),
        "Deployment" | "DaemonSet" | "StatefulSet" | "ReplicaSet" | "Job" => {
            (doc.at(&["spec", "template", "metadata"]), doc.at(&["spec", "template", "spec"])?)
        }
        "CronJob" => (
            doc.at(&["spec", "jobTemplate", "spec", "template", "metadata"]),
            doc.at(&["spec", "jobTemplate", "spec", "template", "spec"])?,
        ),
        _ => return None,
    };
    let replicas = match kind {
        "Deployment" | "StatefulSet" | "ReplicaSet" => {
            doc.at(&["spec", "replicas"]).and_then(Node::str).and_then(|r| r.parse().ok()).unwrap_or(1)
        }
        "Job" => doc.at(&["spec", "parallelism"]).and_then(Node::str).and_then(|r| r.parse().ok()).unwrap_or(1),
        _ => 1,
    };
    let labels = meta
        .and_then(|m| m.get("labels"))
        .map(Node::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.str()?.to_owned())))
        .collect();
    let containers = spec
        .get("containers")
        .into_iter()
        .chain(spec.get("initContainers"))
        .flat_map(Node::items)
        .map(|c| {
            let args: Vec<&Node> = c.get("command").into_iter().chain(c.get("args")).flat_map(Node::items).collect();
            let words: Vec<&str> = args.iter().filter_map(|a| a.str()).flat_map(str::split_whitespace).collect();
            let image = cx.image(c.get("image").and_then(Node::str).unwrap_or(""));
            let env = env_of(c, &namespace, &cx.config_maps);
            let ros = image_ros(&image, &words);
            let default_rmw =
                if let Ros::Two(Some("galactic")) = ros { "rmw_cyclonedds_cpp" } else { "rmw_fastrtps_cpp" };
            let rmw = env.get("RMW_IMPLEMENTATION").map_or(default_rmw.to_owned(), |(v, _)| v.clone());
            let ports = c
                .get("ports")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(|p| {
                    let n = p.get("containerPort")?;
                    Some((n.str()?.parse().ok()?, n.line()))
                })
                .collect();
            let file = |path: &str| mounted_file(spec, c, path, &namespace, &cx.config_maps);
            let fastdds_profile = ["FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE"]
                .iter()
                .find_map(|k| env.get(*k))
                .map(|(path, _)| file(path));
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
                ports,
                fastdds_profile,
                cyclone_config,
            }
        })
        .collect();

    Some(Workload {
        file,
        kind,
        label: format!("{kind}/{name}"),
        namespace,
        spec,
        labels,
        replicas,
        host_network: spec.get("hostNetwork"),
        host_ipc: spec.get("hostIPC"),
        host_pid: spec.get("hostPID"),
        placement: placement_of(spec),
        containers,
    })
}

/// Collects findings, dropping those a `# harness-lint: allow <rule>` comment on the line or
/// the line above permits.
struct Out<'a> {
    files: &'a [SourceFile],
    findings: Vec<LintFinding>,
}

impl Out<'_> {
    fn push(&mut self, w: &Workload, line: usize, severity: Severity, rule: &'static str, message: String, fix: &str) {
        let allowed = self.files.iter().find(|f| f.file == w.file).is_some_and(|f| {
            let lines: Vec<&str> = f.text.lines().collect();
            [line.checked_sub(2), line.checked_sub(1)].into_iter().flatten().filter_map(|i| lines.get(i)).any(|l| {
                l.split_once('#').is_some_and(|(_, c)| {
                    c.trim().strip_prefix("harness-lint: allow").is_some_and(|r| r.split([' ', ',']).any(|x| x == rule))
                })
            })
        });
        if !allowed {
            self.findings.push(LintFinding {
                file: w.file.to_owned(),
                line,
                severity,
                rule,
                object: w.label.clone(),
                message,
                fix: fix.to_owned(),
            });
        }
    }
}

/// Lints a set of files as one deployment: rules that compare workloads (domains, shared
/// nodes, localhost links) see every file.
pub fn lint_set(files: &[SourceFile]) -> LintReport {
    let mut report = LintReport::default();
    let mut docs = Vec::new();
    for f in files {
        let mut d = Vec::new();
        flatten(&f.docs, &mut d);
        docs.extend(d.into_iter().map(|d| (f.file.as_str(), d)));
    }
    let mut cx = Context::default();
    for (_, d) in &docs {
        match d.get("kind").and_then(Node::str) {
            Some("ConfigMap") => {
                let ns = d.at(&["metadata", "namespace"]).and_then(Node::str).unwrap_or("default");
                let name = d.at(&["metadata", "name"]).and_then(Node::str).unwrap_or("");
                let data = d.get("data").map(Node::entries).unwrap_or_default();
                cx.config_maps.insert(
                    (ns.to_owned(), name.to_owned()),
                    data.iter().map(|(k, v)| (k.clone(), (v.str().unwrap_or("").to_owned(), v.line()))).collect(),
                );
            }
            Some("Kustomization") => {
                for i in d.get("images").map(Node::items).unwrap_or_default() {
                    let Some(name) = i.get("name").and_then(Node::str) else { continue };
                    let new_name = i.get("newName").and_then(Node::str).unwrap_or(name);
                    let new = match (i.get("digest").and_then(Node::str), i.get("newTag").and_then(Node::str)) {
                        (Some(d), _) => format!("{new_name}@{d}"),
                        (None, Some(t)) => format!("{new_name}:{t}"),
                        (None, None) => continue,
                    };
                    cx.images.entry(name.to_owned()).or_insert(new);
                }
            }
            _ => {}
        }
    }
    let mut workloads = Vec::new();
    for (file, d) in &docs {
        match workload(file, d, &cx) {
            Some(w) => workloads.push(w),
            None => {
                let kind = d.get("kind").and_then(Node::str).unwrap_or("(no kind)");
                if !WORKLOAD_KINDS.contains(&kind) || d.get("kind").is_none() {
                    *report.skipped.entry(kind.to_owned()).or_default() += 1;
                }
            }
        }
    }
    report.workloads = workloads.len();
    let services: BTreeSet<&str> = docs
        .iter()
        .filter(|(_, d)| d.get("kind").and_then(Node::str) == Some("Service"))
        .filter_map(|(_, d)| d.at(&["metadata", "name"]).and_then(Node::str))
        .collect();
    let mut out = Out { files, findings: Vec::new() };
    for w in &workloads {
        shell_operator_without_shell(w, &mut out);
        ros_localhost_only(w, &workloads, &mut out);
        arch_image_without_selector(w, &mut out);
        host_network_dns(w, &services, &mut out);
        python_stdout_buffered(w, &mut out);
        runtime_package_install(w, &mut out);
        image_pull_always_on_robot(w, &mut out);
        host_pid_ipc_unneeded(w, &mut out);
        host_network_port_taken(w, &mut out);
        discovery_server_single(w, &mut out);
    }
    ros_domain_mismatch(&workloads, &mut out);
    fastdds_host_network_shm(&workloads, &mut out);
    multicast_discovery_across_nodes(&workloads, &mut out);
    duplicate_node_name(&workloads, &mut out);
    localhost_between_pods(&workloads, &mut out);
    report.findings = out.findings;
    report.findings.sort_by(|a, b| (&a.file, a.line, a.rule).cmp(&(&b.file, b.line, b.rule)));
    report
}

/// Lints one file's documents on their own.
pub fn lint(file: &str, docs: &[Node]) -> Vec<LintFinding> {
    lint_set(&[SourceFile { file: file.to_owned(), text: String::new(), docs: docs.to_vec() }]).findings
}

/// `&&`, `;`, `|` in `command`/`args` without a shell: the seed's in-pod listener never started.
fn shell_operator_without_shell(w: &Workload, out: &mut Out) {
    for c in &w.containers {
        if c.node
            .get("command")
            .map(Node::items)
            .unwrap_or_default()
            .first()
            .and_then(Node::str)
            .is_some_and(|p| SHELLS.contains(&p))
        {
            continue;
        }
        for a in &c.args {
            let Some(text) = a.str() else { continue };
            // `a && b`, and `a; b` (the semicolon ends a word; not inside `KEY=a;b`).
            let operator =
                |t: &str, op: &str| t == op || (op == ";" && t.len() > 1 && t.ends_with(';') && !t.contains('='));
            if let Some(op) = SHELL_OPERATORS.iter().find(|op| text.split_whitespace().any(|t| operator(t, op))) {
                out.push(
                    w,
                    a.line(),
                    Severity::Error,
                    "shell-operator-without-shell",
                    format!(
                        "container {}: `{op}` in \"{text}\" is passed to the program as an argument — no shell runs \
                         it, so the second command never starts",
                        c.name
                    ),
                    "one process per container (a second container for the second node), or `command: [sh, -c]` \
                     with the whole line as one argument",
                );
            }
        }
    }
}

/// `ROS_LOCALHOST_ONLY=1` (or a LOCALHOST discovery range): only this pod's network namespace
/// hears the node.
fn ros_localhost_only(w: &Workload, all: &[Workload], out: &mut Out) {
    let others = all.iter().any(|o| !std::ptr::eq(o, w) && o.ros2());
    for c in &w.containers {
        let hit = ["ROS_LOCALHOST_ONLY", "ROS_AUTOMATIC_DISCOVERY_RANGE"]
            .iter()
            .find_map(|k| c.env.get(*k).filter(|(v, _)| v == "1" || v == "LOCALHOST").map(|(v, l)| (*k, v, *l)));
        let Some((key, value, line)) = hit else { continue };
        let reach = if w.host_network() { "processes on its node's network" } else { "the containers of this pod" };
        out.push(
            w,
            line,
            if others { Severity::Warning } else { Severity::Note },
            "ros-localhost-only",
            format!(
                "container {}: {key}={value} keeps DDS on loopback: only {reach} hear it{}",
                c.name,
                if others { ", not the other ROS workloads here" } else { "" }
            ),
            "remove it (or ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET) where other pods must hear this node",
        );
    }
}

/// An arm64- or amd64-only tag without a selector that keeps the pod on that architecture.
fn arch_image_without_selector(w: &Workload, out: &mut Out) {
    for c in &w.containers {
        let Some(image) = c.node.get("image") else { continue };
        let tag = c.image.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
        let arch = ["arm64", "aarch64", "arm64v8"]
            .iter()
            .map(|a| (a, "arm64"))
            .chain(["amd64", "x86_64", "x86-64"].iter().map(|a| (a, "amd64")))
            .find(|(a, _)| tag.contains(**a));
        let Some((_, arch)) = arch else { continue };
        if w.arch().is_some_and(|a| a.len() == 1 && a.contains(arch)) {
            continue;
        }
        out.push(
            w,
            image.line(),
            Severity::Warning,
            "arch-image-without-selector",
            format!(
                "container {}: image {} looks {arch}-only, but nothing keeps the pod on {arch} nodes: on another \
                 architecture it fails with `exec format error`",
                c.name, c.image
            ),
            "add `nodeSelector: {kubernetes.io/arch: ...}`, or publish a multi-arch image",
        );
    }
}

/// hostNetwork without `dnsPolicy: ClusterFirstWithHostNet`: Service names do not resolve —
/// a warning when the pod names a Service, otherwise only a note.
fn host_network_dns(w: &Workload, services: &BTreeSet<&str>, out: &mut Out) {
    if !w.host_network() || w.spec.get("dnsPolicy").and_then(Node::str) == Some("ClusterFirstWithHostNet") {
        return;
    }
    let names_service = w.containers.iter().any(|c| {
        c.words
            .iter()
            .chain(c.env.values().map(|(v, _)| v).flat_map(|v| v.split([' ', ',', ';'])).collect::<Vec<_>>().iter())
            .any(|t| t.contains(".svc") || services.iter().any(|s| t.split([':', '/', '.']).any(|p| p == *s)))
    });
    let line = w.spec.get("dnsPolicy").or(w.host_network).map_or(w.spec.line(), Node::line);
    let (severity, message) = if names_service {
        (Severity::Warning, "hostNetwork without dnsPolicy: ClusterFirstWithHostNet, and the pod names a Service: it resolves with the node's DNS and does not find it")
    } else {
        (Severity::Note, "hostNetwork without dnsPolicy: ClusterFirstWithHostNet: the pod resolves with the node's DNS, so cluster Service names would not resolve (none is named here)")
    };
    out.push(
        w,
        line,
        severity,
        "host-network-dns",
        message.into(),
        "add `dnsPolicy: ClusterFirstWithHostNet` if it resolves Service names",
    );
}

/// What really buffers a pipe: Python's `print` without unbuffered output, `ros2 topic echo`
/// (print, too), ROS 1's rosconsole. ROS 2 loggers write to stderr unbuffered (measured on
/// Jazzy: a SIGKILLed rclpy talker had every line out).
fn python_stdout_buffered(w: &Workload, out: &mut Out) {
    for c in &w.containers {
        if is_true(c.node.get("tty")) {
            continue;
        }
        let unbuffered = c.env_is("PYTHONUNBUFFERED", |v| !v.is_empty() && v != "0");
        let python = c.words.iter().position(|x| x.rsplit('/').next().is_some_and(|b| b.starts_with("python")));
        let python_script =
            python.is_some_and(|i| c.words.get(i + 1).is_some_and(|a| *a != "-u" && !a.starts_with("-u")));
        let echo = c.words.windows(3).any(|x| x == ["ros2", "topic", "echo"]);
        let what = if c.ros == Ros::One && !c.env_is("ROSCONSOLE_STDOUT_LINE_BUFFERED", |v| v == "1") {
            Some((
                "a ROS 1 node: rosconsole writes INFO to stdout, block-buffered on a pipe",
                "set ROSCONSOLE_STDOUT_LINE_BUFFERED=1 (rospy: PYTHONUNBUFFERED=1)",
            ))
        } else if !unbuffered && echo {
            Some(("`ros2 topic echo` prints with Python's print: on a pipe (kubectl logs) its output comes in blocks, late, and is lost if the process is killed", "set PYTHONUNBUFFERED=1"))
        } else if !unbuffered && python_script {
            Some(("a Python program: its print() output to a pipe is block-buffered (kubectl logs shows it late, or never if it is killed); ROS 2 logger output goes to stderr unbuffered and is not affected", "set PYTHONUNBUFFERED=1 or run `python -u`"))
        } else {
            None
        };
        if let Some((what, fix)) = what {
            out.push(w, c.node.line(), Severity::Note, "stdout-buffered", format!("container {}: {what}", c.name), fix);
        }
    }
}

/// Packages fetched when the container starts.
fn runtime_package_install(w: &Workload, out: &mut Out) {
    for c in &w.containers {
        let found = c.words.windows(2).find_map(|x| match x {
            [a, "install"] if matches!(*a, "apt-get" | "apt" | "pip" | "pip3" | "rosdep" | "npm") => {
                Some(format!("{a} install"))
            }
            [a, _] if matches!(*a, "curl" | "wget") => Some((*a).to_owned()),
            ["git", "clone"] => Some("git clone".to_owned()),
            _ => None,
        });
        let Some(what) = found else { continue };
        let line = c
            .args
            .iter()
            .find(|a| a.str().is_some_and(|t| t.contains(what.split(' ').next().unwrap_or(""))))
            .map_or(c.node.line(), |a| a.line());
        out.push(
            w,
            line,
            Severity::Warning,
            "runtime-package-install",
            format!(
                "container {}: `{what}` runs at every start: on a node without network (a robot in the field) the \
                 container fails to start, and each restart downloads again",
                c.name
            ),
            "install it in the image (a Dockerfile layer) and start only the node",
        );
    }
}

/// `imagePullPolicy: Always` (explicit, or implied by `:latest`/no tag) on robot-side workloads.
fn image_pull_always_on_robot(w: &Workload, out: &mut Out) {
    let robot = w.arch().is_some_and(|a| a.iter().all(|x| x == "arm64" || x == "arm"))
        || w.placement.constraints.iter().any(|(k, v)| k.contains("robot") || v.iter().any(|x| x.contains("robot")));
    if !robot {
        return;
    }
    for c in &w.containers {
        let image = c.image.as_str();
        let last = image.rsplit('/').next().unwrap_or(image);
        let tag = last.split_once('@').map_or(last, |(n, _)| n).split_once(':').map(|(_, t)| t);
        let policy = c.node.get("imagePullPolicy");
        let always = match policy.and_then(Node::str) {
            Some(p) => p == "Always",
            None => !image.contains('@') && matches!(tag, None | Some("latest")),
        };
        if !always {
            continue;
        }
        let why = if policy.is_some() {
            "imagePullPolicy: Always"
        } else {
            "no tag or `:latest` (Kubernetes then defaults imagePullPolicy to Always)"
        };
        out.push(
            w,
            policy.map_or(c.node.line(), Node::line),
            Severity::Warning,
            "image-pull-always-on-robot",
            format!(
                "container {}: {why} on a workload kept on robot (arm64) nodes: every restart needs the registry; a \
                 robot without network stays in ImagePullBackOff",
                c.name
            ),
            "pin a version tag and `imagePullPolicy: IfNotPresent`",
        );
    }
}

/// hostPID for a ROS pod; hostIPC on the pod network (where Fast DDS never picks shared
/// memory between pods: measured, pods of one node on the pod network deliver with their own
/// /dev/shm).
fn host_pid_ipc_unneeded(w: &Workload, out: &mut Out) {
    if !w.ros2() {
        return;
    }
    if let Some(n) = w.host_pid.filter(|n| is_true(Some(n))) {
        out.push(
            w,
            n.line(),
            Severity::Note,
            "host-pid-ipc-unneeded",
            "hostPID: ROS 2 does not need the node's process namespace; the pod sees and can signal every process on the node".into(),
            "remove hostPID",
        );
    }
    if let Some(n) = w.host_ipc.filter(|n| is_true(Some(n)) && !w.host_network()) {
        out.push(
            w,
            n.line(),
            Severity::Note,
            "host-pid-ipc-unneeded",
            "hostIPC on the pod network: each pod has its own network namespace, so Fast DDS uses UDP between pods \
             and never the node's shared memory (measured: pods of one node on the pod network deliver, each with \
             its own /dev/shm); hostIPC only shares the node's IPC with the pod"
                .into(),
            "remove hostIPC (it is needed only with hostNetwork: true and Fast DDS shared memory)",
        );
    }
}

/// A hostNetwork container listening on a port k3s holds on every node.
fn host_network_port_taken(w: &Workload, out: &mut Out) {
    if !w.host_network() {
        return;
    }
    for c in &w.containers {
        for (port, line) in &c.ports {
            if let Some((_, owner)) = K3S_NODE_PORTS.iter().find(|(p, _)| p == port) {
                out.push(
                    w,
                    *line,
                    Severity::Warning,
                    "host-network-port-taken",
                    format!("container {}: port {port} on the host network: k3s holds it on its nodes ({owner}), so binding it fails there", c.name),
                    "use another port, or the pod network with a Service",
                );
            }
        }
    }
}

/// A Fast DDS discovery server with no second one: when its node goes, nothing new discovers.
fn discovery_server_single(w: &Workload, out: &mut Out) {
    let Some(c) = w.containers.iter().find(|c| {
        c.words.iter().any(|x| x.ends_with("fast-discovery-server") || x.ends_with("fastdds-discovery-server"))
            || c.words.windows(2).any(|x| x == ["fastdds", "discovery"])
    }) else {
        return;
    };
    let (message, severity) = if w.replicas <= 1 && !w.daemon() {
        ("one discovery server and no second: while its node is down or the pod restarts, no ROS node discovers a new peer", Severity::Warning)
    } else if w.replicas_share_node() {
        ("discovery server replicas without pod anti-affinity on kubernetes.io/hostname: they can all land on one node, which then takes discovery down with it", Severity::Warning)
    } else {
        return;
    };
    out.push(
        w,
        c.node.line(),
        severity,
        "discovery-server-single",
        format!("container {}: {message}", c.name),
        "run a second server on another node (required pod anti-affinity on kubernetes.io/hostname) and list both in ROS_DISCOVERY_SERVER (`a;b`)",
    );
}

/// Different `ROS_DOMAIN_ID`s in one namespace: those nodes never discover each other.
fn ros_domain_mismatch(all: &[Workload], out: &mut Out) {
    let mut by_ns: BTreeMap<&str, Vec<(&Workload, &Container, String, usize)>> = BTreeMap::new();
    for w in all {
        for c in &w.containers {
            if c.dds() || c.env.contains_key("ROS_DOMAIN_ID") {
                let (d, l) =
                    c.env.get("ROS_DOMAIN_ID").map_or(("0".to_owned(), c.node.line()), |(v, l)| (v.clone(), *l));
                by_ns.entry(&w.namespace).or_default().push((w, c, d, l));
            }
        }
    }
    for set in by_ns.values() {
        let distinct: BTreeSet<&str> = set.iter().map(|(_, _, d, _)| d.as_str()).collect();
        if distinct.len() < 2 {
            continue;
        }
        let all: Vec<String> = set.iter().map(|(w, c, d, _)| format!("{} container {}={d}", w.label, c.name)).collect();
        for (w, c, d, line) in set {
            out.push(
                w,
                *line,
                Severity::Warning,
                "ros-domain-mismatch",
                format!(
                    "container {}: ROS_DOMAIN_ID {d}, while others in namespace {} use another ({}): different domains never discover each other",
                    c.name,
                    w.namespace,
                    all.join(", ")
                ),
                "use one ROS_DOMAIN_ID for every node on a topic (or `# harness-lint: allow ros-domain-mismatch` where the split is meant)",
            );
        }
    }
}

/// Fast DDS pods on the host network that can share a node without sharing /dev/shm: one
/// Fast DDS host, shared memory chosen, nothing arrives (measured on Jazzy and Kilted: the
/// pair between two hostNetwork pods on one node heard 0 of 3 trials; UDPv4 delivered).
fn fastdds_host_network_shm(all: &[Workload], out: &mut Out) {
    let hn: Vec<&Workload> = all.iter().filter(|w| w.host_network() && w.fast_dds()).collect();
    for w in &hn {
        let shm_off: Vec<Option<bool>> =
            w.containers.iter().filter(|c| c.fast_dds()).map(Container::fastdds_without_shm).collect();
        if shm_off.iter().all(|s| *s == Some(true)) {
            continue;
        }
        let neighbours: Vec<&Workload> = hn
            .iter()
            .filter(|o| !std::ptr::eq(**o, *w) && w.may_share_node(o) && !(w.host_ipc() && o.host_ipc()))
            .copied()
            .collect();
        if neighbours.is_empty() {
            continue;
        }
        let distro = w.containers.iter().find_map(Container::distro);
        let fix = if distro_at_least_jazzy(distro) {
            "set FASTDDS_BUILTIN_TRANSPORTS=UDPv4 in every Fast DDS container on the host network (or hostIPC: true on all of them, or anti-affinity that keeps them on different nodes)"
        } else {
            "a UDP-only Fast DDS XML profile (FASTRTPS_DEFAULT_PROFILES_FILE; this distro's Fast DDS predates FASTDDS_BUILTIN_TRANSPORTS), or hostIPC: true on all of them"
        };
        let same = neighbours.iter().all(|o| w.pinned_node().is_some() && w.pinned_node() == o.pinned_node());
        let unreadable = shm_off.contains(&None);
        let (severity, when) = if unreadable {
            (
                Severity::Note,
                "it loads a Fast DDS profile the lint cannot read; unless that profile turns shared memory off,",
            )
        } else if same {
            (Severity::Error, "they are pinned to one node, so")
        } else {
            (Severity::Warning, "nothing keeps them on different nodes, and where they meet")
        };
        let line = w.host_network.map_or(w.spec.line(), Node::line);
        out.push(
            w,
            line,
            severity,
            "fastdds-host-network-shm",
            format!(
                "Fast DDS on the host network beside {}: {when} they share the node's network namespace (one Fast DDS host, so Fast DDS sends through shared memory) but not its /dev/shm (each pod has its own) — discovery works, data never arrives (measured on ROS 2 Jazzy and Kilted)",
                w.other_names(&neighbours)
            ),
            fix,
        );
    }
}

/// ROS 2 pods on the pod network that discover by multicast, and can run on different nodes.
fn multicast_discovery_across_nodes(all: &[Workload], out: &mut Out) {
    let ros: Vec<&Workload> = all.iter().filter(|w| w.ros2()).collect();
    for w in &ros {
        if w.host_network() || w.containers.iter().filter(|c| c.dds()).all(Container::unicast_discovery) {
            continue;
        }
        let apart: Vec<&Workload> = ros.iter().filter(|o| !std::ptr::eq(**o, *w) && w.may_split(o)).copied().collect();
        let spread_alone = w.daemon() || (w.replicas > 1 && w.pinned_node().is_none());
        if apart.is_empty() && !spread_alone {
            continue;
        }
        let with = if apart.is_empty() { "its own replicas on other nodes".to_owned() } else { w.other_names(&apart) };
        let distro = w.containers.iter().find_map(Container::distro);
        let peers_note = match w.containers.iter().find(|c| c.env.contains_key("ROS_STATIC_PEERS")) {
            Some(_) if !distro_has_static_peers(distro) => {
                " (ROS_STATIC_PEERS is set, but this distro's rmw predates it: Iron and later read it)"
            }
            _ => "",
        };
        let line = w.spec.get("containers").map_or(w.spec.line(), Node::line);
        out.push(
            w,
            line,
            Severity::Warning,
            "multicast-discovery-across-nodes",
            format!(
                "ROS 2 on the pod network discovers by multicast (SPDP, 239.255.0.1){peers_note}, and it can run on a \
                 different node from {with}: on a CNI that does not carry multicast between nodes — flannel, the \
                 k3s default — they never discover each other (measured on the simulated flannel: 0 across nodes, \
                 every pair on one node delivered); `harness doctor` checks a live cluster"
            ),
            if distro_has_static_peers(distro) {
                "unicast discovery: ROS_STATIC_PEERS with the peers' addresses, a Fast DDS discovery server (ROS_DISCOVERY_SERVER), or Cyclone DDS Peers; or a CNI that carries multicast (`harness matrix` measures each)"
            } else {
                "unicast discovery: a Fast DDS discovery server (ROS_DISCOVERY_SERVER) or Cyclone DDS Peers; or a CNI that carries multicast (`harness matrix` measures each)"
            },
        );
    }
}

/// Two ROS 2 nodes with one name on a graph (fixed names with replicas, or in two places).
fn duplicate_node_name(all: &[Workload], out: &mut Out) {
    /// (domain, namespace, name) → where it runs.
    type Names<'w, 'a> = BTreeMap<(String, String, String), Vec<(&'w Workload<'a>, &'w Container<'a>)>>;
    let mut seen: Names = BTreeMap::new();
    for w in all {
        for c in w.containers.iter().filter(|c| c.dds()) {
            let Some(name) = c.node_name() else { continue };
            let ns = c.words.iter().find_map(|x| x.strip_prefix("__ns:=")).unwrap_or("/").to_owned();
            let domain = c.env.get("ROS_DOMAIN_ID").map_or("0".to_owned(), |(v, _)| v.clone());
            seen.entry((domain, ns, name)).or_default().push((w, c));
        }
    }
    for ((_, ns, name), at) in &seen {
        let replicated: Vec<&(&Workload, &Container)> =
            at.iter().filter(|(w, _)| w.replicas > 1 || w.daemon()).collect();
        if at.len() < 2 && replicated.is_empty() {
            continue;
        }
        for (w, c) in at {
            let elsewhere: Vec<String> = at
                .iter()
                .filter(|(ow, oc)| !(std::ptr::eq(*ow, *w) && std::ptr::eq(*oc, *c)))
                .map(|(ow, oc)| format!("{} container {}", ow.label, oc.name))
                .collect();
            let many = if elsewhere.is_empty() {
                "in every replica".to_owned()
            } else {
                format!("also in {}", elsewhere.join(", "))
            };
            let full = if ns == "/" { format!("/{name}") } else { format!("{ns}/{name}") };
            out.push(
                w,
                c.node.line(),
                Severity::Note,
                "duplicate-node-name",
                format!(
                    "container {}: ROS node name {full} {many}: ROS 2 does not support two nodes of one name — `ros2 node`, `ros2 param` and the node's services reach only one of them (topics still flow)",
                    c.name
                ),
                "give each a name of its own (`--ros-args -r __node:=<name>`, or a namespace per replica)",
            );
        }
    }
}

/// `localhost:PORT` to a port that another pod serves: works only while both share a network
/// namespace (hostNetwork on one node).
fn localhost_between_pods(all: &[Workload], out: &mut Out) {
    for w in all {
        let own: BTreeSet<u64> = w.containers.iter().flat_map(|c| c.ports.iter().map(|(p, _)| *p)).collect();
        for c in &w.containers {
            let texts = c
                .args
                .iter()
                .filter_map(|a| a.str().map(|t| (t, a.line())))
                .chain(c.env.values().map(|(v, l)| (v.as_str(), *l)));
            for (text, line) in texts {
                for host in ["localhost:", "127.0.0.1:"] {
                    let Some(rest) = text.split(host).nth(1) else { continue };
                    let Ok(port) = rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse::<u64>()
                    else {
                        continue;
                    };
                    if own.contains(&port) {
                        continue;
                    }
                    let servers: Vec<&Workload> = all
                        .iter()
                        .filter(|o| {
                            !std::ptr::eq(*o, w)
                                && o.containers.iter().any(|oc| oc.ports.iter().any(|(p, _)| *p == port))
                        })
                        .collect();
                    if servers.is_empty() {
                        continue;
                    }
                    out.push(
                        w,
                        line,
                        Severity::Warning,
                        "localhost-between-pods",
                        format!(
                            "container {}: {host}{port} is served by {}, another pod: loopback is per pod, so this works only while both are on the host network of one node",
                            c.name,
                            w.other_names(&servers)
                        ),
                        "reach it through a Service name (or put both containers in one pod)",
                    );
                }
            }
        }
    }
}

/// The findings as text, one per line.
pub fn text(findings: &[LintFinding]) -> String {
    let mut s = String::new();
    for f in findings {
        let _ = writeln!(s, "{}", f.line_text());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(files: &[(&str, &str)]) -> Vec<LintFinding> {
        let files: Vec<SourceFile> =
            files.iter().map(|(f, t)| SourceFile::parse(f, (*t).to_owned()).expect("yaml")).collect();
        lint_set(&files).findings
    }

    fn run(yaml: &str) -> Vec<LintFinding> {
        set(&[("t.yaml", yaml)])
    }

    fn rules(f: &[LintFinding]) -> Vec<(&'static str, usize, Severity)> {
        f.iter().map(|x| (x.rule, x.line, x.severity)).collect()
    }

    fn fired(f: &[LintFinding], rule: &str) -> usize {
        f.iter().filter(|x| x.rule == rule).count()
    }

    #[test]
    fn lines_come_from_the_parser() {
        let docs =
            parse_documents("t.yaml", "a: 1\n---\nkind: Pod\nspec:\n  containers:\n    - name: x\n").expect("yaml");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].at(&["spec", "containers"]).map(Node::line), Some(6));
        assert_eq!(docs[1].get("kind").map(Node::line), Some(3));
    }

    #[test]
    fn unreadable_input_names_where() {
        let e = parse_documents("bad.yaml", "a: [1, 2\nb: c\n").expect_err("unterminated");
        assert_eq!(e.file, "bad.yaml");
        assert!(e.line >= 1, "{e}");
    }

    /// The seed's pods as the team wrote them.
    const SEED: &str = "apiVersion: v1
kind: Pod
metadata: {name: demo-talkerlistener}
spec:
  nodeSelector: {kubernetes.io/arch: arm64}
  containers:
    - name: talkerlistener
      image: osrf/ros:humble-desktop
      command: [\"/ros_entrypoint.sh\"]
      args: [\"ros2 run demo_nodes_cpp talker && ros2 run demo_nodes_cpp listener\"]
---
apiVersion: v1
kind: Pod
metadata: {name: demo-listener}
spec:
  containers:
    - name: listener
      image: osrf/ros:humble-desktop
      command: [ros2, run, demo_nodes_cpp, listener]
";

    #[test]
    fn the_seed_has_its_two_failures_and_no_logging_claim() {
        let f = run(SEED);
        let r = rules(&f);
        assert!(r.contains(&("shell-operator-without-shell", 10, Severity::Error)), "{r:?}");
        assert_eq!(fired(&f, "multicast-discovery-across-nodes"), 2, "{r:?}");
        // The ROS 2 logger writes to stderr unbuffered: nothing about buffering for ros2 run.
        assert_eq!(fired(&f, "stdout-buffered"), 0, "{r:?}");
        let m = f.iter().find(|x| x.rule == "multicast-discovery-across-nodes").expect("present");
        // Humble has no ROS_STATIC_PEERS: the fix does not offer it.
        assert!(!m.fix.contains("ROS_STATIC_PEERS") && m.message.contains("flannel"), "{m:?}");
    }

    #[test]
    fn a_shell_makes_the_operator_fine() {
        let ok = run("kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: x\n      command: [sh, -c]\n      args: [\"a && b\"]\n");
        assert_eq!(fired(&ok, "shell-operator-without-shell"), 0, "{ok:?}");
    }

    const TWO_HOST_NETWORK: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: camera}
spec:
  template:
    spec:
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
      containers:
        - name: driver
          image: ros:jazzy-ros-base
          command: [ros2, run, usb_cam, usb_cam_node_exe]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: recorder}
spec:
  template:
    spec:
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
      containers:
        - name: bag
          image: ros:jazzy-ros-base
          command: [ros2, bag, record, -a]
";

    #[test]
    fn host_network_fast_dds_pods_that_can_meet_on_a_node_are_flagged() {
        let f = run(TWO_HOST_NETWORK);
        let r = rules(&f);
        assert!(r.contains(&("fastdds-host-network-shm", 7, Severity::Warning)), "{r:?}");
        assert!(r.contains(&("fastdds-host-network-shm", 20, Severity::Warning)), "{r:?}");
        let x = f.iter().find(|x| x.rule == "fastdds-host-network-shm").expect("present");
        assert!(
            x.fix.contains("FASTDDS_BUILTIN_TRANSPORTS=UDPv4") && x.message.contains("DaemonSet/recorder"),
            "{x:?}"
        );
        // Host network carries multicast: no multicast finding.
        assert_eq!(fired(&f, "multicast-discovery-across-nodes"), 0, "{r:?}");
        // UDPv4 in both, hostIPC in both, or nodes kept apart: silent.
        let udp = TWO_HOST_NETWORK.replace(
            "          command: [ros2,",
            "          env: [{name: FASTDDS_BUILTIN_TRANSPORTS, value: UDPv4}]\n          command: [ros2,",
        );
        assert_eq!(fired(&run(&udp), "fastdds-host-network-shm"), 0);
        let ipc =
            TWO_HOST_NETWORK.replace("      hostNetwork: true\n", "      hostNetwork: true\n      hostIPC: true\n");
        assert_eq!(fired(&run(&ipc), "fastdds-host-network-shm"), 0);
        let apart = TWO_HOST_NETWORK
            .replacen("      hostNetwork: true\n", "      nodeSelector: {kubernetes.io/hostname: pi}\n      hostNetwork: true\n", 1)
            .replacen("kind: DaemonSet", "kind: Deployment", 1)
            .replace("      dnsPolicy: ClusterFirstWithHostNet\n      containers:\n        - name: bag", "      dnsPolicy: ClusterFirstWithHostNet\n      nodeSelector: {kubernetes.io/hostname: master}\n      containers:\n        - name: bag");
        assert_eq!(fired(&run(&apart), "fastdds-host-network-shm"), 0, "{:?}", rules(&run(&apart)));
        // Pinned to one node: it will not work.
        let same =
            TWO_HOST_NETWORK.replace("      hostNetwork: true\n", "      nodeName: pi\n      hostNetwork: true\n");
        assert!(rules(&run(&same)).iter().any(|(r, _, s)| *r == "fastdds-host-network-shm" && *s == Severity::Error));
        // Cyclone DDS has no such shared memory default.
        let cyclone = TWO_HOST_NETWORK.replace(
            "          command: [ros2,",
            "          env: [{name: RMW_IMPLEMENTATION, value: rmw_cyclonedds_cpp}]\n          command: [ros2,",
        );
        assert_eq!(fired(&run(&cyclone), "fastdds-host-network-shm"), 0);
    }

    /// The old rule said containers of one pod lose Fast DDS messages without a /dev/shm
    /// volume: false on Kubernetes (a pod's containers share its /dev/shm; measured: the pod's
    /// own pair delivers). Nothing about shm for one multi-container pod.
    #[test]
    fn containers_of_one_pod_are_not_flagged_for_shared_memory() {
        let f = run("apiVersion: v1
kind: Pod
metadata: {name: both}
spec:
  containers:
    - {name: talker, image: 'ros:jazzy', command: [ros2, run, demo_nodes_cpp, talker]}
    - {name: listener, image: 'ros:jazzy', command: [ros2, run, demo_nodes_cpp, listener]}
");
        assert!(f.iter().all(|x| !x.rule.contains("shm")), "{f:?}");
        assert!(f.is_empty(), "one pod alone: nothing to say: {f:?}");
    }

    #[test]
    fn peers_or_a_discovery_server_silence_the_multicast_rule() {
        let pods = |env: &str| {
            format!(
                "kind: Pod\nmetadata: {{name: a}}\nspec:\n  containers:\n    - name: t\n      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, talker]\n{env}---\nkind: Pod\nmetadata: {{name: b}}\nspec:\n  containers:\n    - name: l\n      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, listener]\n{env}"
            )
        };
        assert_eq!(fired(&run(&pods("")), "multicast-discovery-across-nodes"), 2);
        let peers = "      env: [{name: ROS_STATIC_PEERS, value: 'a.peers;b.peers'}]\n";
        assert_eq!(fired(&run(&pods(peers)), "multicast-discovery-across-nodes"), 0);
        // From a ConfigMap through envFrom, as real charts do.
        let cm = "---\nkind: ConfigMap\nmetadata: {name: dds}\ndata: {ROS_DISCOVERY_SERVER: 'ds.default.svc:11811'}\n";
        let from = "      envFrom: [{configMapRef: {name: dds}}]\n";
        assert_eq!(fired(&run(&(pods(from) + cm)), "multicast-discovery-across-nodes"), 0);
        // Both pinned to one node: multicast stays on the node.
        let one = pods("").replace("spec:\n  containers:", "spec:\n  nodeName: pi\n  containers:");
        assert_eq!(fired(&run(&one), "multicast-discovery-across-nodes"), 0);
    }

    /// Profiles from ConfigMaps of the set are read: a UDP-only Fast DDS profile turns shared
    /// memory off, an initial peers list is unicast discovery; one the set does not hold is a note.
    #[test]
    fn fast_dds_profiles_in_config_maps_are_read() {
        let deploy = |name: &str, mount: &str| {
            format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      dnsPolicy: ClusterFirstWithHostNet\n      volumes: [{{name: dds, configMap: {{name: fastdds}}}}]\n      containers:\n        - name: c\n          image: ros:humble\n          command: [ros2, run, demo_nodes_cpp, talker, --ros-args, -r, __node:={name}]\n          env: [{{name: FASTRTPS_DEFAULT_PROFILES_FILE, value: /etc/fastdds/profile.xml}}]\n{mount}")
        };
        let mount = "          volumeMounts: [{name: dds, mountPath: /etc/fastdds}]\n";
        let cm = |xml: &str| {
            format!("---\nkind: ConfigMap\nmetadata: {{name: fastdds}}\ndata:\n  profile.xml: |\n    {xml}\n")
        };
        let udp = "<profiles><transport_descriptors><transport_descriptor><transport_id>udp</transport_id><type>UDPv4</type></transport_descriptor></transport_descriptors><participant profile_name=\"p\" is_default_profile=\"true\"><rtps><userTransports><transport_id>udp</transport_id></userTransports><useBuiltinTransports>false</useBuiltinTransports></rtps></participant></profiles>";
        let both = deploy("a", mount) + &deploy("b", mount);
        let f = run(&(both.clone() + &cm(udp)));
        assert_eq!(fired(&f, "fastdds-host-network-shm"), 0, "{:?}", rules(&f));
        let f =
            run(&(both.clone()
                + &cm("<profiles><participant profile_name=\"p\" is_default_profile=\"true\"/></profiles>")));
        let warned = |f: &[LintFinding], s: Severity| {
            f.iter().filter(|x| x.rule == "fastdds-host-network-shm" && x.severity == s).count()
        };
        assert_eq!(warned(&f, Severity::Warning), 2, "{:?}", rules(&f));
        // Humble: the fix is a profile, not FASTDDS_BUILTIN_TRANSPORTS (its Fast DDS predates it).
        assert!(f
            .iter()
            .any(|x| x.rule == "fastdds-host-network-shm" && x.fix.contains("UDP-only Fast DDS XML profile")));
        // The profile is not in the set: the lint cannot tell.
        let f = run(&(deploy("a", "") + &deploy("b", "")));
        assert_eq!(warned(&f, Severity::Note), 2, "{:?}", rules(&f));
        // On the pod network: an initial peers list is unicast discovery.
        let pod_net = |xml: &str| (both.clone() + &cm(xml)).replace("      hostNetwork: true\n", "");
        let peers = "<profiles><participant profile_name=\"p\" is_default_profile=\"true\"><rtps><builtin><initialPeersList><locator><udpv4><address>talker.peers</address></udpv4></locator></initialPeersList></builtin></rtps></participant></profiles>";
        assert_eq!(fired(&run(&pod_net(peers)), "multicast-discovery-across-nodes"), 0);
        assert_eq!(fired(&run(&pod_net(udp)), "multicast-discovery-across-nodes"), 2);
    }

    #[test]
    fn domains_differ_only_within_a_namespace_and_unless_allowed() {
        let pod = |name: &str, ns: &str, d: &str, comment: &str| {
            format!("---\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  nodeName: n\n  containers:\n    - name: c\n      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, talker, --ros-args, -r, __node:={name}]\n      env:\n        {comment}\n        - {{name: ROS_DOMAIN_ID, value: \"{d}\"}}\n")
        };
        let f = run(&(pod("a", "x", "1", "") + &pod("b", "x", "2", "")));
        assert_eq!(fired(&f, "ros-domain-mismatch"), 2, "{:?}", rules(&f));
        assert_eq!(f.iter().find(|x| x.rule == "ros-domain-mismatch").expect("present").line, 12);
        let f = run(&(pod("a", "x", "1", "") + &pod("b", "y", "2", "")));
        assert_eq!(fired(&f, "ros-domain-mismatch"), 0, "{:?}", rules(&f));
        let allow = "# harness-lint: allow ros-domain-mismatch";
        let f = run(&(pod("a", "x", "1", allow) + &pod("b", "x", "2", allow)));
        assert_eq!(fired(&f, "ros-domain-mismatch"), 0, "{:?}", rules(&f));
        // Across files of one set.
        let f = set(&[("a.yaml", &pod("a", "x", "1", "")), ("b.yaml", &pod("b", "x", "2", ""))]);
        assert_eq!(fired(&f, "ros-domain-mismatch"), 2, "{:?}", rules(&f));
    }

    #[test]
    fn buffering_is_claimed_only_for_what_buffers() {
        let c = |cmd: &str, env: &str| {
            run(&format!("kind: Pod\nmetadata: {{name: p}}\nspec:\n  nodeName: n\n  containers:\n    - name: c\n      image: ros:jazzy\n      command: {cmd}\n{env}"))
        };
        assert_eq!(fired(&c("[ros2, run, demo_nodes_py, talker]", ""), "stdout-buffered"), 0);
        assert_eq!(fired(&c("[python3, /app/node.py]", ""), "stdout-buffered"), 1);
        assert_eq!(fired(&c("[python3, -u, /app/node.py]", ""), "stdout-buffered"), 0);
        assert_eq!(
            fired(
                &c("[python3, /app/node.py]", "      env: [{name: PYTHONUNBUFFERED, value: '1'}]\n"),
                "stdout-buffered"
            ),
            0
        );
        assert_eq!(fired(&c("[ros2, topic, echo, /chatter]", ""), "stdout-buffered"), 1);
        assert_eq!(fired(&c("[ros2, topic, echo, /chatter]", "      tty: true\n"), "stdout-buffered"), 0);
        let ros1 = run("kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: ros:noetic\n      command: [roslaunch, robot, bringup.launch]\n");
        assert_eq!(fired(&ros1, "stdout-buffered"), 1);
        assert!(ros1.iter().all(|x| x.severity == Severity::Note));
    }

    #[test]
    fn robot_side_pitfalls() {
        let pi = |container: &str| {
            run(&format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: base}}\nspec:\n  template:\n    spec:\n      nodeSelector: {{kubernetes.io/arch: arm64}}\n      containers:\n        - name: c\n{container}"))
        };
        let r = pi("          image: ghcr.io/team/robot:latest\n          command: [sh, -c, 'apt-get install -y ros-jazzy-joy && ros2 run joy joy_node']\n");
        assert!(rules(&r).contains(&("runtime-package-install", 11, Severity::Warning)), "{:?}", rules(&r));
        assert!(rules(&r).contains(&("image-pull-always-on-robot", 9, Severity::Warning)), "{:?}", rules(&r));
        let ok = pi("          image: ghcr.io/team/robot:1.4.2\n          command: [ros2, run, joy, joy_node]\n");
        assert_eq!(fired(&ok, "runtime-package-install") + fired(&ok, "image-pull-always-on-robot"), 0, "{ok:?}");
        let explicit = pi("          image: ghcr.io/team/robot:1.4.2\n          imagePullPolicy: Always\n");
        assert!(rules(&explicit).contains(&("image-pull-always-on-robot", 11, Severity::Warning)));
        // A Kustomization of the set that pins the placeholder's tag, as manifests/base does.
        let placeholder = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: base}\nspec:\n  template:\n    spec:\n      nodeSelector: {kubernetes.io/arch: arm64}\n      containers:\n        - {name: c, image: robot}\n";
        let kustomization =
            "kind: Kustomization\nimages:\n  - {name: robot, newName: ghcr.io/team/robot, newTag: '1.4.2'}\n";
        assert_eq!(fired(&set(&[("d.yaml", placeholder)]), "image-pull-always-on-robot"), 1);
        assert_eq!(
            fired(
                &set(&[("d.yaml", placeholder), ("kustomization.yaml", kustomization)]),
                "image-pull-always-on-robot"
            ),
            0
        );
        // Not on a robot: a laptop may pull as it likes.
        let laptop = run("kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - {name: c, image: 'x:latest'}\n");
        assert_eq!(fired(&laptop, "image-pull-always-on-robot"), 0);
    }

    #[test]
    fn host_namespaces_and_ports() {
        let p = |spec: &str, ports: &str| {
            run(&format!("kind: Pod\nmetadata: {{name: p}}\nspec:\n{spec}  containers:\n    - name: c\n      image: ros:jazzy\n      command: [ros2, run, rosbridge_server, rosbridge_websocket]\n{ports}"))
        };
        assert_eq!(fired(&p("  hostPID: true\n", ""), "host-pid-ipc-unneeded"), 1);
        assert_eq!(fired(&p("  hostIPC: true\n", ""), "host-pid-ipc-unneeded"), 1);
        // hostIPC with hostNetwork is the shared-memory fix: not unneeded.
        assert_eq!(fired(&p("  hostNetwork: true\n  hostIPC: true\n", ""), "host-pid-ipc-unneeded"), 0);
        let port = "      ports: [{containerPort: 443}]\n";
        assert_eq!(fired(&p("  hostNetwork: true\n", port), "host-network-port-taken"), 1);
        assert_eq!(
            fired(&p("  hostNetwork: true\n", "      ports: [{containerPort: 9090}]\n"), "host-network-port-taken"),
            0
        );
        assert_eq!(fired(&p("", port), "host-network-port-taken"), 0);
        // hostNetwork DNS: a note unless a Service is named.
        let dns = p("  hostNetwork: true\n", "");
        assert!(rules(&dns).contains(&("host-network-dns", 4, Severity::Note)), "{:?}", rules(&dns));
    }

    #[test]
    fn names_localhost_links_and_discovery_servers() {
        let f = run("apiVersion: apps/v1
kind: Deployment
metadata: {name: talker}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: t
          image: ros:jazzy
          command: [ros2, run, demo_nodes_cpp, talker]
          env: [{name: BRIDGE_URL, value: 'ws://localhost:9090'}]
---
kind: Pod
metadata: {name: bridge}
spec:
  containers:
    - name: b
      image: ros:jazzy
      command: [ros2, run, rosbridge_server, rosbridge_websocket]
      ports: [{containerPort: 9090}]
---
kind: Pod
metadata: {name: discovery}
spec:
  containers:
    - name: ds
      image: ros:jazzy
      command: [fastdds, discovery, -i, '0']
");
        let r = rules(&f);
        assert!(r.contains(&("duplicate-node-name", 9, Severity::Note)), "{r:?}");
        assert!(r.contains(&("localhost-between-pods", 12, Severity::Warning)), "{r:?}");
        assert!(r.contains(&("discovery-server-single", 27, Severity::Warning)), "{r:?}");
        // One replica, the port in its own pod, two servers apart: silent.
        let ok = run("kind: Pod
metadata: {name: one}
spec:
  containers:
    - name: t
      image: ros:jazzy
      command: [ros2, run, demo_nodes_cpp, talker]
      env: [{name: BRIDGE_URL, value: 'ws://localhost:9090'}]
    - name: b
      image: ros:jazzy
      command: [ros2, run, rosbridge_server, rosbridge_websocket]
      ports: [{containerPort: 9090}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: discovery}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: ds}}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: ds}}}
      containers:
        - name: ds
          image: ros:jazzy
          command: [fastdds, discovery, -i, '0']
");
        let r = rules(&ok);
        for rule in ["duplicate-node-name", "localhost-between-pods", "discovery-server-single"] {
            assert_eq!(fired(&ok, rule), 0, "{rule}: {r:?}");
        }
    }

    #[test]
    fn localhost_only_architecture_and_dns() {
        let pod = |name: &str, spec: &str, container: &str| {
            format!("---\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n{spec}  containers:\n    - name: c\n      image: ros:jazzy\n      command: [ros2, run, demo_nodes_cpp, talker, --ros-args, -r, __node:={name}]\n{container}")
        };
        let local = "      env: [{name: ROS_LOCALHOST_ONLY, value: '1'}]\n";
        let alone = run(&pod("a", "  nodeName: n\n", local));
        assert!(rules(&alone).contains(&("ros-localhost-only", 10, Severity::Note)), "{:?}", rules(&alone));
        let with_other = run(&(pod("a", "  nodeName: n\n", local) + &pod("b", "  nodeName: n\n", "")));
        assert!(
            rules(&with_other).contains(&("ros-localhost-only", 10, Severity::Warning)),
            "{:?}",
            rules(&with_other)
        );
        let off = run(&pod("a", "  nodeName: n\n", "      env: [{name: ROS_LOCALHOST_ONLY, value: '0'}]\n"));
        assert_eq!(fired(&off, "ros-localhost-only"), 0);
        let arm = |spec: &str| {
            run(&format!("kind: Pod\nmetadata: {{name: p}}\nspec:\n{spec}  containers:\n    - {{name: c, image: 'ghcr.io/team/driver:2.0-arm64v8'}}\n"))
        };
        assert!(rules(&arm("")).contains(&("arch-image-without-selector", 5, Severity::Warning)));
        assert_eq!(fired(&arm("  nodeSelector: {kubernetes.io/arch: arm64}\n"), "arch-image-without-selector"), 0);
        let affinity = "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n          - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [arm64]}]\n";
        assert_eq!(fired(&arm(affinity), "arch-image-without-selector"), 0, "{:?}", rules(&arm(affinity)));
        assert_eq!(fired(&arm("  nodeSelector: {kubernetes.io/arch: amd64}\n"), "arch-image-without-selector"), 1);
        // hostNetwork DNS: a warning when the pod names a Service of the set, silent when set.
        let svc = "---\nkind: Service\nmetadata: {name: rosbridge}\n";
        let names = pod("a", "  hostNetwork: true\n", "      env: [{name: URL, value: 'ws://rosbridge:9090'}]\n") + svc;
        assert!(rules(&run(&names)).contains(&("host-network-dns", 5, Severity::Warning)), "{:?}", rules(&run(&names)));
        let fixed = pod("a", "  hostNetwork: true\n  dnsPolicy: ClusterFirstWithHostNet\n", "") + svc;
        assert_eq!(fired(&run(&fixed), "host-network-dns"), 0);
    }

    /// Helm's rendered output: `# Source:` comments, empty documents, CRDs beside workloads.
    #[test]
    fn helm_output_is_read() {
        let f = run("---\n# Source: robot/templates/crd.yaml\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: missions.example.com}\n---\n---\n# Source: robot/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: nav}\nspec:\n  template:\n    spec:\n      containers:\n        - name: nav\n          image: ros:jazzy\n          args: ['ros2 launch nav2_bringup navigation_launch.py; sleep infinity']\n");
        assert!(rules(&f).contains(&("shell-operator-without-shell", 18, Severity::Error)), "{:?}", rules(&f));
    }

    #[test]
    fn lists_are_opened_and_other_kinds_counted() {
        let files = [SourceFile::parse(
            "l.yaml",
            "kind: List\nitems:\n  - kind: Pod\n    metadata: {name: p}\n    spec:\n      containers:\n        - {name: c, image: x, args: ['a && b']}\n  - kind: Service\n    metadata: {name: s}\n---\nkind: CustomThing\n".into(),
        )
        .expect("present")];
        let r = lint_set(&files);
        assert_eq!(r.workloads, 1);
        assert_eq!(fired(&r.findings, "shell-operator-without-shell"), 1);
        assert_eq!(r.skipped.get("Service"), Some(&1));
        assert_eq!(r.skipped.get("CustomThing"), Some(&1));
    }

    proptest! {
        /// Arbitrary text: read or refused, never a panic.
        #[test]
        fn arbitrary_text_never_panics(text in "(?s).{0,400}") {
            if let Ok(docs) = parse_documents("p.yaml", &text) {
                let _ = lint("p.yaml", &docs);
            }
        }

        /// YAML-shaped text with the keys the lint looks into.
        #[test]
        fn yaml_shaped_text_never_panics(parts in proptest::collection::vec(prop_oneof![
            Just("kind: Pod\n"), Just("spec:\n"), Just("  containers:\n"), Just("    - name: c\n"),
            Just("      args: [\"a && b\"]\n"), Just("      env:\n"), Just("        - {name: ROS_DOMAIN_ID, value: 3}\n"),
            Just("  hostNetwork: true\n"), Just("---\n"), Just("- x\n"), Just("&a b: *a\n"), Just("  image: ros:humble\n"),
            Just("kind: List\nitems:\n"), Just("      ports: [{containerPort: 80}]\n"), Just("  nodeName: n\n"),
        ], 0..20)) {
            let text: String = parts.concat();
            if let Ok(docs) = parse_documents("p.yaml", &text) {
                let _ = lint("p.yaml", &docs);
            }
        }
    }
}
