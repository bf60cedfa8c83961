//! `runtime-package-install` (warning): packages installed or fetched when the container starts
//! (`apt-get install`, `pip install`, `curl`, `git clone`, …), which fails on a node offline.

use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// Packages fetched when the container starts.
pub(super) fn check(w: &Workload, out: &mut Out) {
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

#[cfg(test)]
mod tests {
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, rules, run};

    #[test]
    fn packages_fetched_at_start_are_flagged() {
        let pi = |container: &str| {
            run(&format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: base}}\nspec:\n  template:\n    spec:\n      nodeSelector: {{kubernetes.io/arch: arm64}}\n      containers:\n        - name: c\n{container}"))
        };
        let r = pi("          image: ghcr.io/team/robot:latest\n          command: [sh, -c, 'apt-get install -y ros-jazzy-joy && ros2 run joy joy_node']\n");
        assert!(rules(&r).contains(&("runtime-package-install", 11, Severity::Warning)), "{:?}", rules(&r));
        let ok = pi("          image: ghcr.io/team/robot:1.4.2\n          command: [ros2, run, joy, joy_node]\n");
        assert_eq!(fired(&ok, "runtime-package-install"), 0, "{ok:?}");
    }
}
