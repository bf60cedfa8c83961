#!/usr/bin/env bash
# The project's test command: installs what the tests need, builds the arm64 nodes, the r2r
# nodes (ROS 2 Jazzy and Kilted wheels) and the Zenoh bridge, then runs
# the whole test suite and closes with one line totalling every test binary's results.
# DDS tests create their own network namespaces; netns-backend tests need root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# aarch64 talker/listener for the netns backend's arm64 nodes (run under qemu-user in tests).
bash scripts/build-arm64.sh
# The r2r flavour on ROS 2 Jazzy's and Kilted's wheels, for the r2r ↔ RustDDS / rclpy tests
# and the many-processes-per-IP ones on both Fast DDS versions.
bash scripts/build-ros.sh jazzy
bash scripts/build-ros.sh kilted
# The Zenoh bridge (zenoh + zenoh-plugin-ros2dds), for bridge/tests: the bridge between two hosts.
bash scripts/build-bridge.sh
mkdir -p target
log=target/test-output.log
status=0
cargo test --workspace "$@" 2>&1 | tee "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log" | tee target/test-summary.txt
exit "$status"
