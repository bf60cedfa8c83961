//! Soak: 100 short trials back to back on the netns backend, in this process, in 10 runs of 10.
//! After every run: this process's open file descriptors, RSS and child processes, the
//! harness's namespaces and the root namespace's nftables tables; at the end, none of them may
//! have grown beyond a bound. Every trial: the harness kept every record the nodes said they
//! wrote (each talker's `sent` records = its stop record's count, each listener's `recv`
//! records = its stop record's total), and on this lossless same-node link nothing was lost.
//! Ignored by default (about two minutes, root): `bash scripts/soak.sh`.

use std::collections::BTreeMap;
use std::path::Path;

use harness::backend::netns::{list_namespaces, Arm64, NetnsBackend};
use harness::backend::NodeCommand;
use harness::runner::{self, RunOptions};

const RUNS: usize = 10;
const TRIALS: u32 = 10;

const SCENARIO: &str = "\
name: soak
nodes: [{name: master}, {name: pi}]
pods:
  - name: a
    nodeSelector: {kubernetes.io/hostname: pi}
    containers: [{name: talker, role: talker}, {name: listener, role: listener}]
  - name: b
    nodeSelector: {kubernetes.io/hostname: pi}
    containers: [{name: listener, role: listener}]
trials: {count: 10, durationS: 0.5, warmupS: 0.3, drainS: 0.2, rateHz: 50}
";

#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    fds: usize,
    rss_kib: u64,
    children: usize,
    namespaces: usize,
    nft_tables: usize,
}

fn sample() -> Sample {
    let me = std::process::id().to_string();
    let children = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter(|st| st.rsplit_once(") ").and_then(|(_, rest)| rest.split_whitespace().nth(1)) == Some(me.as_str()))
        .count();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    let nft = std::process::Command::new("nft").args(["list", "tables"]).output().unwrap();
    Sample {
        fds: std::fs::read_dir("/proc/self/fd").unwrap().count(),
        rss_kib,
        children,
        namespaces: list_namespaces("chh-").len(),
        nft_tables: String::from_utf8_lossy(&nft.stdout).lines().count(),
    }
}

/// Per node id: (records of `kind` in records.csv, the count its stop record gave).
fn kept_vs_said(dir: &Path, trial: u32) -> BTreeMap<String, (u64, u64)> {
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in harness::results::read_records(dir).unwrap() {
        let row = row.unwrap();
        if row.trial != Some(trial) {
            continue;
        }
        let r = row.into_record();
        let e = out.entry(r.node.clone()).or_default();
        match r.kind {
            chatter::RecordKind::Sent | chatter::RecordKind::Recv => e.0 += 1,
            chatter::RecordKind::Stop => e.1 = r.count.unwrap_or(0),
            _ => {}
        }
    }
    out
}

#[test]
#[ignore = "soak: about two minutes as root; run by scripts/soak.sh"]
fn hundred_trials_leak_nothing_and_lose_no_record() {
    assert!(chatter_sandbox::is_root(), "the netns backend needs root");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let scenario = harness::spec::parse(SCENARIO, Path::new("soak.yaml")).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("harness");
    let out = tempfile::tempdir().unwrap();
    let mut samples = vec![sample()];
    let started = std::time::Instant::now();
    for run in 0..RUNS {
        let opts = RunOptions {
            results_root: out.path().to_owned(),
            trials: Some(TRIALS),
            progress: false,
            run_id: Some(format!("soak-{run}")),
            preflight: None,
            parallel: 1,
            ros: None,
        };
        let (_tx, stop) = tokio::sync::watch::channel(false);
        let mut backend = NetnsBackend::new(NodeCommand::SelfExe(exe.clone()), Arm64::Native);
        let o = rt.block_on(runner::run(&scenario, &mut backend, &opts, stop)).unwrap();
        drop(backend);
        assert!(!o.interrupted);
        for t in &o.report.trials {
            for p in &t.pairs {
                assert_eq!((p.lost, p.duplicates), (0, 0), "run {run} trial {}: {p:?}", t.meta.trial);
                assert!(p.expected > 0, "run {run} trial {}: {p:?}", t.meta.trial);
            }
            for (node, (kept, said)) in kept_vs_said(&o.dir, t.meta.trial) {
                assert_eq!(kept, said, "run {run} trial {}: {node} said {said}, records.csv kept {kept}", t.meta.trial);
            }
        }
        samples.push(sample());
    }
    let (first, last) = (samples[1], samples[RUNS]);
    let peak_rss = samples.iter().map(|s| s.rss_kib).max().unwrap();
    println!("soak: {} trials in {:.0} s", RUNS as u32 * TRIALS, started.elapsed().as_secs_f64());
    println!("| after run | fds | RSS KiB | children | chh- namespaces | nft tables |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for (i, s) in samples.iter().enumerate() {
        println!("| {i} | {} | {} | {} | {} | {} |", s.fds, s.rss_kib, s.children, s.namespaces, s.nft_tables);
    }
    // The first run warms up allocators and the runtime: growth is measured after it.
    assert!(last.fds <= first.fds + 2, "file descriptors grew: {samples:?}");
    assert!(last.rss_kib <= first.rss_kib + 16 * 1024, "RSS grew by more than 16 MiB: {samples:?}");
    assert!(peak_rss < 256 * 1024, "peak RSS {peak_rss} KiB");
    for s in &samples[1..] {
        assert_eq!((s.children, s.namespaces), (0, 0), "left behind after a run: {samples:?}");
        assert_eq!(s.nft_tables, samples[0].nft_tables, "nft tables in the root namespace: {samples:?}");
    }
}
