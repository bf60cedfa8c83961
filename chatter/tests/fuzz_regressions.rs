//! Inputs kept from fuzzing (and hand-made hard cases) in `fuzz/regressions/<target>/`: the
//! record, payload and demo-log parsers take each one without panicking, and the owned and
//! borrowed record parsers agree.

use std::path::{Path, PathBuf};

fn kept(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions").join(target);
    let files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fuzz/regressions")
        .map(|e| {
            let path = e.expect("entry").path();
            let bytes = std::fs::read(&path).expect("readable");
            (path, bytes)
        })
        .collect();
    assert!(!files.is_empty(), "no kept inputs in {}", dir.display());
    files
}

#[test]
fn records() {
    for (path, bytes) in kept("record") {
        let line = String::from_utf8_lossy(&bytes);
        let (owned, borrowed) = (chatter::record::parse_line(&line), chatter::record::parse_line_ref(&line));
        assert_eq!(owned.is_ok(), borrowed.is_ok(), "{}", path.display());
    }
}

#[test]
fn payloads() {
    for (_, bytes) in kept("payload") {
        let _ = chatter::Payload::parse(&String::from_utf8_lossy(&bytes)).seq();
    }
}

#[test]
fn demo_log_lines() {
    for (path, bytes) in kept("demo_log") {
        let from_bytes = chatter::demo_log::parse_bytes(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            assert_eq!(from_bytes, chatter::demo_log::parse(text), "{}", path.display());
        }
    }
}
