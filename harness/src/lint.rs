//! `harness lint`: the ROS-on-Kubernetes pitfalls this project knows, found in manifests before
//! anything runs, each with `file:line` and a fix. Reads Pod, Deployment, DaemonSet,
//! StatefulSet, ReplicaSet, Job and CronJob documents (multi-document YAML); anything else is
//! skipped. Lines come from the YAML parser's own positions (granit-parser, the parser kube's
//! serde-saphyr uses), never from searching the text.

use std::collections::BTreeMap;
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

/// One pitfall found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintFinding {
    pub file: String,
    pub line: usize,
    pub rule: &'static str,
    /// `Kind/name` of the object.
    pub object: String,
    pub message: String,
    pub fix: String,
}

impl LintFinding {
    pub fn line_text(&self) -> String {
        format!("{}:{}: [{}] {}: {} — fix: {}", self.file, self.line, self.rule, self.object, self.message, self.fix)
    }
}

/// Shell operators that mean "a shell was expected here".
const SHELL_OPERATORS: [&str; 4] = ["&&", "||", ";", "|"];
const SHELLS: [&str; 8] = ["sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/bash", "/usr/bin/sh", "dash", "zsh"];

fn is_ros_container(c: &Node) -> bool {
    let image = c.get("image").and_then(Node::str).unwrap_or("");
    let name = image.rsplit('/').next().unwrap_or(image);
    let ours = image.contains("chatter-harness/");
    let words = c.get("command").into_iter().chain(c.get("args")).flat_map(Node::items).filter_map(Node::str);
    let runs_ros2 = words.clone().any(|w| w == "ros2" || w.contains("ros2 run") || w.contains("ros2 launch"));
    !ours && (runs_ros2 || name.starts_with("ros:") || name.starts_with("ros-") || image.contains("/ros:"))
}

fn env_of(c: &Node) -> BTreeMap<String, (String, usize)> {
    c.get("env")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            let name = e.get("name")?.str()?.to_owned();
            let (value, line) = match e.get("value") {
                Some(v) => (v.str().unwrap_or("").to_owned(), v.line()),
                None => (String::new(), e.line()),
            };
            Some((name, (value, line)))
        })
        .collect()
}

/// The pod specs of a document: (object label, pod metadata, pod spec).
fn pod_specs(doc: &Node) -> Vec<(String, Option<&Node>, &Node)> {
    let kind = doc.get("kind").and_then(Node::str).unwrap_or("");
    let name = doc.at(&["metadata", "name"]).and_then(Node::str).unwrap_or("?");
    let label = format!("{kind}/{name}");
    let found = match kind {
        "Pod" => doc.get("spec").map(|s| (doc.get("metadata"), s)),
        "Deployment" | "DaemonSet" | "StatefulSet" | "ReplicaSet" | "Job" => {
            doc.at(&["spec", "template", "spec"]).map(|s| (doc.at(&["spec", "template", "metadata"]), s))
        }
        "CronJob" => doc
            .at(&["spec", "jobTemplate", "spec", "template", "spec"])
            .map(|s| (doc.at(&["spec", "jobTemplate", "spec", "template", "metadata"]), s)),
        _ => None,
    };
    found.map(|(m, s)| (label, m, s)).into_iter().collect()
}

/// Lints every document of one file.
pub fn lint(file: &str, docs: &[Node]) -> Vec<LintFinding> {
    let mut out = Vec::new();
    let mut domains: Vec<(String, String, usize)> = Vec::new();
    for doc in docs {
        for (object, _meta, spec) in pod_specs(doc) {
            let mut hit = |line: usize, rule: &'static str, message: String, fix: &str| {
                out.push(LintFinding {
                    file: file.to_owned(),
                    line,
                    rule,
                    object: object.clone(),
                    message,
                    fix: fix.to_owned(),
                });
            };
            let containers: Vec<&Node> =
                spec.get("containers").into_iter().chain(spec.get("initContainers")).flat_map(Node::items).collect();
            let host_network = spec.get("hostNetwork").and_then(Node::str) == Some("true");
            if host_network {
                let dns = spec.get("dnsPolicy").and_then(Node::str);
                if dns != Some("ClusterFirstWithHostNet") {
                    hit(
                        spec.get("dnsPolicy").or(spec.get("hostNetwork")).map_or(spec.line(), Node::line),
                        "host-network-dns",
                        "hostNetwork without dnsPolicy: ClusterFirstWithHostNet: the pod resolves with the node's DNS \
                         and cannot find cluster Services"
                            .into(),
                        "add `dnsPolicy: ClusterFirstWithHostNet`",
                    );
                }
            }
            let has_arch_selector = spec.at(&["nodeSelector", "kubernetes.io/arch"]).is_some()
                || spec
                    .at(&["affinity", "nodeAffinity"])
                    .is_some_and(|a| format!("{a:?}").contains("kubernetes.io/arch"));
            let mut ros_fastdds = 0;
            let mut shm_shared = true;
            for c in &containers {
                let cname = c.get("name").and_then(Node::str).unwrap_or("?");
                // 1. Shell operators without a shell.
                let command = c.get("command").map(Node::items).unwrap_or_default();
                let shell = command.first().and_then(Node::str).is_some_and(|p| SHELLS.contains(&p));
                if !shell {
                    for w in command.iter().chain(c.get("args").map(Node::items).unwrap_or_default()) {
                        let Some(text) = w.str() else { continue };
                        if let Some(op) = SHELL_OPERATORS.iter().find(|op| text.split_whitespace().any(|t| t == **op)) {
                            hit(
                                w.line(),
                                "shell-operator-without-shell",
                                format!(
                                    "container {cname}: `{op}` in {text:?} is passed to the program as an argument — \
                                     no shell runs it, so the second command never starts"
                                ),
                                "one process per container (a second container for the second node), or \
                                 `command: [sh, -c]` with the whole line as one argument",
                            );
                        }
                    }
                }
                let env = env_of(c);
                let ros = is_ros_container(c);
                // 3. Localhost only.
                if let Some((v, line)) = env.get("ROS_LOCALHOST_ONLY") {
                    if v == "1" {
                        hit(
                            *line,
                            "ros-localhost-only",
                            format!("container {cname}: ROS_LOCALHOST_ONLY=1 keeps DDS on loopback: nothing outside the pod hears it"),
                            "remove ROS_LOCALHOST_ONLY (or set it to 0)",
                        );
                    }
                }
                // 4. Domains, compared across the whole set below.
                let domain = env.get("ROS_DOMAIN_ID").map_or(("0".to_owned(), c.line()), |(v, l)| (v.clone(), *l));
                if ros || env.contains_key("ROS_DOMAIN_ID") {
                    domains.push((format!("{object} container {cname}"), domain.0, domain.1));
                }
                // 5. Architecture-specific image without an arch selector.
                if let Some(image) = c.get("image") {
                    let tag = image.str().unwrap_or("").rsplit('/').next().unwrap_or("").to_ascii_lowercase();
                    let arch = ["arm64", "aarch64", "arm64v8"]
                        .iter()
                        .map(|a| (a, "arm64"))
                        .chain(["amd64", "x86_64", "x86-64"].iter().map(|a| (a, "amd64")))
                        .find(|(a, _)| tag.contains(**a));
                    if let (Some((_, arch)), false) = (arch, has_arch_selector) {
                        hit(
                            image.line(),
                            "arch-image-without-selector",
                            format!(
                                "container {cname}: image {:?} looks {arch}-only, but nothing keeps the pod on {arch} nodes: \
                                 elsewhere it fails with `exec format error`",
                                image.str().unwrap_or("")
                            ),
                            "add `nodeSelector: {kubernetes.io/arch: ...}`, or publish a multi-arch image",
                        );
                    }
                }
                if ros {
                    // 7. Buffered logs.
                    let rclpy = format!("{:?}", c.get("command")).contains("_py")
                        || format!("{:?}", c.get("args")).contains("_py");
                    let unbuffered = env.get("RCUTILS_LOGGING_BUFFERED_STREAM").is_some_and(|(v, _)| v == "0")
                        && (!rclpy || env.get("PYTHONUNBUFFERED").is_some_and(|(v, _)| !v.is_empty() && v != "0"));
                    if !unbuffered {
                        hit(
                            c.line(),
                            "buffered-logs",
                            format!(
                                "container {cname}: ROS logs to a pipe are buffered: `kubectl logs` (and a dashboard) can \
                                 show nothing while the node works"
                            ),
                            "set RCUTILS_LOGGING_BUFFERED_STREAM=0 (and PYTHONUNBUFFERED=1 for rclpy nodes)",
                        );
                    }
                    let rmw = env.get("RMW_IMPLEMENTATION").map(|(v, _)| v.as_str()).unwrap_or("rmw_fastrtps_cpp");
                    if rmw.contains("fastrtps") || rmw.contains("fastdds") {
                        ros_fastdds += 1;
                        let mounts = c.get("volumeMounts").map(Node::items).unwrap_or_default();
                        if !mounts.iter().any(|m| m.get("mountPath").and_then(Node::str) == Some("/dev/shm")) {
                            shm_shared = false;
                        }
                    }
                }
            }
            // 2. Fast DDS shared memory between containers.
            if ros_fastdds >= 2 && !shm_shared {
                hit(
                    spec.get("containers").map_or(spec.line(), Node::line),
                    "fastdds-shm-between-containers",
                    format!(
                        "{ros_fastdds} ROS containers on Fast DDS in one pod: they look like one host, so Fast DDS picks \
                         shared memory, but they do not share /dev/shm — messages between them vanish"
                    ),
                    "mount one emptyDir (medium: Memory) at /dev/shm in each, or set FASTDDS_BUILTIN_TRANSPORTS=UDPv4",
                );
            }
        }
    }
    // 4. Different domains in one set: those nodes never discover each other.
    let distinct: std::collections::BTreeSet<&str> = domains.iter().map(|(_, d, _)| d.as_str()).collect();
    if distinct.len() > 1 {
        let all: Vec<String> = domains.iter().map(|(w, d, _)| format!("{w}={d}")).collect();
        for (what, d, line) in &domains {
            out.push(LintFinding {
                file: file.to_owned(),
                line: *line,
                rule: "ros-domain-mismatch",
                object: what.clone(),
                message: format!(
                    "ROS_DOMAIN_ID {d}, while others use another ({}): different domains never discover each other",
                    all.join(", ")
                ),
                fix: "use one ROS_DOMAIN_ID for every node on a topic".into(),
            });
        }
    }
    out.sort_by(|a, b| (a.line, a.rule).cmp(&(b.line, b.rule)));
    out
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

    fn run(yaml: &str) -> Vec<LintFinding> {
        lint("t.yaml", &parse_documents("t.yaml", yaml).expect("yaml"))
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

    #[test]
    fn each_pitfall_is_found_on_its_line() {
        let yaml = "apiVersion: apps/v1
kind: Deployment
metadata: {name: robot}
spec:
  template:
    spec:
      hostNetwork: true
      containers:
        - name: both
          image: osrf/ros:humble-desktop
          args: [\"ros2 run demo_nodes_cpp talker && ros2 run demo_nodes_cpp listener\"]
          env:
            - {name: ROS_LOCALHOST_ONLY, value: \"1\"}
            - {name: ROS_DOMAIN_ID, value: \"7\"}
        - name: second
          image: registry.example/chatter:1.0-arm64
          command: [ros2, run, demo_nodes_py, listener]
";
        let f = run(yaml);
        let rules: Vec<(&str, usize)> = f.iter().map(|x| (x.rule, x.line)).collect();
        assert!(rules.contains(&("host-network-dns", 7)), "{rules:?}");
        assert!(rules.contains(&("shell-operator-without-shell", 11)), "{rules:?}");
        assert!(rules.contains(&("ros-localhost-only", 13)), "{rules:?}");
        assert!(rules.contains(&("arch-image-without-selector", 16)), "{rules:?}");
        assert!(rules.contains(&("buffered-logs", 9)) && rules.contains(&("buffered-logs", 15)), "{rules:?}");
        assert!(rules.contains(&("fastdds-shm-between-containers", 9)), "{rules:?}");
        assert!(rules.contains(&("ros-domain-mismatch", 14)), "{rules:?}");
        // A shell makes the operator fine.
        let ok = run("kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: x\n      command: [sh, -c]\n      args: [\"a && b\"]\n");
        assert!(ok.iter().all(|x| x.rule != "shell-operator-without-shell"), "{ok:?}");
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
        ], 0..20)) {
            let text: String = parts.concat();
            if let Ok(docs) = parse_documents("p.yaml", &text) {
                let _ = lint("p.yaml", &docs);
            }
        }
    }
}
