//! `r2r` transport: the node goes through rcl and whichever RMW the environment selects
//! (`RMW_IMPLEMENTATION`), so middleware behaviour (Fast DDS shared memory, Cyclone config) is
//! reproduced exactly. Built only with the `ros` feature inside a ROS 2 environment.
//!
//! rcl offers no match-status events through r2r, so matched counts are sampled every
//! [`MATCH_POLL`]; that bounds the error of a `matched` timestamp, nothing else.

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

/// A node with a thread spinning it; the thread stops when the session drops.
struct Session {
    node: Arc<Mutex<r2r::Node>>,
    stop: Arc<AtomicBool>,
    topic: String,
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
        let stop = Arc::new(AtomicBool::new(false));
        let (spin_node, spin_stop) = (Arc::clone(&node), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !spin_stop.load(Ordering::Relaxed) {
                match spin_node.lock() {
                    Ok(mut n) => n.spin_once(SPIN_TIMEOUT),
                    Err(_) => break,
                }
            }
        });
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
        Ok((Session { node, stop, topic: endpoint.topic.clone() }, qos))
    }

    fn with_node<T>(&self, f: impl FnOnce(&mut r2r::Node) -> T) -> Result<T, TransportError> {
        let mut node = self.node.lock().map_err(|_| TransportError::Receive("node lock poisoned".into()))?;
        Ok(f(&mut node))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("topic", &self.topic).finish()
    }
}

type MessageStream = std::pin::Pin<Box<dyn futures::Stream<Item = RosString> + Send>>;

pub struct RosSubscriber {
    stream: MessageStream,
    peers: u32,
    poll: tokio::time::Interval,
    session: Session,
}

impl fmt::Debug for RosSubscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RosSubscriber").field("peers", &self.peers).field("session", &self.session).finish()
    }
}

impl RosSubscriber {
    pub fn open(endpoint: &Endpoint) -> Result<Self, TransportError> {
        let (session, qos) = Session::open(endpoint)?;
        let stream =
            session.with_node(|n| n.subscribe::<RosString>(&endpoint.topic, qos))?.map_err(create("subscription"))?;
        Ok(RosSubscriber { stream: Box::pin(stream), peers: 0, poll: tokio::time::interval(MATCH_POLL), session })
    }

    pub async fn next(&mut self) -> Result<Event, TransportError> {
        loop {
            tokio::select! {
                biased;
                msg = self.stream.next() => {
                    return msg
                        .map(|m| Event::Message { data: m.data })
                        .ok_or_else(|| TransportError::Receive("subscription stream ended".into()));
                }
                _ = self.poll.tick() => {
                    let topic = self.session.topic.clone();
                    let peers = self
                        .session
                        .with_node(|n| n.get_publishers_info_by_topic(&topic, false).map(|v| v.len()))?
                        .map_err(|e| TransportError::Receive(e.to_string()))?;
                    let peers = u32::try_from(peers).unwrap_or(u32::MAX);
                    if peers != self.peers {
                        self.peers = peers;
                        // rcl reports counts, not which endpoints: per-pair discovery is unknown here.
                        return Ok(Event::Matched { peers, remote: None });
                    }
                }
            }
        }
    }
}

pub struct RosPublisher {
    publisher: r2r::Publisher<RosString>,
    peers: u32,
    poll: tokio::time::Interval,
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
        Ok(RosPublisher { publisher, peers: 0, poll: tokio::time::interval(MATCH_POLL), _session: session })
    }

    pub fn publish(&mut self, data: String) -> Result<(), TransportError> {
        self.publisher.publish(&RosString { data }).map_err(|e| TransportError::Publish(e.to_string()))
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
