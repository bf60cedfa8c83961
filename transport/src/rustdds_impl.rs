//! `ros2-client` (RustDDS) transport: wire-compatible with ROS 2 (`rt/chatter`,
//! `std_msgs::msg::dds_::String_`). A `std_msgs/String` is a struct with one string field, whose
//! CDR encoding is exactly that of a bare string, so the Rust `String` is the message type.

use std::fmt;

use chatter::{Durability, Reliability};
use ros2_client::{
    dds::rustdds::{QosPolicies, Topic, TopicDescription, GUID},
    qos::{self, History, WhenFull},
    Context, ContextOptions, MessageTypeName, Name, Node, NodeEvent, NodeName, NodeOptions, QosProfile,
};

use crate::{Endpoint, Event, Matched, TransportError};

/// ros2-client forwards discovery events through a bounded channel with `try_send`, so a burst
/// at start-up can drop the very event that matched our endpoint. The match count is therefore
/// re-read on every event *and* on this tick; the tick bounds how late a `matched` record can be
/// when its event was dropped.
const MATCH_RECHECK: std::time::Duration = std::time::Duration::from_millis(50);

/// How long a reliable publish may wait for window space before the sample is reported lost.
const RELIABLE_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// The participant and node an endpoint lives in, with its spinner running.
///
/// Field order is drop order: the spinner is told to stop before the node and context go, so
/// the participant is dropped and peers see it leave (RustDDS announces its disposal).
struct Session {
    /// The DDS topic name (`rt/chatter`) and this endpoint's QoS, for matching remote
    /// endpoints the way DDS does.
    dds_topic: String,
    dds_qos: QosPolicies,
    status: async_channel::Receiver<NodeEvent>,
    recheck: tokio::time::Interval,
    node: Node,
    context: Context,
}

impl Session {
    fn open(endpoint: &Endpoint) -> Result<(Session, Topic, QosProfile), TransportError> {
        let create =
            |what: &'static str| move |e: &dyn fmt::Debug| TransportError::Create { what, reason: format!("{e:?}") };
        let context = Context::with_options(ContextOptions::new().domain_id(endpoint.domain))
            .map_err(|e| create("DDS participant")(&e))?;
        let node_name = NodeName::new("/", &endpoint.node_name).map_err(|e| create("ROS node name")(&e))?;
        let mut node =
            context.new_node(node_name, NodeOptions::new().enable_rosout(false)).map_err(|e| create("ROS node")(&e))?;
        let spinner = node.spinner().map_err(|e| create("node spinner")(&e))?;
        tokio::spawn(async move {
            if let Err(e) = spinner.spin().await {
                tracing::warn!("ros2-client spinner ended: {e:?}");
            }
        });
        let status = node
            .status_receiver()
            .ok_or(TransportError::Create { what: "status receiver", reason: "node has no spinner".into() })?;
        let qos = profile(&endpoint.qos);
        let topic_name = Name::parse(&endpoint.topic).map_err(|e| create("topic name")(&e))?;
        let topic = node
            .create_topic(&topic_name, MessageTypeName::new("std_msgs", "String"), &qos)
            .map_err(|e| create("topic")(&e))?;
        let mut recheck = tokio::time::interval(MATCH_RECHECK);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (dds_topic, dds_qos) = (topic.name(), QosPolicies::from(&qos));
        Ok((Session { dds_topic, dds_qos, status, recheck, node, context }, topic, qos))
    }
}

impl Session {
    /// Resolves when the match count may have changed: a discovery event or the recheck tick.
    async fn something_changed(&mut self) -> Result<(), TransportError> {
        tokio::select! {
            event = self.status.recv() => event
                .map(drop)
                .map_err(|_| TransportError::Receive("discovery event stream ended".into())),
            _ = self.recheck.tick() => Ok(()),
        }
    }
}

impl Session {
    /// Remote writers on our topic whose offered QoS satisfies what we request: the writers DDS
    /// matches this reader with. Read from the participant's discovery database, so a dropped
    /// discovery event cannot hide one.
    fn matching_writers(&self) -> Vec<String> {
        let mut guids: Vec<String> = self
            .context
            .domain_participant()
            .discovered_writers()
            .iter()
            .filter(|w| w.publication_topic_data.topic_name == self.dds_topic)
            .filter(|w| w.publication_topic_data.qos().compliance_failure_wrt(&self.dds_qos).is_none())
            .map(|w| guid_hex(w.writer_proxy.remote_writer_guid))
            .collect();
        guids.sort();
        guids
    }

    /// Remote readers on our topic whose requested QoS our offer satisfies.
    fn matching_readers(&self) -> Vec<String> {
        let mut guids: Vec<String> = self
            .context
            .domain_participant()
            .discovered_readers()
            .iter()
            .filter(|r| *r.subscription_topic_data.topic_name() == self.dds_topic)
            .filter(|r| self.dds_qos.compliance_failure_wrt(&r.subscription_topic_data.qos()).is_none())
            .map(|r| guid_hex(r.reader_proxy.remote_reader_guid))
            .collect();
        guids.sort();
        guids
    }
}

/// A GUID as 32 lowercase hex digits (prefix, then entity id), the form records carry.
pub fn guid_hex(guid: GUID) -> String {
    use std::fmt::Write as _;
    guid.to_bytes().iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Drop for Session {
    fn drop(&mut self) {
        self.node.stop_spinner();
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("node", &self.node.fully_qualified_name())
            .field("domain", &self.context.domain_id())
            .finish()
    }
}

fn profile(q: &chatter::Qos) -> QosProfile {
    let base = QosProfile::publisher_default();
    let reliability = match q.reliability {
        Reliability::Reliable => qos::Reliability::Reliable { when_full: WhenFull::Wait(RELIABLE_WAIT) },
        Reliability::BestEffort => qos::Reliability::BestEffort,
    };
    let durability = match q.durability {
        Durability::Volatile => qos::Durability::Volatile,
        Durability::TransientLocal => qos::Durability::TransientLocal,
    };
    base.reliability(reliability).durability(durability).history(History::KeepLast { depth: q.depth.max(1) as usize })
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub struct RustddsSubscriber {
    subscription: ros2_client::Subscription<String>,
    peers: u32,
    remote: Vec<String>,
    /// A message held back so the `Matched` it revealed is reported first.
    held: Option<String>,
    session: Session,
}

impl fmt::Debug for RustddsSubscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RustddsSubscriber").field("peers", &self.peers).field("session", &self.session).finish()
    }
}

impl RustddsSubscriber {
    pub fn open(endpoint: &Endpoint) -> Result<Self, TransportError> {
        let (mut session, topic, qos) = Session::open(endpoint)?;
        let subscription = session
            .node
            .create_subscription::<String>(&topic, Some(qos))
            .map_err(|e| TransportError::Create { what: "subscription", reason: format!("{e:?}") })?;
        Ok(RustddsSubscriber { subscription, peers: 0, remote: Vec::new(), held: None, session })
    }

    /// This reader's GUID.
    pub fn guid(&self) -> String {
        guid_hex(self.subscription.guid())
    }

    /// Re-reads who is matched; `Some` when it changed.
    fn rematch(&mut self, at_least_one: bool) -> Option<Event> {
        let mut peers = count(self.subscription.get_publisher_count(&self.session.node));
        if at_least_one {
            peers = peers.max(1);
        }
        let remote = self.session.matching_writers();
        if peers == self.peers && remote == self.remote {
            return None;
        }
        self.peers = peers;
        self.remote.clone_from(&remote);
        Some(Event::Matched { peers, remote: Some(remote) })
    }

    pub async fn next(&mut self) -> Result<Event, TransportError> {
        if let Some(data) = self.held.take() {
            return Ok(Event::Message { data });
        }
        loop {
            // `async_take` builds a fresh stream each time and takes a sample only when it
            // returns Ready, so losing the race to a status event drops nothing.
            tokio::select! {
                biased;
                taken = self.subscription.async_take() => {
                    let (data, _info) = taken.map_err(|e| TransportError::Receive(format!("{e:?}")))?;
                    if self.peers == 0 {
                        // A message proves a match the (possibly dropped) event did not tell.
                        if let Some(matched) = self.rematch(true) {
                            self.held = Some(data);
                            return Ok(matched);
                        }
                    }
                    return Ok(Event::Message { data });
                }
                changed = self.session.something_changed() => {
                    changed?;
                    if let Some(matched) = self.rematch(false) {
                        return Ok(matched);
                    }
                }
            }
        }
    }
}

pub struct RustddsPublisher {
    publisher: ros2_client::Publisher<String>,
    peers: u32,
    remote: Vec<String>,
    session: Session,
}

impl fmt::Debug for RustddsPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RustddsPublisher").field("peers", &self.peers).field("session", &self.session).finish()
    }
}

impl RustddsPublisher {
    pub fn open(endpoint: &Endpoint) -> Result<Self, TransportError> {
        let (mut session, topic, qos) = Session::open(endpoint)?;
        let publisher = session
            .node
            .create_publisher::<String>(&topic, Some(qos))
            .map_err(|e| TransportError::Create { what: "publisher", reason: format!("{e:?}") })?;
        Ok(RustddsPublisher { publisher, peers: 0, remote: Vec::new(), session })
    }

    /// This writer's GUID.
    pub fn guid(&self) -> String {
        guid_hex(self.publisher.guid())
    }

    pub async fn publish(&mut self, data: &str) -> Result<(), TransportError> {
        self.publisher.async_publish(data.to_owned()).await.map_err(|e| TransportError::Publish(format!("{e:?}")))
    }

    pub async fn matched_changed(&mut self) -> Result<Matched, TransportError> {
        loop {
            self.session.something_changed().await?;
            let peers = count(self.publisher.get_subscription_count(&self.session.node));
            let remote = self.session.matching_readers();
            if peers != self.peers || remote != self.remote {
                self.peers = peers;
                self.remote.clone_from(&remote);
                return Ok(Matched { peers, remote: Some(remote) });
            }
        }
    }
}
