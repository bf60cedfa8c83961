//! `arch-image-without-selector` (warning): an image tagged for one architecture (arm64, amd64)
//! without a node selector or affinity that keeps the pod on it.

use crate::lint::finding::{Out, Severity};
use crate::lint::workload::Workload;

/// An arm64- or amd64-only tag without a selector that keeps the pod on that architecture.
pub(super) fn check(w: &Workload, out: &mut Out) {
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

#[cfg(test)]
mod tests {
    use crate::lint::finding::Severity;
    use crate::lint::testing::{fired, rules, run};

    #[test]
    fn an_arch_tag_needs_a_selector_or_affinity_for_its_arch() {
        let arm = |spec: &str| {
            run(&format!("kind: Pod\nmetadata: {{name: p}}\nspec:\n{spec}  containers:\n    - {{name: c, image: 'ghcr.io/team/driver:2.0-arm64v8'}}\n"))
        };
        assert!(rules(&arm("")).contains(&("arch-image-without-selector", 5, Severity::Warning)));
        assert_eq!(fired(&arm("  nodeSelector: {kubernetes.io/arch: arm64}\n"), "arch-image-without-selector"), 0);
        let affinity = "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n          - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [arm64]}]\n";
        assert_eq!(fired(&arm(affinity), "arch-image-without-selector"), 0, "{:?}", rules(&arm(affinity)));
        assert_eq!(fired(&arm("  nodeSelector: {kubernetes.io/arch: amd64}\n"), "arch-image-without-selector"), 1);
    }
}
