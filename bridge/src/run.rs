//! The bridge itself: a zenoh runtime with the ros2dds plugin declared as a static plugin.

use zenoh::internal::{plugins::PluginsManager, runtime::RuntimeBuilder};
use zenoh_plugin_ros2dds::ROS2Plugin;

use crate::config::{BridgeConfig, PLUGIN_NAME};

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("zenoh configuration entry '{key}': {source}")]
    Entry { key: &'static str, source: zenoh::Error },
    #[error("ros2dds plugin configuration: {0}")]
    Plugin(serde_json::Error),
    #[error("zenoh runtime: {0}")]
    Runtime(zenoh::Error),
    #[error("waiting for SIGINT/SIGTERM: {0}")]
    Signal(std::io::Error),
}

/// Builds the zenoh configuration from `cfg`, checked against the plugin's own model first (so a
/// bad allow-list fails here, with its message, instead of inside the runtime).
pub fn zenoh_config(cfg: &BridgeConfig) -> Result<zenoh::Config, RunError> {
    cfg.validate()?;
    serde_json::from_value::<zenoh_plugin_ros2dds::config::Config>(cfg.plugin_config()).map_err(RunError::Plugin)?;
    let mut config = zenoh::Config::default();
    for (key, value) in cfg.zenoh_entries() {
        config.insert_json5(key, &value.to_string()).map_err(|source| RunError::Entry { key, source })?;
    }
    Ok(config)
}

/// Starts the runtime (the plugin starts with it) and serves until SIGINT or SIGTERM. The runtime
/// is not closed then, the process just ends: zenoh 1.10.2's `Runtime::close` under the running
/// plugin panicked ("Undefined face context"), and upstream's bridge does not close it either.
pub async fn serve(cfg: &BridgeConfig) -> Result<(), RunError> {
    let config = zenoh_config(cfg)?;
    let mut plugins = PluginsManager::static_plugins_only();
    plugins.declare_static_plugin::<ROS2Plugin, _>(PLUGIN_NAME, true);
    let mut runtime = RuntimeBuilder::new(config).plugins_manager(plugins).build().await.map_err(RunError::Runtime)?;
    runtime.start().await.map_err(RunError::Runtime)?;
    say_ready(&runtime);
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(RunError::Signal)?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.map_err(RunError::Signal)?,
        _ = term.recv() => {}
    }
    Ok(())
}

/// One line on stdout when the runtime is up (tests and scripts wait for it).
fn say_ready(runtime: &zenoh::internal::runtime::Runtime) {
    println!("{{\"bridge\":\"ready\",\"zid\":\"{}\"}}", runtime.zid());
}
