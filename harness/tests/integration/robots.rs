//! Robots as they run: a pod's launch file starts several ROS 2 processes, each its own DDS
//! participant on the pod's IP. Six talker processes in the Pi's pod and six listener processes
//! in the master's, on real Fast DDS (our r2r nodes and the rclpy stock-node stand-ins, Jazzy
//! and Kilted wheels): with ROS_STATIC_PEERS the pairs whose two ends are both the 5th or 6th
//! participant on their IP never meet (Fast DDS's initial-peer range is 4); a profile raising
//! it, and a discovery server, deliver every pair.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use harness::ros::{Distro, RosStack};
use serde_json::Value;

use super::netns::{harness, ratio, run, scenario, trial_rows};

type Pair = (String, String);

/// Every participant id of every trial, by container id, from `run.json`.
fn ids(dir: &Path) -> BTreeMap<u64, BTreeMap<String, u64>> {
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for (trial, seen) in meta["participants"].as_object().expect("participants recorded") {
        let per: BTreeMap<String, u64> = seen
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| Some((p["container"].as_str()?.to_owned(), p["ids"][0]["id"].as_u64()?)))
            .collect();
        out.insert(trial.parse().unwrap(), per);
    }
    out
}

/// The pairs of `trial` that delivered nothing, from `pairs.csv`.
fn silent(csv: &str, trial: u64) -> BTreeSet<Pair> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let head = r.headers().unwrap().clone();
    r.records()
        .map(|row| head.iter().zip(row.unwrap().iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect())
        .filter(|row: &BTreeMap<String, String>| row["trial"] == trial.to_string() && row["received"] == "0")
        .map(|row| (row["talker"].clone(), row["listener"].clone()))
        .collect()
}

/// Checks a static-peers run: in every trial the silent pairs are exactly the 4 whose two ends
/// both have participant ids ≥ 4, 32 of 36 deliver, and `initial-peers-range` names exactly
/// those pairs (and is the only failure of a silent pair).
fn beyond_the_range_exactly(dir: &Path, csv: &str, summary: &Value) {
    let ids = ids(dir);
    assert!(!ids.is_empty());
    let mut named: BTreeSet<Pair> = BTreeSet::new();
    for (trial, per) in &ids {
        assert_eq!(per.len(), 12, "every process seen as a participant: {per:?}");
        let beyond: BTreeSet<Pair> = per
            .iter()
            .filter(|(c, id)| c.starts_with("robot.") && **id >= 4)
            .flat_map(|(t, _)| {
                per.iter().filter(|(c, id)| c.starts_with("base.") && **id >= 4).map(|(l, _)| (t.clone(), l.clone()))
            })
            .collect();
        assert_eq!(beyond.len(), 4, "trial {trial}: two participants ≥ 4 on each IP: {per:?}");
        assert_eq!(silent(csv, *trial), beyond, "trial {trial}: ids {per:?}");
        named.extend(beyond);
    }
    let findings = summary["findings"].as_array().unwrap();
    let range: Vec<&Value> = findings.iter().filter(|f| f["rule"] == "initial-peers-range").collect();
    assert_eq!(range.len(), 1, "{findings:#?}");
    let pairs: BTreeSet<Pair> = range[0]["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let (t, l) = p.as_str().unwrap().split_once(" → ").unwrap();
            (t.to_owned(), l.to_owned())
        })
        .collect();
    assert_eq!(pairs, named, "{:#}", range[0]);
    let evidence = range[0]["evidence"].to_string();
    assert!(evidence.contains("participant ids 0–3 of each peer address (maxInitialPeersRange 4"), "{evidence}");
    for f in findings.iter().filter(|f| f["severity"] == "failure" && f["rule"] != "initial-peers-range") {
        assert!(f["rule"] != "no-discovery" && f["rule"] != "no-discovery-across-nodes", "{f:#}");
    }
}

/// Every pair delivered in every trial.
fn all_delivered(csv: &str) {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let head = r.headers().unwrap().clone();
    let rows: Vec<BTreeMap<String, String>> = r
        .records()
        .map(|row| head.iter().zip(row.unwrap().iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect())
        .collect();
    let pairs: BTreeSet<(&str, &str)> = rows.iter().map(|r| (r["talker"].as_str(), r["listener"].as_str())).collect();
    assert_eq!(pairs.len(), 36, "{pairs:?}");
    for row in &rows {
        assert_ne!(row["received"], "0", "{row:?}");
    }
}

/// The six-by-six scenario with our r2r nodes replaced by the stock talker and listener (rclpy
/// on the wheels), at 1 Hz so six staggered stock talkers stay apart in time; `extra` env on
/// every process and `pods` appended.
fn stock_six_by_six(dir: &Path, extra_env: &str, pods: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(scenario("robots-static-peers.yaml"))
        .unwrap()
        .replace(
            "role: listener\n",
            "role: listener\n        command: [ros2, run, demo_nodes_cpp, listener]\n        output: demo-nodes\n",
        )
        .replace(
            "role: talker\n",
            "role: talker\n        command: [ros2, run, demo_nodes_cpp, talker]\n        output: demo-nodes\n        rateHz: 1\n",
        )
        .replace("ROS_STATIC_PEERS: \"10.42.1.3\"\n", &format!("ROS_STATIC_PEERS: \"10.42.1.3\"\n{extra_env}"))
        .replace("ROS_STATIC_PEERS: \"10.42.0.2\"\n", &format!("ROS_STATIC_PEERS: \"10.42.0.2\"\n{extra_env}"))
        .replace("  count: 2\n  durationS: 4\n  warmupS: 4\n", "  count: 1\n  durationS: 6\n  warmupS: 8\n")
        .replace("  rateHz: 10\n", "")
        .replace("trials:\n", &format!("{pods}trials:\n"))
        .replace("dds:\n  transport: ros\n", "dds:\n  rmw: rmw_fastrtps_cpp\n");
    let path = dir.join("stock.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The profile that raises the range, as the matrix's variant writes it, in `dir`.
fn raised_range_profile(dir: &Path) -> String {
    let path = dir.join("fastdds-initial-peers.xml");
    std::fs::write(&path, harness::matrix::initial_peers_range_xml(16)).unwrap();
    format!("          FASTRTPS_DEFAULT_PROFILES_FILE: \"{}\"\n", path.display())
}

/// The stock six-by-six on `distro`: static peers lose exactly the 4 pairs beyond the range;
/// the raised range and a discovery server (the wheels' fast-discovery-server in a third pod,
/// every process its client) deliver all 36.
fn stock_nodes_beyond_the_range(distro: &str) {
    testkit::ros_python(distro);
    let tmp = tempfile::tempdir().unwrap();
    let args = ["--ros-distro", distro];
    let r = run(&stock_six_by_six(tmp.path(), "", ""), &args);
    beyond_the_range_exactly(&r.dir, &r.pairs_csv, &r.summary);
    let r = run(&stock_six_by_six(tmp.path(), &raised_range_profile(tmp.path()), ""), &args);
    all_delivered(&r.pairs_csv);
    // The server is the third pod, on the master: 10.42.0.4.
    let stack = RosStack::find(if distro == "kilted" { Distro::Kilted } else { Distro::Jazzy }, None).unwrap();
    let server = stack.discovery_server(0, "10.42.0.4", 11811).iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>();
    let pod = format!(
        "  - name: ds\n    nodeSelector:\n      kubernetes.io/hostname: master\n    containers:\n      - name: server\n        \
         role: process\n        standIn: [{}]\n        env:\n          LD_LIBRARY_PATH: \"{}\"\n",
        server.join(", "),
        stack.library_path()
    );
    let text = std::fs::read_to_string(stock_six_by_six(tmp.path(), "", &pod))
        .unwrap()
        .replace("ROS_STATIC_PEERS: \"10.42.1.3\"", "ROS_DISCOVERY_SERVER: \"10.42.0.4:11811\"")
        .replace("ROS_STATIC_PEERS: \"10.42.0.2\"", "ROS_DISCOVERY_SERVER: \"10.42.0.4:11811\"");
    let path = tmp.path().join("server.yaml");
    std::fs::write(&path, text).unwrap();
    let r = run(&path, &args);
    all_delivered(&r.pairs_csv);
}

#[test]
fn stock_nodes_jazzy_six_per_ip_lose_exactly_the_pairs_beyond_the_initial_peers_range() {
    stock_nodes_beyond_the_range("jazzy");
}

#[test]
fn stock_nodes_kilted_six_per_ip_lose_exactly_the_pairs_beyond_the_initial_peers_range() {
    stock_nodes_beyond_the_range("kilted");
}

/// `harness matrix` on the six-by-six with our r2r nodes (on `distro`): as deployed and with plain
/// ROS_STATIC_PEERS 32 of 36, `initial-peers-range` on exactly the 4 pairs beyond the range;
/// the raised range and the discovery server deliver all 36; the recommendation is the raised
/// range, with the processes per IP it was measured at.
fn matrix_on_six_processes_per_ip(distro: &str) {
    testkit::ros_python(distro);
    let out = tempfile::tempdir().unwrap();
    let output = harness()
        .current_dir(testkit::workspace_root())
        .args(["matrix", "--no-progress", "--trials", "1", "--parallel", "1", "--ros-distro", distro, "--out"])
        .arg(out.path())
        .args(["--manifests", "harness/tests/fixtures/matrix/robot-twelve-processes.yaml"])
        .arg(scenario("robots-static-peers.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {}: {stderr}\n{stdout}", output.status);
    assert!(!stderr.contains("is not in this build"), "the matrix ran the r2r build: {stderr}");
    let dir = std::fs::read_dir(out.path()).unwrap().next().unwrap().unwrap().path();
    let m: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("matrix.json")).unwrap()).unwrap();
    let variant =
        |id: &str| m["variants"].as_array().unwrap().iter().find(|v| v["id"] == id).unwrap()["outcome"].clone();
    let read = |id: &str, f: &str| std::fs::read_to_string(dir.join(id).join(f)).unwrap();
    for id in ["as-is", "ros-static-peers"] {
        assert_eq!(variant(id)["delivers_all"], false, "{id}: {}", variant(id));
        let summary: Value = serde_json::from_str(&read(id, "summary.json")).unwrap();
        beyond_the_range_exactly(&dir.join(id), &read(id, "pairs.csv"), &summary);
    }
    // Each node's traffic, counted by the kernel: every data packet the Pi's talkers sent
    // arrived at the master's listeners (no loss on this link), and both sides announce.
    let summary: Value = serde_json::from_str(&read("as-is", "summary.json")).unwrap();
    for t in summary["trials"].as_array().unwrap() {
        let node = |n: &str| t["traffic"].as_array().unwrap().iter().find(|x| x["node"] == n).unwrap().clone();
        let (pi, master) = (node("pi"), node("master"));
        let packets = |v: &Value, k: &str| v[k]["packets"].as_u64().unwrap();
        assert!(packets(&pi, "data_sent") > 100, "{pi}");
        assert_eq!(packets(&pi, "data_sent"), packets(&master, "data_received"), "{pi}\n{master}");
        assert!(packets(&pi, "discovery_sent") > 0 && packets(&master, "discovery_sent") > 0, "{pi}\n{master}");
    }
    assert!(read("as-is", "report.md").contains("## DDS traffic"));
    for id in ["ros-static-peers-range", "discovery-server"] {
        assert_eq!(variant(id)["delivers_all"], true, "{id}: {}", variant(id));
        all_delivered(&read(id, "pairs.csv"));
    }
    assert_eq!(m["recommended"], "ros-static-peers-range", "{stdout}");
    assert_eq!(m["processes_per_ip"], 6);
    assert!(stdout.contains("Measured with up to 6 ROS 2 processes on one IP."), "{stdout}");
    // The deployment linted beside it runs twelve on the robot's IP: more than was measured.
    assert_eq!(m["manifests"]["busiest"]["processes"], 12, "{}", m["manifests"]);
    assert!(stdout.contains("this matrix measured up to 6. A fix measured on 6 is not proven on 12"), "{stdout}");
    let profile = std::fs::read_to_string(dir.join("fix/fastdds-initial-peers.xml")).unwrap();
    assert!(profile.contains("<maxInitialPeersRange>16</maxInitialPeersRange>"), "{profile}");
    let k = std::fs::read_to_string(dir.join("fix/kustomization.yaml")).unwrap();
    assert_eq!(k.matches("FASTRTPS_DEFAULT_PROFILES_FILE").count(), 13, "12 containers and the comment: {k}");
    // The r2r nodes' rows are per pair: every matched pair delivered.
    let csv = read("ros-static-peers-range", "pairs.csv");
    let row = &trial_rows(&csv, "robot.t-6", "base.l-6")[0];
    assert!(ratio(row) >= 0.9 && row["listener_matched"] == "true", "{row:?}");
}

#[test]
fn matrix_on_jazzy_six_processes_per_ip_does_not_recommend_plain_static_peers() {
    matrix_on_six_processes_per_ip("jazzy");
}

#[test]
fn matrix_on_kilted_six_processes_per_ip_does_not_recommend_plain_static_peers() {
    matrix_on_six_processes_per_ip("kilted");
}
