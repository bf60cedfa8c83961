//! The talker: publishes `Hello World: <seq>` (with chatter metadata) on `/chatter` at a fixed
//! rate and reports what it did as JSON-line records.

pub mod cli;
mod ticker;

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use chatter::{payload, JsonLines, Qos, Record, Role};
use chatter_transport::{NodeIdentity, Publisher, TransportError, TransportKind};

/// What the talker does.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub id: String,
    pub topic: String,
    pub domain: u16,
    pub qos: Qos,
    pub transport: TransportKind,
    /// Messages per second.
    pub rate_hz: f64,
    /// Stop after this many messages.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// When the harness opens the measurement window early (SIGUSR1: every pair it expects
    /// has matched), publish this long from then on and stop, unless `duration` ends first.
    /// Without it, SIGUSR1 keeps its default meaning.
    pub window: Option<Duration>,
    /// Pad each message to at least this many bytes.
    pub payload_bytes: usize,
    /// Emit a `sent` record per message (otherwise only the total in `stop`).
    pub log_sent: bool,
    /// Stay on the network this long after the last message so reliable retransmissions can
    /// complete before the participant leaves.
    pub linger: Duration,
}

/// Talker failures.
#[derive(Debug, thiserror::Error)]
pub enum TalkerError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("cannot set up the message clock (a timerfd): {0}")]
    Clock(std::io::Error),
    #[error("cannot watch for SIGUSR1 (the harness's window signal): {0}")]
    Signal(std::io::Error),
    #[error("could not write records: {0}")]
    Output(#[from] std::io::Error),
}

/// Runs the talker until its count or duration is reached or `shutdown` resolves (with the
/// signal's name). Returns the number of messages published.
pub async fn run<W: Write>(
    config: &Config,
    out: W,
    shutdown: impl Future<Output = &'static str>,
) -> Result<u64, TalkerError> {
    if !(config.rate_hz.is_finite() && config.rate_hz > 0.0) {
        return Err(TalkerError::Config(format!("rate must be a positive number of Hz, got {}", config.rate_hz)));
    }
    let mut out = JsonLines::new(out);
    let me = NodeIdentity::new("talker", &config.id, &config.topic, config.domain, config.qos);
    let id = me.id.as_str();
    // Before anything is announced: the harness signals only talkers whose start record it read.
    let mut opened = window_signal(config)?;
    // Open first, so the start record can name the writer: listeners' `matched` records list
    // the writers they matched, and the analysis maps them back to talkers by this GUID.
    let mut publisher = Publisher::open(config.transport, &me.endpoint)?;
    let guid = publisher.guid();
    out.write(&Record::start(chatter::now_ns(), id, Role::Talker, &me.start_info(config.transport, guid.as_deref())))?;

    let mut ticker = ticker::Ticker::new(Duration::from_secs_f64(1.0 / config.rate_hz)).map_err(TalkerError::Clock)?;
    let began = tokio::time::Instant::now();
    let mut end = config.duration.map(|d| began + d);
    // Without a duration the deadline never fires (its branch is off).
    let deadline = tokio::time::sleep_until(end.unwrap_or(began));
    tokio::pin!(deadline, shutdown);
    let mut buf = String::new();
    let mut sent = 0u64;
    let reason = loop {
        if config.count.is_some_and(|c| sent >= c) {
            break "count";
        }
        tokio::select! {
            biased;
            signal = &mut shutdown => break signal,
            _ = &mut deadline, if end.is_some() => break "duration",
            Some(()) = async { opened.as_mut()?.recv().await }, if opened.is_some() => {
                // The window is open: `window` more from now, unless the duration ends first.
                opened = None;
                if let Some(window) = config.window {
                    let until = tokio::time::Instant::now() + window;
                    if end.is_none_or(|e| until < e) {
                        end = Some(until);
                        deadline.as_mut().reset(until);
                    }
                }
            }
            matched = publisher.matched_changed() => {
                let m = matched?;
                out.write(&Record::matched(chatter::now_ns(), id, Role::Talker, m.peers, m.remote))?;
            }
            tick = ticker.tick() => {
                tick.map_err(TalkerError::Clock)?;
                let seq = sent + 1;
                let now = chatter::now_ns();
                payload::encode_into(&mut buf, seq, id, now, config.payload_bytes);
                publisher.publish(&buf).await?;
                sent = seq;
                if config.log_sent {
                    out.write(&Record::sent(now, id, seq))?;
                }
            }
        }
    };
    if reason != "SIGINT" && reason != "SIGTERM" && !config.linger.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(config.linger) => {}
            _ = &mut shutdown => {}
        }
    }
    out.write(&Record::talker_stop(chatter::now_ns(), id, sent, reason))?;
    drop(publisher);
    Ok(sent)
}

/// SIGUSR1 (the harness's window signal), watched when the talker has a `window`.
fn window_signal(config: &Config) -> Result<Option<tokio::signal::unix::Signal>, TalkerError> {
    let watch = || tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1());
    config.window.map(|_| watch().map_err(TalkerError::Signal)).transpose()
}
