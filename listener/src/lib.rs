//! The listener: subscribes to `/chatter` and reports every message it receives — talker id,
//! sequence number, send and receive times — as JSON-line records, so delivery can be judged
//! exactly. Foreign and malformed payloads are counted, never fatal.

pub mod cli;

use std::collections::HashSet;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chatter::{JsonLines, ListenerTotals, PayloadKind, Qos, Record, RecordRow, Role};
use chatter_transport::{Event, NodeIdentity, Subscriber, TransportError, TransportKind};

/// What the listener does.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub id: String,
    pub topic: String,
    pub domain: u16,
    pub qos: Qos,
    pub transport: TransportKind,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after receiving this many messages.
    pub count: Option<u64>,
    /// The number of distinct talkers the listener should hear; fewer is a failure when the
    /// listener stops on its own (count or duration).
    pub expect_talkers: Option<u32>,
    /// Also write every record to this CSV file.
    pub csv: Option<PathBuf>,
}

/// Listener failures.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("could not write records: {0}")]
    Output(#[from] std::io::Error),
    #[error("could not write CSV {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("heard {heard} distinct talker(s), expected {expected}")]
    MissingTalkers { heard: u32, expected: u32 },
}

/// Where records go: stdout JSON lines, plus an optional CSV file.
struct Sinks<W: Write> {
    json: JsonLines<W>,
    csv: Option<(PathBuf, csv::Writer<std::fs::File>)>,
}

impl<W: Write> Sinks<W> {
    fn write(&mut self, record: &Record) -> Result<(), ListenerError> {
        self.json.write(record)?;
        if let Some((path, csv)) = &mut self.csv {
            let err = |source| ListenerError::Csv { path: path.clone(), source };
            csv.serialize(RecordRow::new(None, None, None, record)).map_err(err)?;
            csv.flush().map_err(|e| err(e.into()))?;
        }
        Ok(())
    }
}

/// Runs the listener until its count or duration is reached or `shutdown` resolves (with the
/// signal's name). Returns its totals.
pub async fn run<W: Write>(
    config: &Config,
    out: W,
    shutdown: impl Future<Output = &'static str>,
) -> Result<ListenerTotals, ListenerError> {
    let csv = match &config.csv {
        Some(path) => {
            let w = csv::Writer::from_path(path).map_err(|source| ListenerError::Csv { path: path.clone(), source })?;
            Some((path.clone(), w))
        }
        None => None,
    };
    let mut sinks = Sinks { json: JsonLines::new(out), csv };
    let me = NodeIdentity::new("listener", &config.id, &config.topic, config.domain, config.qos);
    let id = me.id.as_str();
    // Open first, so the start record can name the reader (see the talker).
    let mut subscriber = Subscriber::open(config.transport, &me.endpoint)?;
    let guid = subscriber.guid();
    sinks.write(&Record::start(
        chatter::now_ns(),
        id,
        Role::Listener,
        &me.start_info(config.transport, guid.as_deref()),
    ))?;

    let deadline = chatter_transport::deadline(config.duration);
    tokio::pin!(deadline, shutdown);
    let mut totals = ListenerTotals::default();
    let mut talkers: HashSet<Option<String>> = HashSet::new();
    let reason = loop {
        if config.count.is_some_and(|c| totals.received >= c) {
            break "count";
        }
        tokio::select! {
            biased;
            signal = &mut shutdown => break signal,
            _ = &mut deadline => break "duration",
            event = subscriber.next() => match event? {
                Event::Matched { peers, remote } => {
                    sinks.write(&Record::matched(chatter::now_ns(), id, Role::Listener, peers, remote))?;
                }
                Event::Message { data } => {
                    let record = Record::recv(chatter::now_ns(), id, &data);
                    totals.received += 1;
                    if record.payload == Some(PayloadKind::Foreign) {
                        totals.foreign += 1;
                    } else if talkers.insert(record.talker.clone()) {
                        totals.talkers = u32::try_from(talkers.len()).unwrap_or(u32::MAX);
                    }
                    sinks.write(&record)?;
                }
            }
        }
    };
    sinks.write(&Record::listener_stop(chatter::now_ns(), id, &totals, reason))?;
    drop(subscriber);
    match config.expect_talkers {
        Some(expected) if reason != "SIGINT" && reason != "SIGTERM" && totals.talkers < expected => {
            Err(ListenerError::MissingTalkers { heard: totals.talkers, expected })
        }
        _ => Ok(totals),
    }
}
