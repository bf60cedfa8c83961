#!/usr/bin/env bash
# Cross-compiles talker and listener for aarch64 (Raspberry Pi agents) into
# target/aarch64-unknown-linux-gnu/<profile>/ — where `harness run --backend netns` looks for them.
# Usage: bash scripts/build-arm64.sh [--release|--debug]   (default --release)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=--release
[ "${1:-}" = "--debug" ] && profile=
rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
cargo build $profile --target aarch64-unknown-linux-gnu -p talker -p listener
