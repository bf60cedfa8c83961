//! The Kubernetes objects a run creates, as typed k8s-openapi values: what `harness render`
//! prints and what the kube backend applies. Pure functions of the plan.
//!
//! Pods are pinned to the node placement chose (`kubernetes.io/hostname`) on top of the
//! scenario's own selector, so the analysis knows which pods share a node; the node a pod
//! actually ran on is read back from the cluster and reported.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EnvVar, EnvVarSource, Namespace, ObjectFieldSelector, Pod, PodSecurityContext, PodSpec,
    ResourceRequirements, SeccompProfile, SecurityContext,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::placement::{PlacedPod, HOSTNAME_LABEL};
use crate::spec::ContainerRole;

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "chatter-harness";
pub const RUN_LABEL: &str = "chatter-harness/run";
pub const TRIAL_LABEL: &str = "chatter-harness/trial";
/// Non-root user of the node images.
const UID: i64 = 65532;

/// Container images for the nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    pub talker: String,
    pub listener: String,
}

impl Images {
    pub const DEFAULT_REGISTRY: &'static str = "ghcr.io/chatter-harness";

    /// `<registry>/talker:<tag>` and `<registry>/listener:<tag>`.
    pub fn new(registry: &str, tag: &str) -> Images {
        let registry = registry.trim_end_matches('/');
        Images { talker: format!("{registry}/talker:{tag}"), listener: format!("{registry}/listener:{tag}") }
    }
}

/// A label value from a run id (≤ 63 characters of `[A-Za-z0-9._-]`, alphanumeric at the ends).
pub fn label_value(s: &str) -> String {
    let v: String = chatter::sanitize_id(s).chars().take(63).collect();
    v.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned()
}

/// The per-run namespace name: `chatter-<run id>`, lowercased, ≤ 63 characters.
pub fn namespace_name(run_id: &str) -> String {
    let base: String =
        run_id.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let name: String = format!("chatter-{base}").chars().take(63).collect();
    name.trim_end_matches('-').to_owned()
}

fn labels(run_id: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), "chatter".to_owned()),
        (MANAGED_BY.to_owned(), MANAGER.to_owned()),
        (RUN_LABEL.to_owned(), label_value(run_id)),
    ]);
    l.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    l
}

pub fn namespace(name: &str, run_id: &str) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels(run_id, &[])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

fn quantity(q: &str) -> Quantity {
    Quantity(q.to_owned())
}

/// One scenario pod for one trial.
pub fn pod(p: &PlacedPod, namespace: &str, run_id: &str, trial: u32, images: &Images) -> Pod {
    let mut selector = p.node_selector.clone();
    selector.insert(HOSTNAME_LABEL.to_owned(), p.node.clone());
    let trial = trial.to_string();
    let containers = p
        .containers
        .iter()
        .map(|c| Container {
            name: c.name.clone(),
            image: Some(match c.role {
                ContainerRole::Talker => images.talker.clone(),
                ContainerRole::Listener => images.listener.clone(),
            }),
            args: Some(c.args.clone()),
            env: Some(vec![EnvVar {
                name: "POD_NAME".into(),
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector { field_path: "metadata.name".into(), ..Default::default() }),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            // Small enough for a Raspberry Pi: pods stuck Pending on CPU requests were seen.
            resources: Some(ResourceRequirements {
                requests: Some(BTreeMap::from([("cpu".into(), quantity("20m")), ("memory".into(), quantity("32Mi"))])),
                limits: Some(BTreeMap::from([("memory".into(), quantity("128Mi"))])),
                ..Default::default()
            }),
            security_context: Some(SecurityContext {
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    Pod {
        metadata: ObjectMeta {
            name: Some(p.name.clone()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels(run_id, &[("app.kubernetes.io/component", &p.name), (TRIAL_LABEL, &trial)])),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            restart_policy: Some("Never".into()),
            host_network: p.host_network.then_some(true),
            dns_policy: p.host_network.then(|| "ClusterFirstWithHostNet".into()),
            node_selector: Some(selector),
            termination_grace_period_seconds: Some(10),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(UID),
                run_as_group: Some(UID),
                seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..Default::default() }),
                ..Default::default()
            }),
            containers,
            ..Default::default()
        }),
        ..Pod::default()
    }
}

/// Every object of a run (trial 1), as a multi-document YAML a user can read, diff and
/// `kubectl apply -f`.
pub fn render(plan: &crate::placement::Plan, run_id: &str, images: &Images) -> Result<String, serde_yaml::Error> {
    let ns = namespace_name(run_id);
    let mut docs = vec![serde_yaml::to_string(&namespace(&ns, run_id))?];
    for p in &plan.pods {
        docs.push(serde_yaml::to_string(&pod(p, &ns, run_id, 1, images))?);
    }
    Ok(docs.join("---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_kubernetes_names() {
        assert_eq!(namespace_name("20261123T104500Z-seed_repro"), "chatter-20261123t104500z-seed-repro");
        assert!(namespace_name(&"x".repeat(100)).len() <= 63);
        assert_eq!(label_value("20261123T104500Z-seed"), "20261123T104500Z-seed");
    }

    #[test]
    fn render_seed() {
        let text = std::fs::read_to_string(testkit_path("scenarios/seed.yaml")).expect("seed scenario");
        let s = crate::spec::parse(&text, std::path::Path::new("seed.yaml")).expect("valid");
        let plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s)).expect("placeable");
        let yaml =
            render(&plan, "20261123T000000Z-seed", &Images::new(Images::DEFAULT_REGISTRY, "0.1.0")).expect("yaml");
        insta::assert_snapshot!(yaml);
    }

    fn testkit_path(p: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
    }
}
