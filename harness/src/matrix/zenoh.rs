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

use super::edits::{on_fastdds, Variant};
use super::overlay::{env_patches, KUSTOMIZATION};
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
     master's; Fast DDS nodes go on the host network with ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (so DDS stays \
     on the node) and FASTDDS_BUILTIN_TRANSPORTS=UDPv4 (pods of one node do not share /dev/shm); the bridge's \
     Cyclone DDS pinned to `lo` (CYCLONEDDS_URI) with ROS_DISTRO=jazzy, or RustDDS nodes at ROS_DISTRO=humble";
const DDS_CROSSES_NOTE: &str = "not a fix: DDS reaches the other nodes by itself as well, so a listener hears \
     a talker of another node both directly and through the bridges (the bridge README's warning); harness \
     lint flags the layout (zenoh-bridge-dds-also-crosses)";

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
            // network and UDPv4 as well): more than any environment variable.
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

/// `s` with a bridge pod on the host network of every node of `plan`. Fast DDS nodes go on the
/// host network (UDPv4; at LOCALHOST unless `crosses`), the bridge's Cyclone on loopback; other
/// nodes stay on the pod network, the bridge's Cyclone on the node's CNI bridge, and where
/// `crosses` the pod network carries multicast between nodes.
fn with_bridges(s: &Scenario, plan: &Plan, bridge: &Path, fastdds: bool, crosses: bool) -> Result<Scenario, String> {
    if plan.nodes.is_empty() {
        return Err("the cluster has no nodes".into());
    }
    let mut out = s.clone();
    let env: &[(&str, &str)] = if fastdds {
        for p in &mut out.pods {
            p.host_network = true;
        }
        for c in out.pods.iter_mut().flat_map(|p| p.containers.iter_mut()) {
            if on_fastdds(c, s) && c.role != ContainerRole::Process {
                c.env.insert("FASTDDS_BUILTIN_TRANSPORTS".into(), "UDPv4".into());
                if !crosses {
                    c.env.insert("ROS_AUTOMATIC_DISCOVERY_RANGE".into(), "LOCALHOST".into());
                }
            }
        }
        &[("ROS_DISTRO", "jazzy"), ("CYCLONEDDS_URI", CYCLONE_ON_LOOPBACK)]
    } else {
        out.network.multicast_between_nodes = crosses;
        &[("ROS_DISTRO", "humble"), ("CYCLONEDDS_URI", CYCLONE_ON_CNI)]
    };
    let endpoint = format!("tcp/{}:{ZENOH_PORT}", Topology::node_addr(0));
    for (i, node) in plan.nodes.iter().enumerate() {
        let args = bridge_args(i == 0, &endpoint, s.dds.domain);
        let mut env: BTreeMap<String, String> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        env.insert("RUST_LOG".into(), "warn".into());
        let container = crate::spec::ContainerSpec {
            name: "bridge".into(),
            role: ContainerRole::Process,
            processes: None,
            domain: None,
            rate_hz: None,
            payload_bytes: None,
            reliability: None,
            depth: None,
            message_type: None,
            start_delay_s: None,
            image: None,
            command: Some(std::iter::once("zenoh-bridge-ros2dds".to_owned()).chain(args.clone()).collect()),
            args: None,
            stand_in: Some(std::iter::once(bridge.display().to_string()).chain(args).collect()),
            env,
            rmw: None,
            output: crate::spec::Output::ChatterRecords,
        };
        out.pods.push(crate::spec::PodSpec {
            name: format!("{BRIDGE_POD}-{}", node.name),
            node_selector: BTreeMap::from([(crate::placement::HOSTNAME_LABEL.to_owned(), node.hostname().to_owned())]),
            host_network: true,
            host_ipc: false,
            tolerations: Vec::new(),
            replicas: None,
            containers: vec![container],
        });
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
    if fastdds {
        k.push_str(
            "# The ROS pods go on the host network, where they reach their node's bridge over loopback, on UDP\n\
             # only (pods of one node do not share /dev/shm)",
        );
        k.push_str(if crosses {
            ".\n"
        } else {
            ", and keep DDS on their node\n# (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST).\n"
        });
    } else {
        k.push_str(
            "# The ROS pods stay on the pod network; the bridges' Cyclone DDS is on the node's CNI bridge (flannel:\n\
             # cni0), where the node's pods multicast. DDS stays on each node while the CNI carries no multicast\n\
             # between nodes (flannel's VXLAN does not); one that does makes every message arrive twice.\n",
        );
    }
    let _ = write!(k, "{KUSTOMIZATION}namespace: {namespace}\nresources:\n  - base.yaml\n  - zenoh-bridges.yaml\n");
    if fastdds {
        k.push_str(super::fixes::HOST_NETWORK_PATCH);
        env_patches(&mut k, plan, "{name: FASTDDS_BUILTIN_TRANSPORTS, value: UDPv4}");
        if !crosses {
            env_patches(&mut k, plan, "{name: ROS_AUTOMATIC_DISCOVERY_RANGE, value: LOCALHOST}");
        }
    }
    let domain = plan.pods.iter().flat_map(|p| &p.containers).map(|c| c.domain).next().unwrap_or(0);
    let master = plan.nodes.first().map_or("master", |n| n.hostname());
    let bridges = bridges_yaml(namespace, master, domain, fastdds);
    Some(BTreeMap::from([("kustomization.yaml".to_owned(), k), ("zenoh-bridges.yaml".to_owned(), bridges)]))
}

/// The bridges: the master's router (Deployment + headless Service), every other node's bridge
/// (DaemonSet), on the host network.
fn bridges_yaml(namespace: &str, master: &str, domain: u16, fastdds: bool) -> String {
    let (distro, uri) = if fastdds { ("jazzy", CYCLONE_ON_LOOPBACK) } else { ("humble", CYCLONE_ON_CNI) };
    let router = format!("zenoh-router.{namespace}.svc.cluster.local");
    let env = format!(
        "          env:\n            - name: HOST_IP\n              valueFrom:\n                fieldRef:\n                  fieldPath: status.hostIP\n\
         \x20           - name: ROS_DISTRO\n              value: {distro}\n            - name: CYCLONEDDS_URI\n              value: '{uri}'\n"
    );
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
pub(super) fn bridge_words(m: &MatrixReport) -> Vec<String> {
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
        let mut w = format!(
            "{}: the cross-node pairs ({names}) go through the bridges (heard in {heard} of {}); the others stay on DDS.",
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
