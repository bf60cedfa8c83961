//! The console output of the stock ROS 2 demo nodes (`demo_nodes_cpp`, `demo_nodes_py`), read
//! as records: what a team's own deployment prints, so the harness can measure it without our
//! nodes.
//!
//! rcutils' default format is `[{severity}] [{time}] [{name}]: {message}`, time in seconds with
//! nanoseconds:
//!
//! ```text
//! [INFO] [1764650000.123456789] [talker]: Publishing: 'Hello World: 3'      rclcpp talker
//! [INFO] [1764650000.123456789] [talker]: Publishing: "Hello World: 3"      rclpy talker
//! [INFO] [1764650000.124001002] [listener]: I heard: [Hello World: 3]       both listeners
//! ```
//!
//! Colour escapes (`RCUTILS_COLORIZED_OUTPUT=1`) are stripped; anything else — other log lines,
//! two writers' lines run together, bytes that are not UTF-8 — is [`DemoLine::Other`], to be
//! counted and kept by the caller, never an error.

/// One console line of a demo node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoLine {
    /// A talker published `data` at `t_ns` (its log stamp).
    Published { t_ns: u64, node: String, data: String },
    /// A listener received `data` at `t_ns`.
    Heard { t_ns: u64, node: String, data: String },
    /// Not a publish or receive line.
    Other,
}

/// Removes ANSI colour sequences (`ESC [ … m`).
fn strip_ansi(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\u{1b}') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the end of the CSI sequence.
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `1764650000.123456789` → ns since the epoch. Fewer than nine fraction digits are scaled.
fn parse_stamp(s: &str) -> Option<u64> {
    let (sec, frac) = s.split_once('.').unwrap_or((s, ""));
    if sec.is_empty() || !sec.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 9 {
        return None;
    }
    let sec: u64 = sec.parse().ok()?;
    let mut ns: u64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    for _ in frac.len()..9 {
        ns *= 10;
    }
    sec.checked_mul(1_000_000_000)?.checked_add(ns)
}

/// Reads one line (without its newline). Bytes that are not UTF-8 make it [`DemoLine::Other`].
pub fn parse_bytes(line: &[u8]) -> DemoLine {
    match std::str::from_utf8(line) {
        Ok(s) => parse(s),
        Err(_) => DemoLine::Other,
    }
}

/// Reads one line (without its newline).
pub fn parse(line: &str) -> DemoLine {
    let line = strip_ansi(line.trim_end_matches(['\r', '\n']));
    let Some(rest) = line.strip_prefix('[') else { return DemoLine::Other };
    // [SEVERITY]
    let Some((_severity, rest)) = rest.split_once("] [") else { return DemoLine::Other };
    // [time]
    let Some((time, rest)) = rest.split_once("] [") else { return DemoLine::Other };
    let Some(t_ns) = parse_stamp(time) else { return DemoLine::Other };
    // [name]: message
    let Some((node, message)) = rest.split_once("]: ") else { return DemoLine::Other };
    if node.is_empty() || node.contains('[') {
        return DemoLine::Other;
    }
    let node = node.to_owned();
    if let Some(quoted) = message.strip_prefix("Publishing: ") {
        return match unquote(quoted) {
            Some(d) => DemoLine::Published { t_ns, node, data: d.to_owned() },
            None => DemoLine::Other,
        };
    }
    if let Some(heard) = message.strip_prefix("I heard: ") {
        // demo_nodes print `[data]`; the ROS 2 tutorials' subscribers (examples_rclpy_*,
        // `ros2 pkg create` templates) print `"data"`.
        return match heard.strip_prefix('[').and_then(|b| b.strip_suffix(']')).or_else(|| unquote(heard)) {
            Some(d) => DemoLine::Heard { t_ns, node, data: d.to_owned() },
            None => DemoLine::Other,
        };
    }
    DemoLine::Other
}

/// `'data'` or `"data"` → `data`.
fn unquote(s: &str) -> Option<&str> {
    s.strip_prefix('\'')
        .and_then(|q| q.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|q| q.strip_suffix('"')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any bytes at all: a line is read or counted, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_bytes(&bytes);
        }

        /// Lines shaped like the real ones, with arbitrary parts, never panic either, and a
        /// well-formed one round-trips its stamp and data.
        #[test]
        fn shaped_lines(sec in 0u64..4_000_000_000, ns in 0u64..1_000_000_000, data in "[a-zA-Z0-9 :.,!?#=_-]{0,40}") {
            let line = format!("[INFO] [{sec}.{ns:09}] [talker]: Publishing: '{data}'");
            prop_assert_eq!(parse(&line), DemoLine::Published { t_ns: sec * 1_000_000_000 + ns, node: "talker".into(), data: data.clone() });
            let line = format!("[INFO] [{sec}.{ns:09}] [listener]: I heard: [{data}]");
            prop_assert_eq!(parse(&line), DemoLine::Heard { t_ns: sec * 1_000_000_000 + ns, node: "listener".into(), data });
        }
    }

    const T: u64 = 1_764_650_000_123_456_789;

    #[test]
    fn rclcpp_and_rclpy_lines() {
        assert_eq!(
            parse("[INFO] [1764650000.123456789] [talker]: Publishing: 'Hello World: 3'"),
            DemoLine::Published { t_ns: T, node: "talker".into(), data: "Hello World: 3".into() }
        );
        assert_eq!(
            parse("[INFO] [1764650000.123456789] [talker]: Publishing: \"Hello World: 3\""),
            DemoLine::Published { t_ns: T, node: "talker".into(), data: "Hello World: 3".into() }
        );
        assert_eq!(
            parse("[INFO] [1764650000.123456789] [listener]: I heard: [Hello World: 3]\r\n"),
            DemoLine::Heard { t_ns: T, node: "listener".into(), data: "Hello World: 3".into() }
        );
        // The ROS 2 tutorials' rclpy subscriber.
        assert_eq!(
            parse("[INFO] [1764650000.123456789] [minimal_subscriber]: I heard: \"Hello World: 0\""),
            DemoLine::Heard { t_ns: T, node: "minimal_subscriber".into(), data: "Hello World: 0".into() }
        );
        // Colourised output, a namespaced node name, a short fraction.
        assert_eq!(
            parse("\u{1b}[32m[INFO] [1764650000.5] [ns.listener]: I heard: [Hello World: 10]\u{1b}[0m"),
            DemoLine::Heard {
                t_ns: 1_764_650_000_500_000_000,
                node: "ns.listener".into(),
                data: "Hello World: 10".into()
            }
        );
    }

    #[test]
    fn anything_else_is_other() {
        for line in [
            "",
            "[INFO] [1764650000.1] [talker]: Starting",
            "[WARN] [notatime] [talker]: Publishing: 'Hello World: 1'",
            "[INFO] [1764650000.1234567891] [talker]: Publishing: 'Hello World: 1'",
            "[INFO] [1764650000.1] [talker]: Publishing: 'Hello World: 1",
            "[INFO] [1764650000.1] [listener]: I heard: [Hello World: 1",
            "[INFO] [1764650000.1] [listener]: I heard: \"Hello World: 1",
            "[INFO] [1764650000.1] [listener]: I heard: Hello World: 1",
            // Two writers' lines run together.
            "[INFO] [1764650000.1] [talker]: Publ[INFO] [1764650000.2] [listener]: I heard: [Hello World: 1]",
            "Publishing: 'Hello World: 1'",
            "[INFO] [99999999999999999999.1] [talker]: Publishing: 'x'",
        ] {
            assert_eq!(parse(line), DemoLine::Other, "{line:?}");
        }
        assert_eq!(parse_bytes(b"[INFO] [1.0] [listener]: I heard: [\xff\xfe]"), DemoLine::Other);
        assert!(matches!(parse_bytes(b"[INFO] [1.0] [listener]: I heard: [ok]"), DemoLine::Heard { .. }));
    }
}
