//! `harness matrix`: which change makes every listener hear every talker? The scenario runs
//! once per fix variant — as it is, unicast discovery peers, a multicast-capable CNI, the host
//! network — each a normal run directory inside one matrix directory, and one table says which
//! pairs each variant delivered and with which verdict. The least invasive variant that
//! delivers everything is recommended with the manifest change that makes it (a kustomize
//! overlay, checked by `scripts/validate-manifests.sh`). Variants that cannot apply are listed
//! with why.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::backend::netns::topology::Topology;
use crate::placement::Plan;
use crate::report::markup::esc;
use crate::report::Table;
use crate::results::{write_atomic, ResultsError};
use crate::ros::RosStack;
use crate::spec::{ContainerRole, Rmw, Scenario};
use crate::summary::{RunReport, VerdictKind};

/// A way to change the deployment.
#[derive(Debug, Clone)]
pub struct Variant {
    pub id: &'static str,
    pub title: &'static str,
    /// How much it changes a cluster: 0 nothing, higher is more invasive.
    pub rank: u8,
    /// The scenario to run, or why the variant does not apply.
    pub scenario: Result<Scenario, String>,
    /// What else a team needs to know when it takes this fix.
    pub note: Option<&'static str>,
    /// Files its processes read (a Fast DDS profile), to write before it runs: path, content.
    pub files: Vec<(PathBuf, String)>,
}

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
const DISCOVERY_COMMAND: [&str; 8] = ["fastdds", "discovery", "-i", "0", "-l", "$(POD_IP)", "-p", "11811"];
/// What the discovery-server variant asks of the team's tools.
const SUPER_CLIENT_NOTE: &str = "with a discovery server, nodes discover only what the server relays to them: \
     `ros2` CLI tools (`ros2 topic list`, `ros2 topic echo`) need ROS_DISCOVERY_SERVER and ROS_SUPER_CLIENT=TRUE \
     in their shell (then `ros2 daemon stop`, so the daemon restarts as a super client), or they see nothing";
const HOST_NETWORK_NOTE: &str = "pods on the host network of one node share its network namespace, so Fast DDS \
     takes them for one host and offers shared memory, which pods do not share (each has its own /dev/shm)";

/// Whether container `c` of `s` runs on Fast DDS: your own program (or a stock node) whose RMW
/// is rmw_fastrtps_cpp, or the harness's r2r build.
fn on_fastdds(c: &crate::spec::ContainerSpec, s: &Scenario) -> bool {
    if c.is_custom() {
        c.rmw.or(s.dds.rmw) == Some(Rmw::Fastdds)
    } else {
        s.dds.transport == crate::spec::Transport::Ros
    }
}

/// `s` with `key=value` in every Fast DDS container.
fn with_fastdds_env(s: &Scenario, key: &str, value: &str) -> Scenario {
    let mut out = s.clone();
    for c in out.pods.iter_mut().flat_map(|p| p.containers.iter_mut()) {
        if on_fastdds(c, s) && c.role != ContainerRole::Process {
            c.env.insert(key.into(), value.into());
        }
    }
    out
}

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
    let container = crate::spec::ContainerSpec {
        name: "server".into(),
        role: ContainerRole::Process,
        processes: None,
        domain: None,
        rate_hz: None,
        payload_bytes: None,
        reliability: None,
        depth: None,
        message_type: None,
        start_delay_s: None,
        image,
        // On a cluster (the fix overlay): the pod's own address, from the downward API.
        command: Some(DISCOVERY_COMMAND.iter().map(|w| (*w).to_owned()).collect()),
        args: None,
        stand_in: Some(stack.discovery_server(0, &ip, DISCOVERY_PORT)),
        env: BTreeMap::from([("LD_LIBRARY_PATH".to_owned(), stack.library_path())]),
        rmw: None,
        output: crate::spec::Output::ChatterRecords,
    };
    out.pods.push(crate::spec::PodSpec {
        name: DISCOVERY_POD.into(),
        node_selector: BTreeMap::from([(crate::placement::HOSTNAME_LABEL.to_owned(), node.hostname().to_owned())]),
        host_network: false,
        host_ipc: false,
        tolerations: Vec::new(),
        replicas: None,
        containers: vec![container],
    });
    Ok(out)
}

/// `s` on Cyclone DDS: its stock Fast DDS nodes become the Cyclone stand-in
/// (`tests/peers/demo_nodes.py` on `.venv`, in the workspace), discovering through unicast
/// `peers`.
fn switched_to_cyclone(s: &Scenario, peers: &[String]) -> Result<Scenario, String> {
    let stand_in = (Path::new("tests/peers/demo_nodes.py"), Path::new(".venv/bin/python"));
    if !(stand_in.0.is_file() && stand_in.1.is_file()) {
        return Err(
            "no Cyclone DDS build of the stock nodes here (the workspace's tests/peers/demo_nodes.py on .venv)".into(),
        );
    }
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
    v.push(multicast_cni_variant(scenario, backend));
    v.extend(host_network_variants(scenario, fastdds));
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

/// Why a Fast DDS variant does not apply.
const NOT_FASTDDS: &str = "needs Fast DDS (rmw_fastrtps_cpp) in the containers";

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

/// The most pairs the matrix table shows as columns; beyond, it counts them per variant.
const PAIR_COLUMNS: usize = 8;

/// The raised-range variant's profile file (in the matrix directory; a ConfigMap in its overlay).
const RANGE_PROFILE: &str = "fastdds-initial-peers.xml";
/// The least range the raised-range variant sets: room for a launch file's processes.
const RAISED_RANGE_AT_LEAST: usize = 16;
const RANGE_NOTE: &str = "the profile replaces Fast DDS's built-in transports by one UDPv4 transport (the range \
     is a transport setting), so processes of one pod talk over UDP rather than shared memory; it must reach every \
     ROS 2 process (FASTRTPS_DEFAULT_PROFILES_FILE, which Fast DDS 2.x and 3.x both read: Jazzy's 2.14 ignores \
     FASTDDS_DEFAULT_PROFILES_FILE)";

/// The most ROS 2 processes (DDS participants: talkers and listeners, each process its own)
/// that share one IP in `plan`: a pod's, or a node's for the pods on its host network.
pub fn most_processes_per_ip(plan: &Plan) -> usize {
    let mut per_ip: BTreeMap<String, usize> = BTreeMap::new();
    for p in &plan.pods {
        let ip = if p.host_network { format!("node {}", p.node) } else { format!("pod {}", p.name) };
        let n = p.containers.iter().filter(|c| c.role != ContainerRole::Process).count();
        *per_ip.entry(ip).or_default() += n;
    }
    per_ip.into_values().max().unwrap_or(0)
}

/// The range the raised-range variant sets: every process of the scenario's most crowded IP,
/// and never less than [`RAISED_RANGE_AT_LEAST`].
fn raised_initial_peers_range(plan: &Plan) -> usize {
    most_processes_per_ip(plan).max(RAISED_RANGE_AT_LEAST)
}

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

/// One pair's result under one variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairCell {
    pub pair: String,
    pub delivered: u32,
    pub trials: u32,
}

/// What one variant gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    Ran {
        /// Its run directory, relative to the matrix directory.
        dir: String,
        verdict: VerdictKind,
        headline: String,
        pairs: Vec<PairCell>,
        /// Every pair delivered in every complete trial.
        delivers_all: bool,
        /// Why pairs failed: the causes of the run's failure findings.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        lost: Vec<String>,
    },
    NotApplicable {
        why: String,
    },
    Failed {
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantResult {
    pub id: String,
    pub title: String,
    pub rank: u8,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The whole matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixReport {
    pub scenario: String,
    pub backend: String,
    pub variants: Vec<VariantResult>,
    /// The least invasive variant that delivered everything.
    pub recommended: Option<String>,
    /// The manifest change for it (kustomize), or what to do where none exists.
    pub fix: Option<String>,
    /// The most ROS 2 processes the scenario puts on one IP: how far every result was measured.
    #[serde(default)]
    pub processes_per_ip: usize,
}

/// What a run gave, as a matrix outcome.
pub fn outcome_of(report: &RunReport, dir: &str) -> Outcome {
    let pairs: Vec<PairCell> = report
        .pairs
        .iter()
        .filter(|p| p.talker != crate::analysis::ANONYMOUS)
        .map(|p| PairCell {
            pair: format!("{} → {}", p.talker, p.listener),
            delivered: p.trials_delivered,
            trials: p.trials,
        })
        .collect();
    let complete = report.complete().count() > 0;
    let delivers_all = complete && pairs.iter().all(|p| p.trials > 0 && p.delivered == p.trials);
    let mut lost: Vec<String> = Vec::new();
    for f in report.findings.iter().filter(|f| f.severity == crate::diagnosis::Severity::Failure) {
        let why = format!("{} ({})", f.cause, f.rule);
        if !lost.contains(&why) {
            lost.push(why);
        }
    }
    Outcome::Ran {
        lost,
        dir: dir.to_owned(),
        verdict: report.verdict.kind,
        headline: report.verdict.headline.clone(),
        pairs,
        delivers_all,
    }
}

impl MatrixReport {
    /// Picks the least invasive variant that delivered everything.
    pub fn recommend(&mut self) {
        self.recommended = self
            .variants
            .iter()
            .filter(|v| matches!(v.outcome, Outcome::Ran { delivers_all: true, .. }))
            .min_by_key(|v| v.rank)
            .map(|v| v.id.clone());
    }

    /// Variant × pair: trials delivered / trials, and the verdict.
    pub fn table(&self) -> Table {
        let mut pairs: Vec<String> = Vec::new();
        for v in &self.variants {
            if let Outcome::Ran { pairs: ps, .. } = &v.outcome {
                for p in ps {
                    if !pairs.contains(&p.pair) {
                        pairs.push(p.pair.clone());
                    }
                }
            }
        }
        if pairs.len() > PAIR_COLUMNS {
            return self.grouped_table(pairs.len());
        }
        let head = std::iter::once(("variant".to_owned(), false))
            .chain(pairs.iter().map(|p| (p.clone(), true)))
            .chain([("verdict".to_owned(), false)]);
        let mut t = Table::new("Which fix delivers: trials in which each pair delivered, per variant", head);
        for v in &self.variants {
            let mut row = vec![v.title.clone()];
            match &v.outcome {
                Outcome::Ran { pairs: ps, verdict, delivers_all, .. } => {
                    for p in &pairs {
                        row.push(
                            ps.iter()
                                .find(|c| &c.pair == p)
                                .map_or("–".into(), |c| format!("{}/{}", c.delivered, c.trials)),
                        );
                    }
                    let mark = if *delivers_all { "delivers everything" } else { "does not" };
                    row.push(format!("{} ({mark})", verdict.as_str()));
                }
                Outcome::NotApplicable { why } => {
                    row.extend(pairs.iter().map(|_| "n/a".to_owned()));
                    row.push(format!("not applicable: {why}"));
                }
                Outcome::Failed { error } => {
                    row.extend(pairs.iter().map(|_| "–".to_owned()));
                    row.push(format!("failed: {error}"));
                }
            }
            t.rows.push(row);
        }
        t
    }

    /// The table for more pairs than fit as columns: per variant, how many pairs delivered in
    /// every trial, in some, in none (each variant's report has them pair by pair).
    fn grouped_table(&self, pairs: usize) -> Table {
        let head = [
            ("variant", false),
            ("pairs delivered in every trial", true),
            ("in some trials", true),
            ("in none", true),
            ("verdict", false),
        ];
        let mut t = Table::new(
            &format!("Which fix delivers: of the {pairs} pairs, how many delivered in every trial, per variant"),
            head,
        );
        for v in &self.variants {
            let mut row = vec![v.title.clone()];
            match &v.outcome {
                Outcome::Ran { pairs: ps, verdict, delivers_all, .. } => {
                    let all = ps.iter().filter(|c| c.trials > 0 && c.delivered == c.trials).count();
                    let none = ps.iter().filter(|c| c.delivered == 0).count();
                    row.extend([all.to_string(), (ps.len() - all - none).to_string(), none.to_string()]);
                    let mark = if *delivers_all { "delivers everything" } else { "does not" };
                    row.push(format!("{} ({mark})", verdict.as_str()));
                }
                Outcome::NotApplicable { why } => {
                    row.extend(["n/a".to_owned(), "n/a".to_owned(), "n/a".to_owned()]);
                    row.push(format!("not applicable: {why}"));
                }
                Outcome::Failed { error } => {
                    row.extend(["–".to_owned(), "–".to_owned(), "–".to_owned()]);
                    row.push(format!("failed: {error}"));
                }
            }
            t.rows.push(row);
        }
        t
    }

    fn recommendation_words(&self) -> String {
        let Some(id) = &self.recommended else {
            return "No variant delivered every pair in every trial.".to_owned();
        };
        let title = self.variants.iter().find(|v| &v.id == id).map_or(id.as_str(), |v| v.title.as_str());
        if id == "as-is" {
            return "As deployed, every listener already hears every talker: nothing to fix.".to_owned();
        }
        let n = self.processes_per_ip;
        let measured = match n {
            0 => String::new(),
            1 => " Measured with one ROS 2 process per IP.".to_owned(),
            n => format!(" Measured with up to {n} ROS 2 processes on one IP."),
        };
        let holds = match id.as_str() {
            // Fast DDS announces to participant ids 0..4 of each peer address (maxInitialPeersRange).
            "ros-static-peers" => format!(
                " It holds while no two IPs both carry more than {} ROS 2 processes (Fast DDS announces to \
                 participant ids 0–{} of each peer address): for more, take ros-static-peers-range.",
                crate::hosts::FASTDDS_DEFAULT_INITIAL_PEERS_RANGE,
                crate::hosts::FASTDDS_DEFAULT_INITIAL_PEERS_RANGE - 1
            ),
            "ros-static-peers-range" => {
                let range = n.max(RAISED_RANGE_AT_LEAST);
                format!(" Its profile's maxInitialPeersRange {range} reaches up to {range} ROS 2 processes per IP.")
            }
            _ => String::new(),
        };
        format!("Recommended: {title} — the least invasive change that delivered every pair in every trial.{measured}{holds}")
    }

    /// Why each variant that ran did not deliver everything, and what the variants ask of a team.
    fn reasons(&self) -> Vec<String> {
        let mut out = Vec::new();
        for v in &self.variants {
            if let Outcome::Ran { delivers_all: false, lost, .. } = &v.outcome {
                let why = if lost.is_empty() { "no failure was diagnosed".to_owned() } else { lost.join("; ") };
                out.push(format!("{} lost: {why}", v.title));
            }
        }
        for v in &self.variants {
            if let Some(note) = v.note.as_ref().filter(|_| matches!(v.outcome, Outcome::Ran { .. })) {
                out.push(format!("{}: {note}", v.title));
            }
        }
        out
    }

    fn reasons_markdown(&self) -> String {
        let mut md = String::new();
        for r in self.reasons() {
            let _ = writeln!(md, "- {}", crate::report::markdown::cell(&r));
        }
        if !md.is_empty() {
            md.push('\n');
        }
        md
    }

    pub fn markdown(&self) -> String {
        let mut md = format!("# Fix matrix: {} ({} backend)\n\n", self.scenario, self.backend);
        md.push_str(&crate::report::markdown::table_string(&self.table()));
        let _ = writeln!(md, "\n**{}**\n", self.recommendation_words());
        if let Some(fix) = &self.fix {
            let _ = writeln!(
                md,
                "The change (also in `fix/`, applied with `kubectl apply -k fix/`):\n\n```yaml\n{fix}```\n"
            );
        }
        md.push_str(&self.reasons_markdown());
        md.push_str("Each variant's full report is in its own directory:\n\n");
        for v in &self.variants {
            if let Outcome::Ran { dir, headline, .. } = &v.outcome {
                let _ = writeln!(md, "- [{}]({dir}/report.md): {}", v.title, crate::report::markdown::cell(headline));
            }
        }
        md
    }

    pub fn html(&self) -> String {
        let mut h = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
             content=\"width=device-width,initial-scale=1\"><title>Fix matrix: {s}</title><style>{css}</style></head>\
             <body><h1>Fix matrix: {s} ({b} backend)</h1>\n",
            s = esc(&self.scenario),
            b = esc(&self.backend),
            css = crate::report::html::STYLE
        );
        h.push_str(&crate::report::html::table_html(&self.table()));
        let _ = writeln!(h, "<p><strong>{}</strong></p>", esc(&self.recommendation_words()));
        if let Some(fix) = &self.fix {
            let _ = writeln!(
                h,
                "<p>The change (also in <code>fix/</code>):</p><div class=\"scroll\"><pre>{}</pre></div>",
                esc(fix)
            );
        }
        h.push_str("<ul>\n");
        for r in self.reasons() {
            let _ = writeln!(h, "<li>{}</li>", esc(&r));
        }
        h.push_str("</ul>\n<ul>\n");
        for v in &self.variants {
            if let Outcome::Ran { dir, headline, .. } = &v.outcome {
                let _ = writeln!(
                    h,
                    "<li><a href=\"{}/report.html\">{}</a>: {}</li>",
                    esc(dir),
                    esc(&v.title),
                    esc(headline)
                );
            }
        }
        h.push_str("</ul></body></html>\n");
        h
    }

    pub fn console(&self) -> String {
        let t = self.table();
        let mut out = String::new();
        let widths: Vec<usize> = (0..t.head.len())
            .map(|i| t.rows.iter().map(|r| r[i].chars().count()).chain([t.head[i].chars().count()]).max().unwrap_or(0))
            .collect();
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let _ = write!(s, "{c:<w$}  ", w = widths[i]);
            }
            s.trim_end().to_owned() + "\n"
        };
        out.push_str(&line(&t.head));
        for r in &t.rows {
            out.push_str(&line(r));
        }
        for r in self.reasons() {
            let _ = writeln!(out, "- {r}");
        }
        let _ = writeln!(out, "{}", self.recommendation_words());
        if let Some(fix) = &self.fix {
            let _ = write!(out, "the change (kustomize, in fix/):\n{fix}");
        }
        out
    }

    /// Writes `matrix.json`, `matrix.md` and `matrix.html` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), ResultsError> {
        write_atomic(&dir.join("matrix.json"), |w| {
            serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::from)?;
            w.write_all(b"\n")
        })?;
        write_atomic(&dir.join("matrix.md"), |w| w.write_all(self.markdown().as_bytes()))?;
        write_atomic(&dir.join("matrix.html"), |w| w.write_all(self.html().as_bytes()))
    }
}

const KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
/// The headless Service that gives each pod of the peers overlays a DNS name.
const PEERS_SERVICE: &str = "chatter-peers";

/// A JSON patch adding `var` (`{name: …, value: …}`) to every container of every pod of `plan`.
fn env_patches(k: &mut String, plan: &Plan, var: &str) {
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
        _ => None,
    }
}

/// The host-network overlays' first comment line.
const HOST_NETWORK_HEADER: &str =
    "# Every ROS pod on the host network: DDS discovery multicast travels on the nodes' LAN.\n";
/// The patch that puts every pod on its node's network (keeping cluster DNS).
const HOST_NETWORK_PATCH: &str = "patches:\n  - target:\n      kind: Pod\n    patch: |-\n      - op: add\n        path: /spec/hostNetwork\n\
         \x20       value: true\n      - op: add\n        path: /spec/dnsPolicy\n        value: ClusterFirstWithHostNet\n";

/// The host-network overlay (`rmw`: the scenario's, for what Fast DDS then does).
fn host_network_files(rmw: Option<Rmw>) -> BTreeMap<String, String> {
    let mut k = String::from(HOST_NETWORK_HEADER);
    if rmw == Some(Rmw::Fastdds) {
        k.push_str(
            "# Fast DDS: pods on one node then look like one host and try shared memory, which pods do not\n\
             # share; see host-network-udpv4.\n",
        );
    }
    let _ = write!(k, "{KUSTOMIZATION}resources:\n  - base.yaml\n{HOST_NETWORK_PATCH}");
    BTreeMap::from([("kustomization.yaml".to_owned(), k)])
}

/// The host-network overlay with Fast DDS on UDP only.
fn host_network_udpv4_files(plan: &Plan) -> BTreeMap<String, String> {
    let mut k = format!(
        "{HOST_NETWORK_HEADER}# Pods on one node share its network namespace, so Fast DDS takes them for one host and offers\n\
         # shared memory, which they do not share (each pod has its own /dev/shm): UDP only.\n\
         {KUSTOMIZATION}resources:\n  - base.yaml\n{HOST_NETWORK_PATCH}"
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
    for p in &plan.pods {
        for i in 0..p.containers.len() {
            let _ = write!(
                k,
                "  - target:\n      kind: Pod\n      name: {n}\n    patch: |-\n      - op: add\n        path: /spec/containers/{i}/env/-\n        value: {{name: FASTRTPS_DEFAULT_PROFILES_FILE, value: /etc/fastdds/{RANGE_PROFILE}}}\n      - op: add\n        path: /spec/containers/{i}/volumeMounts/-\n        value: {{name: fastdds-profile, mountPath: /etc/fastdds, readOnly: true}}\n",
                n = p.name
            );
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(text: &str) -> (Scenario, Plan) {
        let s = crate::spec::parse(text, Path::new("t.yaml")).expect("valid");
        let plan = crate::placement::place(&s, &crate::placement::declared_nodes(&s)).expect("placeable");
        (s, plan)
    }

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

    #[test]
    fn the_least_invasive_variant_that_delivers_everything_is_recommended() {
        let ran = |id: &str, rank, all| VariantResult {
            id: id.into(),
            title: id.into(),
            rank,
            outcome: Outcome::Ran {
                dir: id.into(),
                verdict: VerdictKind::Consistent,
                headline: String::new(),
                pairs: vec![PairCell { pair: "a → b".into(), delivered: if all { 3 } else { 1 }, trials: 3 }],
                delivers_all: all,
                lost: if all { vec![] } else { vec!["multicast".into()] },
            },
            note: None,
        };
        let mut m = MatrixReport {
            scenario: "s".into(),
            backend: "netns".into(),
            variants: vec![ran("as-is", 0, false), ran("host-network", 4, true), ran("unicast-peers", 1, true)],
            recommended: None,
            fix: None,
            processes_per_ip: 2,
        };
        m.recommend();
        assert_eq!(m.recommended.as_deref(), Some("unicast-peers"));
        let t = m.table();
        assert_eq!(t.rows[0][1], "1/3");
        // Past eight pairs, counted per variant instead of a column per pair.
        let mut wide = m.clone();
        for v in &mut wide.variants {
            if let Outcome::Ran { pairs, .. } = &mut v.outcome {
                let one = pairs[0].clone();
                *pairs = (0..9)
                    .map(|i| PairCell {
                        pair: format!("{i} → b"),
                        delivered: if i == 0 { 0 } else { one.delivered },
                        ..one.clone()
                    })
                    .collect();
            }
        }
        let g = wide.table();
        assert_eq!(g.head.len(), 5, "{:?}", g.head);
        assert_eq!(
            g.rows[0][1..4],
            ["0".to_owned(), "8".to_owned(), "1".to_owned()],
            "as-is: 1 of 3 trials each, one never"
        );
        assert!(m.markdown().contains("Recommended: unicast-peers"));
        assert!(m.markdown().contains("Measured with up to 2 ROS 2 processes on one IP."), "{}", m.markdown());
        // Plain static peers are recommended with the process count they hold for.
        m.variants.push(ran("ros-static-peers", 0, true));
        m.recommend();
        let words = m.recommendation_words();
        assert!(words.contains("while no two IPs both carry more than 4 ROS 2 processes"), "{words}");
    }
}
