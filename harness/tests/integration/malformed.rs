//! Malformed scenarios, as a user writes them: `harness validate` exits 2 and names the file,
//! the line (and column) of the offending value and its field path, for every case. Positions
//! come from the YAML parser (see `harness::yaml`), so a case whose error lands on another line
//! fails here.

use std::path::Path;

use assert_cmd::Command;

/// A valid scenario: 13 lines, so an appended section starts on line 14.
const BASE: &str = "\
name: t
nodes:
  - name: master
  - name: pi
    labels: {kubernetes.io/arch: arm64}
pods:
  - name: a
    nodeSelector: {kubernetes.io/arch: arm64}
    containers:
      - {name: talker, role: talker}
      - {name: listener, role: listener}
  - name: b
    containers: [{name: listener, role: listener}]
";

enum Text {
    Append(&'static str),
    Replace(&'static str, &'static str),
    Bytes(Vec<u8>),
}

/// Name, the file, the line the error must name, and its field (where the input has fields).
fn cases() -> Vec<(&'static str, Text, usize, Option<&'static str>)> {
    use Text::{Append, Bytes, Replace};
    vec![
        ("count is not a number", Append("trials: {count: five}\n"), 14, Some("trials.count")),
        (
            "hostNetwork is not a bool",
            Replace("  - name: b\n", "  - name: b\n    hostNetwork: maybe\n"),
            13,
            Some("pods[1].hostNetwork"),
        ),
        ("unknown top-level field", Append("extra: 1\n"), 14, Some("extra")),
        (
            "unknown container field",
            Replace("role: talker}", "role: talker, colour: red}"),
            10,
            Some("pods[0].containers[0].colour"),
        ),
        ("unknown role", Replace("role: talker}", "role: shouter}"), 10, Some("pods[0].containers[0].role")),
        ("unknown fault kind", Append("faults: [{kind: flood, node: pi}]\n"), 14, Some("faults[0].kind")),
        (
            "missing containers",
            Replace("    containers: [{name: listener, role: listener}]\n", "    hostNetwork: true\n"),
            12,
            Some("pods[1].containers"),
        ),
        ("duplicate key", Replace("name: t\n", "name: t\nname: u\n"), 2, Some("name")),
        ("duplicate pod", Replace("  - name: b\n", "  - name: a\n"), 12, Some("pods[1].name")),
        (
            "duplicate container",
            Replace("{name: listener, role: listener}\n  - name: b", "{name: talker, role: listener}\n  - name: b"),
            11,
            Some("pods[0].containers[1].name"),
        ),
        ("duplicate node", Replace("  - name: pi\n", "  - name: master\n"), 4, Some("nodes[1].name")),
        ("pod name not a DNS label", Replace("  - name: b\n", "  - name: B_b\n"), 12, Some("pods[1].name")),
        (
            "selector matches no node",
            Replace("arch: arm64}\n    containers", "arch: riscv64}\n    containers"),
            8,
            Some("pods[0].nodeSelector"),
        ),
        (
            "fault names a missing node",
            Append("faults: [{kind: loss, node: moon, percent: 5}]\n"),
            14,
            Some("faults[0].node"),
        ),
        (
            "kill names a missing pod",
            Append("faults: [{kind: kill, pod: ghost, container: talker, atS: 1}]\n"),
            14,
            Some("faults[0].pod"),
        ),
        (
            "kill names a missing container",
            Append("faults:\n  - kind: kill\n    pod: a\n    container: ghost\n    atS: 1\n"),
            17,
            Some("faults[0].container"),
        ),
        (
            "kill after the trial ends",
            Append("trials: {durationS: 2}\nfaults: [{kind: kill, pod: a, container: talker, atS: 30}]\n"),
            15,
            Some("faults[0].atS"),
        ),
        (
            "partition of a node with itself",
            Append("faults: [{kind: partition, between: [pi, pi], fromS: 1, toS: 2}]\n"),
            14,
            Some("faults[0].between"),
        ),
        (
            "partition ends before it starts",
            Append("faults:\n  - {kind: partition, between: [pi, master], fromS: 2, toS: 1}\n"),
            15,
            Some("faults[0].toS"),
        ),
        ("loss over 100 %", Append("faults: [{kind: loss, node: pi, percent: 150}]\n"), 14, Some("faults[0].percent")),
        ("negative duration", Append("trials: {durationS: -1}\n"), 14, Some("trials.durationS")),
        ("NaN warm-up", Append("trials:\n  warmupS: .nan\n"), 15, Some("trials.warmupS")),
        ("huge count", Append("trials: {count: 99999999999}\n"), 14, Some("trials.count")),
        ("count past the limit", Append("trials: {count: 4000000000}\n"), 14, Some("trials.count")),
        ("zero rate", Append("trials: {rateHz: 0}\n"), 14, Some("trials.rateHz")),
        ("rate past the limit", Append("trials: {rateHz: 1e6}\n"), 14, Some("trials.rateHz")),
        ("domain past the DDS port mapping", Append("dds: {domain: 300}\n"), 14, Some("dds.domain")),
        (
            "container domain past the mapping",
            Replace("role: talker}", "role: talker, domain: 233}"),
            10,
            Some("pods[0].containers[0].domain"),
        ),
        ("keep-last depth 0", Append("dds:\n  depth: 0\n"), 15, Some("dds.depth")),
        ("minDelivery over 1", Append("expect: {minDelivery: 1.5}\n"), 14, Some("expect.minDelivery")),
        (
            "listener with a rate",
            Replace("[{name: listener, role: listener}]", "[{name: listener, role: listener, rateHz: 5}]"),
            13,
            Some("pods[1].containers[0].rateHz"),
        ),
        (
            "start after the talkers stop",
            Replace("[{name: listener, role: listener}]", "[{name: listener, role: listener, startDelayS: 99}]"),
            13,
            Some("pods[1].containers[0].startDelayS"),
        ),
        ("no talker", Replace("role: talker}", "role: listener}"), 6, Some("pods")),
        ("tab indentation", Replace("  - name: b\n", "\t- name: b\n"), 12, None),
        ("empty file", Bytes(Vec::new()), 1, None),
        ("binary garbage", Bytes(vec![0x7f, b'E', b'L', b'F', 2, 1, 0xff, 0xfe, 0, 0]), 1, None),
        ("a 10 MB file", Bytes(b"# padding\n".repeat(1_000_000)), 1, None),
    ]
}

fn write(dir: &Path, i: usize, text: Text) -> std::path::PathBuf {
    let path = dir.join(format!("case-{i:02}.yaml"));
    let bytes = match text {
        Text::Append(more) => format!("{BASE}{more}").into_bytes(),
        Text::Replace(from, to) => {
            assert!(BASE.contains(from), "case {i}: `{from}` is not in the base scenario");
            BASE.replacen(from, to, 1).into_bytes()
        }
        Text::Bytes(b) => b,
    };
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn every_malformed_scenario_exits_2_naming_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.yaml");
    std::fs::write(&base, BASE).unwrap();
    Command::cargo_bin("harness").unwrap().arg("validate").arg(&base).assert().code(0);
    let cases = cases();
    assert!(cases.len() >= 25);
    let mut wrong = Vec::new();
    for (i, (name, text, line, field)) in cases.into_iter().enumerate() {
        let path = write(dir.path(), i, text);
        let out = Command::cargo_bin("harness").unwrap().arg("validate").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let at = format!("{}:{line}:", path.display());
        let ok = out.status.code() == Some(2)
            && stderr.contains(&at)
            && field.is_none_or(|f| stderr.contains(&format!(": {f}: ")));
        if !ok {
            wrong.push(format!("{name}: want exit 2, {at} and {field:?}; got {:?}: {stderr}", out.status.code()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Two mistakes, one run: both are listed, each with its file:line:col and field, in file
/// order (a compiler's habit), and the run still exits 2 before anything starts.
#[test]
fn every_mistake_of_a_scenario_is_listed_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.yaml");
    let text = BASE
        .replace("role: talker}", "role: talker, colour: red}")
        .replace("  - name: b\n", "  - name: b\n    hostNetwork: maybe\n");
    let text = format!("{text}faults: [{{kind: loss, node: moon, percent: 5}}]\n");
    std::fs::write(&path, text).unwrap();
    for command in ["validate", "run"] {
        let mut cmd = Command::cargo_bin("harness").unwrap();
        cmd.arg(command).arg(&path);
        if command == "run" {
            cmd.arg("--out").arg(dir.path());
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want = [
            format!("{}:10:38: pods[0].containers[0].colour: unknown field `colour`", path.display()),
            format!("{}:13:18: pods[1].hostNetwork: ", path.display()),
            format!("{}:15:29: faults[0].node: node `moon` is not declared", path.display()),
        ];
        let at: Vec<Option<usize>> = want.iter().map(|w| stderr.find(w.as_str())).collect();
        assert!(at.iter().all(Option::is_some), "{command}: want {want:#?} in order, got:\n{stderr}");
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{command}: not in file order:\n{stderr}");
    }
    // Nothing was started, so nothing was written.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
