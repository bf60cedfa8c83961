#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs the whole test suite.
# DDS tests create their own network namespaces (root, or unprivileged user namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace "$@"
