//! Each variant's manifest change: a kustomize overlay over the rendered deployment.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::placement::Plan;
use crate::results::{write_atomic, ResultsError};
use crate::spec::Rmw;

use super::edits::raised_initial_peers_range;
use super::overlay::{env_patches, profile_mount_patches, HOST_NETWORK_PATCH, KUSTOMIZATION, PRIVILEGED_PATCH};
use super::variants::{
    cyclone_peers_xml, initial_peers_range_xml, DISCOVERY_COMMAND, DISCOVERY_POD, DISCOVERY_PORT, RANGE_PROFILE,
};

/// The headless Service that gives each pod of the peers overlays a DNS name.
const PEERS_SERVICE: &str = "chatter-peers";

/// The patches that make every pod resolvable as `<pod>.chatter-peers.<namespace>.svc`
/// (hostname, subdomain, the label the headless Service selects); `volume` adds a ConfigMap
/// volume (`name`, `configMap`) too.
fn peer_name_patches(k: &mut String, plan: &Plan, volume: Option<(&str, &str)>) {
    for p in &plan.pods {
        let _ = write!(
            k,
            "  - target:\n      kind: Pod\n      name: {n}\n    patch: |-\n      apiVersion: v1\n      kind: Pod\n      metadata:\n        name: {n}\n        labels:\n          chatter-harness/peer: \"true\"\n      spec:\n        hostname: {n}\n        subdomain: {PEERS_SERVICE}\n",
            n = p.name
        );
        if let Some((name, map)) = volume {
            let _ = write!(
                k,
                "        volumes:\n          - name: {name}\n            configMap:\n              name: {map}\n"
            );
        }
    }
}

fn peers_service() -> String {
    format!(
        "# Headless: gives each pod the DNS name <pod>.{PEERS_SERVICE}.<namespace>.svc; resolvable before Ready.\n\
         apiVersion: v1\nkind: Service\nmetadata:\n  name: {PEERS_SERVICE}\nspec:\n  clusterIP: None\n  \
         publishNotReadyAddresses: true\n  selector:\n    chatter-harness/peer: \"true\"\n  ports:\n    \
         - name: spdp\n      port: 7400\n      protocol: UDP\n"
    )
}

/// Every pod's DNS name under the peers Service.
fn peer_names(plan: &Plan, namespace: &str) -> Vec<String> {
    plan.pods.iter().map(|p| format!("{}.{PEERS_SERVICE}.{namespace}.svc.cluster.local", p.name)).collect()
}

/// The Cyclone DDS unicast-peers overlay's files (also the Cyclone switch's, which sets
/// `RMW_IMPLEMENTATION` too).
fn cyclone_peers_files(plan: &Plan, namespace: &str, switch: bool) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let xml = cyclone_peers_xml(&peer_names(plan, namespace)).replace("><", ">\n<");
    files.insert("cyclonedds.xml".into(), format!("{xml}\n"));
    let mut k = String::from(
        "# Discovery without multicast: every pod resolvable as <pod>.chatter-peers.<namespace>.svc\n\
         # (headless Service + hostname/subdomain) and listed as a Cyclone DDS unicast peer.\n",
    );
    if switch {
        k.push_str(
            "# The RMW becomes Cyclone DDS (RMW_IMPLEMENTATION): every image needs rmw_cyclonedds_cpp, and every\n\
             # node of the team, in and out of the cluster, has to switch with it.\n",
        );
    }
    k.push_str(KUSTOMIZATION);
    let _ = write!(
        k,
        "namespace: {namespace}\nresources:\n  - base.yaml\n  - peers-service.yaml\nconfigMapGenerator:\n  - name: cyclonedds-peers\n    files:\n      - cyclonedds.xml\npatches:\n"
    );
    peer_name_patches(&mut k, plan, Some(("dds-config", "cyclonedds-peers")));
    for p in &plan.pods {
        for (i, _) in p.containers.iter().enumerate() {
            let _ = write!(
                k,
                "  - target:\n      kind: Pod\n      name: {n}\n    patch: |-\n      - op: add\n        path: /spec/containers/{i}/env/-\n        value: {{name: CYCLONEDDS_URI, value: file:///etc/cyclonedds/cyclonedds.xml}}\n      - op: add\n        path: /spec/containers/{i}/volumeMounts/-\n        value: {{name: dds-config, mountPath: /etc/cyclonedds, readOnly: true}}\n",
                n = p.name
            );
        }
    }
    if switch {
        env_patches(&mut k, plan, "{name: RMW_IMPLEMENTATION, value: rmw_cyclonedds_cpp}");
    }
    files.insert("kustomization.yaml".into(), k);
    files.insert("peers-service.yaml".into(), peers_service());
    files
}

/// The kustomize overlay that applies a variant to the scenario's rendered objects
/// (`base.yaml`, what `harness render` writes): `kustomization.yaml` and any files it names.
/// `None` where no manifest change exists (a CNI is a cluster choice). `image` is the ROS image
/// a helper pod (the discovery server) runs.
pub fn fix_files(
    variant: &str,
    plan: &Plan,
    namespace: &str,
    rmw: Option<Rmw>,
    image: Option<&str>,
) -> Option<BTreeMap<String, String>> {
    match variant {
        "host-network" => Some(host_network_files(rmw)),
        "host-network-udpv4" => Some(host_network_udpv4_files(plan)),
        "unicast-peers" => Some(cyclone_peers_files(plan, namespace, false)),
        "switch-to-cyclonedds" => Some(cyclone_peers_files(plan, namespace, true)),
        "ros-static-peers" => Some(static_peers_files(plan, namespace)),
        "ros-static-peers-range" => Some(static_peers_range_files(plan, namespace)),
        "discovery-server" => Some(discovery_server_files(plan, namespace, image)),
        super::fragment_sysctls::ID => Some(super::fragment_sysctls::files(plan)),
        _ => super::large_data::large_data_files(variant, plan, namespace)
            .or_else(|| super::zenoh::zenoh_files(variant, plan, namespace, rmw)),
    }
}

/// The host-network overlays' first comment line.
const HOST_NETWORK_HEADER: &str =
    "# Every ROS pod on the host network: DDS discovery multicast travels on the nodes' LAN.\n";

/// The host-network overlay (`rmw`: the scenario's, for what Fast DDS then does).
fn host_network_files(rmw: Option<Rmw>) -> BTreeMap<String, String> {
    let mut k = String::from(HOST_NETWORK_HEADER);
    if rmw == Some(Rmw::Fastdds) {
        k.push_str(
            "# Fast DDS: pods on one node then look like one host and try shared memory, which pods do not\n\
             # share; see host-network-udpv4.\n",
        );
    }
    let _ = write!(k, "{KUSTOMIZATION}resources:\n  - base.yaml\n{HOST_NETWORK_PATCH}{PRIVILEGED_PATCH}");
    BTreeMap::from([("kustomization.yaml".to_owned(), k)])
}

/// The host-network overlay with Fast DDS on UDP only.
fn host_network_udpv4_files(plan: &Plan) -> BTreeMap<String, String> {
    let mut k = format!(
        "{HOST_NETWORK_HEADER}# Pods on one node share its network namespace, so Fast DDS takes them for one host and offers\n\
         # shared memory, which they do not share (each pod has its own /dev/shm): UDP only.\n\
         {KUSTOMIZATION}resources:\n  - base.yaml\n{HOST_NETWORK_PATCH}{PRIVILEGED_PATCH}"
    );
    env_patches(&mut k, plan, "{name: FASTDDS_BUILTIN_TRANSPORTS, value: UDPv4}");
    BTreeMap::from([("kustomization.yaml".to_owned(), k)])
}

/// The ROS_STATIC_PEERS overlay: every pod named by the peers Service and listed as a peer.
fn static_peers_files(plan: &Plan, namespace: &str) -> BTreeMap<String, String> {
    let mut k = String::from(
        "# Discovery without multicast, on Fast DDS itself (ROS 2 Jazzy and later): every pod resolvable as\n\
         # <pod>.chatter-peers.<namespace>.svc (headless Service + hostname/subdomain) and listed in\n\
         # ROS_STATIC_PEERS. rmw_fastrtps resolves each name when a node starts and the node fails if one\n\
         # does not resolve yet: start the pods together (or let them restart) so every name exists.\n",
    );
    let _ = write!(
        k,
        "{KUSTOMIZATION}namespace: {namespace}\nresources:\n  - base.yaml\n  - peers-service.yaml\npatches:\n"
    );
    peer_name_patches(&mut k, plan, None);
    env_patches(
        &mut k,
        plan,
        &format!("{{name: ROS_STATIC_PEERS, value: \"{}\"}}", peer_names(plan, namespace).join(";")),
    );
    BTreeMap::from([("kustomization.yaml".to_owned(), k), ("peers-service.yaml".to_owned(), peers_service())])
}

/// The raised-range overlay: the ROS_STATIC_PEERS overlay, and every container reads a Fast DDS
/// profile (a ConfigMap) whose UDPv4 transport announces to participant ids 0..range of each peer.
fn static_peers_range_files(plan: &Plan, namespace: &str) -> BTreeMap<String, String> {
    let range = raised_initial_peers_range(plan);
    let mut files = static_peers_files(plan, namespace);
    let plain = files.remove("kustomization.yaml").unwrap_or_default();
    let mut k = format!(
        "# Fast DDS announces to each ROS_STATIC_PEERS address only on the ports of participant ids\n\
         # 0..maxInitialPeersRange (default 4): the 5th and later ROS 2 processes on one IP never meet those of\n\
         # another. The profile raises it to {range} (ConfigMap fastdds-initial-peers, read through\n\
         # FASTRTPS_DEFAULT_PROFILES_FILE: Jazzy's Fast DDS 2.14 ignores FASTDDS_DEFAULT_PROFILES_FILE).\n"
    );
    for line in plain.lines() {
        k.push_str(line);
        k.push('\n');
        if line == "  - peers-service.yaml" {
            k.push_str(
                "configMapGenerator:\n  - name: fastdds-initial-peers\n    files:\n      - fastdds-initial-peers.xml\n",
            );
        }
    }
    // The ConfigMap as a volume of every pod, mounted and named in every container.
    let k = k.replace(
        "        subdomain: chatter-peers\n",
        "        subdomain: chatter-peers\n        volumes:\n          - name: fastdds-profile\n            configMap:\n              name: fastdds-initial-peers\n",
    );
    let mut k = k;
    profile_mount_patches(&mut k, plan, RANGE_PROFILE);
    files.insert("kustomization.yaml".into(), k);
    files.insert(RANGE_PROFILE.into(), initial_peers_range_xml(range));
    files
}

/// The discovery-server overlay: the server's pod and Service (`image`: the ROS image it runs
/// from), and every container its client.
fn discovery_server_files(plan: &Plan, namespace: &str, image: Option<&str>) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let server = format!("{DISCOVERY_POD}.{namespace}.svc.cluster.local:{DISCOVERY_PORT}");
    let mut k = format!(
        "# Discovery through a Fast DDS discovery server instead of multicast: one pod runs it, every ROS\n\
         # container is its client (ROS_DISCOVERY_SERVER, by the server's DNS name).\n\
         # `ros2` CLI tools then need ROS_DISCOVERY_SERVER={server} and ROS_SUPER_CLIENT=TRUE\n\
         # (then `ros2 daemon stop`), or they see no topics.\n\
         {KUSTOMIZATION}namespace: {namespace}\nresources:\n  - base.yaml\n  - discovery-server.yaml\npatches:\n"
    );
    env_patches(&mut k, plan, &format!("{{name: ROS_DISCOVERY_SERVER, value: \"{server}\"}}"));
    files.insert("kustomization.yaml".into(), k);
    let command = DISCOVERY_COMMAND.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(", ");
    files.insert(
        "discovery-server.yaml".into(),
        format!(
            "# The server, from the ROS image (its `fastdds` tool), on its pod's address: Fast DDS 3.2\n\
             # fails to listen on 0.0.0.0. The headless Service names it for ROS_DISCOVERY_SERVER.\n\
             apiVersion: v1\nkind: Pod\nmetadata:\n  name: {DISCOVERY_POD}\n  labels:\n    app.kubernetes.io/name: {DISCOVERY_POD}\n\
             spec:\n  containers:\n    - name: server\n      image: {image}\n      command: [{command}]\n\
             \x20     env:\n        - name: POD_IP\n          valueFrom:\n            fieldRef:\n              fieldPath: status.podIP\n\
             \x20     ports:\n        - containerPort: {DISCOVERY_PORT}\n          protocol: UDP\n\
             ---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {DISCOVERY_POD}\nspec:\n  clusterIP: None\n\
             \x20 publishNotReadyAddresses: true\n  selector:\n    app.kubernetes.io/name: {DISCOVERY_POD}\n  ports:\n\
             \x20   - name: discovery\n      port: {DISCOVERY_PORT}\n      protocol: UDP\n",
            image = image.unwrap_or("ros:jazzy-ros-core"),
        ),
    );
    files
}

/// The advice where no manifest change exists.
pub fn fix_words(variant: &str) -> Option<String> {
    if let Some(words) = super::large_data::large_data_words(variant) {
        return Some(words);
    }
    (variant == "multicast-cni").then(|| {
        "no manifest change: replace flannel's VXLAN backend by a CNI that forwards multicast between nodes \
         (e.g. a Multus macvlan secondary network for the ROS pods)\n"
            .to_owned()
    })
}

/// Writes a fix overlay into `fix` (`fix/` of the matrix directory for the recommended one,
/// `fixes/<variant>/` for each variant): `base.yaml` (the rendered objects) and the overlay.
pub fn write_fix(fix: &Path, base_yaml: &str, files: &BTreeMap<String, String>) -> Result<PathBuf, ResultsError> {
    let fix = fix.to_owned();
    std::fs::create_dir_all(&fix).map_err(|source| ResultsError::Io { path: fix.clone(), source })?;
    write_atomic(&fix.join("base.yaml"), |w| w.write_all(base_yaml.as_bytes()))?;
    for (name, text) in files {
        write_atomic(&fix.join(name), |w| w.write_all(text.as_bytes()))?;
    }
    Ok(fix)
}
