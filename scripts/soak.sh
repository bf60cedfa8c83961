#!/usr/bin/env bash
# Soak test: 100 short netns trials back to back in one harness process; asserts no growth in
# file descriptors, RSS, child processes, namespaces or nftables tables, and no lost records.
# Needs root (network namespaces). About two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -p harness --test integration soak -- --ignored --nocapture
