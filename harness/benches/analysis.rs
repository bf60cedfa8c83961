//! Analysis throughput and memory: generates JSONL record files (1M and 10M records by default)
//! of a 2-talker × 5-listener trial, then, in a fresh child process per file, streams each
//! through `parse_line` + `TrialAnalyzer` on one thread and reports records/s and peak RSS.
//! Peak RSS that does not grow with the record count shows the analysis is O(pairs).
//!
//!     cargo bench -p harness --bench analysis               # 1M and 10M records
//!     CHATTER_BENCH_RECORDS=2000000 cargo bench -p harness --bench analysis
#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use chatter::{JsonLines, Record, Role};
use harness::analysis::trial::AnalysisSettings;
use harness::analysis::{Member, Roster, TrialAnalyzer, TrialMeta};

const TALKERS: usize = 2;
const LISTENERS: usize = 5;

fn roster() -> Roster {
    let m = |id: String| Member { pod: id.clone(), id, node: "n".into(), demo: false, message_type: None };
    Roster {
        talkers: (0..TALKERS).map(|i| m(format!("talker-{i}.talker"))).collect(),
        listeners: (0..LISTENERS).map(|i| m(format!("listener-{i}.listener"))).collect(),
    }
}

/// Writes about `n` records: per message, one `sent` and one `recv` per listener (1 % lost).
fn generate(path: &Path, n: u64) {
    let roster = roster();
    let mut out = JsonLines::new(BufWriter::with_capacity(1 << 20, File::create(path).unwrap()));
    for m in &roster.talkers {
        out.write(&testkit::start_record(0, &m.id, Role::Talker, "h", None)).unwrap();
    }
    for m in &roster.listeners {
        out.write(&testkit::start_record(0, &m.id, Role::Listener, "h", None)).unwrap();
    }
    let mut written = 0u64;
    let mut seq = 0u64;
    let mut buf = String::new();
    while written < n {
        seq += 1;
        for t in &roster.talkers {
            let sent = 1_000_000_000 + seq * 1_000_000;
            out.write(&Record::sent(sent, &t.id, seq)).unwrap();
            chatter::payload::encode_into(&mut buf, seq, &t.id, sent, 0);
            for l in &roster.listeners {
                if !(seq + l.id.len() as u64).is_multiple_of(100) {
                    out.write(&Record::recv(sent + 250_000 + seq % 1000, &l.id, &buf)).unwrap();
                    written += 1;
                }
            }
            written += 1;
        }
    }
    out.into_inner().flush().unwrap();
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Child: analyse one file, print `records seconds peak_kib`.
fn analyse(path: &Path) {
    let roster = roster();
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).unwrap());
    let start = Instant::now();
    let mut acc = TrialAnalyzer::new(&roster, AnalysisSettings { warmup_ns: 0, shared_clock: true });
    let mut line = String::new();
    let mut records = 0u64;
    while reader.read_line(&mut line).unwrap() > 0 {
        match chatter::record::parse_line_ref(line.trim_end()) {
            Ok(r) => acc.push(&r),
            Err(_) => acc.stray(),
        }
        records += 1;
        line.clear();
    }
    let meta = TrialMeta { trial: 1, start_ns: 0, end_ns: 1, interrupted: false, opened_ns: None };
    let (report, _) = acc.finish(meta);
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(report.pairs.len(), TALKERS * LISTENERS);
    assert!(report.pairs.iter().all(|p| p.received > 0 && p.lost > 0));
    println!("{records} {secs} {}", peak_rss_kib());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        analyse(Path::new(&args[i + 1]));
        return;
    }
    let sizes: Vec<u64> = match std::env::var("CHATTER_BENCH_RECORDS") {
        Ok(v) => v.split(',').map(|s| s.trim().parse().unwrap()).collect(),
        Err(_) => vec![1_000_000, 10_000_000],
    };
    let dir = tempfile::tempdir().unwrap();
    println!("analysis benchmark: {TALKERS} talkers x {LISTENERS} listeners, one thread");
    println!("{:>12} {:>10} {:>14} {:>12} {:>12}", "records", "file MiB", "records/s", "seconds", "peak RSS MiB");
    for n in sizes {
        let path = dir.path().join(format!("{n}.jsonl"));
        generate(&path, n);
        let mib = std::fs::metadata(&path).unwrap().len() as f64 / (1 << 20) as f64;
        let out =
            std::process::Command::new(std::env::current_exe().unwrap()).arg("--child").arg(&path).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let mut f = text.split_whitespace();
        let (records, secs, kib): (f64, f64, f64) = (
            f.next().unwrap().parse().unwrap(),
            f.next().unwrap().parse().unwrap(),
            f.next().unwrap().parse().unwrap(),
        );
        println!("{:>12} {:>10.0} {:>14.0} {:>12.2} {:>12.1}", records, mib, records / secs, secs, kib / 1024.0);
        std::fs::remove_file(&path).unwrap();
    }
}
