//! The committed example runs speak plain words: no Rust `Debug` output (`Some(…)`, `None`,
//! struct dumps, escaped quotes) in any report, finding, evidence line or note they hold.

use std::path::{Path, PathBuf};

/// The files a reader reads: reports, summaries and notes (not the nodes' own logs and
/// records, nor the manifests a matrix writes).
fn readable(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "logs" | "fix") {
                readable(&path, out);
            }
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "html" | "json"))
            || matches!(name.as_str(), "pairs.csv" | "trials.csv")
        {
            out.push(path);
        }
    }
}

fn strings<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match v {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, v)| {
            out.push(k);
            strings(v, out)
        }),
        _ => {}
    }
}

#[test]
fn committed_examples_hold_no_debug_output() {
    let results = testkit::workspace_root().join("results");
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("example")))
        .collect();
    examples.sort();
    assert!(examples.len() >= 2, "{examples:?}");
    let mut files = Vec::new();
    for e in &examples {
        readable(e, &mut files);
    }
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        // JSON escapes quotes in its own way: check the strings it holds.
        let pieces: Vec<String> = if f.extension().is_some_and(|e| e == "json") {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let mut s = Vec::new();
            strings(&v, &mut s);
            s.into_iter().map(str::to_owned).collect()
        } else {
            text.lines().map(str::to_owned).collect()
        };
        let name = f.strip_prefix(&results).unwrap_or(f).display().to_string();
        found.extend(pieces.iter().filter_map(|p| testkit::debug_text(p)).map(|d| format!("{name}: {d}")));
    }
    assert!(files.iter().filter(|f| f.ends_with("report.md")).count() >= examples.len(), "{files:?}");
    assert!(found.is_empty(), "Debug output in the committed examples:\n{}", found.join("\n"));
}
