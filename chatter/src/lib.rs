//! Shared vocabulary of chatter-harness: what goes on the wire (`payload`), which QoS a node
//! uses (`qos`) and what every node reports about itself (`record`).
//!
//! This crate is deliberately small and synchronous (no tokio, no DDS) so the talker, the
//! listener and the harness agree on one definition and the analysis can stay pure.

pub mod demo_log;
pub mod payload;
pub mod probe;
pub mod qos;
pub mod record;

pub use payload::Payload;
pub use qos::{Durability, Qos, Reliability};
pub use record::{
    JsonLines, ListenerTotals, PayloadKind, Record, RecordKind, RecordRow, Role, StartInfo, SCHEMA_VERSION,
};

/// Topic the demo nodes use; its DDS name is `rt/chatter`.
pub const DEFAULT_TOPIC: &str = "/chatter";

/// The start barrier on Kubernetes: a node whose environment names a file in this variable
/// waits until that file (a downward-API projection of the pod's annotations) carries
/// [`RELEASE_ANNOTATION`], so that every pod of a trial starts DDS at once, however long each
/// took to pull its image.
pub const RELEASE_FILE_ENV: &str = "CHATTER_RELEASE_FILE";
/// The pod annotation the harness sets to release the nodes (its value: the release time, ns).
pub const RELEASE_ANNOTATION: &str = "chatter-harness.io/release";

/// Whether a downward-API annotations file (`key="value"` lines) carries the release
/// annotation.
pub fn released(annotations: &str) -> bool {
    annotations.lines().any(|line| line.split_once('=').is_some_and(|(k, _)| k.trim() == RELEASE_ANNOTATION))
}

/// Wall-clock time in nanoseconds since the Unix epoch.
///
/// Send and receive stamps use the wall clock (not a monotonic one) because they are compared
/// across processes and, on a real cluster, across machines.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Makes an identifier safe to embed in a payload and in file names: anything outside
/// `[A-Za-z0-9._-]` becomes `_`, and an empty id becomes `node`.
pub fn sanitize_id(raw: &str) -> String {
    let id: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    if id.is_empty() {
        "node".to_owned()
    } else {
        id
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn release_annotation_is_found_among_others() {
        let before = "kubectl.kubernetes.io/last-applied=\"x=y\"\nother=\"chatter-harness.io/release\"\n";
        assert!(!super::released(before));
        assert!(!super::released(""));
        let after = format!("{before}chatter-harness.io/release=\"1764650000000000000\"\n");
        assert!(super::released(&after));
    }

    use super::*;

    #[test]
    fn sanitize_replaces_separators() {
        assert_eq!(sanitize_id("pi talker=1"), "pi_talker_1");
        assert_eq!(sanitize_id(""), "node");
        assert_eq!(sanitize_id("demo-talker.pi_2"), "demo-talker.pi_2");
    }
}
