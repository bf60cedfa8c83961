//! `harness sweep` on the simulated cluster: a real two-size sweep of our RustDDS nodes, whose
//! files hold each size's own run and whose rows agree with those runs' records.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::netns::harness;

/// A talker with a listener beside it (same pod) and one on another node (cross node), on
/// the host network (which crosses nodes), reliable.
const SCENARIO: &str = "name: sweep-tiny
nodes:
  - {name: a, labels: {kubernetes.io/arch: amd64}}
  - {name: b, labels: {kubernetes.io/arch: amd64}}
pods:
  - name: cam
    nodeSelector: {kubernetes.io/hostname: a}
    hostNetwork: true
    containers:
      - {name: talker, role: talker, rateHz: 20}
      - {name: listener, role: listener}
  - name: base
    nodeSelector: {kubernetes.io/hostname: b}
    hostNetwork: true
    containers: [{name: listener, role: listener}]
trials: {count: 3, durationS: 1.5, warmupS: 1, drainS: 0.5}
dds: {reliability: reliable}
";

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| headers.iter().zip(rec.unwrap().iter()).map(|(h, v)| (h.into(), v.into())).collect())
        .collect()
}

/// (received, expected) per relation over a size's pairs.csv (one trial, all complete).
fn from_pairs(dir: &Path) -> BTreeMap<String, (u64, u64)> {
    let mut by: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in csv_rows(&dir.join("pairs.csv")) {
        let e = by.entry(row["relation"].replace('-', " ")).or_default();
        e.0 += row["received"].parse::<u64>().unwrap();
        e.1 += row["expected"].parse::<u64>().unwrap();
    }
    by
}

#[test]
fn sweep_runs_each_size_and_its_rows_come_from_those_runs() {
    let work = tempfile::tempdir().unwrap();
    let scenario = work.path().join("sweep-tiny.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = work.path().join("results");
    let output = harness()
        .args(["sweep", "--backend", "netns", "--no-progress", "--trials", "1", "--parallel", "1"])
        .args(["--sizes", "64KiB,1KiB", "--out"])
        .arg(&out)
        .arg(&scenario)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "exit {}: {}\n{stdout}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
    for f in ["sweep.md", "report.html", "sweep.json", "sweep.csv", "1KiB/report.html", "64KiB/summary.json"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    // The sweep's own page, like every results directory's, is report.html: its plots, and a
    // link to each size's report.
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for id in ["plot-sweep-delivery", "plot-sweep-latency", "plot-sweep-goodput"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id} missing from the sweep's report.html");
    }
    for name in ["1KiB", "64KiB"] {
        assert!(page.contains(&format!("href=\"{name}/report.html\"")), "no link to {name}/report.html");
    }
    assert!(!dir.join("sweep.html").exists(), "one page per sweep: report.html");
    let sweep: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
    let sizes: Vec<u64> = sweep["sizes"].as_array().unwrap().iter().map(|s| s["bytes"].as_u64().unwrap()).collect();
    assert_eq!(sizes, [1024, 65_536], "smallest first");
    assert_eq!(sweep["threshold"]["from_expect"], false);
    assert!(stdout.contains("The threshold, 95.0 % delivered, is the default"), "{stdout}");
    let rows = csv_rows(&dir.join("sweep.csv"));
    for (bytes, name) in [(1024u64, "1KiB"), (65_536, "64KiB")] {
        let run = dir.join(name);
        // The run sent messages of this size: every receipt in its records says so.
        let recv: Vec<_> = csv_rows(&run.join("records.csv")).into_iter().filter(|r| r["kind"] == "recv").collect();
        assert!(!recv.is_empty(), "{name}: nothing received");
        assert!(recv.iter().all(|r| r["bytes"] == bytes.to_string()), "{name}: a receipt of another size");
        // Each of the sweep's rows for this size is that run's pairs, by relation.
        let mine: Vec<_> = rows.iter().filter(|r| r["size_bytes"] == bytes.to_string()).collect();
        let got: BTreeMap<String, (u64, u64)> = mine
            .iter()
            .map(|r| (r["relation"].clone(), (r["received"].parse().unwrap(), r["expected"].parse().unwrap())))
            .collect();
        assert_eq!(got, from_pairs(&run), "{name}");
        assert_eq!(got.keys().collect::<Vec<_>>(), ["cross node", "same pod"], "{name}");
        assert!(mine.iter().all(|r| r["status"] == "ran" && r["dir_or_error"] == name));
        // Goodput is the run's bytes over its windows: positive wherever something arrived.
        for r in &mine {
            let g: f64 = r["goodput_bytes_per_s"].parse().unwrap();
            assert_eq!(g > 0.0, r["received"] != "0", "{r:?}");
        }
        assert!(stdout.contains(&format!("{} KiB  same pod", bytes / 1024)), "{stdout}");
    }
    // `harness report` on the sweep directory re-analyses every size's run and derives the
    // same sweep, rewriting its files (the page included).
    std::fs::remove_file(dir.join("report.html")).unwrap();
    let again = harness().arg("report").arg(&dir).output().unwrap();
    assert!(matches!(again.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&again.stderr));
    let rewritten: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(rewritten, sweep, "the sweep re-derived from its runs' records");
    assert_eq!(std::fs::read_to_string(dir.join("report.html")).unwrap(), page);
    // Every size's netns namespaces are gone.
    let left =
        String::from_utf8(std::process::Command::new("ip").args(["netns", "list"]).output().unwrap().stdout).unwrap();
    for name in ["1KiB", "64KiB"] {
        let meta: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(name).join("run.json")).unwrap()).unwrap();
        let note = meta["notes"][0].as_str().unwrap();
        let tag = note.split("namespaces ").nth(1).unwrap().split('*').next().unwrap().trim_end_matches('-');
        assert!(!left.contains(tag), "namespaces {tag}* left behind:\n{left}");
    }
}

#[test]
fn bad_sizes_are_usage_errors_that_name_the_size() {
    use assert_cmd::prelude::*;
    let seed = crate::netns::scenario("seed.yaml");
    for (sizes, says) in [
        ("1KiB,1MB", "`1MB`: unit `MB` is not known"),
        ("64KiB,65536", "`65536` is given twice"),
        ("0", "`0`: a message has at least 1 byte"),
        ("32MiB", "--sizes 32 MiB: "),
    ] {
        let out = std::process::Command::cargo_bin("harness")
            .unwrap()
            .args(["sweep", "--backend", "local", "--sizes", sizes])
            .arg(&seed)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{sizes}: {stderr}");
        assert!(stderr.contains(says), "{sizes}: {stderr}");
    }
}
