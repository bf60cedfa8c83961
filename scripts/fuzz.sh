#!/usr/bin/env bash
# Bounded fuzzing (cargo-fuzz, libFuzzer, nightly): every target in fuzz/ for FUZZ_SECONDS
# (default 20) each. The scenario parser starts from the project's own scenarios. A crash stops
# the script with the input's path: copy it into fuzz/regressions/<target>/ (the regression
# tests run every file there on every `cargo test`), then fix the parser.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-20}"
mkdir -p target
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
  mkdir -p "corpus/$target"
  seeds=("regressions/$target")
  [ "$target" = scenario ] && seeds+=(../scenarios)
  existing=()
  for s in "${seeds[@]}"; do [ -d "$s" ] && existing+=("$s"); done
  echo "== fuzz $target (${seconds} s)"
  if ! cargo +nightly fuzz run "$target" "corpus/$target" "${existing[@]}" -- -max_total_time="$seconds" \
      > "target/fuzz-$target.log" 2>&1; then
    tail -40 "target/fuzz-$target.log"
    echo "fuzz: $target crashed; the input is in fuzz/artifacts/$target/ (keep it in fuzz/regressions/$target/)" >&2
    exit 1
  fi
  grep -E '^Done' "target/fuzz-$target.log" || true
done
