//! The Zenoh bridge variants of `harness matrix`, run for real: a zenoh-plugin-ros2dds bridge
//! (`scripts/build-bridge.sh`) on the host network of every simulated node.

use serde_json::Value;

use super::netns::{harness, scenario};

/// The bridge scripts/build-bridge.sh builds, or `None` (skipped, with why) outside CI; CI
/// builds it first (scripts/test.sh), so there a missing bridge fails.
pub(crate) fn bridge_built() -> bool {
    let path = testkit::workspace_root().join("target/bridge/chatter-zenoh-bridge");
    if path.is_file() {
        return true;
    }
    let why = format!("{} missing: run `bash scripts/build-bridge.sh`", path.display());
    assert!(std::env::var_os("CI").is_none(), "{why}");
    eprintln!("skipped: {why}");
    false
}

/// `harness matrix` on the seed (our RustDDS nodes): as deployed the cross-node pairs hear
/// nothing; with a bridge per node and DDS kept on each node they hear every message once (so
/// through the bridges); with DDS also free to cross, the cross-node pairs hear messages twice
/// and that variant is never recommended. The report says which pairs went through the bridges.
#[test]
fn matrix_measures_the_zenoh_bridges() {
    if !bridge_built() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let output = harness()
        .current_dir(testkit::workspace_root())
        .args(["matrix", "--no-progress", "--trials", "1", "--parallel", "1", "--out"])
        .arg(out.path())
        .arg(scenario("seed.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "exit {}: {}\n{stdout}", output.status, String::from_utf8_lossy(&output.stderr));
    let dir = std::fs::read_dir(out.path()).unwrap().next().unwrap().unwrap().path();
    let m: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("matrix.json")).unwrap()).unwrap();
    let outcome =
        |id: &str| m["variants"].as_array().unwrap().iter().find(|v| v["id"] == id).unwrap()["outcome"].clone();
    let cells = |id: &str| outcome(id)["pairs"].as_array().cloned().unwrap_or_default();
    let cross = |id: &str| cells(id).into_iter().filter(|c| c["cross_node"] == true).collect::<Vec<_>>();
    assert_eq!(cross("as-is").len(), 2, "{}", outcome("as-is"));
    assert!(cross("as-is").iter().all(|c| c["delivered"] == 0), "{}", outcome("as-is"));
    let per_node = outcome("zenoh-bridge-per-node");
    assert_eq!(per_node["delivers_all"], true, "{per_node}");
    assert!(cells("zenoh-bridge-per-node").iter().all(|c| c["duplicates"] == 0), "{per_node}");
    let crosses = outcome("zenoh-bridge-dds-crosses");
    assert_eq!(crosses["status"], "ran", "{crosses}");
    for c in cross("zenoh-bridge-dds-crosses") {
        assert!(c["duplicates"].as_u64().unwrap() > 0, "{crosses}");
    }
    assert_ne!(m["recommended"], "zenoh-bridge-dds-crosses");
    assert!(stdout.contains("go through the bridges") && stdout.contains("TCP port 7447"), "{stdout}");
    let md = std::fs::read_to_string(dir.join("matrix.md")).unwrap();
    assert!(md.contains(" duplicates) |"), "{md}");
    assert!(dir.join("fixes/zenoh-bridge-per-node/zenoh-bridges.yaml").is_file());
}
