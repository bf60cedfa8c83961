//! The Kubernetes objects a run creates, as typed k8s-openapi values: what `harness render`
//! prints and what the kube backend applies. Pure functions of the plan.
//!
//! By default a pod carries only the scenario's own nodeSelector and tolerations, so
//! kube-scheduler places it as it would the user's own manifests, differently from one apply
//! to the next; the node each pod actually ran on is read back and analysed. With `--pin`
//! every pod is also pinned (`kubernetes.io/hostname`, the node's own label value) to the node
//! placement chose, for reproducible layouts.
//!
//! Every pod waits at a start barrier: its annotations are projected into a file (downward
//! API, no extra permissions in the pod) that the nodes watch; the harness adds
//! [`chatter::RELEASE_ANNOTATION`] once every pod of the trial runs, and they start together.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, DownwardAPIVolumeFile, DownwardAPIVolumeSource, EmptyDirVolumeSource, EnvVar,
    EnvVarSource, Namespace, ObjectFieldSelector, Pod, PodSecurityContext, PodSpec, ResourceRequirements,
    SeccompProfile, SecurityContext, Sysctl, Toleration, Volume, VolumeMount,
};
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::placement::{Node, PlacedPod, PlannedContainer, HOSTNAME_LABEL};
use crate::spec::{ContainerRole, TolerationOperator, Transport};

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "chatter-harness";
pub const RUN_LABEL: &str = "chatter-harness/run";
pub const TRIAL_LABEL: &str = "chatter-harness/trial";
/// The ClusterRole (manifests/rbac) with the pod permissions a run needs, bound per run
/// namespace by a RoleBinding the harness creates, never cluster-wide.
pub const PODS_ROLE: &str = "chatter-harness-pods";
/// Where the start-barrier file (the pod's annotations) is mounted.
const RELEASE_DIR: &str = "/etc/chatter-harness";
const RELEASE_VOLUME: &str = "chatter-release";
/// Pod Security admission labels of a run namespace.
const PSS_LABELS: [&str; 3] =
    ["pod-security.kubernetes.io/enforce", "pod-security.kubernetes.io/warn", "pod-security.kubernetes.io/audit"];
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
            // A process without an image of its own runs its command in our listener's.
            (Transport::Rustdds, ContainerRole::Listener | ContainerRole::Process) => &self.listener,
            (Transport::Ros, ContainerRole::Talker) => &self.ros_talker,
            (Transport::Ros, ContainerRole::Listener | ContainerRole::Process) => &self.ros_listener,
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
    if !c.is_custom() {
        vars.push(env(chatter::RELEASE_FILE_ENV, &format!("{RELEASE_DIR}/annotations")));
    }
    if needs_ros_dirs(c) {
        vars.push(env("ROS_LOG_DIR", ROS_LOG_DIR));
    }
    if c.is_custom() {
        // rcl writes under ROS_HOME (~/.ros): writable, whoever the image's user is.
        vars.push(env("ROS_HOME", ROS_LOG_DIR));
    }
    vars.extend(c.env.iter().filter(|(k, _)| k.as_str() != "ROS_DOMAIN_ID").map(|(k, v)| env(k, v)));
    vars
}

/// ROS 2 inside: the ROS-flavour images and your own images need a writable log directory on a
/// read-only root filesystem.
fn needs_ros_dirs(c: &PlannedContainer) -> bool {
    c.transport == Transport::Ros || c.is_custom()
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

/// Whether `labels` mark an object as made by this harness for run `run_id`: the only
/// objects it ever deletes.
pub fn owned_by_run(labels: &BTreeMap<String, String>, run_id: &str) -> bool {
    labels.get(MANAGED_BY).map(String::as_str) == Some(MANAGER)
        && labels.get(RUN_LABEL).is_some_and(|r| *r == label_value(run_id))
}

/// The label selector of what the harness made: for one run, or (`None`) for any run.
pub fn managed_selector(run_id: Option<&str>) -> String {
    match run_id {
        Some(id) => format!("{MANAGED_BY}={MANAGER},{RUN_LABEL}={}", label_value(id)),
        None => format!("{MANAGED_BY}={MANAGER},{RUN_LABEL}"),
    }
}

/// A run's namespace, with Pod Security admission at `restricted` — which forbids the host
/// network and the host's IPC, so a scenario with hostNetwork or hostIPC pods gets
/// `privileged` enforcement (see [`needs_privileged`]; and still warnings and audit at
/// `restricted`).
pub fn namespace(name: &str, run_id: &str, privileged: bool) -> Namespace {
    let enforce = if privileged { "privileged" } else { "restricted" };
    let mut l = labels(run_id, &[]);
    for (i, key) in PSS_LABELS.iter().enumerate() {
        l.insert((*key).to_owned(), if i == 0 { enforce } else { "restricted" }.to_owned());
    }
    Namespace {
        metadata: ObjectMeta { name: Some(name.to_owned()), labels: Some(l), ..ObjectMeta::default() },
        ..Namespace::default()
    }
}

/// Whether any pod of `plan` shares a namespace of its node (hostNetwork, hostIPC) or sets a
/// sysctl (only the reassembly ones, none of them in Kubernetes' safe set), which the
/// `baseline` and `restricted` Pod Security levels forbid.
pub fn needs_privileged(plan: &crate::placement::Plan) -> bool {
    plan.pods.iter().any(|p| p.host_network || p.host_ipc || !p.sysctls.is_empty())
}

/// Grants `subject` the pod permissions of [`PODS_ROLE`] in the run's namespace only.
pub fn pods_role_binding(namespace: &str, run_id: &str, subject: Subject) -> RoleBinding {
    RoleBinding {
        metadata: ObjectMeta {
            name: Some(PODS_ROLE.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels(run_id, &[])),
            ..ObjectMeta::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: PODS_ROLE.into(),
        },
        subjects: Some(vec![subject]),
    }
}

/// The RBAC subject of an authenticated user name (`system:serviceaccount:<ns>:<name>` or a
/// user).
pub fn subject_of(username: &str) -> Subject {
    match username.strip_prefix("system:serviceaccount:").and_then(|r| r.split_once(':')) {
        Some((ns, name)) => Subject {
            kind: "ServiceAccount".into(),
            name: name.into(),
            namespace: Some(ns.into()),
            ..Subject::default()
        },
        None => Subject {
            kind: "User".into(),
            name: username.into(),
            api_group: Some("rbac.authorization.k8s.io".into()),
            ..Subject::default()
        },
    }
}

fn toleration(t: &crate::spec::Toleration) -> Toleration {
    Toleration {
        key: t.key.clone(),
        operator: t.operator.map(|o| match o {
            TolerationOperator::Exists => "Exists".into(),
            TolerationOperator::Equal => "Equal".into(),
        }),
        value: t.value.clone(),
        effect: t.effect.clone(),
        ..Toleration::default()
    }
}

fn quantity(q: &str) -> Quantity {
    Quantity(q.to_owned())
}

/// Every pod of ours: non-root as the images' user, the runtime's seccomp profile (Pod Security
/// `restricted`); and the scenario's `sysctls`, which Kubernetes counts as unsafe: the kubelet
/// must allow them (`--allowed-unsafe-sysctls`) or it rejects the pod (`SysctlForbidden`).
fn pod_security(sysctls: &BTreeMap<String, String>) -> PodSecurityContext {
    PodSecurityContext {
        sysctls: (!sysctls.is_empty())
            .then(|| sysctls.iter().map(|(name, value)| Sysctl { name: name.clone(), value: value.clone() }).collect()),
        run_as_non_root: Some(true),
        run_as_user: Some(UID),
        run_as_group: Some(UID),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..Default::default() }),
        ..Default::default()
    }
}

/// Every container of ours: no privilege escalation, a read-only root, no capabilities.
fn container_security() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), ..Default::default() }),
        ..Default::default()
    }
}

/// Requests small enough for a Raspberry Pi (pods stuck Pending on CPU requests were seen), and
/// a 128 MiB memory limit.
fn resources(cpu: &str, memory: &str) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(BTreeMap::from([("cpu".into(), quantity(cpu)), ("memory".into(), quantity(memory))])),
        limits: Some(BTreeMap::from([("memory".into(), quantity("128Mi"))])),
        ..Default::default()
    }
}

/// Where a run's pods come from and where they go.
#[derive(Debug, Clone, Copy)]
pub struct PodContext<'a> {
    pub namespace: &'a str,
    pub run_id: &'a str,
    pub images: &'a Images,
    /// Pin every pod to its planned node (`--pin`); otherwise the scheduler places it.
    pub pin: bool,
    /// The cluster's nodes, for the hostname label value of a pinned pod's node.
    pub nodes: &'a [Node],
}

/// One scenario pod for one trial.
pub fn pod(p: &PlacedPod, ctx: &PodContext<'_>, trial: u32) -> Pod {
    let PodContext { namespace, run_id, images, .. } = *ctx;
    let selector = node_selector(p, ctx);
    let trial = trial.to_string();
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
            host_ipc: p.host_ipc.then_some(true),
            dns_policy: p.host_network.then(|| "ClusterFirstWithHostNet".into()),
            node_selector: (!selector.is_empty()).then_some(selector),
            tolerations: (!p.tolerations.is_empty()).then(|| p.tolerations.iter().map(toleration).collect()),
            // The nodes never talk to the API server.
            automount_service_account_token: Some(false),
            termination_grace_period_seconds: Some(10),
            security_context: Some(pod_security(&p.sysctls)),
            volumes: Some(pod_volumes(p)),
            containers: p.containers.iter().map(|c| container(c, images)).collect(),
            ..Default::default()
        }),
        ..Pod::default()
    }
}

/// The scenario's own nodeSelector, and with `--pin` the hostname of the node placement chose.
fn node_selector(p: &PlacedPod, ctx: &PodContext<'_>) -> BTreeMap<String, String> {
    let mut selector = p.node_selector.clone();
    if ctx.pin {
        let hostname = ctx.nodes.iter().find(|n| n.name == p.node).map_or(p.node.as_str(), Node::hostname);
        selector.insert(HOSTNAME_LABEL.to_owned(), hostname.to_owned());
    }
    selector
}

/// One container of a scenario pod: its image (or ours for its role), command, environment and
/// mounts, with small requests and no privileges.
fn container(c: &PlannedContainer, images: &Images) -> Container {
    Container {
        name: c.name.clone(),
        image: Some(c.image.clone().unwrap_or_else(|| images.of(c).to_owned())),
        command: c.command.clone(),
        args: Some(c.args.clone()),
        env: Some(container_env(c)),
        volume_mounts: Some(volume_mounts(c)),
        resources: Some(resources("20m", "32Mi")),
        security_context: Some(container_security()),
        ..Default::default()
    }
}

/// A container's mounts: the start-barrier file, and for ROS 2 inside its log directory.
fn volume_mounts(c: &PlannedContainer) -> Vec<VolumeMount> {
    let mut mounts = vec![VolumeMount {
        name: RELEASE_VOLUME.into(),
        mount_path: RELEASE_DIR.into(),
        read_only: Some(true),
        ..Default::default()
    }];
    if needs_ros_dirs(c) {
        mounts.push(VolumeMount { name: ROS_LOG_VOLUME.into(), mount_path: ROS_LOG_DIR.into(), ..Default::default() });
    }
    mounts
}

/// A pod's volumes: its annotations as the start-barrier file (downward API), and an emptyDir
/// for ROS 2 logs when a container needs one.
fn pod_volumes(p: &PlacedPod) -> Vec<Volume> {
    let mut volumes = vec![Volume {
        name: RELEASE_VOLUME.into(),
        downward_api: Some(DownwardAPIVolumeSource {
            items: Some(vec![DownwardAPIVolumeFile {
                path: "annotations".into(),
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.annotations".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }];
    if p.containers.iter().any(needs_ros_dirs) {
        volumes.push(Volume {
            name: ROS_LOG_VOLUME.into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        });
    }
    volumes
}

/// A doctor probe pod pinned to `node` (by `nodeName`: the probe must run exactly there, and
/// a node the scheduler would avoid is still worth probing): `serve` answers probes until
/// deleted, a prober (`send`, with its `targets` as `name=ip`) reports once and exits. On the
/// host network for the `host` variant.
pub fn probe_pod(
    name: &str,
    namespace: &str,
    run_id: &str,
    images: &Images,
    node: &str,
    host_network: bool,
    args: Vec<String>,
) -> Pod {
    let serve = args.get(1).is_some_and(|a| a == "serve");
    Pod {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels(run_id, &[("app.kubernetes.io/component", "doctor")])),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            node_name: Some(node.to_owned()),
            restart_policy: Some("Never".into()),
            host_network: host_network.then_some(true),
            dns_policy: host_network.then(|| "ClusterFirstWithHostNet".into()),
            automount_service_account_token: Some(false),
            termination_grace_period_seconds: Some(2),
            // The doctor must reach every node, tainted or not.
            tolerations: Some(vec![Toleration { operator: Some("Exists".into()), ..Toleration::default() }]),
            security_context: Some(pod_security(&BTreeMap::new())),
            containers: vec![Container {
                name: if serve { "serve".into() } else { "send".into() },
                image: Some(images.talker.clone()),
                args: Some(args),
                resources: Some(resources("10m", "16Mi")),
                security_context: Some(container_security()),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Pod::default()
    }
}

/// The annotation patch that releases a pod's nodes (the value: the release time, ns).
pub fn release_patch(at_ns: u64) -> serde_json::Value {
    serde_json::json!({"metadata": {"annotations": {chatter::RELEASE_ANNOTATION: at_ns.to_string()}}})
}

/// Every object of a run (trial 1), as a multi-document YAML a user can read, diff and
/// `kubectl apply -f`. Applied by hand, the pods wait at the start barrier until released with
/// `kubectl annotate pod --all chatter-harness.io/release=1`.
pub fn render(
    plan: &crate::placement::Plan,
    run_id: &str,
    images: &Images,
    pin: bool,
) -> Result<String, serde_saphyr::SerializeError> {
    let ns = namespace_name(run_id);
    let mut docs = vec![serde_saphyr::to_string(&namespace(&ns, run_id, needs_privileged(plan)))?];
    let ctx = PodContext { namespace: &ns, run_id, images, pin, nodes: &plan.nodes };
    for p in &plan.pods {
        docs.push(serde_saphyr::to_string(&pod(p, &ctx, 1))?);
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
        let images = Images::new(Images::DEFAULT_REGISTRY, "0.1.0");
        let yaml = render(&plan, "20261123T000000Z-seed", &images, false).expect("yaml");
        // The scheduler places: demo-talker carries no selector at all, the others only their own.
        assert!(!yaml.contains(HOSTNAME_LABEL), "{yaml}");
        insta::assert_snapshot!(yaml);
        let pinned = render(&plan, "20261123T000000Z-seed", &images, true).expect("yaml");
        for p in &plan.pods {
            let pod: Pod = serde_saphyr::from_str(
                pinned.split("---\n").find(|d| d.contains(&format!("name: {}\n", p.name))).expect("pod document"),
            )
            .expect("a pod");
            let selector = pod.spec.and_then(|s| s.node_selector).expect("pinned");
            assert_eq!(selector.get(HOSTNAME_LABEL), Some(&p.node), "{}", p.name);
        }
    }

    /// A pinned pod selects its node's own hostname label, which need not equal the node name.
    #[test]
    fn pin_uses_the_hostname_label_value() {
        let text = std::fs::read_to_string(testkit_path("scenarios/seed.yaml")).expect("seed scenario");
        let s = crate::spec::parse(&text, std::path::Path::new("seed.yaml")).expect("valid");
        let mut nodes = crate::placement::declared_nodes(&s);
        nodes[1].labels.insert(HOSTNAME_LABEL.into(), "raspberrypi-7".into());
        let plan = crate::placement::place(&s, &nodes).expect("placeable");
        let images = Images::new("r", "t");
        let ctx = PodContext { namespace: "ns", run_id: "run", images: &images, pin: true, nodes: &plan.nodes };
        let on_pi = plan.pods.iter().find(|p| p.node == nodes[1].name).expect("a pod on the second node");
        let spec = pod(on_pi, &ctx, 1).spec.expect("spec");
        assert_eq!(
            spec.node_selector.expect("selector").get(HOSTNAME_LABEL).map(String::as_str),
            Some("raspberrypi-7")
        );
        assert_eq!(spec.automount_service_account_token, Some(false));
    }

    #[test]
    fn namespace_pod_security_follows_host_network() {
        let ns = namespace("chatter-x", "x", false);
        let l = ns.metadata.labels.expect("labels");
        assert_eq!(l["pod-security.kubernetes.io/enforce"], "restricted");
        let ns = namespace("chatter-x", "x", true);
        let l = ns.metadata.labels.expect("labels");
        assert_eq!(l["pod-security.kubernetes.io/enforce"], "privileged");
        assert_eq!(l["pod-security.kubernetes.io/warn"], "restricted");
        assert!(owned_by_run(&l, "x"));
        assert!(!owned_by_run(&l, "y"));
    }

    /// hostIPC is rendered on the pod (without the host network unless asked too), and needs the
    /// `privileged` Pod Security level as hostNetwork does.
    #[test]
    fn host_ipc_pods_render_it_and_need_a_privileged_namespace() {
        let text = "name: t\npods:\n  - name: a\n    hostIPC: true\n    containers: [{name: t, role: talker}]\n  - name: b\n    containers: [{name: l, role: listener}]\n";
        let s = crate::spec::parse(text, std::path::Path::new("t.yaml")).expect("valid");
        let mut plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s)).expect("placeable");
        let yaml = render(&plan, "x", &Images::new(Images::DEFAULT_REGISTRY, "0.1.0"), false).expect("yaml");
        let docs: Vec<&str> = yaml.split("---\n").collect();
        assert!(docs[0].contains("pod-security.kubernetes.io/enforce: privileged"), "{}", docs[0]);
        let spec = |doc: &str| serde_saphyr::from_str::<Pod>(doc).expect("a pod").spec.expect("spec");
        let (a, b) = (spec(docs[1]), spec(docs[2]));
        assert_eq!((a.host_ipc, a.host_network), (Some(true), None));
        assert_eq!((b.host_ipc, b.host_network), (None, None));
        plan.pods[0].host_ipc = false;
        assert!(!needs_privileged(&plan));
        plan.pods[1].host_network = true;
        assert!(needs_privileged(&plan));
    }

    /// A pod's sysctls become its `securityContext.sysctls`; being unsafe sysctls, they need the
    /// `privileged` Pod Security level (baseline allows only the safe set).
    #[test]
    fn sysctls_render_in_the_pod_security_context_and_need_a_privileged_namespace() {
        let text = "name: t\npods:\n  - name: a\n    containers: [{name: t, role: talker}]\n  - name: b\n    sysctls: {net.ipv4.ipfrag_time: 60, net.ipv4.ipfrag_high_thresh: 67108864}\n    containers: [{name: l, role: listener}]\n";
        let s = crate::spec::parse(text, std::path::Path::new("t.yaml")).expect("valid");
        let mut plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s)).expect("placeable");
        let yaml = render(&plan, "x", &Images::new(Images::DEFAULT_REGISTRY, "0.1.0"), false).expect("yaml");
        let docs: Vec<&str> = yaml.split("---\n").collect();
        assert!(docs[0].contains("pod-security.kubernetes.io/enforce: privileged"), "{}", docs[0]);
        let sysctls = |doc: &str| {
            let pod = serde_saphyr::from_str::<Pod>(doc).expect("a pod");
            let ctx = pod.spec.expect("spec").security_context.expect("a security context");
            ctx.sysctls.unwrap_or_default().into_iter().map(|s| (s.name, s.value)).collect::<Vec<_>>()
        };
        assert!(sysctls(docs[1]).is_empty());
        assert_eq!(
            sysctls(docs[2]),
            [("net.ipv4.ipfrag_high_thresh".into(), "67108864".into()), ("net.ipv4.ipfrag_time".into(), "60".into())]
        );
        plan.pods[1].sysctls.clear();
        assert!(!needs_privileged(&plan));
    }

    #[test]
    fn subjects_from_user_names() {
        let sa = subject_of("system:serviceaccount:ci:chatter");
        assert_eq!(
            (sa.kind.as_str(), sa.name.as_str(), sa.namespace.as_deref()),
            ("ServiceAccount", "chatter", Some("ci"))
        );
        let user = subject_of("alice");
        assert_eq!((user.kind.as_str(), user.name.as_str()), ("User", "alice"));
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
        let ctx = PodContext { namespace: "ns", run_id: "run", images: &images, pin: false, nodes: &plan.nodes };
        for p in &plan.pods {
            let pod = pod(p, &ctx, 1);
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

    #[test]
    fn probe_pods_are_pinned_by_node_name_with_a_host_network_variant() {
        let images = Images::new("r", "t");
        let serve = ["probe", "serve", "--node", "pi/host"].map(String::from).to_vec();
        let p = probe_pod("doctor-serve-1-host", "ns", "run", &images, "pi", true, serve);
        let spec = p.spec.expect("spec");
        assert_eq!(spec.node_name.as_deref(), Some("pi"));
        assert_eq!(spec.node_selector, None, "nodeName, not a selector: the scheduler is not asked");
        assert_eq!((spec.host_network, spec.dns_policy.as_deref()), (Some(true), Some("ClusterFirstWithHostNet")));
        assert_eq!(spec.containers[0].name, "serve");
        assert_eq!(spec.containers[0].image.as_deref(), Some("r/talker:t"));
        let send = ["probe", "send", "--node", "pi/pod", "--target", "master/pod=10.42.0.7"].map(String::from).to_vec();
        let p = probe_pod("doctor-send-1-pod", "ns", "run", &images, "pi", false, send);
        let spec = p.spec.expect("spec");
        assert_eq!((spec.host_network, spec.dns_policy), (None, None));
        assert_eq!(spec.containers[0].name, "send");
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        assert!(owned_by_run(p.metadata.labels.as_ref().expect("labels"), "run"));
    }

    /// Your own containers: your image, command and args, your env plus what makes stock demo
    /// nodes' logs readable, writable ROS directories; no start barrier (it would never be
    /// released: your program does not wait for it).
    #[test]
    fn stock_demo_containers_run_their_own_image_and_command() {
        let text = std::fs::read_to_string(testkit_path("scenarios/stock-demo.yaml")).expect("scenario");
        let s = crate::spec::parse(&text, std::path::Path::new("stock-demo.yaml")).expect("valid");
        let plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s)).expect("placeable");
        let images = Images::new("r", "t");
        let ctx = PodContext { namespace: "ns", run_id: "run", images: &images, pin: false, nodes: &plan.nodes };
        let spec = pod(&plan.pods[2], &ctx, 1).spec.expect("spec");
        let c = &spec.containers[0];
        assert_eq!(c.image.as_deref(), Some("osrf/ros:humble-desktop"));
        assert_eq!(c.command.as_deref(), Some(&["ros2", "run", "demo_nodes_cpp", "talker"].map(String::from)[..]));
        assert_eq!(c.args.as_deref(), Some(&[][..]));
        let env = c.env.as_ref().expect("env");
        let value = |n: &str| env.iter().find(|e| e.name == n).and_then(|e| e.value.clone());
        assert_eq!(value("RCUTILS_LOGGING_BUFFERED_STREAM").as_deref(), Some("0"));
        assert_eq!(value("PYTHONUNBUFFERED").as_deref(), Some("1"));
        assert_eq!(value("RMW_IMPLEMENTATION").as_deref(), Some("rmw_cyclonedds_cpp"));
        assert_eq!(value("ROS_HOME").as_deref(), Some(ROS_LOG_DIR));
        assert_eq!(value(chatter::RELEASE_FILE_ENV), None);
        assert_eq!(env.iter().filter(|e| e.name == "ROS_DOMAIN_ID").count(), 1);
    }

    fn testkit_path(p: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
    }
}
