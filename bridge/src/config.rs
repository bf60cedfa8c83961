//! What the bridge is asked to do, checked, and written as zenoh configuration entries
//! (`key`, JSON value) — the form `zenoh::Config::insert_json5` takes.

use serde_json::{json, Value};

/// Zenoh role of the bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Router,
    Peer,
    Client,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Router => "router",
            Mode::Peer => "peer",
            Mode::Client => "client",
        }
    }
}

/// The bridge's settings, from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeConfig {
    pub mode: Mode,
    pub listen: Vec<String>,
    pub connect: Vec<String>,
    pub domain: u32,
    pub allow_topics: Vec<String>,
    pub namespace: String,
    pub multicast_scouting: bool,
}

/// A setting the bridge cannot start with.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("--listen/--connect endpoint '{0}': expected <protocol>/<address>, e.g. tcp/0.0.0.0:7447")]
    Endpoint(String),
    #[error("--namespace '{0}': must start with '/' and hold only letters, digits, '_' and '/'")]
    Namespace(String),
    #[error("--mode client needs at least one --connect endpoint (a client only connects)")]
    ClientWithoutConnect,
    #[error("--allow-topic '': empty topic")]
    EmptyTopic,
}

/// The plugin's name in the zenoh configuration (`plugins/<name>`).
pub const PLUGIN_NAME: &str = "ros2dds";

impl BridgeConfig {
    /// Checks what zenoh or the plugin would otherwise reject late (the plugin only logs a bad
    /// namespace and then routes nothing).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for e in self.listen.iter().chain(&self.connect) {
            let ok = e.split_once('/').is_some_and(|(proto, addr)| !proto.is_empty() && !addr.is_empty());
            if !ok {
                return Err(ConfigError::Endpoint(e.clone()));
            }
        }
        let ns_ok = self.namespace.starts_with('/')
            && self.namespace.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '/');
        if !ns_ok {
            return Err(ConfigError::Namespace(self.namespace.clone()));
        }
        if self.mode == Mode::Client && self.connect.is_empty() {
            return Err(ConfigError::ClientWithoutConnect);
        }
        if self.allow_topics.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyTopic);
        }
        Ok(())
    }

    /// The plugin's own configuration (`plugins/ros2dds`). Left out, the plugin reads
    /// ROS_AUTOMATIC_DISCOVERY_RANGE, ROS_LOCALHOST_ONLY and ROS_STATIC_PEERS from the environment.
    pub fn plugin_config(&self) -> Value {
        let mut plugin = json!({ "domain": self.domain, "namespace": self.namespace });
        if !self.allow_topics.is_empty() {
            plugin["allow"] = json!({ "publishers": self.allow_topics, "subscribers": self.allow_topics });
        }
        plugin
    }

    /// Every zenoh configuration entry the bridge sets, in order. Endpoints left empty keep
    /// zenoh's defaults for the mode (a router listens on tcp/[::]:7447).
    pub fn zenoh_entries(&self) -> Vec<(&'static str, Value)> {
        let mut entries = vec![("mode", json!(self.mode.as_str()))];
        if !self.listen.is_empty() {
            entries.push(("listen/endpoints", json!(self.listen)));
        }
        if !self.connect.is_empty() {
            entries.push(("connect/endpoints", json!(self.connect)));
        }
        entries.push(("scouting/multicast/enabled", json!(self.multicast_scouting)));
        entries.push(("plugins/ros2dds", self.plugin_config()));
        entries
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn args(line: &[&str]) -> BridgeConfig {
        BridgeConfig::from(
            crate::cli::Args::try_parse_from(std::iter::once("bridge").chain(line.iter().copied())).expect("arguments"),
        )
    }

    #[test]
    fn defaults_are_upstreams_a_router_on_zenohs_default_endpoint() {
        let cfg = args(&[]);
        assert_eq!(cfg.validate(), Ok(()));
        let entries = cfg.zenoh_entries();
        assert_eq!(entries[0], ("mode", json!("router")));
        // No listen entry: zenoh's router default (tcp/[::]:7447) stays.
        assert!(entries.iter().all(|(k, _)| !k.ends_with("endpoints")), "{entries:?}");
        assert_eq!(cfg.plugin_config(), json!({"domain": 0, "namespace": "/"}));
    }

    #[test]
    fn endpoints_domain_namespace_and_allow_list_reach_the_configuration() {
        let cfg = args(&[
            "-m",
            "peer",
            "-l",
            "tcp/10.0.0.2:7447",
            "-e",
            "tcp/10.0.0.1:7447",
            "-e",
            "udp/10.0.0.3:7447",
            "-d",
            "7",
            "-n",
            "/robot_1",
            "--allow-topic",
            "/chatter",
            "--allow-topic",
            "/tf.*",
            "--no-multicast-scouting",
        ]);
        assert_eq!(cfg.validate(), Ok(()));
        let entries: std::collections::BTreeMap<_, _> = cfg.zenoh_entries().into_iter().collect();
        assert_eq!(entries["mode"], json!("peer"));
        assert_eq!(entries["listen/endpoints"], json!(["tcp/10.0.0.2:7447"]));
        assert_eq!(entries["connect/endpoints"], json!(["tcp/10.0.0.1:7447", "udp/10.0.0.3:7447"]));
        assert_eq!(entries["scouting/multicast/enabled"], json!(false));
        let allow = json!(["/chatter", "/tf.*"]);
        assert_eq!(
            entries["plugins/ros2dds"],
            json!({"domain": 7, "namespace": "/robot_1", "allow": {"publishers": allow, "subscribers": allow}})
        );
    }

    #[test]
    fn bad_settings_are_named() {
        let mut cfg = args(&["-e", "10.0.0.1:7447"]);
        assert_eq!(cfg.validate(), Err(ConfigError::Endpoint("10.0.0.1:7447".into())));
        cfg = args(&["-n", "robot"]);
        assert_eq!(cfg.validate(), Err(ConfigError::Namespace("robot".into())));
        cfg = args(&["-m", "client"]);
        assert_eq!(cfg.validate(), Err(ConfigError::ClientWithoutConnect));
        assert!(crate::cli::Args::try_parse_from(["bridge", "-m", "hub"]).is_err());
    }
}
