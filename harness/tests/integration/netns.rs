//! The netns backend: a simulated k3s + flannel cluster (root only). Every test checks that the
//! run removed all of its namespaces.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use serde_json::Value;

pub(crate) fn harness() -> Command {
    assert!(chatter_sandbox::is_root(), "netns backend tests need root (CI runs them as root)");
    Command::cargo_bin("harness").unwrap()
}

pub(crate) fn scenario(name: &str) -> PathBuf {
    testkit::workspace_root().join("scenarios").join(name)
}

pub(crate) struct Run {
    pub summary: Value,
    pub pairs_csv: String,
    pub dir: PathBuf,
    _out: tempfile::TempDir,
}

/// Runs a scenario on the netns backend and checks its namespaces are gone afterwards. Trials
/// run one at a time unless `extra` says `--parallel` (the tests themselves run side by side).
pub(crate) fn run(scenario: &Path, extra: &[&str]) -> Run {
    let out = tempfile::tempdir().unwrap();
    let status = harness()
        // Scenarios name stand-ins relative to the repository (tests/peers/…).
        .current_dir(testkit::workspace_root())
        .args(["run", "--backend", "netns", "--no-progress", "--out"])
        .arg(out.path())
        .args(if extra.contains(&"--parallel") { &[][..] } else { &["--parallel", "1"][..] })
        .args(extra)
        .arg(scenario)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success() || status.code() == Some(1), "harness exit {status}");
    let dir = std::fs::read_dir(out.path()).unwrap().next().unwrap().unwrap().path();
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let note = meta["notes"][0].as_str().unwrap().to_owned();
    // `chh-<tag>-*`, and with --parallel also its siblings' `chh-<tag>s<k>-*`.
    let tag = note.split("namespaces ").nth(1).unwrap().split('*').next().unwrap().trim_end_matches('-').to_owned();
    let left = String::from_utf8(Command::new("ip").args(["netns", "list"]).output().unwrap().stdout).unwrap();
    assert!(!left.contains(&tag), "namespaces {tag}* left behind:\n{left}");
    Run {
        summary: serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap(),
        pairs_csv: std::fs::read_to_string(dir.join("pairs.csv")).unwrap(),
        dir,
        _out: out,
    }
}

/// `harness report` on the run directory derives the same `summary.json` the run wrote.
pub(crate) fn assert_reanalysis_agrees(dir: &Path) {
    let before = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    std::fs::remove_file(dir.join("summary.json")).unwrap();
    Command::cargo_bin("harness")
        .unwrap()
        .arg("report")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(dir.join("summary.json")).unwrap(), before);
}

/// Per-trial rows of one pair from pairs.csv.
pub(crate) fn trial_rows(csv: &str, talker: &str, listener: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| headers.iter().zip(rec.unwrap().iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect())
        .filter(|row: &std::collections::HashMap<String, String>| {
            row["talker"] == talker && row["listener"] == listener
        })
        .collect()
}

pub(crate) fn ratio(row: &std::collections::HashMap<String, String>) -> f64 {
    row["received"].parse::<f64>().unwrap() / row["expected"].parse::<f64>().unwrap()
}

#[test]
fn seed_on_the_pod_network_never_crosses_nodes() {
    let r = run(&scenario("seed.yaml"), &["--trials", "3", "--arm64-as-amd64"]);
    let cross = trial_rows(&r.pairs_csv, "demo-talkerlistener.talker", "demo-listener.listener");
    assert_eq!(cross.len(), 3);
    for row in &cross {
        assert_eq!(row["received"], "0", "master listener heard the Pi talker: {row:?}");
        assert!(row["expected"].parse::<u64>().unwrap() > 0);
    }
    for row in trial_rows(&r.pairs_csv, "demo-talkerlistener.talker", "demo-talkerlistener.listener") {
        assert!(ratio(&row) >= 0.95, "Pi listener should hear the Pi talker: {row:?}");
    }
    assert_eq!(r.summary["verdict"]["kind"], "no-delivery");
    let findings = r.summary["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["no-discovery-across-nodes"], "one finding for both cross-node pairs");
    assert_eq!(findings[0]["pairs"].as_array().unwrap().len(), 2);
    // Per-pair discovery agrees with the title: the master listener never matched the Pi talker
    // (though it matched its own node's talker).
    let evidence = findings[0]["evidence"].to_string();
    assert!(evidence.contains("the listener never matched this talker's writer"), "{evidence}");
    for row in &cross {
        assert_eq!(row["listener_matched"], "false", "{row:?}");
    }
    for row in trial_rows(&r.pairs_csv, "demo-talker.talker", "demo-listener.listener") {
        assert_eq!(row["listener_matched"], "true", "same-node pair matched: {row:?}");
    }
    // Cross-node pairs never matched, so every window waited out the warm-up.
    assert!(
        r.summary["notes"].to_string().contains("in every trial the warm-up ran out first"),
        "{}",
        r.summary["notes"]
    );
    // A nominal window of 3 s at 10 Hz: 30 messages, counted from the nodes' own start records.
    for p in r.summary["trials"].as_array().unwrap().iter().flat_map(|t| t["pairs"].as_array().unwrap()) {
        let expected = p["expected"].as_u64().unwrap();
        assert!((29..=31).contains(&expected), "expected {expected}: {p}");
    }
}

/// The seed as deployed, the Pi's nodes aarch64 under qemu (they come up about a second after
/// the master's): the start barrier gives every pair, master → Pi too, its whole window — 3 s
/// at 10 Hz, 30 messages — counted from the last node's start, which trials.csv keeps.
#[test]
fn start_barrier_gives_every_seed_pair_its_whole_window_under_qemu() {
    let r = run(&scenario("seed.yaml"), &["--trials", "1", "--arm64-bin-dir", &arm64_bin_dir()]);
    assert!(!r.summary["notes"].to_string().contains("amd64 build"), "ran real aarch64 binaries");
    let pairs = r.summary["trials"][0]["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 4);
    for p in pairs {
        let expected = p["expected"].as_u64().unwrap();
        assert!((29..=31).contains(&expected), "expected {expected}: {p}");
    }
    let trials = std::fs::read_to_string(r.dir.join("trials.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(trials.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let row = rows.records().next().unwrap().unwrap();
    let col = |name: &str| row[headers.iter().position(|h| h == name).unwrap()].parse::<f64>().unwrap();
    let (last, warmup_ends) = (col("last_started_s"), col("warmup_ends_s"));
    assert!(last > 0.0 && (warmup_ends - last - 1.0).abs() < 1e-6, "{trials}");
    for p in pairs {
        let from = p["window_from_s"].as_f64().unwrap();
        assert!((from - warmup_ends).abs() < 1e-6, "every pair's window opens at the barrier: {p}");
    }
    assert!(r.summary["notes"].to_string().contains("start barrier: each trial's windows opened at once"));
    // `harness report` reads the same barrier back from records.csv and run.json.
    assert_reanalysis_agrees(&r.dir);
}

/// On the simulated cluster too, a talker that exits at once is named with its status, time
/// and last stderr line (see the local test in cli.rs).
#[test]
fn a_talker_that_exits_at_once_is_named_on_netns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken-talker.yaml");
    std::fs::write(&path, crate::cli::BROKEN_TALKER).unwrap();
    let r = run(&path, &[]);
    crate::cli::assert_the_exit_is_named(&r.summary);
}

#[test]
fn rescheduled_seed_is_placement_determined_not_a_race() {
    let r = run(&scenario("seed-race.yaml"), &["--trials", "6", "--arm64-as-amd64"]);
    assert_eq!(r.summary["verdict"]["kind"], "placement-determined", "{}", r.summary["verdict"]);
    assert_eq!(r.summary["distribution"].as_array().unwrap().len(), 2);
    let headline = r.summary["verdict"]["headline"].as_str().unwrap();
    assert!(headline.starts_with("not a timing race"), "{headline}");
    assert!(headline.contains("demo-talker on pi → A") && headline.contains("demo-talker on master → B"), "{headline}");
    // The cross-node rows of demo-talker's pairs are never pooled with the same-node ones.
    let relations: Vec<(&str, &str)> = r.summary["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["talker"] == "demo-talker.talker" && p["listener"] == "demo-listener.listener")
        .map(|p| {
            (
                p["relation"].as_str().unwrap(),
                p["ratio"].as_f64().map_or("?", |x| {
                    if x > 0.95 {
                        "all"
                    } else if x == 0.0 {
                        "none"
                    } else {
                        "some"
                    }
                }),
            )
        })
        .collect();
    assert_eq!(relations, [("same-node", "all"), ("cross-node", "none")]);
    // Per trial: the master listener hears demo-talker exactly when it was placed on master,
    // and the Pi listener exactly when it was placed on the Pi.
    let rows = trial_rows(&r.pairs_csv, "demo-talker.talker", "demo-listener.listener");
    let places: std::collections::BTreeSet<String> = rows.iter().map(|row| row["talker_node"].clone()).collect();
    assert_eq!(places.len(), 2, "seed 7 puts demo-talker on both nodes over 6 trials");
    for row in &rows {
        let heard = row["received"] != "0";
        assert_eq!(heard, row["talker_node"] == "master", "{row:?}");
    }
    for row in trial_rows(&r.pairs_csv, "demo-talker.talker", "demo-talkerlistener.listener") {
        assert_eq!(row["received"] != "0", row["talker_node"] == "pi", "{row:?}");
    }
    // `harness report` re-derives the same analysis, per-trial placement included.
    assert_reanalysis_agrees(&r.dir);
}

/// `--parallel 3` runs the rescheduled seed's trials three at a time, each in a cluster of its
/// own, and gets what one at a time gets: every trial's placement is drawn from its number, so
/// each trial must come out the same, pair by pair.
#[test]
fn parallel_trials_give_what_sequential_trials_give() {
    let per_trial = |r: &Run| -> Vec<(String, String, bool)> {
        let mut rows: Vec<_> = csv::Reader::from_reader(r.pairs_csv.as_bytes())
            .deserialize::<std::collections::HashMap<String, String>>()
            .map(|row| row.unwrap())
            .map(|row| {
                (
                    format!("{:0>3}", row["trial"]),
                    format!("{} {}→{} {}", row["talker"], row["talker_node"], row["listener"], row["listener_node"]),
                    row["received"] != "0",
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let args = ["--trials", "6", "--arm64-as-amd64"];
    let one = run(&scenario("seed-race.yaml"), &[&args[..], &["--parallel", "1"]].concat());
    let three = run(&scenario("seed-race.yaml"), &[&args[..], &["--parallel", "3"]].concat());
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(three.dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(meta["parallel"], 3);
    assert!(three.summary["notes"].to_string().contains("trials ran 3 at a time"), "{}", three.summary["notes"]);
    let (a, b) = (per_trial(&one), per_trial(&three));
    assert_eq!(a.len(), 6 * 4, "six trials of four pairs");
    assert_eq!(a, b, "per trial and pair: placement and whether anything was heard");
    assert_eq!(one.summary["distribution"], three.summary["distribution"]);
    assert_eq!(one.summary["verdict"]["kind"], "placement-determined");
    assert_eq!(three.summary["verdict"]["headline"], one.summary["verdict"]["headline"]);
    // Every trial is in records.csv under its own number, whole: its nodes' stop records are
    // all there, although three trials wrote at once.
    let records = std::fs::read_to_string(three.dir.join("records.csv")).unwrap();
    for trial in 1..=6 {
        let stops = records.lines().filter(|l| l.starts_with(&format!("{trial},")) && l.contains(",stop,")).count();
        assert_eq!(stops, 4, "trial {trial}: a stop record from each of its two talkers and two listeners");
    }
    // Their rows interleave in records.csv; `harness report` still derives the same analysis.
    assert_reanalysis_agrees(&three.dir);
}

#[test]
fn multicast_between_nodes_lets_the_pod_network_discover() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed-mcast.yaml");
    let text = std::fs::read_to_string(scenario("seed.yaml")).unwrap();
    assert!(text.contains("\ndds:"), "scenario changed; update this test");
    std::fs::write(&path, text.replace("\ndds:", "\nnetwork: {multicastBetweenNodes: true}\ndds:")).unwrap();
    let r = run(&path, &["--trials", "2", "--arm64-as-amd64"]);
    assert!(r.summary["notes"].to_string().contains("multicast allowed between nodes"));
    for p in r.summary["pairs"].as_array().unwrap() {
        assert!(p["ratio"].as_f64().unwrap() >= 0.95, "{p}");
    }
    // Every pair matched both ways, so each trial's window opened then, before the warm-up ran
    // out, and every pair's window starts there: the talkers published the window's 3 s at
    // 10 Hz from that moment, all of it heard.
    assert!(r.summary["notes"].to_string().contains("matched both ways (per-pair discovery) in 2 of 2 trial(s)"));
    let trials = std::fs::read_to_string(r.dir.join("trials.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(trials.as_bytes());
    for row in rows.deserialize::<std::collections::HashMap<String, String>>() {
        let row = row.unwrap();
        let (opened, warmup_ends): (f64, f64) =
            (row["all_matched_s"].parse().unwrap(), row["warmup_ends_s"].parse().unwrap());
        assert!(opened < warmup_ends, "opened early: {row:?}");
        for p in trial_rows(&r.pairs_csv, "demo-talker.talker", "demo-listener.listener")
            .iter()
            .filter(|p| p["trial"] == row["trial"])
        {
            assert!((p["window_from_s"].parse::<f64>().unwrap() - opened).abs() < 1e-6, "{p:?} vs {row:?}");
            let (expected, received): (u64, u64) = (p["expected"].parse().unwrap(), p["received"].parse().unwrap());
            assert!((29..=31).contains(&expected) && received == expected, "{p:?}");
        }
    }
}

#[test]
fn seed_with_host_network_crosses_nodes() {
    let r = run(&scenario("seed-hostnetwork.yaml"), &["--trials", "2", "--arm64-as-amd64"]);
    for p in r.summary["pairs"].as_array().unwrap() {
        assert!(p["ratio"].as_f64().unwrap() >= 0.95, "{p}");
    }
    assert_eq!(r.summary["verdict"]["kind"], "consistent");
    assert_eq!(r.summary["findings"], serde_json::json!([]), "nothing to explain");
}

/// The finding with this rule (exactly one).
fn finding<'a>(summary: &'a Value, rule: &str) -> &'a Value {
    let all: Vec<&Value> = summary["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == rule).collect();
    assert_eq!(all.len(), 1, "one `{rule}` finding: {}", summary["findings"]);
    all[0]
}

#[test]
fn injected_loss_is_measured_with_best_effort() {
    let r = run(&scenario("fault-loss.yaml"), &[]);
    let rows = trial_rows(&r.pairs_csv, "talker.talker", "listener.listener");
    let (lost, expected): (f64, f64) = rows.iter().fold((0.0, 0.0), |(l, e), row| {
        (l + row["lost"].parse::<f64>().unwrap(), e + row["expected"].parse::<f64>().unwrap())
    });
    let loss = lost / expected;
    // 30 % injected; ~800 messages → σ ≈ 1.6 %; the tolerance is ±8 points.
    assert!((0.22..=0.38).contains(&loss), "measured loss {loss:.3} over {expected} messages");
    assert!(r.summary["notes"].to_string().contains("30 % frame loss into node pi"));
    assert_eq!(r.summary["verdict"]["kind"], "degraded", "partial delivery is not consistent");
    let f = finding(&r.summary, "loss");
    assert_eq!(f["severity"], "failure");
    assert_eq!(f["fault"]["matches"], true, "{f}");
    assert!(f["cause"].as_str().unwrap().contains("best-effort"), "{f}");
}

#[test]
fn partition_leaves_a_gap_in_affected_pairs_only() {
    let r = run(&scenario("fault-partition.yaml"), &[]);
    for row in trial_rows(&r.pairs_csv, "master-talker.talker", "pi-listener.listener") {
        let gap: f64 = row["max_silence_ms"].parse().unwrap();
        assert!(gap >= 1200.0, "the 1.5 s partition shows as a gap: {row:?}");
        assert!(row["received"].parse::<u64>().unwrap() > 0, "delivery before and after the partition");
    }
    for row in trial_rows(&r.pairs_csv, "pi-talker.talker", "pi-listener.listener") {
        let gap: f64 = row["max_silence_ms"].parse().unwrap();
        // 20 Hz = 50 ms between messages; well under the 1.5 s partition even on a busy machine.
        assert!(gap < 1000.0, "same-node pair is not partitioned: {row:?}");
        assert!(ratio(&row) >= 0.95);
    }
    // The outage names the link and its times (±0.3 s of the injected 2.5–4 s), and only the
    // cross-node pair.
    let f = finding(&r.summary, "outage");
    assert!(f["cause"].as_str().unwrap().contains("the link between nodes master and pi"), "{f}");
    assert_eq!(f["pairs"], serde_json::json!(["master-talker.talker → pi-listener.listener"]));
    assert_eq!(f["fault"]["matches"], true, "{f}");
    for t in r.summary["trials"].as_array().unwrap() {
        let s = &t["silences"][0];
        assert!((s["from_s"].as_f64().unwrap() - 2.5).abs() <= 0.3, "{s}");
        assert!((s["to_s"].as_f64().unwrap() - 4.0).abs() <= 0.3, "{s}");
    }
    assert_eq!(r.summary["verdict"]["kind"], "degraded");
}

#[test]
fn late_listener_is_a_late_joiner_and_nothing_is_lost() {
    let r = run(&scenario("fault-late-listener.yaml"), &[]);
    for row in trial_rows(&r.pairs_csv, "talker.talker", "listener.listener") {
        assert_eq!(row["lost"], "0", "what was sent before it was up is not loss: {row:?}");
        // 20 Hz for 4 s from the talker's own start (up to a few hundred ms after the trial's
        // origin); the listener is up from about 2 s (its own start record) and its window from
        // a second later: what the talker sent from then on is expected.
        let expected: f64 = row["expected"].parse().unwrap();
        let from: f64 = row["window_from_s"].parse().unwrap();
        assert!((2.9..3.6).contains(&from), "the window opens warmupS after the late start: {row:?}");
        let (lo, hi) = (20.0 * (4.0 - from) - 1.0, 20.0 * (4.4 - from) + 1.0);
        assert!((lo..=hi).contains(&expected), "expected {expected} not in {lo:.1}..={hi:.1}: {row:?}");
    }
    let f = finding(&r.summary, "late-joiner");
    assert_eq!(f["severity"], "info");
    assert_eq!(f["fault"]["matches"], true, "{f}");
    assert_eq!(r.summary["verdict"]["kind"], "consistent");
}

#[test]
fn killed_talker_stops_mid_trial_without_a_stop_record() {
    let r = run(&scenario("fault-kill.yaml"), &["--trials", "1"]);
    let talker = &r.summary["trials"][0]["talkers"][0];
    assert_eq!(talker["stop_reason"], Value::Null, "SIGKILL leaves no stop record: {talker}");
    // 20 Hz, killed 2.5 s into a 4 s trial: roughly 50 messages, not 80.
    let sent = talker["sent"].as_u64().unwrap();
    assert!((30..=60).contains(&sent), "sent {sent}");
    let pair = &r.summary["pairs"][0];
    assert!(pair["ratio"].as_f64().unwrap() >= 0.95, "what was sent arrived: {pair}");
    assert!(r.summary["notes"].to_string().contains("SIGKILL talker/talker at 2.5 s"));
    let f = finding(&r.summary, "node-died");
    assert!(f["cause"].as_str().unwrap().contains("talker `talker.talker` died"), "{f}");
    assert_eq!(f["fault"]["matches"], true, "died when the kill said: {f}");
    assert_eq!(r.summary["verdict"]["kind"], "degraded");
}

#[test]
fn arm64_pods_run_aarch64_binaries_under_qemu() {
    let bin_dir = testkit::workspace_root().join("target/aarch64-unknown-linux-gnu/release");
    assert!(
        bin_dir.join("talker").is_file(),
        "aarch64 builds missing in {}: run `bash scripts/build-arm64.sh` (scripts/test.sh does)",
        bin_dir.display()
    );
    // Emulated nodes start slowly (seconds under qemu on a busy machine), like a real Pi: give
    // discovery a warm-up long enough that the measured window starts after it, and talkers
    // long enough that a window remains when an emulated listener comes up seconds late (each
    // pair's window opens a warm-up after *both* ends are up).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed-arm64.yaml");
    let text = std::fs::read_to_string(scenario("seed-hostnetwork.yaml")).unwrap();
    assert!(text.contains("durationS: 3, warmupS: 1,"), "scenario changed; update this test");
    std::fs::write(&path, text.replace("durationS: 3, warmupS: 1,", "durationS: 8, warmupS: 4,")).unwrap();
    let r = run(&path, &["--trials", "1", "--arm64-bin-dir", bin_dir.to_str().unwrap()]);
    assert!(!r.summary["notes"].to_string().contains("amd64 build"), "ran real aarch64 binaries");
    // The Pi talker (aarch64 under qemu) reaches the master listener (amd64) and vice versa.
    for (t, l) in [
        ("demo-talkerlistener.talker", "demo-listener.listener"),
        ("demo-talker.talker", "demo-talkerlistener.listener"),
    ] {
        let p = r.summary["pairs"].as_array().unwrap().iter().find(|p| p["talker"] == t && p["listener"] == l).unwrap();
        assert!(p["received"].as_u64().unwrap() > 0 && p["ratio"].as_f64().unwrap() >= 0.95, "{p}");
    }
}

#[test]
fn delay_without_netem_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("delay.yaml");
    let text = std::fs::read_to_string(scenario("fault-loss.yaml")).unwrap();
    std::fs::write(&path, text.replace("kind: loss, node: pi, percent: 30", "kind: delay, node: pi, ms: 50")).unwrap();
    let has_netem = harness_netem();
    let out = harness()
        .args(["run", "--backend", "netns", "--no-progress", "--out"])
        .arg(dir.path().join("out"))
        .arg(&path)
        .output()
        .unwrap();
    if has_netem {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    } else {
        assert_eq!(out.status.code(), Some(3));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("needs `tc netem`"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!dir.path().join("out").exists(), "nothing ran");
    }
}

fn harness_netem() -> bool {
    harness::backend::netns::has_netem()
}

/// The stock demo nodes (the Cyclone DDS stand-in printing demo_nodes' console lines) in the
/// seed's layout reproduce the report: cross-node silence on the pod network, read from their
/// logs into the same delivery matrix, with the unread lines kept.
#[test]
fn stock_demo_nodes_reproduce_the_seed_from_their_logs() {
    let r = run(&scenario("stock-demo.yaml"), &["--trials", "2"]);
    for (talker, listener) in [
        ("demo-talkerlistener.talker", "demo-listener.listener"),
        ("demo-talker.talker", "demo-talkerlistener.listener"),
    ] {
        for row in trial_rows(&r.pairs_csv, talker, listener) {
            assert_eq!(row["received"], "0", "cross-node pair heard: {row:?}");
            assert!(row["expected"].parse::<u64>().unwrap() > 0, "{row:?}");
        }
    }
    for (talker, listener) in [
        ("demo-talkerlistener.talker", "demo-talkerlistener.listener"),
        ("demo-talker.talker", "demo-listener.listener"),
    ] {
        let rows = trial_rows(&r.pairs_csv, talker, listener);
        assert_eq!(rows.len(), 2);
        for row in rows {
            assert!(ratio(&row) >= 0.95, "same-node pair: {row:?}");
        }
    }
    let rules: Vec<&str> =
        r.summary["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["no-discovery-across-nodes"]);
    let log = std::fs::read_to_string(r.dir.join("logs/demo-listener.listener.log")).unwrap();
    assert!(log.lines().any(|l| l.contains("[listener]: I heard: [Hello World: ")), "{log}");
}

/// `harness matrix` on the stock demo: as deployed the cross-node pairs fail; Cyclone unicast
/// peers, a multicast CNI and the host network deliver; unicast peers, the least invasive, is
/// recommended with an overlay in fix/.
#[test]
fn matrix_proves_which_fix_works() {
    let out = tempfile::tempdir().unwrap();
    let output = harness()
        .current_dir(testkit::workspace_root())
        .args(["matrix", "--no-progress", "--trials", "1", "--out"])
        .arg(out.path())
        .arg(scenario("stock-demo.yaml"))
        .output()
        .unwrap();
    assert!(output.status.success(), "exit {}: {}", output.status, String::from_utf8_lossy(&output.stderr));
    let dir = std::fs::read_dir(out.path()).unwrap().next().unwrap().unwrap().path();
    let m: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("matrix.json")).unwrap()).unwrap();
    let variant = |id: &str| m["variants"].as_array().unwrap().iter().find(|v| v["id"] == id).unwrap().clone();
    assert_eq!(variant("as-is")["outcome"]["delivers_all"], false);
    for id in ["unicast-peers", "multicast-cni", "host-network"] {
        assert_eq!(variant(id)["outcome"]["delivers_all"], true, "{id}: {}", variant(id));
    }
    assert_eq!(variant("discovery-server")["outcome"]["status"], "not-applicable");
    assert_eq!(m["recommended"], "unicast-peers");
    for f in ["base.yaml", "kustomization.yaml", "cyclonedds.xml", "peers-service.yaml"] {
        assert!(dir.join("fix").join(f).is_file(), "fix/{f}");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Recommended: Cyclone DDS unicast discovery peers"), "{stdout}");
    assert!(dir.join("unicast-peers/report.html").is_file() && dir.join("matrix.html").is_file());
}

/// The aarch64 builds for arm64 nodes under qemu.
fn arm64_bin_dir() -> String {
    let bin_dir = testkit::workspace_root().join("target/aarch64-unknown-linux-gnu/release");
    assert!(bin_dir.join("talker").is_file(), "aarch64 builds missing: run `bash scripts/build-arm64.sh`");
    bin_dir.display().to_string()
}

fn doctor(scenario_file: &str) -> Value {
    let out = tempfile::tempdir().unwrap();
    let output = harness()
        .args(["doctor", "--count", "10", "--arm64-bin-dir", &arm64_bin_dir(), "--out"])
        .arg(out.path())
        .arg(scenario(scenario_file))
        .output()
        .unwrap();
    assert!(output.status.success(), "doctor: {}", String::from_utf8_lossy(&output.stderr));
    let dir = std::fs::read_dir(out.path()).unwrap().next().unwrap().unwrap().path();
    let d: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("doctor.json")).unwrap()).unwrap();
    let note = d["notes"][0].as_str().unwrap();
    // `chh-<tag>-*`, and with --parallel also its siblings' `chh-<tag>s<k>-*`.
    let tag = note.split("namespaces ").nth(1).unwrap().split('*').next().unwrap().trim_end_matches('-').to_owned();
    let left = String::from_utf8(Command::new("ip").args(["netns", "list"]).output().unwrap().stdout).unwrap();
    assert!(!left.contains(&tag), "namespaces {tag}* left behind:\n{left}");
    d
}

fn answered(d: &Value, network: &str, from: &str, to: &str, kind: &str) -> u64 {
    let net = d["networks"].as_array().unwrap().iter().find(|n| n["network"] == network).unwrap();
    let rep = net["reports"].as_array().unwrap().iter().find(|r| r["from"] == from).unwrap();
    rep["counts"].as_array().unwrap().iter().find(|c| c["to"] == to && c["kind"] == kind).unwrap()["answered"]
        .as_u64()
        .unwrap()
}

/// The doctor on the seed's cluster (the Pi's prober and responder run as aarch64 under
/// qemu): multicast crosses nodes only on the host network, unicast of every size on both,
/// and one clock gives an offset of ~0 with its uncertainty.
#[test]
fn doctor_finds_multicast_blocked_on_the_pod_network_only() {
    let d = doctor("seed.yaml");
    for (from, to) in [("master", "pi"), ("pi", "master")] {
        assert_eq!(answered(&d, "pod", from, to, "multicast"), 0, "{from} → {to}");
        assert_eq!(answered(&d, "host", from, to, "multicast"), 10, "{from} → {to}");
        for net in ["pod", "host"] {
            for kind in ["unicast-64", "unicast-1472", "unicast-8972", "unicast-65000"] {
                assert_eq!(answered(&d, net, from, to, kind), 10, "{net} {from} → {to} {kind}");
            }
        }
    }
    let clock = &d["clocks"][0];
    assert_eq!(clock["node"], "pi");
    assert!(clock["offset_ns"].as_i64().unwrap().abs() < 5_000_000, "{clock}");
    assert!(clock["uncertainty_ns"].as_u64().unwrap() > 0, "{clock}");
}

/// A partition between the nodes stops unicast too, on both networks.
#[test]
fn doctor_under_a_partition_finds_unicast_blocked() {
    let d = doctor("fault-partition.yaml");
    for net in ["pod", "host"] {
        assert_eq!(answered(&d, net, "master", "pi", "unicast-64"), 0, "{net}");
        assert_eq!(answered(&d, net, "pi", "master", "unicast-1472"), 0, "{net}");
    }
}

/// `--preflight`: the doctor's probes are stored with the run and the diagnosis cites them.
#[test]
fn preflight_probes_are_kept_and_cited() {
    let r = run(&scenario("seed.yaml"), &["--trials", "1", "--preflight", "--arm64-bin-dir", &arm64_bin_dir()]);
    assert!(r.dir.join("doctor.json").is_file());
    let evidence = r.summary["findings"][0]["evidence"].to_string();
    assert!(
        evidence.contains(
            "doctor: multicast pi → master: 0/20 probes on the pod network, 20/20 probes on the host network"
        ),
        "{evidence}"
    );
}

/// A netns run started in the background, stopped when its first message is collected.
fn background_run(out: &Path, scenario_text: &str) -> (std::process::Child, String) {
    let path = out.join("long.yaml");
    std::fs::write(&path, scenario_text).unwrap();
    let child = crate::started_and_hearing(
        harness()
            .args(["run", "--backend", "netns", "--no-progress", "--out"])
            .arg(out.join("results"))
            .arg(&path)
            .stdout(std::process::Stdio::null()),
        1,
    );
    let dir = std::fs::read_dir(out.join("results")).unwrap().next().unwrap().unwrap().path();
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let note = meta["notes"][0].as_str().unwrap().to_owned();
    // `chh-<tag>-*`, and with --parallel also its siblings' `chh-<tag>s<k>-*`.
    let tag = note.split("namespaces ").nth(1).unwrap().split('*').next().unwrap().trim_end_matches('-').to_owned();
    (child, tag)
}

fn namespaces_of(tag: &str) -> Vec<String> {
    let list = String::from_utf8(Command::new("ip").args(["netns", "list"]).output().unwrap().stdout).unwrap();
    list.lines().filter_map(|l| l.split_whitespace().next()).filter(|n| n.starts_with(tag)).map(str::to_owned).collect()
}

/// A run killed with SIGKILL leaves its namespaces and node processes; `harness netns cleanup`
/// removes exactly those, stopping the processes, while a second run beside it keeps going and
/// then ends cleanly.
#[test]
fn cleanup_removes_a_killed_runs_leftovers_and_nothing_of_a_live_run() {
    let long = "name: long\nnodes: [{name: a}, {name: b}]\npods:\n  - name: p\n    nodeSelector: {kubernetes.io/hostname: a}\n    containers: [{name: t, role: talker, rateHz: 20}, {name: l, role: listener}]\ntrials: {count: 1, durationS: 60, warmupS: 0}\n";
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut killed, dead_tag) = background_run(one.path(), long);
    let dead_pids: Vec<String> = namespaces_of(&dead_tag)
        .iter()
        .flat_map(|ns| {
            let out = Command::new("ip").args(["netns", "pids", ns]).output().unwrap().stdout;
            String::from_utf8(out).unwrap().split_whitespace().map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    killed.kill().unwrap(); // SIGKILL: no cleanup of its own
    killed.wait().unwrap();
    assert!(!namespaces_of(&dead_tag).is_empty() && !dead_pids.is_empty(), "the killed run left namespaces and nodes");
    let (mut live, live_tag) = background_run(two.path(), long);

    let out = harness().args(["netns", "cleanup"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(namespaces_of(&dead_tag).is_empty(), "the killed run's namespaces are gone: {text}");
    for pid in &dead_pids {
        // Gone, or exited and waiting for init to reap it (a zombie): not running.
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let running = state.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z'));
        assert!(!running, "node process {pid} of the killed run still runs: {state}");
    }
    assert!(!namespaces_of(&live_tag).is_empty(), "the live run's namespaces were kept: {text}");
    assert!(text.contains("kept") && text.contains("still running"), "{text}");

    Command::new("kill").args(["-INT", &live.id().to_string()]).status().unwrap();
    assert_eq!(live.wait().unwrap().code(), Some(130), "the live run ends cleanly");
    assert!(namespaces_of(&live_tag).is_empty());
}

/// Without root: the default backend (`auto`) enters a user namespace of its own and runs the
/// seed on the simulated cluster — arm64 nodes as aarch64 under qemu — and finds the
/// cross-node failure with its cause. The harness and the aarch64 builds are copied where an
/// unprivileged user can run them; the run is that user's (`setpriv`, uid/gid 65534).
#[test]
fn without_root_the_default_backend_simulates_the_cluster() {
    let _ = harness(); // root, to become someone else
    let root = testkit::workspace_root();
    let arm = root.join("target/aarch64-unknown-linux-gnu/release");
    let dir = tempfile::tempdir().unwrap();
    let open = |p: &Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    open(dir.path(), 0o755);
    let bin = dir.path().join("harness");
    std::fs::copy(assert_cmd::cargo::cargo_bin("harness"), &bin).unwrap();
    let arm_dir = dir.path().join("arm64");
    std::fs::create_dir(&arm_dir).unwrap();
    for b in ["talker", "listener"] {
        std::fs::copy(arm.join(b), arm_dir.join(b)).unwrap();
    }
    open(&arm_dir, 0o755);
    std::fs::copy(scenario("seed.yaml"), dir.path().join("seed.yaml")).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    open(&out, 0o777);
    let status = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&bin)
        .args(["run", "seed.yaml", "--trials", "1", "--no-progress", "--out", "out", "--arm64-bin-dir", "arm64"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert_eq!(status.status.code(), Some(0), "{stderr}");
    let run_dir = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(meta["backend"], "netns", "not the local fallback: {stderr}");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["verdict"]["kind"], "no-delivery");
    finding(&summary, "no-discovery-across-nodes");
    assert!(!summary["notes"].to_string().contains("this machine's build"), "aarch64 under qemu: {}", summary["notes"]);
    // The files are the user's.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(run_dir.join("records.csv")).unwrap().uid(), 65534);
}

/// `--until-confident` on the seed: its one placement gives one outcome every time, so five
/// trials settle the verdict — the same `no-delivery` with the same cause, not twenty trials.
#[test]
fn until_confident_settles_the_seed_in_five_trials() {
    let r = run(&scenario("seed.yaml"), &["--until-confident", "--arm64-as-amd64"]);
    let trials = r.summary["trials"].as_array().unwrap().len();
    assert_eq!(trials, 5, "{}", r.summary["notes"]);
    assert_eq!(r.summary["verdict"]["kind"], "no-delivery");
    finding(&r.summary, "no-discovery-across-nodes");
    assert!(r.summary["notes"].to_string().contains("stopped after 5 of at most 50 trials"), "{}", r.summary["notes"]);
}

/// The tag of a netns run, from the first note of its run.json (`… namespaces chh-<tag>-* …`).
fn tag_of(dir: &Path) -> String {
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let note = meta["notes"][0].as_str().unwrap().to_owned();
    note.split("namespaces ").nth(1).unwrap().split('*').next().unwrap().trim_end_matches('-').to_owned()
}

/// The /dev/shm directories of run `tag` that exist now (`tag` as in `chh-<tag>`).
fn shm_dirs_of(tag: &str) -> Vec<PathBuf> {
    harness::backend::netns::list_shm_dirs(&format!("{tag}-"))
}

/// /dev/shm as Kubernetes gives it to pods, on one node: the containers of one pod share theirs;
/// two hostNetwork pods share the node's network but not its /dev/shm; two hostIPC pods (one on
/// the host network, one on the pod network) share the node's. In every pod a talker-role
/// container writes a file named after its pod into /dev/shm, and a listener-role container
/// started a second later lists /dev/shm into a file outside it: each listing must be exactly
/// the files of the pods that share it (nothing of this machine's own /dev/shm either). The
/// writers trap SIGTERM, so the harness's stop must reach the program itself through the
/// wrapper; nothing of the run is left behind.
#[test]
fn pods_have_their_own_dev_shm_and_host_ipc_pods_the_nodes() {
    let out = tempfile::tempdir().unwrap();
    let seen = out.path().join("seen");
    std::fs::create_dir(&seen).unwrap();
    let pods = [
        ("one", false, false),
        ("hn1", true, false),
        ("hn2", true, false),
        ("ipc1", true, true),
        ("ipc2", false, true),
    ];
    let mut yaml = String::from("name: shm\nnodes: [{name: a}]\npods:\n");
    for (name, host_network, host_ipc) in pods {
        yaml.push_str(&format!(
            "  - name: {name}\n    hostNetwork: {host_network}\n    hostIPC: {host_ipc}\n    containers:\n\
             \x20     - name: w\n        role: talker\n        env: {{SEEN: {seen}}}\n        command: [sh, -c]\n\
             \x20       args: [\"trap 'echo TERM > $SEEN/$POD_NAME.term; kill $!; exit 0' TERM; touch /dev/shm/$POD_NAME; sleep 30 & wait\"]\n\
             \x20     - name: r\n        role: listener\n        startDelayS: 1\n        env: {{SEEN: {seen}}}\n\
             \x20       command: [sh, -c, \"ls /dev/shm > $SEEN/$POD_NAME.ls; exec sleep 30\"]\n",
            seen = seen.display()
        ));
    }
    yaml.push_str("trials: {count: 1, warmupS: 1, durationS: 1, drainS: 0}\n");
    let path = out.path().join("shm.yaml");
    std::fs::write(&path, yaml).unwrap();
    let r = run(&path, &[]);
    let listing = |pod: &str| {
        let text = std::fs::read_to_string(seen.join(format!("{pod}.ls"))).unwrap_or_else(|e| panic!("{pod}: {e}"));
        text.split_whitespace().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(listing("one"), ["one"], "the containers of one pod share its /dev/shm, and only they do");
    assert_eq!(listing("hn1"), ["hn1"], "hostNetwork pods on one node do not share /dev/shm");
    assert_eq!(listing("hn2"), ["hn2"]);
    assert_eq!(listing("ipc1"), ["ipc1", "ipc2"], "hostIPC pods share the node's");
    assert_eq!(listing("ipc2"), ["ipc1", "ipc2"], "on the pod network too");
    for (pod, _, _) in pods {
        let term = std::fs::read_to_string(seen.join(format!("{pod}.term"))).unwrap_or_default();
        assert_eq!(term.trim(), "TERM", "{pod}'s program got the harness's SIGTERM itself");
    }
    let notes = r.summary["notes"].to_string();
    assert!(notes.contains("each pod has a /dev/shm of its own"), "{notes}");
    let tag = tag_of(&r.dir);
    assert_eq!(shm_dirs_of(&tag), Vec::<PathBuf>::new(), "the run's /dev/shm directories are gone");
}

/// A run's /dev/shm directories exist while it runs (named like its namespaces) and go with
/// them: at the end of a run stopped by SIGTERM, and — for a run killed with SIGKILL, which
/// removes nothing itself — by `harness netns cleanup`.
#[test]
fn shm_directories_go_at_sigterm_and_with_a_killed_runs_leftovers() {
    let long = "name: long\nnodes: [{name: a}]\npods:\n  - name: p\n    containers: [{name: t, role: talker, rateHz: 20}, {name: l, role: listener}]\n  - name: q\n    hostIPC: true\n    containers: [{name: l, role: listener}]\ntrials: {count: 1, durationS: 60, warmupS: 0}\n";
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut termed, term_tag) = background_run(one.path(), long);
    let (mut killed, dead_tag) = background_run(two.path(), long);
    for tag in [&term_tag, &dead_tag] {
        let names: Vec<String> =
            shm_dirs_of(tag).iter().map(|d| d.file_name().unwrap().to_string_lossy().into_owned()).collect();
        // Node a's (hostIPC pod q's) and pod p's.
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.contains(&format!("{tag}-n0")) && names.contains(&format!("{tag}-p0")), "{names:?}");
    }
    Command::new("kill").args(["-TERM", &termed.id().to_string()]).status().unwrap();
    assert_eq!(termed.wait().unwrap().code(), Some(143), "stopped by SIGTERM");
    assert!(namespaces_of(&term_tag).is_empty());
    assert_eq!(shm_dirs_of(&term_tag), Vec::<PathBuf>::new(), "SIGTERM: the run removed its directories");

    killed.kill().unwrap(); // SIGKILL: no cleanup of its own
    killed.wait().unwrap();
    assert_eq!(shm_dirs_of(&dead_tag).len(), 2, "the killed run left its directories");
    let out = harness().args(["netns", "cleanup"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(namespaces_of(&dead_tag).is_empty());
    assert_eq!(shm_dirs_of(&dead_tag), Vec::<PathBuf>::new(), "cleanup removed the killed run's directories");
}
