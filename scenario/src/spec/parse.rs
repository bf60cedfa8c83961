//! Reading a scenario: [`load`] a file, [`parse`] its text. Parsing is strict and reports every
//! error at once, in file order; [`super::recovery`] is how it carries on after one. Also
//! [`locate`], for errors found after loading.

use std::path::Path;

use crate::yaml::{Pos, Positions};

use super::recovery::{blank, holds, matches_pattern, original_field, syntax_error};
use super::{violations, Location, Scenario, SpecError};

/// Scenarios are small; anything bigger is not one (and is refused before it is parsed).
pub const MAX_SCENARIO_BYTES: u64 = 1 << 20;

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, SpecError> {
    let read = |source| SpecError::Read { path: path.to_owned(), source };
    let at_start = |message: String| SpecError::Syntax {
        at: Location::at(path, Some(Pos { line: 1, col: 1 })),
        field: None,
        message,
    };
    let len = std::fs::metadata(path).map_err(read)?.len();
    if len > MAX_SCENARIO_BYTES {
        return Err(at_start(format!(
            "the file is {len} bytes; a scenario is at most {MAX_SCENARIO_BYTES} bytes (is this the right file?)"
        )));
    }
    let bytes = std::fs::read(path).map_err(read)?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            let col = good.len() - good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
            return Err(SpecError::Syntax {
                at: Location::at(path, Some(Pos { line, col })),
                field: None,
                message: "not UTF-8 text (is this the right file?)".into(),
            });
        }
    };
    parse(&text, path)
}

/// Parses and validates scenario text; `path` is only used in errors. Every error names the
/// line and column of the offending value and its field path, from the YAML parser's positions
/// (see [`crate::yaml`]), and every error the scenario has is reported, in file order, as
/// compilers do: after a parse error the offending entry is blanked out (its characters turned
/// to spaces, so every other position stays where it was) and the text parsed again; an error
/// that only follows from a blanked entry (the missing field it leaves) is not reported again.
/// Validation then runs on what parsed, leaving out what depends on a blanked field.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, SpecError> {
    let at = |pos: Option<Pos>| Location::at(path, pos);
    if text.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(SpecError::Syntax {
            at: at(Some(Pos { line: 1, col: 1 })),
            field: None,
            message: format!("{} bytes; a scenario is at most {MAX_SCENARIO_BYTES} bytes", text.len()),
        });
    }
    let positions = Positions::of_text(text);
    let mut patched: Vec<char> = text.chars().collect();
    let mut errors = Vec::new();
    let mut blanked: Vec<String> = Vec::new();
    let mut scenario = None;
    for _ in 0..MAX_PASSES {
        let options = serde_saphyr::options! { duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error };
        let e = match serde_saphyr::from_str_with_options::<Scenario>(&patched.iter().collect::<String>(), options) {
            Ok(s) => {
                scenario = Some(s);
                break;
            }
            Err(e) => e,
        };
        let (error, mapping) = syntax_error(&e, &positions, path);
        let Some(field) = error.field().map(str::to_owned) else {
            errors.push(error);
            break;
        };
        // What follows from an entry already blanked: the field it was, or what holds it.
        if !blanked.iter().any(|b| b == &field || holds(&field, b)) {
            errors.push(error);
        }
        // A missing field cannot be blanked: its mapping is.
        let target = mapping.unwrap_or(field);
        let Some((from, to)) = positions.span(&target).filter(|_| !target.is_empty() && !blanked.contains(&target))
        else {
            break;
        };
        blank(&mut patched, from, to);
        blanked.push(target);
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    if let Some(s) = &scenario {
        // Fields of what parsed, as they are in the original (blanked items shift indices).
        let now = if blanked.is_empty() { None } else { Some(Positions::of_text(&patched.iter().collect::<String>())) };
        for v in violations(s) {
            let field = now.as_ref().map_or_else(|| v.field.clone(), |now| original_field(&v.field, now, &positions));
            let broken = |f: &str| blanked.iter().any(|b| b == f || holds(b, f) || matches_pattern(b, f));
            if broken(&field) || v.about.iter().any(|a| broken(a)) {
                continue;
            }
            errors.push(SpecError::Invalid { at: at(positions.of(&field)), field, message: v.message });
        }
    }
    if errors.is_empty() {
        return scenario.map(Scenario::expanded).ok_or_else(|| SpecError::Syntax {
            at: at(Some(Pos { line: 1, col: 1 })),
            field: None,
            message: "not a scenario".into(),
        });
    }
    // In file order (a missing field is reported where its mapping starts).
    let key = |e: &SpecError| e.location().map(|l| (l.line.unwrap_or(0), l.column.unwrap_or(0)));
    errors.sort_by_key(key);
    errors.dedup_by(|a, b| a.to_string() == b.to_string());
    if errors.len() == 1 {
        return Err(errors.remove(0));
    }
    Err(SpecError::Many { errors })
}

/// At most this many errors are listed, and the text parsed this many times.
const MAX_ERRORS: usize = 50;
const MAX_PASSES: usize = 200;

/// Where `field` is in the scenario file at `path` (for failures found after loading, such as a
/// pod that fits no node); only the path when the file cannot be read again.
pub fn locate(path: &Path, field: &str) -> Location {
    let pos = std::fs::read_to_string(path).ok().and_then(|text| Positions::of_text(&text).of(field));
    Location::at(path, pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ContainerRole, MessageType};

    const OK: &str = "\
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
";

    fn err(text: &str) -> SpecError {
        parse(text, Path::new("s.yaml")).expect_err("should fail")
    }

    #[test]
    fn parses_with_defaults() {
        let s = parse(OK, Path::new("s.yaml")).expect("valid");
        assert_eq!(s.trials.count, 5);
        assert_eq!(s.dds.depth, 10);
        assert_eq!(s.pods[0].containers[1].role, ContainerRole::Listener);
    }

    /// `hostIPC`, spelled as Kubernetes spells it (not `hostIpc`), off unless asked.
    #[test]
    fn host_ipc_is_spelled_as_in_kubernetes() {
        let s = parse(OK, Path::new("s.yaml")).expect("valid");
        assert!(!s.pods[0].host_ipc);
        let s = parse(&OK.replace("    nodeSelector:", "    hostIPC: true\n    nodeSelector:"), Path::new("s.yaml"))
            .expect("valid");
        assert!(s.pods[0].host_ipc);
        let e = err(&OK.replace("    nodeSelector:", "    hostIpc: true\n    nodeSelector:"));
        assert!(e.to_string().contains("pods[0].hostIpc: unknown field `hostIpc`"), "{e}");
        let e = err(&OK.replace("    nodeSelector:", "    hostIPC: sometimes\n    nodeSelector:"));
        assert!(e.to_string().contains("pods[0].hostIPC"), "{e}");
    }

    /// A process (a discovery server) is neither talker nor listener: it must say what it runs,
    /// and it does not count as the experiment's talker or listener.
    #[test]
    fn a_process_runs_its_own_command_and_is_no_listener() {
        let with = |c: &str| {
            OK.replace(
                "      - {name: listener, role: listener}\n",
                &format!("      - {{name: listener, role: listener}}\n      - {c}\n"),
            )
        };
        let s = parse(&with("{name: server, role: process, command: [fastdds, discovery]}"), Path::new("s.yaml"))
            .expect("valid");
        assert_eq!(s.pods[0].containers[2].role, ContainerRole::Process);
        let e = err(&with("{name: server, role: process}"));
        assert!(e.to_string().contains("pods[0].containers[2].role: `role: process` runs your own program"), "{e}");
        let e = err(&with("{name: server, role: process, command: [x], output: demo-nodes}"));
        assert!(e.to_string().contains("containers[2].output"), "{e}");
        let e = err(&OK.replace("role: listener}", "role: process, command: [x]}"));
        assert!(e.to_string().contains("found 1 talker(s), 0 listener(s)"), "{e}");
    }

    #[test]
    fn unknown_field_has_line_and_column() {
        let e = err(&OK.replace("    nodeSelector:", "    nodeSelectr:"));
        assert_eq!(e.location().map(|l| (l.line, l.column)), Some((Some(8), Some(5))), "{e}");
        assert!(e.to_string().starts_with("s.yaml:8:5: pods[0].nodeSelectr: unknown field `nodeSelectr`"), "{e}");
    }

    /// Sensor-sized messages: a stock node's `messageType`, a container's `depth`, the
    /// `payloadBytes` bounds (16 MiB; 8 MiB on RustDDS); each mistake names its line, column and field.
    #[test]
    fn message_type_depth_and_payload_size_are_checked_where_written() {
        let stock = |talker: &str| {
            OK.replace(
                "{name: talker, role: talker}",
                &format!("{{name: talker, role: talker, command: [ros2, run, demo_nodes_cpp, talker], output: demo-nodes, {talker}}}"),
            )
        };
        let s =
            parse(&stock("messageType: sensor_msgs/msg/Image, payloadBytes: 1048576, depth: 1"), Path::new("s.yaml"))
                .expect("valid");
        let c = &s.pods[0].containers[0];
        assert_eq!((c.message_type, c.depth, c.payload_bytes), (Some(MessageType::Image), Some(1), Some(1 << 20)));
        let e = err(&stock("messageType: sensor_msgs/msg/Imag"));
        assert!(e.to_string().starts_with("s.yaml:10:"), "{e}");
        assert!(
            e.to_string().contains("pods[0].containers[0].messageType: unknown variant `sensor_msgs/msg/Imag`"),
            "{e}"
        );
        let e = err(&OK.replace(
            "{name: talker, role: talker}",
            "{name: talker, role: talker, messageType: sensor_msgs/msg/PointCloud2}",
        ));
        assert!(
            matches!(e, SpecError::Invalid { ref field, .. } if field == "pods[0].containers[0].messageType"),
            "{e}"
        );
        assert!(e.to_string().starts_with("s.yaml:10:"), "{e}");
        assert!(e.to_string().contains("published by the stock demo nodes run on rclpy"), "{e}");
        let e = err(&OK.replace("{name: listener, role: listener}", "{name: listener, role: listener, depth: 0}"));
        assert!(e.to_string().starts_with("s.yaml:11:"), "{e}");
        assert!(e.to_string().contains("pods[0].containers[1].depth: a keep-last history holds 1 to"), "{e}");
        let e =
            err(&OK.replace("{name: talker, role: talker}", "{name: talker, role: talker, payloadBytes: 16777217}"));
        assert!(
            e.to_string().contains("pods[0].containers[0].payloadBytes: 16777217 bytes is more than 16777216"),
            "{e}"
        );
        let sixteen =
            OK.replace("{name: talker, role: talker}", "{name: talker, role: talker, payloadBytes: 16777216}");
        let e = err(&sixteen);
        assert!(e.to_string().starts_with("s.yaml:10:"), "{e}");
        assert!(
            e.to_string().contains("payloadBytes: 16777216 bytes: the RustDDS nodes deliver at most 8388608"),
            "{e}"
        );
        parse(&format!("{sixteen}dds: {{transport: ros}}\n"), Path::new("s.yaml")).expect("16 MiB on r2r is allowed");
    }

    #[test]
    fn bad_value_is_located() {
        let e = err(&format!("{OK}trials: {{rateHz: -3}}\n"));
        assert!(e.to_string().contains("must be a positive number, got -3"), "{e}");
        assert_eq!(e.location().and_then(|l| l.line), Some(12));
    }

    /// A container started after the talkers stop would be silently dropped and then reported as
    /// "never started": refused, naming the field.
    #[test]
    fn start_delay_past_the_talkers_end_is_refused() {
        let text = OK.replace("{name: listener, role: listener}", "{name: listener, role: listener, startDelayS: 7}");
        let text = format!("{text}trials: {{warmupS: 1, durationS: 5}}\n");
        let e = err(&text);
        assert!(
            matches!(e, SpecError::Invalid { ref field, .. } if field == "pods[0].containers[1].startDelayS"),
            "{e}"
        );
        assert!(
            e.to_string().contains("starts at 7 s, when the talkers have stopped (warmupS + durationS = 6 s)"),
            "{e}"
        );
        let ok = format!(
            "{}trials: {{warmupS: 1, durationS: 5}}\n",
            OK.replace("{name: listener, role: listener}", "{name: listener, role: listener, startDelayS: 5.5}")
        );
        parse(&ok, Path::new("s.yaml")).expect("a start inside the trial is fine");
    }

    #[test]
    fn duplicate_pod_points_at_second_declaration() {
        let text = format!("{OK}  - name: a\n    containers: [{{name: l, role: listener}}]\n");
        let e = err(&text);
        assert!(matches!(e, SpecError::Invalid { ref field, .. } if field == "pods[1].name"), "{e}");
        assert!(e.to_string().contains("pod `a` is declared twice"));
        assert_eq!(e.location().and_then(|l| l.line), Some(12));
    }

    #[test]
    fn needs_talker_and_listener() {
        let e = err(&OK.replace("      - {name: listener, role: listener}\n", ""));
        assert!(e.to_string().contains("at least one talker and one listener"), "{e}");
    }

    #[test]
    fn faults_parse_and_reference_known_nodes() {
        let text = format!("{OK}faults:\n  - {{kind: loss, node: pi, percent: 30}}\n  - {{kind: partition, between: [master, pi], fromS: 1, toS: 2}}\n  - {{kind: kill, pod: a, container: talker, atS: 1}}\n");
        let s = parse(&text, Path::new("s.yaml")).expect("valid");
        assert_eq!(s.faults.len(), 3);
        assert!(s.faults[0].describe().starts_with("30 % frame loss into node pi from other nodes"));
        let e = err(&format!("{OK}faults:\n  - {{kind: loss, node: moon, percent: 30}}\n"));
        assert!(e.to_string().contains("s.yaml:13:24: faults[0].node: node `moon` is not declared"), "{e}");
        let e = err(&format!("{OK}faults:\n  - {{kind: loss, node: pi, percent: 130}}\n"));
        assert!(e.to_string().contains("percentage between 0 and 100"), "{e}");
        let e = err(&format!("{OK}faults:\n  - {{kind: partition, between: [pi, master], fromS: 3, toS: 2}}\n"));
        assert!(e.to_string().contains("toS (2) must be after fromS (3)"), "{e}");
        let e = err(&format!("{OK}faults:\n  - {{kind: bandwidth, node: pi, mbit: 0}}\n"));
        assert!(e.to_string().contains("s.yaml:13:39: faults[0].mbit: must be a rate above 0"), "{e}");
        let e = err(&format!("{OK}faults:\n  - {{kind: loss, node: pi, percent: 2, direction: sideways}}\n"));
        assert!(e.to_string().contains("faults[0]: unknown variant `sideways`, expected one of in, out, both"), "{e}");
        let e = err(&format!("{OK}faults:\n  - {{kind: flood, node: pi}}\n"));
        assert!(e.to_string().contains("unknown variant `flood`"), "{e}");
    }

    /// `network.mtu` is the pod MTU (1450 unless set), within what the underlay carries.
    #[test]
    fn the_pod_mtu_is_flannels_unless_set_and_in_range() {
        let s = parse(OK, Path::new("s.yaml")).expect("valid");
        assert_eq!(s.network.pod_mtu(), 1450);
        let s = parse(&format!("{OK}network: {{mtu: 1400}}\n"), Path::new("s.yaml")).expect("valid");
        assert_eq!(s.network.pod_mtu(), 1400);
        let e = err(&format!("{OK}network: {{mtu: 9000}}\n"));
        assert!(e.to_string().starts_with("s.yaml:12:16: network.mtu: the pod MTU must be between 576"), "{e}");
        let e = err(&format!("{OK}network: {{mtu: -1}}\n"));
        assert!(e.to_string().contains("network.mtu"), "{e}");
    }

    fn all(text: &str) -> Vec<String> {
        err(text).errors().iter().map(ToString::to_string).collect()
    }

    /// Two mistakes, two errors, in file order: a wrong type and an unknown field (parse
    /// errors), a bad value and a missing reference (validation), and one of each.
    #[test]
    fn every_error_is_reported_in_file_order() {
        let two = OK
            .replace("  - name: pi\n", "  - name: pi\n    colour: red\n")
            .replace("role: listener}", "role: listener, domain: seven}");
        assert_eq!(
            all(&two),
            [
                "s.yaml:5:5: nodes[1].colour: unknown field `colour`, expected one of name, labels, taints, count",
                "s.yaml:12:50: pods[0].containers[1].domain: invalid u16",
            ],
            "{}",
            err(&two)
        );
        let semantic = format!("{OK}trials: {{count: 0}}\nfaults: [{{kind: loss, node: moon, percent: 5}}]\n");
        let got = all(&semantic);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].starts_with("s.yaml:12:17: trials.count: must be between 1"), "{got:#?}");
        assert!(got[1].starts_with("s.yaml:13:29: faults[0].node: node `moon`"), "{got:#?}");
        let mixed = format!(
            "{}faults: [{{kind: kill, pod: a, container: ghost, atS: 1}}]\n",
            OK.replace("    nodeSelector:", "    nodeSelectr:")
        );
        let got = all(&mixed);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].starts_with("s.yaml:8:5: pods[0].nodeSelectr: unknown field"), "{got:#?}");
        assert!(got[1].contains("faults[0].container: no container `ghost` in pod `a`"), "{got:#?}");
        // One error is itself, not a list of one.
        assert!(matches!(err(&OK.replace("name: pi", "name: Pi_4")), SpecError::Invalid { .. }));
    }

    /// What only follows from a reported mistake is not reported again: an unknown role leaves
    /// no "missing field `role`" and no "needs a talker"; an unparsable pod name no "no pod".
    #[test]
    fn consequences_of_a_mistake_are_not_reported() {
        let got =
            all(&format!("{OK}  - name: b\n    containers: [{{name: l, role: shouter}}, {{name: m, role: x}}]\n"));
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got.iter().all(|e| e.contains("unknown variant")), "{got:#?}");
        assert!(got[0].contains("s.yaml:13:34: pods[1].containers[0].role"), "{got:#?}");
        assert!(got[1].contains("s.yaml:13:60: pods[1].containers[1].role"), "{got:#?}");
        let text = OK.replace("{name: talker, role: talker}", "{name: talker, role: talker, rateHz: fast}");
        let text = format!("{text}faults: [{{kind: kill, pod: a, container: talker, atS: 1}}, {{kind: kill, pod: b, container: x, atS: 1}}]\n");
        let got = all(&text);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].contains("pods[0].containers[0].rateHz"), "{got:#?}");
        assert!(got[1].contains("faults[1].pod: no pod `b`"), "{got:#?}");
        // A blanked item shifts the ones after it: errors still name the original index.
        let text = format!(
            "{OK}  - {{containers: [{{name: l, role: listener}}]}}\n  - name: c\n    containers: [{{name: UP, role: listener}}]\n"
        );
        let got = all(&text);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].starts_with("s.yaml:12:5: pods[1].name: missing field `name`"), "{got:#?}");
        assert!(got[1].starts_with("s.yaml:14:25: pods[2].containers[0].name: `UP`"), "{got:#?}");
    }

    #[test]
    fn spans_cover_an_entry_from_key_or_dash_to_the_end_of_its_value() {
        let p = Positions::of_text(OK);
        let chars: Vec<char> = OK.chars().collect();
        let text = |f: &str| p.span(f).map(|(a, b)| chars[a..b].iter().collect::<String>());
        assert_eq!(text("name").as_deref(), Some("name: t"));
        assert_eq!(text("nodes[1]").as_deref(), Some("- name: pi\n    labels: {kubernetes.io/arch: arm64}"));
        assert_eq!(text("pods[0].containers[0]").as_deref(), Some("- {name: talker, role: talker}"));
        assert_eq!(text("pods[0].containers[0].role").as_deref(), Some("role: talker"));
    }

    #[test]
    fn invalid_names_rejected() {
        let e = err(&OK.replace("name: pi", "name: Pi_4"));
        assert!(e.to_string().contains("nodes[1].name: `Pi_4` is not a DNS label"), "{e}");
        assert_eq!(e.location().and_then(|l| l.line), Some(4));
    }
}
