//! Records: what every talker and listener reports about itself, one JSON object per line on
//! stdout, each line flushed as it is written so a killed process loses nothing it printed.
//!
//! One flat struct rather than an enum of structs: every format the harness writes
//! (`records.csv` included) has the same columns, and the analysis deserialises a line without
//! buffering it first, which keeps it fast. Fields that a kind does not use are absent from the
//! JSON and empty in CSV.
//!
//! | kind      | emitted by        | fields used                                                    |
//! |-----------|-------------------|----------------------------------------------------------------|
//! | `start`   | both              | host, pid, transport, domain, topic, reliability, durability, depth, guid |
//! | `matched` | both              | peers (remote endpoints matched now), remote (their GUIDs)     |
//! | `sent`    | talker (optional) | seq                                                            |
//! | `recv`    | listener          | payload, talker, seq, sent_ns, bytes                           |
//! | `stop`    | both              | count (sent or received), foreign, reason                      |

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::qos::{Durability, Qos, Reliability};
use crate::Payload;

/// Version of the record schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// What a record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Start,
    Matched,
    Sent,
    Recv,
    Stop,
}

/// Which kind of node wrote a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Talker,
    Listener,
}

/// How a received payload was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadKind {
    /// From a chatter-harness talker (talker id and send time known).
    Chatter,
    /// Stock `demo_nodes_cpp` form: sequence number only, anonymous talker.
    Demo,
    /// Not a chatter payload.
    Foreign,
}

/// One line of a node's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub schema: u32,
    pub kind: RecordKind,
    /// When the record was made, ns since the Unix epoch (receive time for `recv`).
    pub t_ns: u64,
    /// Id of the node that wrote the record.
    pub node: String,
    pub role: Role,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliability: Option<Reliability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durability: Option<Durability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
    /// `start`: the node's own DDS endpoint GUID (32 hex digits), where its transport tells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,

    /// `matched`: number of remote endpoints matched at this moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers: Option<u32>,
    /// `matched`: the GUIDs of the remote endpoints matched at this moment, where the
    /// transport tells (absent: it cannot; per-pair discovery is then unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<Vec<String>>,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<PayloadKind>,
    /// `recv`: the talker's id; absent for anonymous (demo) and foreign payloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub talker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u32>,

    /// `stop`: messages sent (talker) or received (listener), foreign ones included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// `stop` (listener): how many of `count` were foreign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign: Option<u64>,
    /// `stop` (listener): distinct talkers heard (anonymous demo talkers count as one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub talkers: Option<u32>,
    /// `stop`: why the node stopped (`count`, `duration`, `signal`, `error: …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a node says about itself in its `start` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartInfo<'a> {
    pub host: &'a str,
    pub pid: u32,
    pub transport: &'a str,
    pub domain: u32,
    pub topic: &'a str,
    pub qos: Qos,
    /// The node's DDS endpoint GUID, where its transport tells.
    pub guid: Option<&'a str>,
}

/// What a listener counted over its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListenerTotals {
    /// Every message received, foreign ones included.
    pub received: u64,
    pub foreign: u64,
    /// Distinct talkers heard.
    pub talkers: u32,
}

impl Record {
    fn base(kind: RecordKind, t_ns: u64, node: &str, role: Role) -> Record {
        Record {
            schema: SCHEMA_VERSION,
            kind,
            t_ns,
            node: node.to_owned(),
            role,
            host: None,
            pid: None,
            transport: None,
            domain: None,
            topic: None,
            reliability: None,
            durability: None,
            depth: None,
            guid: None,
            peers: None,
            remote: None,
            payload: None,
            talker: None,
            seq: None,
            sent_ns: None,
            bytes: None,
            count: None,
            foreign: None,
            talkers: None,
            reason: None,
        }
    }

    pub fn start(t_ns: u64, node: &str, role: Role, info: &StartInfo<'_>) -> Record {
        Record {
            host: Some(info.host.to_owned()),
            pid: Some(info.pid),
            transport: Some(info.transport.to_owned()),
            domain: Some(info.domain),
            topic: Some(info.topic.to_owned()),
            reliability: Some(info.qos.reliability),
            durability: Some(info.qos.durability),
            depth: Some(info.qos.depth),
            guid: info.guid.map(str::to_owned),
            ..Record::base(RecordKind::Start, t_ns, node, role)
        }
    }

    /// A `matched` record: `peers` remote endpoints matched now, with their GUIDs where known.
    pub fn matched(t_ns: u64, node: &str, role: Role, peers: u32, remote: Option<Vec<String>>) -> Record {
        Record { peers: Some(peers), remote, ..Record::base(RecordKind::Matched, t_ns, node, role) }
    }

    pub fn sent(t_ns: u64, node: &str, seq: u64) -> Record {
        Record { seq: Some(seq), ..Record::base(RecordKind::Sent, t_ns, node, Role::Talker) }
    }

    /// A `recv` record for message `data` received at `recv_ns` by listener `node`.
    pub fn recv(recv_ns: u64, node: &str, data: &str) -> Record {
        let base = Record {
            bytes: Some(u32::try_from(data.len()).unwrap_or(u32::MAX)),
            ..Record::base(RecordKind::Recv, recv_ns, node, Role::Listener)
        };
        match Payload::parse(data) {
            Payload::Chatter { seq, talker, sent_ns } => Record {
                payload: Some(PayloadKind::Chatter),
                talker: Some(talker.to_owned()),
                seq: Some(seq),
                sent_ns: Some(sent_ns),
                ..base
            },
            Payload::Demo { seq } => Record { payload: Some(PayloadKind::Demo), seq: Some(seq), ..base },
            Payload::Foreign => Record { payload: Some(PayloadKind::Foreign), ..base },
        }
    }

    /// A talker's `stop` record: `sent` messages published.
    pub fn talker_stop(t_ns: u64, node: &str, sent: u64, reason: &str) -> Record {
        Record {
            count: Some(sent),
            reason: Some(reason.to_owned()),
            ..Record::base(RecordKind::Stop, t_ns, node, Role::Talker)
        }
    }

    /// A listener's `stop` record with its totals.
    pub fn listener_stop(t_ns: u64, node: &str, totals: &ListenerTotals, reason: &str) -> Record {
        Record {
            count: Some(totals.received),
            foreign: Some(totals.foreign),
            talkers: Some(totals.talkers),
            reason: Some(reason.to_owned()),
            ..Record::base(RecordKind::Stop, t_ns, node, Role::Listener)
        }
    }

    /// The record as one JSON line, without the newline.
    pub fn to_json(&self) -> String {
        // A struct of strings, integers and unit enums always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A borrowed view of the fields analysis reads, deserialised without copying strings (fields
/// it does not need are skipped). [`parse_line_ref`] makes one from a line, [`Record::view`]
/// from a record, so every input path feeds analysis the same way.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RecordRef<'a> {
    pub schema: u32,
    pub kind: RecordKind,
    pub t_ns: u64,
    #[serde(borrow)]
    pub node: Cow<'a, str>,
    pub role: Role,
    #[serde(default)]
    pub domain: Option<u32>,
    #[serde(default)]
    pub reliability: Option<Reliability>,
    #[serde(default, borrow)]
    pub guid: Option<Cow<'a, str>>,
    #[serde(default)]
    pub peers: Option<u32>,
    #[serde(default, borrow)]
    pub remote: Option<Vec<Cow<'a, str>>>,
    #[serde(default)]
    pub payload: Option<PayloadKind>,
    #[serde(default, borrow)]
    pub talker: Option<Cow<'a, str>>,
    #[serde(default)]
    pub seq: Option<u64>,
    #[serde(default)]
    pub sent_ns: Option<u64>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default, borrow)]
    pub reason: Option<Cow<'a, str>>,
}

impl Record {
    /// The analysis view of this record.
    pub fn view(&self) -> RecordRef<'_> {
        RecordRef {
            schema: self.schema,
            kind: self.kind,
            t_ns: self.t_ns,
            node: Cow::Borrowed(&self.node),
            role: self.role,
            domain: self.domain,
            reliability: self.reliability,
            guid: self.guid.as_deref().map(Cow::Borrowed),
            peers: self.peers,
            remote: self.remote.as_ref().map(|r| r.iter().map(|g| Cow::Borrowed(g.as_str())).collect()),
            payload: self.payload,
            talker: self.talker.as_deref().map(Cow::Borrowed),
            seq: self.seq,
            sent_ns: self.sent_ns,
            count: self.count,
            reason: self.reason.as_deref().map(Cow::Borrowed),
        }
    }
}

/// Parses one JSON line into a borrowed view, checking the schema version.
pub fn parse_line_ref(line: &str) -> Result<RecordRef<'_>, ParseError> {
    let record: RecordRef<'_> = serde_json::from_str(line)?;
    if record.schema != SCHEMA_VERSION {
        return Err(ParseError::Schema { found: record.schema });
    }
    Ok(record)
}

/// Error from [`parse_line`].
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not a record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("record schema {found} is not supported (this build reads schema {SCHEMA_VERSION})")]
    Schema { found: u32 },
}

/// Parses one JSON line into a record, checking the schema version.
pub fn parse_line(line: &str) -> Result<Record, ParseError> {
    let record: Record = serde_json::from_str(line)?;
    if record.schema != SCHEMA_VERSION {
        return Err(ParseError::Schema { found: record.schema });
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recv_record_classifies_payloads() {
        let r = Record::recv(10, "l", "Hello World: 4 #chatter id=t1 ns=7");
        assert_eq!(r.payload, Some(PayloadKind::Chatter));
        assert_eq!(r.talker.as_deref(), Some("t1"));
        assert_eq!((r.seq, r.sent_ns), (Some(4), Some(7)));

        let r = Record::recv(10, "l", "Hello World: 4");
        assert_eq!((r.payload, r.talker.as_deref(), r.seq), (Some(PayloadKind::Demo), None, Some(4)));

        let r = Record::recv(10, "l", "bonjour");
        assert_eq!((r.payload, r.seq), (Some(PayloadKind::Foreign), None));
    }

    #[test]
    fn json_is_compact_and_round_trips() {
        let r = Record::recv(10, "l", "Hello World: 4 #chatter id=t1 ns=7");
        let line = r.to_json();
        assert_eq!(
            line,
            r#"{"schema":1,"kind":"recv","t_ns":10,"node":"l","role":"listener","payload":"chatter","talker":"t1","seq":4,"sent_ns":7,"bytes":34}"#
        );
        assert_eq!(parse_line(&line).expect("parses"), r);
    }

    fn full_record() -> Record {
        let info = StartInfo {
            host: "h",
            pid: 1,
            transport: "rustdds",
            domain: 3,
            topic: "/chatter",
            qos: Qos::default(),
            guid: Some("01"),
        };
        let mut r = Record::start(1, "n", Role::Listener, &info);
        r.peers = Some(1);
        r.remote = Some(vec!["0a".repeat(16), "0b".repeat(16)]);
        r.payload = Some(PayloadKind::Demo);
        r.talker = Some("t".into());
        r.seq = Some(2);
        r.sent_ns = Some(3);
        r.bytes = Some(4);
        r.count = Some(5);
        r.foreign = Some(6);
        r.talkers = Some(7);
        r.reason = Some("signal".into());
        r
    }

    #[test]
    fn row_has_every_record_field_and_round_trips() {
        let r = full_record();
        let json: serde_json::Value = serde_json::to_value(&r).expect("json");
        let row = serde_json::to_value(RecordRow::new(Some(1), Some("p"), None, &r)).expect("json");
        for key in json.as_object().expect("object").keys() {
            assert!(row.get(key).is_some(), "RecordRow lacks `{key}`");
        }
        assert_eq!(RecordRow::new(None, None, None, &r).into_record(), r);
        // An empty GUID list stays an empty list (not "unknown") through CSV.
        let empty = Record::matched(1, "n", Role::Talker, 0, Some(Vec::new()));
        assert_eq!(RecordRow::new(None, None, None, &empty).into_record(), empty);
    }

    #[test]
    fn borrowed_view_parses_like_the_record() {
        let mut records = vec![full_record(), Record::recv(10, "l", "Hello World: 4 #chatter id=t1 ns=7")];
        records.push(Record::talker_stop(3, "t", 5, "count"));
        for r in records {
            let line = r.to_json();
            assert_eq!(parse_line_ref(&line).expect("parses"), r.view(), "{line}");
        }
    }

    #[test]
    fn json_lines_flush_each_record() {
        let mut w = JsonLines::new(Vec::new());
        w.write(&Record::matched(1, "n", Role::Talker, 2, Some(Vec::new()))).expect("write");
        w.write(&Record::talker_stop(2, "n", 9, "count")).expect("write");
        let text = String::from_utf8(w.into_inner()).expect("utf8");
        let lines: Vec<_> = text.lines().map(|l| parse_line(l).expect("record")).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].count, Some(9));
    }

    #[test]
    fn other_schema_is_rejected() {
        let err =
            parse_line(r#"{"schema":99,"kind":"stop","t_ns":1,"node":"x","role":"talker"}"#).expect_err("schema 99");
        assert!(err.to_string().contains("schema 99"), "{err}");
    }
}

/// Writes records as JSON lines, flushing after each so nothing printed is lost if the process
/// is killed.
#[derive(Debug)]
pub struct JsonLines<W: std::io::Write> {
    out: W,
    line: Vec<u8>,
}

impl<W: std::io::Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out, line: Vec::with_capacity(256) }
    }

    pub fn write(&mut self, record: &Record) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// A record as one CSV row: the same fields as [`Record`], every one present (empty when
/// unused), preceded by where the harness collected it from. A node's own CSV leaves the
/// collection columns empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRow {
    /// Trial number (1-based), set by the harness.
    pub trial: Option<u32>,
    /// Pod (or process group) the record came from, set by the harness.
    pub pod: Option<String>,
    /// Container within the pod, set by the harness.
    pub container: Option<String>,
    pub schema: u32,
    pub kind: RecordKind,
    pub t_ns: u64,
    pub node: String,
    pub role: Role,
    pub host: Option<String>,
    pub pid: Option<u32>,
    pub transport: Option<String>,
    pub domain: Option<u32>,
    pub topic: Option<String>,
    pub reliability: Option<Reliability>,
    pub durability: Option<Durability>,
    pub depth: Option<u32>,
    pub peers: Option<u32>,
    pub payload: Option<PayloadKind>,
    pub talker: Option<String>,
    pub seq: Option<u64>,
    pub sent_ns: Option<u64>,
    pub bytes: Option<u32>,
    pub count: Option<u64>,
    pub foreign: Option<u64>,
    pub talkers: Option<u32>,
    pub reason: Option<String>,
    // Added after the first release: last, and defaulted, so older records.csv files still read.
    #[serde(default)]
    pub guid: Option<String>,
    /// The `remote` GUIDs separated by spaces; `-` for an empty list.
    #[serde(default)]
    pub remote: Option<String>,
}

/// `remote` in one CSV cell: GUIDs (hex, no spaces) separated by spaces, `-` for none matched.
fn join_remote(remote: Option<Vec<String>>) -> Option<String> {
    remote.map(|r| if r.is_empty() { "-".to_owned() } else { r.join(" ") })
}

fn split_remote(cell: Option<String>) -> Option<Vec<String>> {
    cell.map(|c| if c == "-" { Vec::new() } else { c.split(' ').map(str::to_owned).collect() })
}

impl RecordRow {
    pub fn new(trial: Option<u32>, pod: Option<&str>, container: Option<&str>, r: &Record) -> RecordRow {
        let r = r.clone();
        RecordRow {
            trial,
            pod: pod.map(str::to_owned),
            container: container.map(str::to_owned),
            schema: r.schema,
            kind: r.kind,
            t_ns: r.t_ns,
            node: r.node,
            role: r.role,
            host: r.host,
            pid: r.pid,
            transport: r.transport,
            domain: r.domain,
            topic: r.topic,
            reliability: r.reliability,
            durability: r.durability,
            depth: r.depth,
            peers: r.peers,
            payload: r.payload,
            talker: r.talker,
            seq: r.seq,
            sent_ns: r.sent_ns,
            bytes: r.bytes,
            count: r.count,
            foreign: r.foreign,
            talkers: r.talkers,
            reason: r.reason,
            guid: r.guid,
            remote: join_remote(r.remote),
        }
    }

    /// The record part of the row.
    pub fn into_record(self) -> Record {
        Record {
            schema: self.schema,
            kind: self.kind,
            t_ns: self.t_ns,
            node: self.node,
            role: self.role,
            host: self.host,
            pid: self.pid,
            transport: self.transport,
            domain: self.domain,
            topic: self.topic,
            reliability: self.reliability,
            durability: self.durability,
            depth: self.depth,
            guid: self.guid,
            peers: self.peers,
            remote: split_remote(self.remote),
            payload: self.payload,
            talker: self.talker,
            seq: self.seq,
            sent_ns: self.sent_ns,
            bytes: self.bytes,
            count: self.count,
            foreign: self.foreign,
            talkers: self.talkers,
            reason: self.reason,
        }
    }
}
