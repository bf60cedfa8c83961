use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::prelude::*;
use serde_json::Value;

fn harness() -> Command {
    Command::cargo_bin("harness").unwrap()
}

fn scenario(name: &str) -> PathBuf {
    testkit::workspace_root().join("scenarios").join(name)
}

/// The single run directory created under `out`.
fn run_dir(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// `--until-confident` on a scenario whose one placement always gives one outcome: five
/// trials settle it (not the 50 allowed), and the report says why it stopped.
#[test]
fn until_confident_stops_when_the_verdict_is_settled() {
    let out = tempfile::tempdir().unwrap();
    harness()
        .args(["run", scenario("same-node.yaml").to_str().unwrap(), "--backend", "local", "--until-confident"])
        .args(["--no-progress", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let s = summary(&run_dir(out.path()));
    assert_eq!(s["trials"].as_array().unwrap().len(), 5, "{}", s["notes"]);
    assert_eq!(s["verdict"]["kind"], "consistent");
    let notes = s["notes"].to_string();
    assert!(
        notes.contains("stopped after 5 of at most 50 trials: the verdict can no longer change at 95 %"),
        "{notes}"
    );
}

/// A rescheduled scenario run until confident draws a placement per trial; `run.json` records
/// the placements of the trials that ran, not of the `max` it was allowed.
#[test]
fn until_confident_records_only_the_placements_that_ran() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roaming.yaml");
    std::fs::write(
        &path,
        "name: roaming\nnodes: [{name: a}, {name: b}]\npods:\n  - name: p\n    containers: [{name: t, role: talker, rateHz: 20}, {name: l, role: listener}]\ntrials: {until: confident, max: 50, durationS: 0.5, warmupS: 0.5, drainS: 0.1, reschedule: true, seed: 3}\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    harness()
        .args(["run", "--backend", "local", "--no-progress", "--out"])
        .arg(out.path())
        .arg(&path)
        .assert()
        .success();
    let run = run_dir(out.path());
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    let ran: Vec<u64> = meta["trials"].as_array().unwrap().iter().map(|t| t["trial"].as_u64().unwrap()).collect();
    let mut placed: Vec<u64> = meta["placements"].as_object().unwrap().keys().map(|k| k.parse().unwrap()).collect();
    placed.sort_unstable();
    assert!(ran.len() < 50, "it settled: {}", meta["stopped"]);
    assert_eq!(placed, ran, "placements of the trials that ran");
}

#[test]
fn same_node_three_trials_deliver_everything() {
    let out = tempfile::tempdir().unwrap();
    let assert = harness()
        .args(["run", scenario("same-node.yaml").to_str().unwrap(), "--trials", "3", "--no-progress", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("verdict: consistent"), "{stdout}");

    let dir = run_dir(out.path());
    for f in ["run.json", "records.csv", "pairs.csv", "trials.csv", "summary.json", "report.md"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let s = summary(&dir);
    assert_eq!(s["trials"].as_array().unwrap().len(), 3);
    assert_eq!(s["verdict"]["kind"], "consistent");
    let pair = &s["pairs"][0];
    assert_eq!(pair["relation"], "same-node");
    assert_eq!(pair["lost"], 0, "{pair}");
    assert!(pair["expected"].as_u64().unwrap() >= 3 * 90, "50 Hz × 2 s × 3 trials: {pair}");
    assert_eq!(pair["received"], pair["expected"]);
    assert_eq!(pair["duplicates"], 0);
    assert!(pair["latency_p99_us"].as_u64().unwrap() > 0);
    assert!(s["expectations"][0]["passed"].as_bool().unwrap());

    // `harness report` rebuilds the same analysis from records.csv alone.
    let before = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    for f in ["pairs.csv", "trials.csv", "summary.json", "report.md"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    harness().arg("report").arg(&dir).assert().success();
    assert_eq!(std::fs::read_to_string(dir.join("summary.json")).unwrap(), before);
}

#[test]
fn listener_on_another_domain_is_no_delivery_with_evidence() {
    let out = tempfile::tempdir().unwrap();
    let assert = harness()
        .args(["run", scenario("domain-mismatch.yaml").to_str().unwrap(), "--no-progress", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("verdict: no-delivery"), "{stdout}");
    let s = summary(&run_dir(out.path()));
    assert_eq!(s["verdict"]["kind"], "no-delivery");
    let evidence = s["verdict"]["evidence"].to_string();
    assert!(evidence.contains("0 of"), "{evidence}");
    assert!(evidence.contains("different DDS domains"), "{evidence}");
    assert_eq!(s["findings"][0]["rule"], "domain-mismatch");
    let found = s["findings"][0]["evidence"].to_string();
    assert!(found.contains("domain 0") && found.contains("domain 7"), "{found}");
}

/// A scenario whose talker is a program that says `error: package not found` on stderr and
/// exits with status 1 at once (as `ros2 run` does for a package the image lacks), read as a
/// stock demo node, beside one of our listeners.
pub(crate) const BROKEN_TALKER: &str = "name: broken-talker
nodes: [{name: a}, {name: b}]
pods:
  - name: stock
    nodeSelector: {kubernetes.io/hostname: a}
    containers:
      - name: talker
        role: talker
        command: [sh, -c, \"echo starting; echo 'error: package not found' >&2; exit 1\"]
        output: demo-nodes
  - name: ours
    nodeSelector: {kubernetes.io/hostname: b}
    containers: [{name: listener, role: listener}]
trials: {count: 1, durationS: 1, warmupS: 0.5, drainS: 0.2}
";

/// The container-failed finding of a run of [`BROKEN_TALKER`]: it names the exit status, when
/// (seconds into the trial, soon) and the stderr line; nothing claims the talker ran.
pub(crate) fn assert_the_exit_is_named(s: &Value) {
    let findings = s["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["container-failed"], "{findings:?}");
    let f = &findings[0];
    let cause = f["cause"].as_str().unwrap();
    let (before, after) = cause.split_once(" at ").unwrap_or_else(|| panic!("no time: {cause}"));
    assert_eq!(before, "`stock.talker` on node a exited with status 1", "{cause}");
    let at: f64 = after.split(' ').next().unwrap().parse().unwrap();
    assert!((0.0..2.0).contains(&at), "exited at once, at {at} s: {cause}");
    assert!(after.ends_with(" s: error: package not found"), "{cause}");
    assert_eq!(f["pairs"][0], "stock.talker → ours.listener", "{f}");
    let text = s.to_string();
    assert!(!text.contains("it started but did not publish") && !text.contains("Some("), "{text}");
}

/// On this machine (local backend) a talker that exits at once is named with its status, time
/// and last words, never "published nothing"; its console line before the exit is kept.
#[test]
fn a_talker_that_exits_at_once_is_named_with_its_status_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken-talker.yaml");
    std::fs::write(&path, BROKEN_TALKER).unwrap();
    let out = tempfile::tempdir().unwrap();
    let assert =
        harness().args(["run", "--backend", "local", "--no-progress", "--out"]).arg(out.path()).arg(&path).assert();
    let code = assert.get_output().status.code();
    assert!(matches!(code, Some(0 | 1)), "harness exit {code:?}");
    let run = run_dir(out.path());
    assert_the_exit_is_named(&summary(&run));
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    let exit = &meta["container_exits"]["1"][0];
    assert_eq!((exit["exit_code"].as_i64(), exit["stderr"][0].as_str()), (Some(1), Some("error: package not found")));
    let log = std::fs::read_to_string(run.join("logs/stock.talker.log")).unwrap();
    assert!(log.contains("starting") && log.contains("error: package not found"), "every line kept: {log}");
    // Its own programs keep the scenario's timing, and the report says so.
    assert!(meta["notes"].to_string().contains(
        "programs other than the harness's own nodes (stock nodes, standIn, command) keep the scenario's timing"
    ));
}

#[test]
fn failed_expectation_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strict.yaml");
    let text = std::fs::read_to_string(scenario("domain-mismatch.yaml")).unwrap();
    std::fs::write(&path, format!("{text}expect: {{minDelivery: 0.5}}\n")).unwrap();
    harness()
        .args(["run", "--no-progress", "--trials", "1", "--out"])
        .arg(dir.path().join("out"))
        .arg(&path)
        .assert()
        .code(1);
}

#[test]
fn malformed_scenario_exits_2_with_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "name: bad\npods:\n  - name: a\n    hostNetwork: yes-please\n    containers: []\n").unwrap();
    let out = harness().arg("run").arg(&path).arg("--out").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains(&format!("{}:4:18", path.display())), "{stderr}");
    assert!(stderr.contains("pods[0].hostNetwork"), "{stderr}");
    // Nothing was started, so nothing was written.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn unplaceable_pod_exits_2_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(
        &path,
        "name: s\nnodes: [{name: master, labels: {kubernetes.io/arch: amd64}}]\npods:\n  - name: p\n    nodeSelector: {kubernetes.io/arch: arm64}\n    containers: [{name: t, role: talker}, {name: l, role: listener}]\n",
    )
    .unwrap();
    let out = harness().arg("run").arg(&path).arg("--out").arg(dir.path().join("out")).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("pod `p` fits no node") && stderr.contains("master has kubernetes.io/arch=amd64"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn validate_shows_placement() {
    let out = harness().args(["validate", scenario("seed.yaml").to_str().unwrap()]).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("demo-talkerlistener → node pi"), "{stdout}");
    assert!(stdout.contains("demo-listener → node master"), "{stdout}");
}

#[test]
fn ctrl_c_keeps_records_and_marks_the_trial_interrupted() {
    interrupted_by("INT", 130, 1);
}

/// A cancelled CI job: SIGTERM is a clean stop too, with its own exit code; with trials
/// running at once, each of them is stopped cleanly and marked.
#[test]
fn sigterm_keeps_records_and_exits_143() {
    interrupted_by("TERM", 143, 2);
}

fn interrupted_by(signal: &str, code: i32, parallel: usize) {
    let out = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.yaml");
    std::fs::write(
        &path,
        "name: long\npods:\n  - name: p\n    containers: [{name: t, role: talker, rateHz: 50}, {name: l, role: listener}]\ntrials: {count: 3, durationS: 60, warmupS: 0}\n",
    )
    .unwrap();
    let mut child = crate::started_and_hearing(
        harness()
            .args(["run", "--no-progress", "--parallel", &parallel.to_string(), "--out"])
            .arg(out.path())
            .arg(&path)
            .stdout(Stdio::null()),
        parallel,
    );
    Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(code));

    let run = run_dir(out.path());
    let trials = std::fs::read_to_string(run.join("trials.csv")).unwrap();
    let rows: Vec<&str> = trials.lines().skip(1).collect();
    assert_eq!(rows.len(), parallel, "the interrupted trial(s) only, none started after: {trials}");
    for (i, row) in rows.iter().enumerate() {
        assert!(row.starts_with(&format!("{},", i + 1)) && row.contains(",true,"), "{trials}");
    }
    let records = std::fs::read_to_string(run.join("records.csv")).unwrap();
    assert!(records.lines().any(|l| l.contains(",recv,")), "records kept");
    // Both nodes of every trial were stopped cleanly (SIGTERM → stop record), not killed.
    for trial in 1..=parallel {
        let stops = records.lines().filter(|l| l.starts_with(&format!("{trial},")) && l.contains(",stop,")).count();
        assert_eq!(stops, 2, "trial {trial}: {records}");
    }
}

/// A copy of the committed local example run, to re-analyse without touching it.
fn example_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = testkit::workspace_root().join("results/example");
    for f in ["run.json", "records.csv"] {
        std::fs::copy(src.join(f), tmp.path().join(f)).unwrap();
    }
    tmp
}

#[test]
fn report_into_a_closed_pipe_succeeds() {
    let dir = example_copy();
    let mut child =
        harness().arg("report").arg(dir.path()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // The reader goes away before the summary is printed (`harness report DIR | head -0`).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("report.html").is_file(), "the reports were still written");
}

#[test]
fn report_on_a_missing_directory_is_not_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = harness().arg("report").arg(dir.path().join("nope")).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run.json"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A run directory written before endpoint GUIDs and per-pair windows (records.csv without the
/// `guid`/`remote` columns, run.json with the harness-stamped window) still re-analyses, and
/// says per-pair discovery is unknown rather than guessing.
#[test]
fn report_reads_a_run_directory_from_before_per_pair_discovery() {
    let tmp = tempfile::tempdir().unwrap();
    let src = testkit::workspace_root().join("harness/tests/fixtures/run-v1");
    for f in ["run.json", "records.csv"] {
        std::fs::copy(src.join(f), tmp.path().join(f)).unwrap();
    }
    let out = harness().arg("report").arg(tmp.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = summary(tmp.path());
    assert_eq!(s["schema"], 2);
    assert_eq!(s["verdict"]["kind"], "consistent", "{}", s["verdict"]);
    for p in s["trials"].as_array().unwrap().iter().flat_map(|t| t["pairs"].as_array().unwrap()) {
        assert_eq!(p["listener_matched"], Value::Null, "unknown, not guessed: {p}");
        assert!(p["expected"].as_u64().unwrap() > 20, "{p}");
    }
}

fn lint_fixture() -> PathBuf {
    testkit::workspace_root().join("harness/tests/fixtures/lint/seed-original")
}

/// The seed's original pods: the `&&` that kept the in-pod listener from ever starting is
/// found on its line, with a fix, and so is the seed's cross-node failure (multicast discovery
/// on the pod network); nothing claims the ROS 2 logger's output is buffered.
#[test]
fn lint_flags_the_seeds_original_manifests() {
    let out = harness().arg("lint").arg(lint_fixture()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("seed-original/demo-talkerlistener.yaml:12: error [shell-operator-without-shell]"), "{text}");
    assert!(text.contains("`&&`") && text.contains("fix: one process per container"), "{text}");
    assert_eq!(text.matches("warning [multicast-discovery-across-nodes]").count(), 3, "{text}");
    assert!(!text.contains("buffer"), "{text}");
    let json = harness().args(["lint", "--format", "json"]).arg(lint_fixture()).output().unwrap();
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "shell-operator-without-shell" && f["line"] == 12 && f["severity"] == "error"));
    // Errors only: the one that will not work as written.
    let errors = harness().args(["lint", "--min-severity", "error"]).arg(lint_fixture()).output().unwrap();
    let text = String::from_utf8(errors.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
}

/// What the project ships is clean, and on what `harness render` produces lint says what the
/// simulated cluster measured of each scenario, no more: the pod-network seeds on stock ROS 2
/// fail across nodes by multicast, the hostNetwork Fast DDS seed by shared memory between pods
/// of one node (containers of one pod are never flagged), the domain-mismatch scenario by its
/// domains; everything else has no warning.
#[test]
fn lint_is_clean_on_the_projects_manifests_and_rendered_objects() {
    let root = testkit::workspace_root();
    let out = harness().arg("lint").arg(root.join("manifests")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root.join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        let status = harness().arg("render").arg(&path).arg("--out").arg(dir.path()).output().unwrap().status;
        assert!(status.success(), "render {}", path.display());
    }
    let expected = |name: &str| -> &[&str] {
        match name {
            "domain-mismatch.yaml" => &["ros-domain-mismatch"],
            "seed-fastdds.yaml" | "stock-demo.yaml" => &["multicast-discovery-across-nodes"],
            "seed-hostnetwork-fastdds.yaml" => &["fastdds-host-network-shm"],
            _ => &[],
        }
    };
    let mut seen = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let out = harness().args(["lint", "--format", "json"]).arg(&path).output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut rules: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] != "note")
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        rules.dedup();
        assert_eq!(rules, expected(&name), "{name}: {v:#}");
        assert_eq!(out.status.code(), Some(if rules.is_empty() { 0 } else { 1 }), "{name}");
        seen += usize::from(!rules.is_empty());
    }
    assert_eq!(seen, 4);
}

#[test]
fn lint_of_unreadable_yaml_exits_2_with_the_place() {
    let out = assert_cmd::Command::from_std(harness())
        .args(["lint", "-"])
        .write_stdin("kind: Pod\nspec: [1, 2\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("-:") && err.contains("not YAML"), "{err}");
}

/// A run directory whose records.csv was cut mid-line (a SIGKILL while writing) still
/// re-analyses up to its last complete record, and the report says a line was left out.
#[test]
fn report_reads_records_cut_mid_line() {
    let dir = example_copy();
    let path = dir.path().join("records.csv");
    let whole = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &whole[..whole.len() - 20]).unwrap();
    let out = harness().arg("report").arg(dir.path()).output().unwrap();
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap()).unwrap();
    assert!(summary["notes"].to_string().contains("partial line"), "{}", summary["notes"]);
}

/// `harness matrix --manifests` reads the deployment before any variant runs: a path that is not
/// there is a usage error naming it, and no matrix directory is made.
#[test]
fn matrix_reads_its_manifests_before_anything_runs() {
    let out = tempfile::tempdir().unwrap();
    let missing = out.path().join("no-such-manifests");
    let output = harness()
        .args(["matrix", "--no-progress", "--out"])
        .arg(out.path())
        .arg(scenario("seed.yaml"))
        .arg("--manifests")
        .arg(&missing)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no-such-manifests"), "{stderr}");
    let made: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert!(made.is_empty(), "nothing ran: {made:?}");
}
