#!/usr/bin/env bash
# Dependency policy (deny.toml): permissive licenses only, no banned crates (serde_yaml,
# OpenSSL), crates.io only. Offline: licenses and bans need no advisory database.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deny >/dev/null || cargo install cargo-deny --locked
cargo deny --offline check licenses bans sources
