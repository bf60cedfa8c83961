#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs the whole test suite.
# DDS tests create their own network namespaces (root, or unprivileged user namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# aarch64 talker/listener for the netns backend's arm64 nodes (run under qemu-user in tests).
bash scripts/build-arm64.sh
cargo test --workspace "$@"
