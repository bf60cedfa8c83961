//! Transports the talker and listener use to reach `/chatter`.
//!
//! Two implementations of one small surface:
//! - [`rustdds`](mod@rustdds_impl): pure Rust (`ros2-client` on RustDDS), always built;
//! - `ros` (cargo feature): `r2r` over the real rcl/RMW, so a user can reproduce their own
//!   middleware's behaviour (Fast DDS shared memory, Cyclone settings) with our instrumented
//!   nodes.
//!
//! Enum dispatch instead of trait objects: the set is closed and known at compile time, and the
//! async methods stay plain `async fn`.

use chatter::Qos;

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "ros")]
mod ros_impl;
mod rustdds_impl;

/// Where and how an endpoint attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// ROS node name (unique per process; becomes part of the DDS participant's identity).
    pub node_name: String,
    /// ROS topic name, e.g. `/chatter`.
    pub topic: String,
    /// DDS domain id (`ROS_DOMAIN_ID`).
    pub domain: u16,
    pub qos: Qos,
}

/// Which implementation to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TransportKind {
    /// `ros2-client` on RustDDS (pure Rust).
    #[default]
    Rustdds,
    /// `r2r` on rcl (only with the `ros` feature).
    Ros,
}

impl TransportKind {
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Rustdds => "rustdds",
            TransportKind::Ros => "ros",
        }
    }
}

/// Who an endpoint is matched with now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// Remote endpoints matched.
    pub peers: u32,
    /// Their GUIDs (32 hex digits), where the transport can tell (`None`: it cannot).
    pub remote: Option<Vec<String>>,
}

/// Something a subscriber observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The matched remote publishers changed.
    Matched { peers: u32, remote: Option<Vec<String>> },
    /// A message arrived.
    Message { data: String },
}

/// Transport failures.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("could not create the {what}: {reason}")]
    Create { what: &'static str, reason: String },
    #[error("publish failed: {0}")]
    Publish(String),
    #[error("receive failed: {0}")]
    Receive(String),
    #[error("transport `{0}` is not in this build (rebuild with `--features ros` inside a ROS 2 environment)")]
    NotBuilt(&'static str),
}

/// A subscription on one topic.
#[derive(Debug)]
pub enum Subscriber {
    Rustdds(rustdds_impl::RustddsSubscriber),
    #[cfg(feature = "ros")]
    Ros(ros_impl::RosSubscriber),
}

impl Subscriber {
    pub fn open(kind: TransportKind, endpoint: &Endpoint) -> Result<Subscriber, TransportError> {
        match kind {
            TransportKind::Rustdds => rustdds_impl::RustddsSubscriber::open(endpoint).map(Subscriber::Rustdds),
            #[cfg(feature = "ros")]
            TransportKind::Ros => ros_impl::RosSubscriber::open(endpoint).map(Subscriber::Ros),
            #[cfg(not(feature = "ros"))]
            TransportKind::Ros => Err(TransportError::NotBuilt("ros")),
        }
    }

    /// This endpoint's DDS GUID (32 hex digits), where the transport can tell.
    pub fn guid(&self) -> Option<String> {
        match self {
            Subscriber::Rustdds(s) => Some(s.guid()),
            #[cfg(feature = "ros")]
            Subscriber::Ros(_) => None,
        }
    }

    /// The next event. Cancel-safe: dropping the future loses no message.
    pub async fn next(&mut self) -> Result<Event, TransportError> {
        match self {
            Subscriber::Rustdds(s) => s.next().await,
            #[cfg(feature = "ros")]
            Subscriber::Ros(s) => s.next().await,
        }
    }
}

/// A publisher on one topic.
#[derive(Debug)]
pub enum Publisher {
    Rustdds(rustdds_impl::RustddsPublisher),
    #[cfg(feature = "ros")]
    Ros(ros_impl::RosPublisher),
}

impl Publisher {
    pub fn open(kind: TransportKind, endpoint: &Endpoint) -> Result<Publisher, TransportError> {
        match kind {
            TransportKind::Rustdds => rustdds_impl::RustddsPublisher::open(endpoint).map(Publisher::Rustdds),
            #[cfg(feature = "ros")]
            TransportKind::Ros => ros_impl::RosPublisher::open(endpoint).map(Publisher::Ros),
            #[cfg(not(feature = "ros"))]
            TransportKind::Ros => Err(TransportError::NotBuilt("ros")),
        }
    }

    /// Publishes one `std_msgs/msg/String`.
    pub async fn publish(&mut self, data: &str) -> Result<(), TransportError> {
        match self {
            Publisher::Rustdds(p) => p.publish(data).await,
            #[cfg(feature = "ros")]
            Publisher::Ros(p) => p.publish(data),
        }
    }

    /// This endpoint's DDS GUID (32 hex digits), where the transport can tell.
    pub fn guid(&self) -> Option<String> {
        match self {
            Publisher::Rustdds(p) => Some(p.guid()),
            #[cfg(feature = "ros")]
            Publisher::Ros(p) => p.guid(),
        }
    }

    /// Resolves when the matched remote subscriptions change, with who is matched now.
    /// Cancel-safe.
    pub async fn matched_changed(&mut self) -> Result<Matched, TransportError> {
        match self {
            Publisher::Rustdds(p) => p.matched_changed().await,
            #[cfg(feature = "ros")]
            Publisher::Ros(p) => p.matched_changed().await,
        }
    }
}

/// Resolves on the first SIGINT or SIGTERM, naming it. Install it before opening endpoints so
/// a signal that arrives during start-up still leads to a clean stop.
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = &'static str>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        }
    })
}

/// Resolves after `limit`, or never when there is none (a node without `--duration`).
pub async fn deadline(limit: Option<std::time::Duration>) {
    match limit {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// This machine's host name (the pod name inside a Kubernetes pod).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// A valid, process-unique ROS node name for a node with this id (ROS names allow only
/// `[A-Za-z0-9_]` and must not start with a digit).
pub fn ros_node_name(role: &str, id: &str) -> String {
    let id: String = id.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("{role}_{id}_{}", std::process::id())
}

/// Who a node is: its sanitised id, this host, and where its endpoint attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    pub id: String,
    pub host: String,
    pub endpoint: Endpoint,
}

impl NodeIdentity {
    /// `role` is `talker` or `listener` (part of the ROS node name).
    pub fn new(role: &str, raw_id: &str, topic: &str, domain: u16, qos: Qos) -> NodeIdentity {
        let id = chatter::sanitize_id(raw_id);
        let endpoint = Endpoint { node_name: ros_node_name(role, &id), topic: topic.to_owned(), domain, qos };
        NodeIdentity { id, host: hostname(), endpoint }
    }

    /// What the node says about itself in its `start` record.
    pub fn start_info<'a>(&'a self, transport: TransportKind, guid: Option<&'a str>) -> chatter::StartInfo<'a> {
        chatter::StartInfo {
            guid,
            host: &self.host,
            pid: std::process::id(),
            transport: transport.name(),
            domain: u32::from(self.endpoint.domain),
            topic: &self.endpoint.topic,
            qos: self.endpoint.qos,
        }
    }
}
