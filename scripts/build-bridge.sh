#!/usr/bin/env bash
# Builds chatter's Zenoh bridge for ROS 2 over DDS (bridge/, feature ros2dds: zenoh and
# zenoh-plugin-ros2dds from crates.io, pinned by Cargo.lock; cyclors builds Cyclone DDS from
# source with cmake and runs bindgen on libclang — scripts/setup.sh installs both):
#
#   bash scripts/build-bridge.sh      → target/bridge/chatter-zenoh-bridge
#
# Profile `bridge` (Cargo.toml): release code without LTO, in the workspace's own target/ so a
# second build reuses the first. The other workspace builds never compile zenoh (the feature is
# off), so this is the only place it is built.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cmake >/dev/null || {
  echo "build-bridge: cmake not found (cyclors builds Cyclone DDS with it): apt-get install cmake, or run scripts/setup.sh" >&2; exit 1; }
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || ldconfig -p | grep 'libclang.*\.so' >/dev/null || {
  echo "build-bridge: libclang not found (cyclors' bindgen needs it): apt-get install libclang-dev, or run scripts/setup.sh" >&2; exit 1; }
start=$(date +%s)
cargo build --profile bridge --locked -p chatter-bridge --features ros2dds
bin=target/bridge/chatter-zenoh-bridge
echo "build-bridge: $bin ($(du -h "$bin" | cut -f1), $(( $(date +%s) - start )) s)"
