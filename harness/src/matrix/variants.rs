//! The fix variants of a scenario: each a changed scenario to run (or why it does not apply),
//! ranked by how much it changes a cluster.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::backend::netns::topology::Topology;
use crate::placement::Plan;
use crate::ros::RosStack;
use crate::spec::{ContainerRole, Rmw, Scenario};

use super::edits::{
    helper_pod, on_fastdds, raised_initial_peers_range, with_fastdds_env, HelperProcess, Variant, NOT_FASTDDS,
};

/// The peer list of the unicast-peers variants on the simulated cluster: each pod's address
/// (10.42.<node>.<pod index + 2>, or its node's on the host network) where it runs — as the
/// overlays list one DNS name per pod. Where the scenario re-places pods every trial, every
/// address a pod can have there, so it holds wherever they land. (Each address costs every
/// participant an announcement per initial-peer id each period: a list of every address of a
/// fleet, 42 with range 16, slowed discovery past the warm-up — measured on scenarios/fleet.yaml.)
fn netns_peers(scenario: &Scenario, plan: &Plan) -> Vec<String> {
    let node_index = |name: &str| plan.nodes.iter().position(|n| n.name == name).unwrap_or(0);
    let mut peers = Vec::new();
    if !scenario.trials.reschedule {
        for (k, p) in plan.pods.iter().enumerate() {
            let i = node_index(&p.node);
            let addr = if p.host_network { Topology::node_addr(i) } else { format!("10.42.{i}.{}", k + 2) };
            if !peers.contains(&addr) {
                peers.push(addr);
            }
        }
        return peers;
    }
    for i in 0..plan.nodes.len() {
        for k in 0..plan.pods.len() {
            peers.push(format!("10.42.{i}.{}", k + 2));
        }
        peers.push(Topology::node_addr(i));
    }
    peers
}

/// A Cyclone DDS configuration that discovers through unicast `peers` (SPDP multicast stays
/// allowed, for peers on one node); participant indices make the peers' ports predictable.
pub fn cyclone_peers_xml(peers: &[String]) -> String {
    let mut x = String::from(
        "<CycloneDDS><Domain Id=\"any\"><General><AllowMulticast>spdp</AllowMulticast></General><Discovery>\
         <ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>20</MaxAutoParticipantIndex><Peers>",
    );
    for p in peers {
        let _ = write!(x, "<Peer Address=\"{p}\"/>");
    }
    x.push_str("</Peers></Discovery></Domain></CycloneDDS>");
    x
}

/// The discovery server's pod, its container and its UDP port (Fast DDS's default).
pub const DISCOVERY_POD: &str = "fastdds-discovery-server";
pub const DISCOVERY_PORT: u16 = 11811;
/// The server in a ROS image: `fastdds discovery` on the pod's address (`POD_IP`; Fast DDS 3.2
/// fails to listen on 0.0.0.0).
pub(super) const DISCOVERY_COMMAND: [&str; 8] = ["fastdds", "discovery", "-i", "0", "-l", "$(POD_IP)", "-p", "11811"];
/// What the discovery-server variant asks of the team's tools.
const SUPER_CLIENT_NOTE: &str = "with a discovery server, nodes discover only what the server relays to them: \
     `ros2` CLI tools (`ros2 topic list`, `ros2 topic echo`) need ROS_DISCOVERY_SERVER and ROS_SUPER_CLIENT=TRUE \
     in their shell (then `ros2 daemon stop`, so the daemon restarts as a super client), or they see nothing";
const HOST_NETWORK_NOTE: &str = "pods on the host network of one node share its network namespace, so Fast DDS \
     takes them for one host and offers shared memory, which pods do not share (each has its own /dev/shm)";

/// The discovery-server variant: a pod on the first node runs `fast-discovery-server` (here
/// the wheels' build, on a cluster `fastdds discovery` in the scenario's ROS image), and every
/// Fast DDS container is its client through ROS_DISCOVERY_SERVER.
fn with_discovery_server(s: &Scenario, plan: &Plan, ros: Option<&RosStack>) -> Result<Scenario, String> {
    let stack = ros.ok_or("runs the ROS 2 wheels' fast-discovery-server: no ROS 2 installation is in use")?;
    let node = plan.nodes.first().ok_or("the cluster has no nodes")?;
    // Pods are addressed 10.42.<node>.<k + 2> by their index k: the server is the last pod.
    let ip = format!("10.42.0.{}", plan.pods.len() + 2);
    let mut out = with_fastdds_env(s, "ROS_DISCOVERY_SERVER", &format!("{ip}:{DISCOVERY_PORT}"));
    let image = s.pods.iter().flat_map(|p| &p.containers).find_map(|c| c.image.clone());
    out.pods.push(helper_pod(
        DISCOVERY_POD.into(),
        node.hostname(),
        false,
        HelperProcess {
            name: "server",
            image,
            // On a cluster (the fix overlay): the pod's own address, from the downward API.
            command: DISCOVERY_COMMAND.iter().map(|w| (*w).to_owned()).collect(),
            stand_in: stack.discovery_server(0, &ip, DISCOVERY_PORT),
            env: BTreeMap::from([("LD_LIBRARY_PATH".to_owned(), stack.library_path())]),
        },
    ));
    Ok(out)
}

/// `s` on Cyclone DDS: its stock Fast DDS nodes become the Cyclone stand-in
/// (`tests/peers/demo_nodes.py` on `.venv`, in the workspace), discovering through unicast
/// `peers`.
fn switched_to_cyclone(s: &Scenario, peers: &[String]) -> Result<Scenario, String> {
    let stand_in = (Path::new("tests/peers/demo_nodes.py"), Path::new(".venv/bin/python"));
    let xml = cyclone_peers_xml(peers);
    let mut out = s.clone();
    out.dds.rmw = Some(Rmw::Cyclonedds);
    for c in out.pods.iter_mut().flat_map(|p| p.containers.iter_mut()) {
        if !on_fastdds(c, s) {
            continue;
        }
        let stock =
            c.command.as_deref().and_then(|cmd| crate::ros::stock_node(cmd, c.args.as_deref().unwrap_or_default()));
        if !c.is_custom() {
            return Err(
                "the harness's r2r nodes run on the ROS 2 wheels here, which carry no rmw_cyclonedds_cpp".into()
            );
        }
        let Some(stock) = stock else {
            return Err(format!(
                "container {} is your own program on Fast DDS: its RMW cannot be switched here",
                c.name
            ));
        };
        // The stand-in speaks the demo's chatter only: an image or a sized message would become
        // "Hello World" on the chatter topic, and a viewer would "hear" the chatter instead.
        let message = c.message_type.unwrap_or_default();
        if message != crate::spec::MessageType::String || c.payload_bytes.is_some() {
            return Err(format!(
                "the Cyclone DDS stand-in for the stock nodes (tests/peers/demo_nodes.py) publishes only the demo's \
                 std_msgs/String chatter: container {}'s {}{} cannot be measured on it",
                c.name,
                message.as_str(),
                c.payload_bytes.map_or_else(String::new, |b| format!(" of {b} bytes"))
            ));
        }
        let mut line = vec![stand_in.1.display().to_string(), stand_in.0.display().to_string()];
        match stock.role {
            ContainerRole::Talker => {
                line.extend(["talker".to_owned(), "--rate-hz".to_owned(), c.rate_hz.map_or(1.0, |r| r.0).to_string()])
            }
            ContainerRole::Listener | ContainerRole::Process => line.push("listener".into()),
        }
        c.stand_in = Some(line);
        c.rmw = Some(Rmw::Cyclonedds);
        c.env.insert("CYCLONEDDS_URI".into(), xml.clone());
    }
    if !(stand_in.0.is_file() && stand_in.1.is_file()) {
        return Err(
            "no Cyclone DDS build of the stock nodes here (the workspace's tests/peers/demo_nodes.py on .venv)".into(),
        );
    }
    Ok(out)
}

/// The variants for `scenario` on `backend`, in order of invasiveness. `ros` is the ROS 2
/// installation its stock Fast DDS nodes run on here, if any.
/// `files_dir` is where variants put the files their processes read.
pub fn variants(
    scenario: &Scenario,
    plan: &Plan,
    backend: &str,
    ros: Option<&RosStack>,
    files_dir: &Path,
) -> Vec<Variant> {
    let custom = scenario.pods.iter().flat_map(|p| &p.containers).any(|c| c.is_custom());
    let fastdds = scenario.pods.iter().flat_map(|p| &p.containers).any(|c| on_fastdds(c, scenario));
    let mut v = vec![Variant {
        files: Vec::new(),
        id: "as-is",
        title: "as deployed",
        rank: 0,
        scenario: Ok(scenario.clone()),
        note: None,
    }];
    if !fastdds {
        v.push(cyclone_peers_variant(scenario, plan, !custom));
    }
    v.extend(fastdds_discovery_variants(scenario, plan, ros, fastdds, files_dir));
    v.extend(super::large_data::large_data_variants(scenario, plan, fastdds, files_dir));
    v.push(super::fragment_sysctls::variant(scenario, plan));
    v.push(multicast_cni_variant(scenario, backend));
    v.extend(host_network_variants(scenario, fastdds));
    v.extend(super::zenoh::zenoh_variants(scenario, plan, fastdds, super::zenoh::bridge_binary().as_deref()));
    if fastdds {
        v.push(Variant {
            files: Vec::new(),
            id: "switch-to-cyclonedds",
            title: "switch the RMW to Cyclone DDS, with unicast peers",
            // For a team on Fast DDS: a different middleware on every image and node.
            rank: 7,
            scenario: switched_to_cyclone(scenario, &netns_peers(scenario, plan)),
            note: None,
        });
    }
    v
}

/// Unicast discovery peers on Cyclone DDS: for your own programs on it (`ours`: the harness's
/// own nodes, which cannot take them).
fn cyclone_peers_variant(scenario: &Scenario, plan: &Plan, ours: bool) -> Variant {
    Variant {
        files: Vec::new(),
        id: "unicast-peers",
        title: "Cyclone DDS unicast discovery peers (CYCLONEDDS_URI)",
        rank: 1,
        scenario: match scenario.dds.rmw {
            Some(Rmw::Cyclonedds) => {
                let xml = cyclone_peers_xml(&netns_peers(scenario, plan));
                let mut s = scenario.clone();
                for c in s.pods.iter_mut().flat_map(|p| p.containers.iter_mut()).filter(|c| c.is_custom()) {
                    c.env.insert("CYCLONEDDS_URI".into(), xml.clone());
                }
                Ok(s)
            }
            _ if ours => Err("the harness's own nodes (RustDDS) have no static-peer API".into()),
            _ => Err("set dds.rmw to the containers' RMW to try unicast peers".into()),
        },
        note: None,
    }
}

/// Discovery without multicast on Fast DDS itself: static peers, static peers with the range
/// raised past the scenario's processes per IP, then a discovery server.
fn fastdds_discovery_variants(
    scenario: &Scenario,
    plan: &Plan,
    ros: Option<&RosStack>,
    fastdds: bool,
    files_dir: &Path,
) -> [Variant; 3] {
    let peers = netns_peers(scenario, plan).join(";");
    let range = raised_initial_peers_range(plan);
    let profile = files_dir.join(RANGE_PROFILE);
    [
        Variant {
            files: Vec::new(),
            id: "ros-static-peers",
            title: "ROS_STATIC_PEERS (ROS 2 Jazzy and later)",
            rank: 1,
            scenario: if fastdds {
                Ok(with_fastdds_env(scenario, "ROS_STATIC_PEERS", &peers))
            } else {
                Err(format!("{NOT_FASTDDS}, ROS 2 Jazzy or later"))
            },
            note: None,
        },
        Variant {
            files: vec![(profile.clone(), initial_peers_range_xml(range))],
            id: "ros-static-peers-range",
            title: "ROS_STATIC_PEERS and a Fast DDS profile raising maxInitialPeersRange",
            rank: 2,
            scenario: if fastdds {
                let s = with_fastdds_env(scenario, "ROS_STATIC_PEERS", &peers);
                Ok(with_fastdds_env(&s, "FASTRTPS_DEFAULT_PROFILES_FILE", &profile.display().to_string()))
            } else {
                Err(format!("{NOT_FASTDDS}, ROS 2 Jazzy or later"))
            },
            note: Some(RANGE_NOTE),
        },
        Variant {
            files: Vec::new(),
            id: "discovery-server",
            title: "a Fast DDS discovery server (ROS_DISCOVERY_SERVER)",
            rank: 3,
            scenario: if fastdds { with_discovery_server(scenario, plan, ros) } else { Err(NOT_FASTDDS.into()) },
            note: Some(SUPER_CLIENT_NOTE),
        },
    ]
}

/// The raised-range variant's profile file (in the matrix directory; a ConfigMap in its overlay).
pub(super) const RANGE_PROFILE: &str = "fastdds-initial-peers.xml";
const RANGE_NOTE: &str = "the profile replaces Fast DDS's built-in transports by one UDPv4 transport (the range \
     is a transport setting), so processes of one pod talk over UDP rather than shared memory; it must reach every \
     ROS 2 process (FASTRTPS_DEFAULT_PROFILES_FILE, which Fast DDS 2.x and 3.x both read: Jazzy's 2.14 ignores \
     FASTDDS_DEFAULT_PROFILES_FILE)";

/// A Fast DDS profile (the default participant profile) whose one UDPv4 transport announces
/// to participant ids 0..`range` of each initial peer without a port — measured: 6 talker and
/// 6 listener processes on two IPs, 36 of 36 pairs with range 16 on Fast DDS 2.14.5 and 3.2.3
/// (32 of 36 with the default 4).
pub fn initial_peers_range_xml(range: usize) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!-- Fast DDS sends its initial-peer announcements (ROS_STATIC_PEERS) to participant ids\n\
         \x20    0..maxInitialPeersRange of each peer address: {range} here, for up to {range} ROS 2 processes per IP. -->\n\
         <dds xmlns=\"http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles\">\n  <profiles>\n    <transport_descriptors>\n\
         \x20     <transport_descriptor>\n        <transport_id>udp_initial_peers</transport_id>\n        <type>UDPv4</type>\n\
         \x20       <maxInitialPeersRange>{range}</maxInitialPeersRange>\n      </transport_descriptor>\n\
         \x20   </transport_descriptors>\n    <participant profile_name=\"initial_peers_range\" is_default_profile=\"true\">\n\
         \x20     <rtps>\n        <userTransports>\n          <transport_id>udp_initial_peers</transport_id>\n\
         \x20       </userTransports>\n        <useBuiltinTransports>false</useBuiltinTransports>\n      </rtps>\n\
         \x20   </participant>\n  </profiles>\n</dds>\n"
    )
}

/// A CNI that carries multicast between nodes: only the simulated cluster can try one.
fn multicast_cni_variant(scenario: &Scenario, backend: &str) -> Variant {
    Variant {
        files: Vec::new(),
        id: "multicast-cni",
        title: "a CNI that carries multicast between nodes",
        rank: 4,
        scenario: if backend == "netns" {
            let mut s = scenario.clone();
            s.network.multicast_between_nodes = true;
            Ok(s)
        } else {
            Err("only simulated on the netns backend".into())
        },
        note: None,
    }
}

/// Every pod on the host network, and (for Fast DDS) the same with UDP as its only transport.
fn host_network_variants(scenario: &Scenario, fastdds: bool) -> [Variant; 2] {
    let mut host = scenario.clone();
    for p in &mut host.pods {
        p.host_network = true;
    }
    [
        Variant {
            files: Vec::new(),
            id: "host-network",
            title: "hostNetwork: true for the ROS pods",
            rank: 5,
            note: fastdds.then_some(HOST_NETWORK_NOTE),
            scenario: Ok(host.clone()),
        },
        Variant {
            files: Vec::new(),
            id: "host-network-udpv4",
            title: "hostNetwork: true and FASTDDS_BUILTIN_TRANSPORTS=UDPv4",
            rank: 6,
            // Same-host pods on the host network look like one host to Fast DDS, which then
            // picks shared memory they do not share: UDP only.
            scenario: if fastdds {
                Ok(with_fastdds_env(&host, "FASTDDS_BUILTIN_TRANSPORTS", "UDPv4"))
            } else {
                Err(NOT_FASTDDS.into())
            },
            note: None,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{fix_files, most_processes_per_ip};

    use crate::matrix::edits::parsed as scenario;

    #[test]
    fn variants_say_why_they_do_not_apply() {
        let (s, plan) =
            scenario(&std::fs::read_to_string(testkit::workspace_root().join("scenarios/seed.yaml")).expect("present"));
        let v = variants(&s, &plan, "netns", None, Path::new("/nonexistent"));
        let why = |id: &str| v.iter().find(|x| x.id == id).map(|x| x.scenario.clone().err()).expect("present");
        assert_eq!(why("unicast-peers").as_deref(), Some("the harness's own nodes (RustDDS) have no static-peer API"));
        assert!(why("as-is").is_none() && why("host-network").is_none() && why("multicast-cni").is_none());
        let (s, plan) = scenario(
            &std::fs::read_to_string(testkit::workspace_root().join("scenarios/stock-demo.yaml")).expect("present"),
        );
        let v = variants(&s, &plan, "netns", None, Path::new("/nonexistent"));
        let peers =
            v.iter().find(|x| x.id == "unicast-peers").expect("present").scenario.as_ref().expect("applies to Cyclone");
        let uri = &peers.pods[0].containers[0].env["CYCLONEDDS_URI"];
        assert!(uri.contains("<Peer Address=\"10.42.1.3\"/>") && uri.contains("<ParticipantIndex>auto"), "{uri}");
        let kube = variants(&s, &plan, "kube", None, Path::new("/nonexistent"));
        assert!(kube.iter().find(|x| x.id == "multicast-cni").expect("present").scenario.is_err());
    }

    /// With Fast DDS, the host network alone would make same-host pods pick shared memory they
    /// cannot share: the variant and its overlay turn it off in every container.
    #[test]
    fn host_network_with_fast_dds_turns_shared_memory_off() {
        let text = std::fs::read_to_string(testkit::workspace_root().join("scenarios/stock-demo.yaml"))
            .expect("scenario")
            .replace("rmw: rmw_cyclonedds_cpp", "rmw: rmw_fastrtps_cpp");
        let (s, plan) = scenario(&text);
        let v = variants(&s, &plan, "netns", None, Path::new("/nonexistent"));
        let find = |id: &str| v.iter().find(|x| x.id == id).expect("variant").scenario.as_ref().expect("applies");
        let udp = find("host-network-udpv4");
        assert!(udp.pods.iter().all(|p| p.host_network));
        assert!(udp.pods.iter().flat_map(|p| &p.containers).all(|c| c.env["FASTDDS_BUILTIN_TRANSPORTS"] == "UDPv4"));
        // The host network alone is a variant of its own, so the table shows what UDPv4 adds.
        let alone = find("host-network");
        assert!(alone
            .pods
            .iter()
            .flat_map(|p| &p.containers)
            .all(|c| !c.env.contains_key("FASTDDS_BUILTIN_TRANSPORTS")));
        let files = fix_files("host-network-udpv4", &plan, "ns", Some(Rmw::Fastdds), None).expect("an overlay");
        assert_eq!(files["kustomization.yaml"].matches("FASTDDS_BUILTIN_TRANSPORTS").count(), 4, "one per container");
        let alone = fix_files("host-network", &plan, "ns", Some(Rmw::Fastdds), None).expect("an overlay");
        assert!(!alone["kustomization.yaml"].contains("value: {name: FASTDDS"));
        // Pod Security `restricted` (the rendered base's) rejects pods on the host network.
        for k in [&files["kustomization.yaml"], &alone["kustomization.yaml"]] {
            assert!(k.contains("pod-security.kubernetes.io~1enforce\n        value: privileged"), "{k}");
        }
    }

    /// The Cyclone DDS stand-in speaks the demo's chatter only: a camera's images cannot be
    /// measured on it, and the switch says so rather than counting the chatter a viewer hears.
    #[test]
    fn the_cyclone_switch_refuses_messages_its_stand_in_cannot_send() {
        let text = std::fs::read_to_string(testkit::workspace_root().join("scenarios/seed-camera.yaml")).expect("read");
        let (s, plan) = scenario(&text);
        let v = variants(&s, &plan, "netns", None, Path::new("/nonexistent"));
        let why = v.iter().find(|x| x.id == "switch-to-cyclonedds").expect("listed").scenario.clone().err();
        let why = why.expect("does not apply");
        assert!(why.contains("container camera's sensor_msgs/msg/Image of 1048576 bytes cannot be measured"), "{why}");
    }

    /// Six talker processes in one pod, six listener processes in another: plain static peers
    /// reach the first four of each IP, the raised-range variant all of them.
    #[test]
    fn the_raised_range_variant_covers_the_most_processes_on_one_ip() {
        let text = "name: t\nnodes: [{name: master}, {name: pi}]\npods:\n  - name: base\n    nodeSelector: \
                    {kubernetes.io/hostname: master}\n    containers: [{name: l, role: listener, processes: 20}]\n  \
                    - name: robot\n    nodeSelector: {kubernetes.io/hostname: pi}\n    containers: [{name: t, role: \
                    talker, processes: 6}]\ndds: {transport: ros}\n";
        let (s, plan) = scenario(text);
        assert_eq!(most_processes_per_ip(&plan), 20);
        let dir = Path::new("/m/files");
        let v = variants(&s, &plan, "netns", None, dir);
        let range = v.iter().find(|x| x.id == "ros-static-peers-range").expect("the variant");
        assert!(range.rank > 1 && range.rank < v.iter().find(|x| x.id == "discovery-server").expect("ds").rank);
        let rs = range.scenario.as_ref().expect("applies to r2r nodes");
        let c = &rs.pods[0].containers[0];
        assert_eq!(c.env["FASTRTPS_DEFAULT_PROFILES_FILE"], "/m/files/fastdds-initial-peers.xml");
        assert!(c.env["ROS_STATIC_PEERS"].contains("10.42.1.3"), "{:?}", c.env);
        let (path, xml) = &range.files[0];
        assert_eq!(path, &dir.join("fastdds-initial-peers.xml"));
        let read = crate::dds_xml::FastDdsProfile::read(xml);
        assert_eq!(read.max_initial_peers_range, Some(20), "the most crowded IP's 20 processes");
        assert!(xml.contains("<useBuiltinTransports>false</useBuiltinTransports>"), "{xml}");
        // Twelve processes at most: the range never goes below 16.
        let (_, small) = scenario(&text.replace("processes: 20", "processes: 6"));
        assert_eq!(raised_initial_peers_range(&small), 16);
        // Its overlay: the profile as a ConfigMap, mounted and named in every container.
        let files = fix_files("ros-static-peers-range", &plan, "ns", Some(Rmw::Fastdds), None).expect("an overlay");
        let k = &files["kustomization.yaml"];
        assert_eq!(
            k.matches("FASTRTPS_DEFAULT_PROFILES_FILE, value: /etc/fastdds/fastdds-initial-peers.xml").count(),
            26
        );
        assert_eq!(k.matches("name: ROS_STATIC_PEERS").count(), 26);
        assert_eq!(k.matches("configMap:\n              name: fastdds-initial-peers").count(), 2, "{k}");
        assert!(k.contains(
            "configMapGenerator:\n  - name: fastdds-initial-peers\n    files:\n      - fastdds-initial-peers.xml"
        ));
        assert_eq!(
            crate::dds_xml::FastDdsProfile::read(&files["fastdds-initial-peers.xml"]).max_initial_peers_range,
            Some(20)
        );
        assert!(files.contains_key("peers-service.yaml"));
    }
}
