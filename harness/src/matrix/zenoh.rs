//! The Zenoh bridge variants: a zenoh-plugin-ros2dds bridge on the host network of every node
//! (the master's the router the others connect to, as the seed team deployed it), with DDS
//! kept on each node, and the same with DDS left free to cross as well, which the bridge's
//! README warns against (duplicates). Their overlays (a DaemonSet of bridges, the master's
//! router as a Deployment, the ROS pods' environment) and what the report says of them: which
//! pairs go through the bridges, what they add to latency, what they need.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::backend::netns::topology::Topology;
use crate::placement::Plan;
use crate::spec::{ContainerRole, Rmw, Scenario};

use super::edits::{helper_pod, on_fastdds, HelperProcess, Variant};
use super::overlay::{env_patches, HOST_NETWORK_PATCH, KUSTOMIZATION, PRIVILEGED_PATCH};
use super::report::{MatrixReport, Outcome, PairCell};

/// The variants' ids.
pub(super) const PER_NODE: &str = "zenoh-bridge-per-node";
pub(super) const DDS_CROSSES: &str = "zenoh-bridge-dds-crosses";
/// The TCP port the router listens on (zenoh's default).
pub const ZENOH_PORT: u16 = 7447;
/// The bridge pods' names: `zenoh-bridge-<node>`.
const BRIDGE_POD: &str = "zenoh-bridge";
/// The image the overlays run: upstream's bridge of the plugin version ours links (its flags
/// are the ones used here).
const BRIDGE_IMAGE: &str = "eclipse/zenoh-bridge-ros2dds:1.10.2";

/// The bridge's Cyclone DDS pinned to loopback, multicast on: it hears the Fast DDS nodes of its
/// node's host network and nothing of it leaves the node. Measured (bridge/README.md): with the
/// plugin's own ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST instead, Cyclone stays on the node's
/// other interface and Fast DDS nodes started after the bridge are never heard (0 of 494).
pub const CYCLONE_ON_LOOPBACK: &str = r#"<CycloneDDS><Domain><General><Interfaces><NetworkInterface name="lo"/></Interfaces></General></Domain></CycloneDDS>"#;
/// The bridge's Cyclone DDS on the node's CNI bridge (flannel's `cni0`), where the pods of its
/// node multicast: for nodes that stay on the pod network (our RustDDS nodes have no
/// localhost-only setting).
pub const CYCLONE_ON_CNI: &str = r#"<CycloneDDS><Domain><General><Interfaces><NetworkInterface name="cni0"/></Interfaces></General></Domain></CycloneDDS>"#;

const PER_NODE_NOTE: &str = "a bridge process per node (host network), TCP 7447 open from every node to the \
     master's. Fast DDS nodes go on the host network at ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (DDS stays on the \
     node) with hostIPC: at LOCALHOST, Fast DDS processes of one network namespace meet only through a /dev/shm \
     they share, with FASTDDS_BUILTIN_TRANSPORTS=UDPv4 or without (measured: 0 of 30 heard with a /dev/shm each, \
     31 of 31 with one shared). The bridge's Cyclone DDS is pinned to `lo` (CYCLONEDDS_URI) at ROS_DISTRO=jazzy: \
     with the plugin's own ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST instead, Cyclone stays on the node's other \
     interface and Fast DDS nodes started after the bridge are never heard (0 of 494, bridge/README.md). Our \
     RustDDS nodes (no localhost-only setting) stay on the pod network, the bridge's Cyclone DDS on the node's \
     CNI bridge (cni0) at ROS_DISTRO=humble";
const DDS_CROSSES_NOTE: &str = "not a fix: DDS reaches the other nodes by itself as well, so a listener hears \
     a talker of another node both directly and through the bridges (the bridge README's warning); harness \
     lint flags the layout (zenoh-bridge-dds-also-crosses)";

/// How long before the ROS nodes the bridges start, as a DaemonSet's run long before the nodes
/// on a cluster: a bridge was ready 0.5 s after its start here (measured, idle machine). Fast
/// DDS nodes at LOCALHOST that announce themselves before their node's bridge listens were
/// heard only seconds later (missed the first messages of a 3 s warm-up in 1 of 3 trials).
const HEAD_START_S: f64 = 2.0;

/// The patch that gives every pod its node's IPC namespace and /dev/shm.
const HOST_IPC_PATCH: &str =
    "  - target:\n      kind: Pod\n    patch: |-\n      - op: add\n        path: /spec/hostIPC\n        value: true\n";

/// The bridge built by `scripts/build-bridge.sh`: `target/bridge/` beside this harness's
/// `target/<profile>/`, else under the working directory.
pub(super) fn bridge_binary() -> Option<PathBuf> {
    let name = "chatter-zenoh-bridge";
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("bridge").join(name)))
        .into_iter();
    let cwd = std::env::current_dir().ok().map(|d| d.join("target/bridge").join(name)).into_iter();
    beside.chain(cwd).find(|p| p.is_file())
}

/// The two Zenoh variants of `scenario` (`bridge`: the bridge binary, if built).
pub(super) fn zenoh_variants(scenario: &Scenario, plan: &Plan, fastdds: bool, bridge: Option<&Path>) -> [Variant; 2] {
    let applies = |crosses: bool| match bridge {
        _ if on_cyclone(scenario) => Err(CYCLONE_STAND_IN.to_owned()),
        Some(b) => with_bridges(scenario, plan, b, fastdds, crosses),
        None => Err("the Zenoh bridge is not built here: run `bash scripts/build-bridge.sh` \
                     (target/bridge/chatter-zenoh-bridge)"
            .to_owned()),
    };
    [
        Variant {
            files: Vec::new(),
            id: PER_NODE,
            title: "a Zenoh bridge per node, DDS kept on each node",
            // A process on every node, a TCP port between nodes (and, for Fast DDS, the host
            // and IPC namespaces as well): more than any environment variable.
            rank: 7,
            scenario: applies(false),
            note: Some(PER_NODE_NOTE),
        },
        Variant {
            files: Vec::new(),
            id: DDS_CROSSES,
            title: "a Zenoh bridge per node, DDS also free to cross",
            rank: 8,
            scenario: applies(true),
            note: Some(DDS_CROSSES_NOTE),
        },
    ]
}

/// Why the bridge is not measured with Cyclone DDS nodes here.
const CYCLONE_STAND_IN: &str = "not measurable here on Cyclone DDS: no rmw_cyclonedds_cpp exists on this machine, and the \
     stand-in for the stock nodes (PyPI cyclonedds) publishes no ros_discovery_info, the ROS 2 graph the bridge builds its \
     routes from (measured with our nodes: without valid discovery info it makes no route), so the bridge would carry \
     nothing for it — a result about the stand-in, not about your nodes";

/// Whether a ROS container of `s` runs on Cyclone DDS (its own `rmw` or the scenario's).
fn on_cyclone(s: &Scenario) -> bool {
    s.pods
        .iter()
        .flat_map(|p| &p.containers)
        .filter(|c| c.role != ContainerRole::Process)
        .any(|c| c.rmw.or(s.dds.rmw) == Some(Rmw::Cyclonedds))
}

/// The bridges' DDS side, measured (bridge/README.md): for Fast DDS nodes on the host network,
/// Cyclone DDS pinned to loopback at ROS_DISTRO=jazzy; for our RustDDS nodes (ros2-client speaks
/// Humble's discovery info) at ROS_DISTRO=humble, on the CNI bridge where the nodes stay on the
/// pod network, on 127.0.0.1 (the plugin's Humble localhost-only) where they are on the host
/// network.
fn bridge_env(fastdds: bool, crosses: bool) -> &'static [(&'static str, &'static str)] {
    match (fastdds, crosses) {
        (true, _) => &[("ROS_DISTRO", "jazzy"), ("CYCLONEDDS_URI", CYCLONE_ON_LOOPBACK)],
        (false, false) => &[("ROS_DISTRO", "humble"), ("CYCLONEDDS_URI", CYCLONE_ON_CNI)],
        (false, true) => &[("ROS_DISTRO", "humble"), ("ROS_LOCALHOST_ONLY", "1")],
    }
}

/// Whether the ROS pods go on the host network: Fast DDS nodes, to reach their node's bridge on
/// loopback; any nodes where DDS is to cross (the nodes' LAN carries multicast). Our RustDDS
/// nodes have no localhost-only setting, so to keep DDS on each node they stay on the pod
/// network, which carries no multicast between nodes.
fn ros_on_host_network(fastdds: bool, crosses: bool) -> bool {
    fastdds || crosses
}

/// `s` with a bridge pod on the host network of every node of `plan`, the ROS pods on the host
/// network where [`ros_on_host_network`]; Fast DDS pods with their node's /dev/shm (hostIPC), at
/// LOCALHOST unless `crosses`.
fn with_bridges(s: &Scenario, plan: &Plan, bridge: &Path, fastdds: bool, crosses: bool) -> Result<Scenario, String> {
    if plan.nodes.is_empty() {
        return Err("the cluster has no nodes".into());
    }
    let mut out = s.clone();
    // The nodes start HEAD_START_S late: the talkers publish that much longer, so they are
    // measured as long as in the other variants.
    out.trials.duration_s = crate::spec::PositiveF64(s.trials.duration_s.0 + HEAD_START_S);
    for p in &mut out.pods {
        p.host_network |= ros_on_host_network(fastdds, crosses);
        p.host_ipc |= fastdds;
    }
    for c in out.pods.iter_mut().flat_map(|p| p.containers.iter_mut()) {
        if c.role == ContainerRole::Process {
            continue;
        }
        if on_fastdds(c, s) && !crosses {
            c.env.insert("ROS_AUTOMATIC_DISCOVERY_RANGE".into(), "LOCALHOST".into());
        }
        c.start_delay_s = Some(crate::spec::NonNegativeF64(c.start_delay_s.map_or(0.0, |d| d.0) + HEAD_START_S));
    }
    let env = bridge_env(fastdds, crosses);
    let endpoint = format!("tcp/{}:{ZENOH_PORT}", Topology::node_addr(0));
    for (i, node) in plan.nodes.iter().enumerate() {
        let args = bridge_args(i == 0, &endpoint, s.dds.domain);
        let mut env: BTreeMap<String, String> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        env.insert("RUST_LOG".into(), "warn".into());
        out.pods.push(helper_pod(
            format!("{BRIDGE_POD}-{}", node.name),
            node.hostname(),
            true,
            HelperProcess {
                name: "bridge",
                image: None,
                command: std::iter::once("zenoh-bridge-ros2dds".to_owned()).chain(args.clone()).collect(),
                stand_in: std::iter::once(bridge.display().to_string()).chain(args).collect(),
                env,
            },
        ));
    }
    Ok(out)
}

/// A bridge's command line: the router listens on `endpoint` (its node's address), the others
/// connect to it; no multicast scouting (the nodes' LAN may carry none).
fn bridge_args(router: bool, endpoint: &str, domain: u16) -> Vec<String> {
    let flag = if router { "--listen" } else { "--connect" };
    ["--mode", "router", flag, endpoint, "--no-multicast-scouting", "--domain", &domain.to_string()]
        .map(str::to_owned)
        .to_vec()
}

/// The overlay of a Zenoh variant (`None` for other variants): the bridges (`zenoh-bridges.yaml`)
/// and the ROS pods' patches. `rmw`: the scenario's (Fast DDS nodes go on the host network).
pub(super) fn zenoh_files(
    variant: &str,
    plan: &Plan,
    namespace: &str,
    rmw: Option<Rmw>,
) -> Option<BTreeMap<String, String>> {
    let crosses = match variant {
        PER_NODE => false,
        DDS_CROSSES => true,
        _ => return None,
    };
    let fastdds = rmw == Some(Rmw::Fastdds);
    let mut k = String::from(
        "# A Zenoh bridge (zenoh-plugin-ros2dds) on the host network of every node: the master's is the router\n\
         # (Deployment zenoh-router, TCP 7447 on the master's address), every other node's (DaemonSet\n\
         # zenoh-bridge) connects to it by the headless Service's name. TCP 7447 must be open between nodes.\n",
    );
    if crosses {
        k.push_str(
            "# DDS IS ALSO FREE TO CROSS here: a listener hears a talker of another node twice (directly and\n\
             # through the bridges). A measurement of the bridge README's warning, not a fix to deploy.\n",
        );
    }
    k.push_str(match (fastdds, crosses) {
        (true, false) => {
            "# The ROS pods go on the host network, where they reach their node's bridge over loopback, and keep\n\
             # DDS on their node (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST). hostIPC: at LOCALHOST, Fast DDS\n\
             # processes of one node meet only through a /dev/shm they share (measured; UDPv4 does not help).\n"
        }
        (true, true) => {
            "# The ROS pods go on the host network, where they reach their node's bridge over loopback, with\n\
             # their node's /dev/shm (hostIPC).\n"
        }
        (false, false) => {
            "# The ROS pods stay on the pod network; the bridges' Cyclone DDS is on the node's CNI bridge (flannel:\n\
             # cni0), where the node's pods multicast. DDS stays on each node while the CNI carries no multicast\n\
             # between nodes (flannel's VXLAN does not); with one that does, the bridges also meet each other\n\
             # over DDS and loop messages between them.\n"
        }
        (false, true) => {
            "# The ROS pods go on the host network (the nodes' LAN carries their multicast); the bridges' Cyclone\n\
             # DDS on 127.0.0.1 (ROS_LOCALHOST_ONLY=1 at ROS_DISTRO=humble).\n"
        }
    });
    let _ = write!(k, "{KUSTOMIZATION}namespace: {namespace}\nresources:\n  - base.yaml\n  - zenoh-bridges.yaml\n");
    if ros_on_host_network(fastdds, crosses) {
        k.push_str(HOST_NETWORK_PATCH);
    } else {
        k.push_str("patches:\n");
    }
    // The bridges are on the host network: Pod Security `restricted` (the base's) rejects them.
    k.push_str(PRIVILEGED_PATCH);
    if fastdds {
        k.push_str(HOST_IPC_PATCH);
        if !crosses {
            env_patches(&mut k, plan, "{name: ROS_AUTOMATIC_DISCOVERY_RANGE, value: LOCALHOST}");
        }
    }
    let domain = plan.pods.iter().flat_map(|p| &p.containers).map(|c| c.domain).next().unwrap_or(0);
    let master = plan.nodes.first().map_or("master", |n| n.hostname());
    let bridges = bridges_yaml(namespace, master, domain, bridge_env(fastdds, crosses));
    Some(BTreeMap::from([("kustomization.yaml".to_owned(), k), ("zenoh-bridges.yaml".to_owned(), bridges)]))
}

/// The bridges: the master's router (Deployment + headless Service), every other node's bridge
/// (DaemonSet), on the host network.
fn bridges_yaml(namespace: &str, master: &str, domain: u16, dds: &[(&str, &str)]) -> String {
    let router = format!("zenoh-router.{namespace}.svc.cluster.local");
    let mut env = String::from(
        "          env:\n            - name: HOST_IP\n              valueFrom:\n                fieldRef:\n                  fieldPath: status.hostIP\n",
    );
    for (k, v) in dds {
        let _ = write!(env, "            - name: {k}\n              value: '{v}'\n");
    }
    let pod = |name: &str, placement: &str, flag: &str, endpoint: &str| {
        format!(
            "    metadata:\n      labels:\n        app.kubernetes.io/name: {name}\n    spec:\n      hostNetwork: true\n\
             \x20     dnsPolicy: ClusterFirstWithHostNet\n{placement}      containers:\n        - name: bridge\n\
             \x20         image: {BRIDGE_IMAGE}\n          args: [\"--mode\", \"router\", \"{flag}\", \"{endpoint}\", \
             \"--no-multicast-scouting\", \"--domain\", \"{domain}\"]\n{env}          ports:\n            \
             - containerPort: {ZENOH_PORT}\n              protocol: TCP\n"
        )
    };
    let router_pod = pod(
        "zenoh-router",
        &format!("      nodeSelector:\n        kubernetes.io/hostname: {master}\n"),
        "--listen",
        &format!("tcp/$(HOST_IP):{ZENOH_PORT}"),
    );
    let agents = pod(
        "zenoh-bridge",
        &format!(
            "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n\
             \x20           nodeSelectorTerms:\n              - matchExpressions:\n                  - key: kubernetes.io/hostname\n\
             \x20                   operator: NotIn\n                    values: [{master}]\n"
        ),
        "--connect",
        &format!("tcp/{router}:{ZENOH_PORT}"),
    );
    format!(
        "# The master's bridge: the router the other nodes' bridges connect to, on the master's address.\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: zenoh-router\nspec:\n  replicas: 1\n  selector:\n    \
         matchLabels:\n      app.kubernetes.io/name: zenoh-router\n  template:\n{router_pod}\
         ---\n# Names the router for the other bridges: its node's address (headless, resolvable before Ready).\n\
         apiVersion: v1\nkind: Service\nmetadata:\n  name: zenoh-router\nspec:\n  clusterIP: None\n  \
         publishNotReadyAddresses: true\n  selector:\n    app.kubernetes.io/name: zenoh-router\n  ports:\n    \
         - name: zenoh\n      port: {ZENOH_PORT}\n      protocol: TCP\n\
         ---\n# Every other node's bridge, connecting to the router.\n\
         apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: zenoh-bridge\nspec:\n  selector:\n    matchLabels:\n      \
         app.kubernetes.io/name: zenoh-bridge\n  template:\n{agents}"
    )
}

/// A pair's latency, ms with one decimal.
fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

/// The pair cells of a variant that ran.
fn cells(v: &super::report::VariantResult) -> Option<&[PairCell]> {
    match &v.outcome {
        Outcome::Ran { pairs, .. } => Some(pairs),
        _ => None,
    }
}

/// What the Zenoh variants that ran change that the DDS fixes do not: the pairs that go through
/// the bridges (the cross-node ones), their latency against the least invasive DDS variant that
/// delivered the same pair, the duplicates where DDS also crosses, and what the bridges need.
pub fn bridge_words(m: &MatrixReport) -> Vec<String> {
    let mut out = Vec::new();
    for v in m.variants.iter().filter(|v| v.id == PER_NODE || v.id == DDS_CROSSES) {
        let Some(pairs) = cells(v) else { continue };
        let cross: Vec<&PairCell> = pairs.iter().filter(|c| c.cross_node).collect();
        if cross.is_empty() {
            out.push(format!("{}: no pair crosses nodes, so nothing goes through the bridges.", v.title));
            continue;
        }
        let names = cross.iter().map(|c| c.pair.as_str()).collect::<Vec<_>>().join(", ");
        let heard = cross.iter().filter(|c| c.delivered > 0).count();
        let how = if v.id == DDS_CROSSES {
            "go both directly over DDS and through the bridges"
        } else {
            "go through the bridges"
        };
        let mut w = format!(
            "{}: the cross-node pairs ({names}) {how} (heard in {heard} of {}); the others stay on DDS.",
            v.title,
            cross.len()
        );
        for c in &cross {
            if let Some(base) = baseline(m, &c.pair) {
                let (b, bv) = base;
                if let (Some(p50), Some(p99), Some(b50), Some(b99)) =
                    (c.latency_p50_us, c.latency_p99_us, b.latency_p50_us, b.latency_p99_us)
                {
                    let _ = write!(
                        w,
                        " {}: p50 {} against {} with {bv}, p99 {} against {}.",
                        c.pair,
                        ms(p50),
                        ms(b50),
                        ms(p99),
                        ms(b99)
                    );
                }
            }
        }
        let dups: u64 = cross.iter().map(|c| c.duplicates).sum();
        if dups > 0 {
            let per = cross.iter().map(|c| format!("{} {}", c.pair, c.duplicates)).collect::<Vec<_>>().join(", ");
            let _ = write!(w, " Messages heard twice (duplicates per pair): {per}.");
        }
        out.push(w);
    }
    if out.iter().any(|w| !w.contains("no pair crosses")) {
        out.push(format!(
            "What the bridges need that DDS fixes do not: TCP port {ZENOH_PORT} open from every node to the master's, \
             and a bridge process on every node (a host-network DaemonSet and the master's router Deployment)."
        ));
    }
    out
}

/// The least invasive variant other than the Zenoh ones that delivered `pair` in every trial
/// with a latency: the pair's direct DDS path, and that variant's title.
fn baseline<'m>(m: &'m MatrixReport, pair: &str) -> Option<(&'m PairCell, &'m str)> {
    m.variants
        .iter()
        .filter(|v| v.id != PER_NODE && v.id != DDS_CROSSES)
        .filter_map(|v| {
            let c = cells(v)?.iter().find(|c| c.pair == pair && c.trials > 0 && c.delivered == c.trials)?;
            c.latency_p50_us.map(|_| (v.rank, c, v.title.as_str()))
        })
        .min_by_key(|(rank, _, _)| *rank)
        .map(|(_, c, t)| (c, t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{fix_files, variants, VariantResult};
    use crate::summary::VerdictKind;

    fn scenario(file: &str) -> (Scenario, Plan) {
        let text = std::fs::read_to_string(testkit::workspace_root().join("scenarios").join(file)).expect("present");
        let s = crate::spec::parse(&text, Path::new(file)).expect("valid");
        let plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s)).expect("placeable");
        (s, plan)
    }

    fn edited(s: &Scenario, plan: &Plan, fastdds: bool, id: &str) -> Scenario {
        let v = zenoh_variants(s, plan, fastdds, Some(Path::new("/b/bridge")));
        v.into_iter().find(|v| v.id == id).expect("the variant").scenario.expect("applies")
    }

    /// One host-network bridge pod per node: the master's listens on its node's address, the
    /// others connect to it; the environment each side needs, per stack.
    #[test]
    fn a_bridge_per_node_the_masters_the_router() {
        let (s, plan) = scenario("seed-fastdds.yaml");
        let per_node = edited(&s, &plan, true, PER_NODE);
        assert_eq!(per_node.pods.len(), s.pods.len() + 2);
        let bridge = |n: &str| per_node.pods.iter().find(|p| p.name == format!("zenoh-bridge-{n}")).expect("a bridge");
        for (node, flag) in [("master", "--listen"), ("pi", "--connect")] {
            let p = bridge(node);
            assert!(p.host_network && p.node_selector[crate::placement::HOSTNAME_LABEL] == node, "{p:?}");
            let c = &p.containers[0];
            assert_eq!(c.role, ContainerRole::Process);
            let line = c.stand_in.as_ref().expect("runs the bridge here").join(" ");
            assert!(line.starts_with("/b/bridge --mode router"), "{line}");
            assert!(line.contains(&format!("{flag} tcp/10.99.0.1:7447 --no-multicast-scouting --domain 0")), "{line}");
            assert_eq!(
                (c.env["ROS_DISTRO"].as_str(), c.env["CYCLONEDDS_URI"].as_str()),
                ("jazzy", CYCLONE_ON_LOOPBACK)
            );
        }
        // The Fast DDS nodes: on the host network with their node's /dev/shm, DDS kept on the node.
        for p in per_node.pods.iter().filter(|p| !p.name.starts_with("zenoh-bridge")) {
            assert!(p.host_network && p.host_ipc, "{}", p.name);
            assert!(p.containers.iter().all(|c| c.env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"));
            assert!(p.containers.iter().all(|c| c.start_delay_s.is_some_and(|d| d.0 == HEAD_START_S)), "{p:?}");
        }
        assert_eq!(per_node.trials.duration_s.0, s.trials.duration_s.0 + HEAD_START_S);
        let crosses = edited(&s, &plan, true, DDS_CROSSES);
        let ros = crosses.pods.iter().filter(|p| !p.name.starts_with("zenoh-bridge")).flat_map(|p| &p.containers);
        assert!(ros.clone().all(|c| !c.env.contains_key("ROS_AUTOMATIC_DISCOVERY_RANGE")));
        let ros_pods = crosses.pods.iter().filter(|p| !p.name.starts_with("zenoh-bridge"));
        assert!(ros_pods.clone().all(|p| p.host_network && p.host_ipc));
        // Our RustDDS nodes: kept on the pod network (no localhost-only setting), the bridge on
        // the CNI bridge at Humble; with DDS crossing, on the host network.
        let (s, plan) = scenario("seed.yaml");
        let per_node = edited(&s, &plan, false, PER_NODE);
        assert!(per_node.pods.iter().filter(|p| !p.name.starts_with("zenoh-bridge")).all(|p| !p.host_network));
        let env = &per_node.pods.last().expect("a bridge").containers[0].env;
        assert_eq!((env["ROS_DISTRO"].as_str(), env["CYCLONEDDS_URI"].as_str()), ("humble", CYCLONE_ON_CNI));
        let crosses = edited(&s, &plan, false, DDS_CROSSES);
        assert!(crosses.pods.iter().all(|p| p.host_network));
        assert_eq!(crosses.pods.last().expect("a bridge").containers[0].env["ROS_LOCALHOST_ONLY"], "1");
    }

    /// Without the bridge built, neither variant applies, and each says how to build it; both
    /// rank above every environment-variable fix and the host network.
    #[test]
    fn without_the_bridge_the_variants_say_how_to_build_it() {
        let (s, plan) = scenario("seed-fastdds.yaml");
        for v in zenoh_variants(&s, &plan, true, None) {
            assert!(v.scenario.expect_err("no bridge").contains("bash scripts/build-bridge.sh"));
        }
        let all = variants(&s, &plan, "netns", None, Path::new("/nonexistent"));
        let rank = |id: &str| all.iter().find(|v| v.id == id).expect(id).rank;
        for id in ["ros-static-peers", "discovery-server", "host-network-udpv4"] {
            assert!(rank(PER_NODE) > rank(id), "{id}");
        }
        assert!(rank(DDS_CROSSES) > rank(PER_NODE));
        // Cyclone DDS nodes (here: the stand-in for the stock nodes, which announces no ROS 2
        // graph) are not measured through the bridge, and the variants say why.
        let (s, plan) = scenario("stock-demo.yaml");
        for v in zenoh_variants(&s, &plan, false, Some(Path::new("/b/bridge"))) {
            assert!(v.scenario.expect_err("Cyclone").contains("ros_discovery_info"));
        }
    }

    /// The overlays: the router as a Deployment on the master with its headless Service, a
    /// DaemonSet on every other node connecting to it, both on the host network; the ROS pods'
    /// patches per stack.
    #[test]
    fn the_overlays_run_the_router_and_a_daemonset_of_bridges() {
        let (_, plan) = scenario("seed-fastdds.yaml");
        let files = fix_files(PER_NODE, &plan, "ns", Some(Rmw::Fastdds), None).expect("an overlay");
        let k = &files["kustomization.yaml"];
        assert!(k.contains("resources:\n  - base.yaml\n  - zenoh-bridges.yaml\n"), "{k}");
        assert!(k.contains("path: /spec/hostNetwork"), "{k}");
        assert_eq!(
            k.matches("{name: ROS_AUTOMATIC_DISCOVERY_RANGE, value: LOCALHOST}").count(),
            4,
            "one per container"
        );
        assert!(k.contains("path: /spec/hostIPC\n        value: true"), "{k}");
        let docs: Vec<serde_json::Value> =
            files["zenoh-bridges.yaml"].split("\n---\n").map(|d| serde_saphyr::from_str(d).expect("YAML")).collect();
        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().expect("a kind")).collect();
        assert_eq!(kinds, ["Deployment", "Service", "DaemonSet"]);
        let pod = |i: usize| &docs[i]["spec"]["template"]["spec"];
        assert_eq!(pod(0)["nodeSelector"]["kubernetes.io/hostname"], "master");
        assert_eq!(pod(0)["containers"][0]["args"][3], "tcp/$(HOST_IP):7447");
        assert_eq!(pod(2)["containers"][0]["args"][3], "tcp/zenoh-router.ns.svc.cluster.local:7447");
        let not_in = &pod(2)["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
        assert_eq!(not_in["nodeSelectorTerms"][0]["matchExpressions"][0]["values"][0], "master");
        for i in [0, 2] {
            assert_eq!(pod(i)["hostNetwork"], true);
            let env = pod(i)["containers"][0]["env"].as_array().expect("env").clone();
            assert!(env.iter().any(|e| e["name"] == "CYCLONEDDS_URI" && e["value"] == CYCLONE_ON_LOOPBACK), "{env:?}");
        }
        assert_eq!(docs[1]["spec"]["clusterIP"], "None");
        let crosses = fix_files(DDS_CROSSES, &plan, "ns", Some(Rmw::Fastdds), None).expect("an overlay");
        assert!(!crosses["kustomization.yaml"].contains("ROS_AUTOMATIC_DISCOVERY_RANGE"));
        assert!(crosses["kustomization.yaml"].contains("DDS IS ALSO FREE TO CROSS"));
        // RustDDS nodes stay on the pod network, the bridges on the CNI bridge.
        let rust = fix_files(PER_NODE, &plan, "ns", None, None).expect("an overlay");
        assert!(!rust["kustomization.yaml"].contains("hostNetwork") && rust["zenoh-bridges.yaml"].contains("cni0"));
        // The bridges are on the host network: every overlay admits them (Pod Security privileged).
        for k in [&files, &crosses, &rust].map(|f| &f["kustomization.yaml"]) {
            assert!(k.contains("patches:\n"), "{k}");
            assert!(k.contains("pod-security.kubernetes.io~1enforce\n        value: privileged"), "{k}");
        }
    }

    fn ran(id: &str, rank: u8, cells: Vec<PairCell>) -> VariantResult {
        let delivers_all = cells.iter().all(|c| c.delivered == c.trials);
        VariantResult {
            id: id.into(),
            title: id.into(),
            rank,
            outcome: Outcome::Ran {
                dir: id.into(),
                verdict: VerdictKind::Consistent,
                headline: String::new(),
                pairs: cells,
                delivers_all,
                lost: Vec::new(),
            },
            note: None,
        }
    }

    fn cell(pair: &str, cross: bool, delivered: u32, p50: u64, duplicates: u64) -> PairCell {
        PairCell {
            pair: pair.into(),
            delivered,
            trials: 3,
            cross_node: cross,
            duplicates,
            latency_p50_us: (delivered > 0).then_some(p50),
            latency_p99_us: (delivered > 0).then_some(p50 * 3),
        }
    }

    /// The report names the pairs that go through the bridges, their latency against the least
    /// invasive DDS variant that delivered them, the duplicates, and what the bridges need; a
    /// variant that delivers messages twice is never recommended.
    #[test]
    fn the_report_says_what_the_bridges_change() {
        let mut m = MatrixReport {
            scenario: "s".into(),
            backend: "netns".into(),
            variants: vec![
                ran("as-is", 0, vec![cell("a → b", true, 0, 0, 0), cell("a → c", false, 3, 900, 0)]),
                ran("host-network-udpv4", 6, vec![cell("a → b", true, 3, 1500, 0), cell("a → c", false, 3, 900, 0)]),
                ran("multicast-cni", 4, vec![cell("a → b", true, 3, 1200, 0), cell("a → c", false, 3, 900, 0)]),
                ran(DDS_CROSSES, 8, vec![cell("a → b", true, 3, 2000, 58), cell("a → c", false, 3, 900, 0)]),
                ran(PER_NODE, 7, vec![cell("a → b", true, 3, 2300, 0), cell("a → c", false, 3, 900, 0)]),
            ],
            recommended: None,
            fix: None,
            processes_per_ip: 1,
            manifests: None,
            bridges: Vec::new(),
        };
        let words = bridge_words(&m).join("\n");
        assert!(words.contains(&format!("{PER_NODE}: the cross-node pairs (a → b) go through the bridges")), "{words}");
        assert!(
            words.contains("a → b: p50 2.3 ms against 1.2 ms with multicast-cni, p99 6.9 ms against 3.6 ms"),
            "{words}"
        );
        assert!(words.contains("duplicates per pair): a → b 58"), "{words}");
        assert!(words.contains("TCP port 7447"), "{words}");
        m.bridges = bridge_words(&m);
        assert!(
            m.markdown().contains("- zenoh-bridge-per-node: the cross-node pairs (a → b)")
                && m.markdown().contains("| 3/3 (58 duplicates) |"),
            "{}",
            m.markdown()
        );
        // Only the bridge variants deliver everything: the one without duplicates is taken.
        m.variants.retain(|v| v.id != "host-network-udpv4" && v.id != "multicast-cni");
        m.recommend();
        assert_eq!(m.recommended.as_deref(), Some(PER_NODE));
        m.variants.retain(|v| v.id != PER_NODE);
        m.recommend();
        assert_eq!(m.recommended, None, "messages heard twice are not a fix");
    }
}
