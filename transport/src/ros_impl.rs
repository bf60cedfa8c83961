//! `r2r` transport: the node goes through rcl and whichever RMW the environment selects
//! (`RMW_IMPLEMENTATION`), so middleware behaviour (Fast DDS shared memory, Cyclone config) is
//! reproduced exactly. Built only with the `ros` feature inside a ROS 2 environment.
//!
//! rcl offers no match-status events through r2r, so matched counts are sampled every
//! [`MATCH_POLL`]; that bounds the error of a `matched` timestamp, nothing else.
//!
//! Per-pair discovery: rcl's graph (`get_publishers_info_by_topic`) lists the writers on the
//! topic with their endpoint GIDs — on Fast DDS the DDS GUID (12-byte prefix, 4-byte entity
//! id), the 32 hex digits the RustDDS transport reports. So the listener reports which
//! writers it sees (the graph's view: discovered, not the DDS match itself), and the talker its
//! own writer's GUID (found in the same list under its node name). r2r 0.9.7 has no
//! `get_subscriptions_info_by_topic`: the talker reports how many readers it matched
//! (`remote: None`) and the listener no GUID of its own.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatter::{Durability, Reliability};
use futures::StreamExt;
use r2r::std_msgs::msg::String as RosString;

use crate::{Endpoint, Event, TransportError};

const MATCH_POLL: Duration = Duration::from_millis(50);
const SPIN_TIMEOUT: Duration = Duration::from_millis(10);

fn create(what: &'static str) -> impl Fn(r2r::Error) -> TransportError {
    move |e| TransportError::Create { what, reason: e.to_string() }
}

/// A node, and — once it has something to wait for ([`Session::spin`]) — a thread spinning it;
/// the thread is stopped and joined when the session drops, so the node (its last owner then
/// being the session) is destroyed on the dropping thread, before the process exits — not by the
/// spin thread while exit already tears Fast DDS down (which aborted with "'destroy_subscription'
/// failed"). A publisher's node is never spun: publishing and rcl's graph need no spinning, and
/// `spin_once` on a node without subscriptions (an empty wait set) returns at once, so its
/// thread busy-looped (a talker at 10 Hz used a CPU core).
struct Session {
    node: Arc<Mutex<r2r::Node>>,
    stop: Arc<AtomicBool>,
    spin: Option<std::thread::JoinHandle<()>>,
    topic: String,
    node_name: String,
}

impl Session {
    fn open(endpoint: &Endpoint) -> Result<(Session, r2r::QosProfile), TransportError> {
        // rcl reads ROS_DOMAIN_ID itself; refuse a mismatch rather than silently ignore it.
        let env_domain = std::env::var("ROS_DOMAIN_ID").ok().and_then(|v| v.parse::<u16>().ok()).unwrap_or(0);
        if env_domain != endpoint.domain {
            return Err(TransportError::Create {
                what: "ROS context",
                reason: format!(
                    "rcl takes the domain from ROS_DOMAIN_ID ({env_domain}); set it to {}",
                    endpoint.domain
                ),
            });
        }
        let ctx = r2r::Context::create().map_err(create("ROS context"))?;
        let node = r2r::Node::create(ctx, &endpoint.node_name, "").map_err(create("ROS node"))?;
        let node = Arc::new(Mutex::new(node));
        let q = &endpoint.qos;
        let mut qos = r2r::QosProfile::default().keep_last(q.depth.max(1) as usize);
        qos = match q.reliability {
            Reliability::Reliable => qos.reliable(),
            Reliability::BestEffort => qos.best_effort(),
        };
        qos = match q.durability {
            Durability::Volatile => qos.volatile(),
            Durability::TransientLocal => qos.transient_local(),
        };
        let session = Session {
            node,
            stop: Arc::new(AtomicBool::new(false)),
            spin: None,
            topic: endpoint.topic.clone(),
            node_name: endpoint.node_name.clone(),
        };
        Ok((session, qos))
    }

    /// Starts the thread that spins the node (after its subscription exists: the wait set is
    /// never empty, so `spin_once` blocks up to its timeout) and hands every message it takes to
    /// `messages`. r2r takes one sample per subscription per `spin_once` and queues it in a
    /// 10-deep channel that drops what does not fit; this thread empties that channel after every
    /// spin and, as long as a spin took something, spins again at once (no timeout), so the
    /// reader's keep-last history is drained as fast as rcl can take from it, and a slow
    /// listener holds this thread back (a bounded `messages`) instead of losing samples between
    /// DDS and the node. Every [`MATCH_POLL`] it also lists the topic's writers, sending each
    /// change (the first list even when empty) on `writers`: the node's lock is held by this
    /// thread nearly all the time (inside `rcl_wait`), so a graph query from the listener's task
    /// would wait for it.
    fn spin_relaying(&mut self, mut taken: MessageStream, mut messages: MessageSender, writers: WriterSender) {
        let (node, stop, topic) = (Arc::clone(&self.node), Arc::clone(&self.stop), self.topic.clone());
        self.spin = Some(std::thread::spawn(move || {
            let (mut last, mut next_poll, mut timeout) = (None, std::time::Instant::now(), SPIN_TIMEOUT);
            while !stop.load(Ordering::Relaxed) {
                let listed = {
                    let Ok(mut n) = node.lock() else { break };
                    n.spin_once(timeout);
                    (std::time::Instant::now() >= next_poll).then(|| {
                        next_poll = std::time::Instant::now() + MATCH_POLL;
                        list_writers(&mut n, &topic)
                    })
                };
                timeout = match relay(&mut taken, &mut messages) {
                    Relayed::Some => Duration::ZERO,
                    Relayed::None => SPIN_TIMEOUT,
                    Relayed::Closed => break,
                };
                let Some(listed) = listed else { continue };
                let failed = listed.is_err();
                if last.as_ref() != Some(&listed) {
                    last = Some(listed.clone());
                    if writers.unbounded_send(listed).is_err() || failed {
                        break;
                    }
                }
            }
        }));
    }

    fn with_node<T>(&self, f: impl FnOnce(&mut r2r::Node) -> T) -> Result<T, TransportError> {
        let mut node = self.node.lock().map_err(|_| TransportError::Receive("node lock poisoned".into()))?;
        Ok(f(&mut node))
    }

    /// The writers on the topic as rcl's graph lists them: (node name, GUID as 32 hex digits).
    fn writers(&self) -> Result<Vec<(String, String)>, TransportError> {
        let topic = self.topic.clone();
        let infos = self
            .with_node(|n| n.get_publishers_info_by_topic(&topic, false))?
            .map_err(|e| TransportError::Receive(e.to_string()))?;
        Ok(infos.into_iter().map(|i| (i.node_name, gid_hex(&i.endpoint_gid))).collect())
    }
}

/// The writers on `topic` as rcl's graph lists them, their GUIDs sorted.
fn list_writers(node: &mut r2r::Node, topic: &str) -> Result<Vec<String>, String> {
    node.get_publishers_info_by_topic(topic, false).map_err(|e| e.to_string()).map(|infos| {
        let mut remote: Vec<String> = infos.iter().map(|i| gid_hex(&i.endpoint_gid)).collect();
        remote.sort();
        remote
    })
}

/// What [`relay`] did.
enum Relayed {
    Some,
    None,
    /// The node's stream or the listener's end is gone.
    Closed,
}

/// Moves what r2r's channel holds to `messages`, waiting for room there.
fn relay(taken: &mut MessageStream, messages: &mut MessageSender) -> Relayed {
    use futures::{FutureExt as _, SinkExt as _};
    let mut moved = Relayed::None;
    loop {
        match taken.next().now_or_never() {
            None => return moved,
            Some(None) => return Relayed::Closed,
            Some(Some(msg)) => {
                if futures::executor::block_on(messages.send(msg.data)).is_err() {
                    return Relayed::Closed;
                }
                moved = Relayed::Some;
            }
        }
    }
}

/// The first 16 bytes of an rmw GID (on Fast DDS the DDS GUID) as 32 hex digits.
fn gid_hex(gid: &[u8]) -> String {
    gid.iter().take(16).fold(String::with_capacity(32), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(spin) = self.spin.take() {
            let _ = spin.join();
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("topic", &self.topic).finish()
    }
}

type MessageStream = std::pin::Pin<Box<dyn futures::Stream<Item = RosString> + Send>>;
type MessageSender = futures::channel::mpsc::Sender<String>;
type WriterSender = futures::channel::mpsc::UnboundedSender<Result<Vec<String>, String>>;

/// Messages the spin thread may hold for the listener's task before it waits (the task takes
/// each at once unless its output blocks).
const RELAYED: usize = 64;

/// Field order is drop order: the message and writer channels close before the session joins
/// the spin thread, so a thread waiting for room in `messages` ends.
pub struct RosSubscriber {
    messages: futures::channel::mpsc::Receiver<String>,
    /// The writers' GUIDs on each change, from the spin thread.
    writers: futures::channel::mpsc::UnboundedReceiver<Result<Vec<String>, String>>,
    session: Session,
}

impl fmt::Debug for RosSubscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RosSubscriber").field("session", &self.session).finish()
    }
}

impl RosSubscriber {
    pub fn open(endpoint: &Endpoint) -> Result<Self, TransportError> {
        let (mut session, qos) = Session::open(endpoint)?;
        let stream =
            session.with_node(|n| n.subscribe::<RosString>(&endpoint.topic, qos))?.map_err(create("subscription"))?;
        let (tx, writers) = futures::channel::mpsc::unbounded();
        let (relayed, messages) = futures::channel::mpsc::channel(RELAYED);
        session.spin_relaying(Box::pin(stream), relayed, tx);
        Ok(RosSubscriber { messages, writers, session })
    }

    pub async fn next(&mut self) -> Result<Event, TransportError> {
        tokio::select! {
            biased;
            msg = self.messages.next() => {
                msg.map(|data| Event::Message { data })
                    .ok_or_else(|| TransportError::Receive("subscription stream ended".into()))
            }
            // The first list is reported even when empty: it says the listener lists writers,
            // so "never matched" can be told from "unknown".
            listed = self.writers.next() => match listed {
                Some(Ok(remote)) => {
                    let peers = u32::try_from(remote.len()).unwrap_or(u32::MAX);
                    Ok(Event::Matched { peers, remote: Some(remote) })
                }
                Some(Err(e)) => Err(TransportError::Receive(e)),
                None => Err(TransportError::Receive("the node's spin thread ended".into())),
            },
        }
    }
}

pub struct RosPublisher {
    publisher: r2r::Publisher<RosString>,
    /// The message published, refilled for each send (no allocation per message here).
    msg: RosString,
    peers: u32,
    poll: tokio::time::Interval,
    guid: Option<String>,
    _session: Session,
}

impl fmt::Debug for RosPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RosPublisher").field("peers", &self.peers).finish()
    }
}

impl RosPublisher {
    pub fn open(endpoint: &Endpoint) -> Result<Self, TransportError> {
        let (session, qos) = Session::open(endpoint)?;
        let publisher = session
            .with_node(|n| n.create_publisher::<RosString>(&endpoint.topic, qos))?
            .map_err(create("publisher"))?;
        // rcl's graph lists a node's own endpoints at once: its writer's GUID is the one under
        // this (unique) node name.
        let guid = session.writers()?.into_iter().find(|(node, _)| *node == session.node_name).map(|(_, g)| g);
        let poll = tokio::time::interval(MATCH_POLL);
        Ok(RosPublisher { publisher, msg: RosString::default(), peers: 0, poll, guid, _session: session })
    }

    /// This writer's GUID (32 hex digits), from rcl's graph.
    pub fn guid(&self) -> Option<String> {
        self.guid.clone()
    }

    pub fn publish(&mut self, data: &str) -> Result<(), TransportError> {
        self.msg.data.clear();
        self.msg.data.push_str(data);
        self.publisher.publish(&self.msg).map_err(|e| TransportError::Publish(e.to_string()))
    }

    pub async fn matched_changed(&mut self) -> Result<crate::Matched, TransportError> {
        loop {
            self.poll.tick().await;
            let peers = self
                .publisher
                .get_inter_process_subscription_count()
                .map_err(|e| TransportError::Receive(e.to_string()))?;
            let peers = u32::try_from(peers).unwrap_or(u32::MAX);
            if peers != self.peers {
                self.peers = peers;
                return Ok(crate::Matched { peers, remote: None });
            }
        }
    }
}
