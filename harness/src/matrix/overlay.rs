//! The building blocks of the fix overlays: a kustomization's header and the patches several
//! overlays make.

use std::fmt::Write as _;

use crate::placement::Plan;

pub(super) const KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
/// A patch (an item of `patches:`) raising the run namespace's Pod Security enforce level to
/// `privileged`: `baseline` and `restricted` reject pods on the host network (or IPC, or PID)
/// and pods setting unsafe sysctls, and the rendered base enforces `restricted` when no pod
/// needs more.
pub(super) const PRIVILEGED_PATCH: &str = "  - target:\n      kind: Namespace\n    patch: |-\n      - op: replace\n        path: /metadata/labels/pod-security.kubernetes.io~1enforce\n        value: privileged\n";
/// The patch that puts every pod on its node's network (keeping cluster DNS).
pub(super) const HOST_NETWORK_PATCH: &str = "patches:\n  - target:\n      kind: Pod\n    patch: |-\n      - op: add\n        path: /spec/hostNetwork\n\
         \x20       value: true\n      - op: add\n        path: /spec/dnsPolicy\n        value: ClusterFirstWithHostNet\n";
/// A JSON patch adding `var` (`{name: …, value: …}`) to every container of every pod of `plan`.
pub(super) fn env_patches(k: &mut String, plan: &Plan, var: &str) {
    for p in &plan.pods {
        for i in 0..p.containers.len() {
            let _ = write!(
                k,
                "  - target:\n      kind: Pod\n      name: {n}\n    patch: |-\n      - op: add\n        path: /spec/containers/{i}/env/-\n        value: {var}\n",
                n = p.name
            );
        }
    }
}

/// Patches mounting ConfigMap `configmap` on /etc/fastdds in every pod of `plan` and naming its
/// `file` in every container ([`profile_mount_patches`]).
pub(super) fn profile_patches(k: &mut String, plan: &Plan, configmap: &str, file: &str) {
    for p in &plan.pods {
        let _ = write!(
            k,
            "  - target:\n      kind: Pod\n      name: {n}\n    patch: |-\n      apiVersion: v1\n      kind: Pod\n      metadata:\n        name: {n}\n      spec:\n        volumes:\n          - name: fastdds-profile\n            configMap:\n              name: {configmap}\n",
            n = p.name
        );
    }
    profile_mount_patches(k, plan, file);
}

/// Patches mounting volume `fastdds-profile` on /etc/fastdds in every container of `plan` and
/// naming its `file` in FASTRTPS_DEFAULT_PROFILES_FILE (Jazzy's Fast DDS 2.14 ignores
/// FASTDDS_DEFAULT_PROFILES_FILE; 2.x and 3.x both read this one).
pub(super) fn profile_mount_patches(k: &mut String, plan: &Plan, file: &str) {
    for p in &plan.pods {
        for i in 0..p.containers.len() {
            let _ = write!(
                k,
                "  - target:\n      kind: Pod\n      name: {n}\n    patch: |-\n      - op: add\n        path: /spec/containers/{i}/env/-\n        value: {{name: FASTRTPS_DEFAULT_PROFILES_FILE, value: /etc/fastdds/{file}}}\n      - op: add\n        path: /spec/containers/{i}/volumeMounts/-\n        value: {{name: fastdds-profile, mountPath: /etc/fastdds, readOnly: true}}\n",
                n = p.name
            );
        }
    }
}
