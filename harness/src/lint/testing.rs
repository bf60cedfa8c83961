//! What the lint's tests share: lint YAML text as one set, summarise the findings, and the
//! manifests the tests of more than one rule read.

use super::document::SourceFile;
use super::engine::lint_set;
use super::finding::{LintFinding, Severity};

/// Lints `files` (name, text) as one set.
pub(super) fn set(files: &[(&str, &str)]) -> Vec<LintFinding> {
    let files: Vec<SourceFile> =
        files.iter().map(|(f, t)| SourceFile::parse(f, (*t).to_owned()).expect("yaml")).collect();
    lint_set(&files).findings
}

/// Lints one file's text.
pub(super) fn run(yaml: &str) -> Vec<LintFinding> {
    set(&[("t.yaml", yaml)])
}

/// Each finding's rule, line and severity.
pub(super) fn rules(f: &[LintFinding]) -> Vec<(&'static str, usize, Severity)> {
    f.iter().map(|x| (x.rule, x.line, x.severity)).collect()
}

/// How many findings of `rule`.
pub(super) fn fired(f: &[LintFinding], rule: &str) -> usize {
    f.iter().filter(|x| x.rule == rule).count()
}

/// A talker Deployment of two replicas (one node name) that reaches a bridge in another pod over
/// localhost, and one discovery server.
pub(super) const REPLICATED_TALKER_BRIDGE_AND_SERVER: &str = "apiVersion: apps/v1
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
";

/// One replica, the port in its own pod, two discovery servers kept apart.
pub(super) const ONE_POD_AND_TWO_SERVERS_APART: &str = "kind: Pod
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
";
