//! chatter's Zenoh bridge for ROS 2 over DDS: the published `zenoh-plugin-ros2dds` plugin, linked
//! statically and started inside a zenoh runtime (what upstream's `zenoh-bridge-ros2dds` is,
//! with a smaller command line).
//!
//! `cli` is the command line, `config` turns it into zenoh configuration entries (pure, tested
//! without zenoh); `run` (feature `ros2dds`) builds the runtime with the plugin and serves until
//! SIGINT/SIGTERM.

pub mod cli;
pub mod config;
#[cfg(feature = "ros2dds")]
pub mod run;
