//! The Kubernetes objects a run creates, as typed k8s-openapi values: what `harness render`
//! prints and what the kube backend applies. Pure functions of the plan.
//!
//! Pods are pinned to the node placement chose (`kubernetes.io/hostname`) on top of the
//! scenario's own selector, so the analysis knows which pods share a node; the node a pod
//! actually ran on is read back from the cluster and reported.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, EnvVarSource, Namespace, ObjectFieldSelector, Pod,
    PodSecurityContext, PodSpec, ResourceRequirements, SeccompProfile, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::placement::{PlacedPod, PlannedContainer, HOSTNAME_LABEL};
use crate::spec::{ContainerRole, Transport};

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "chatter-harness";
pub const RUN_LABEL: &str = "chatter-harness/run";
pub const TRIAL_LABEL: &str = "chatter-harness/trial";
/// Non-root user of the node images.
const UID: i64 = 65532;

/// Where rcl writes its logs in a ROS-flavour container: an emptyDir, because the root
/// filesystem is read-only and rcl fails to start without a writable log directory.
const ROS_LOG_DIR: &str = "/var/log/ros";
const ROS_LOG_VOLUME: &str = "ros-log";

/// Container images for the nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    pub talker: String,
    pub listener: String,
    /// The ROS flavour (`docker/ros.Dockerfile`), for `transport: ros`.
    pub ros_talker: String,
    pub ros_listener: String,
}

impl Images {
    pub const DEFAULT_REGISTRY: &'static str = "ghcr.io/chatter-harness";

    /// `<registry>/{talker,listener,ros-talker,ros-listener}:<tag>`.
    pub fn new(registry: &str, tag: &str) -> Images {
        let registry = registry.trim_end_matches('/');
        let image = |name: &str| format!("{registry}/{name}:{tag}");
        Images {
            talker: image("talker"),
            listener: image("listener"),
            ros_talker: image("ros-talker"),
            ros_listener: image("ros-listener"),
        }
    }

    /// The image a container runs: its role, in the flavour its transport needs.
    pub fn of(&self, c: &PlannedContainer) -> &str {
        match (c.transport, c.role) {
            (Transport::Rustdds, ContainerRole::Talker) => &self.talker,
            (Transport::Rustdds, ContainerRole::Listener) => &self.listener,
            (Transport::Ros, ContainerRole::Talker) => &self.ros_talker,
            (Transport::Ros, ContainerRole::Listener) => &self.ros_listener,
        }
    }
}

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar { name: name.into(), value: Some(value.into()), ..Default::default() }
}

/// A container's environment: its pod name (the node id's default), its domain, and for the
/// ROS flavour a writable log directory.
fn container_env(c: &PlannedContainer) -> Vec<EnvVar> {
    let mut vars = vec![
        EnvVar {
            name: "POD_NAME".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector { field_path: "metadata.name".into(), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        },
        env("ROS_DOMAIN_ID", &c.domain.to_string()),
    ];
    if c.transport == Transport::Ros {
        vars.push(env("ROS_LOG_DIR", ROS_LOG_DIR));
    }
    vars
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
            image: Some(images.of(c).to_owned()),
            args: Some(c.args.clone()),
            env: Some(container_env(c)),
            volume_mounts: (c.transport == Transport::Ros).then(|| {
                vec![VolumeMount { name: ROS_LOG_VOLUME.into(), mount_path: ROS_LOG_DIR.into(), ..Default::default() }]
            }),
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
            volumes: p.containers.iter().any(|c| c.transport == Transport::Ros).then(|| {
                vec![Volume {
                    name: ROS_LOG_VOLUME.into(),
                    empty_dir: Some(EmptyDirVolumeSource::default()),
                    ..Default::default()
                }]
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

    /// `transport: ros` runs the ROS-flavour images, on the scenario's domain, with rcl's log
    /// directory on a writable volume (the root filesystem is read-only).
    #[test]
    fn ros_flavour_gets_its_images_domain_and_log_volume() {
        let text = std::fs::read_to_string(testkit_path("scenarios/seed.yaml")).expect("seed scenario");
        assert!(text.contains("dds:\n  domain: 0\n"), "scenario changed; update this test");
        let text = text.replace("dds:\n  domain: 0\n", "dds:\n  domain: 42\n  transport: ros\n");
        let s = crate::spec::parse(&text, std::path::Path::new("seed.yaml")).expect("valid");
        let plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s)).expect("placeable");
        let images = Images::new("registry.example/me", "1.2.3");
        for p in &plan.pods {
            let pod = pod(p, "ns", "run", 1, &images);
            let spec = pod.spec.expect("spec");
            let volumes = spec.volumes.expect("a log volume");
            assert!(volumes.iter().any(|v| v.name == ROS_LOG_VOLUME && v.empty_dir.is_some()));
            for c in &spec.containers {
                let image = c.image.as_deref().expect("image");
                assert!(image.starts_with("registry.example/me/ros-") && image.ends_with(":1.2.3"), "{image}");
                let env = c.env.as_ref().expect("env");
                let value = |n: &str| env.iter().find(|e| e.name == n).and_then(|e| e.value.clone());
                assert_eq!(value("ROS_DOMAIN_ID").as_deref(), Some("42"));
                assert_eq!(value("ROS_LOG_DIR").as_deref(), Some(ROS_LOG_DIR));
                let mounts = c.volume_mounts.as_ref().expect("mounts");
                assert!(mounts.iter().any(|m| m.name == ROS_LOG_VOLUME && m.mount_path == ROS_LOG_DIR));
                assert_eq!(c.security_context.as_ref().and_then(|s| s.read_only_root_filesystem), Some(true));
            }
        }
    }

    fn testkit_path(p: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
    }
}
