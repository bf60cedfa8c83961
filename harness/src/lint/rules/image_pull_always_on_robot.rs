//! `image-pull-always-on-robot` (warning): `imagePullPolicy: Always`, explicit or implied by
//! `:latest` or no tag, on a workload kept on robot (arm64) nodes.

use crate::lint::document::Node;
use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// `imagePullPolicy: Always` (explicit, or implied by `:latest`/no tag) on robot-side workloads.
pub(super) fn check(w: &Workload, out: &mut Out) {
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

#[cfg(test)]
mod tests {
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, rules, run, set};

    #[test]
    fn pulling_always_on_robot_nodes_is_flagged() {
        let pi = |container: &str| {
            run(&format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: base}}\nspec:\n  template:\n    spec:\n      nodeSelector: {{kubernetes.io/arch: arm64}}\n      containers:\n        - name: c\n{container}"))
        };
        let r = pi("          image: ghcr.io/team/robot:latest\n          command: [sh, -c, 'apt-get install -y ros-jazzy-joy && ros2 run joy joy_node']\n");
        assert!(rules(&r).contains(&("image-pull-always-on-robot", 9, Severity::Warning)), "{:?}", rules(&r));
        let ok = pi("          image: ghcr.io/team/robot:1.4.2\n          command: [ros2, run, joy, joy_node]\n");
        assert_eq!(fired(&ok, "image-pull-always-on-robot"), 0, "{ok:?}");
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
}
