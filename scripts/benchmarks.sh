#!/usr/bin/env bash
# Regenerates the figures of BENCHMARKS.md, one after another in one session on this machine,
# as markdown on stdout and in target/benchmarks.md:
#   1. time to a verdict on the simulated cluster (the seed: 20 trials one at a time, 20 trials
#      at the default parallelism, --until-confident both ways; the rescheduled seed until
#      confident), arm64 nodes as aarch64 under qemu;
#   2. the nodes beside ddsperf in one private namespace (bench/loopback.py): time to first
#      message, rate sweep, latency, footprint at 10 Hz (native and under qemu), binary sizes —
#      RustDDS, and the r2r nodes on Fast DDS (ROS 2 Jazzy) where .venv-jazzy is installed;
#   3. building the simulated cluster (cargo bench --bench topology);
#   4. analysis throughput and memory (cargo bench --bench analysis).
#
#   sudo bash scripts/benchmarks.sh            # everything (about 15 minutes on 2 cores)
#   sudo bash scripts/benchmarks.sh verdict    # only 1.
#
# Every DDS process runs inside namespaces the harness or the script created.
set -euo pipefail
cd "$(dirname "$0")/.."
only=${1:-all}
cargo build -q --release -p harness -p talker -p listener
[ -x target/aarch64-unknown-linux-gnu/release/talker ] || bash scripts/build-arm64.sh
[ ! -x .venv-jazzy/bin/python ] || bash scripts/build-ros.sh jazzy >&2
out=target/benchmarks.md
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT

# One run: wall seconds, trials run, verdict kind, and why it stopped (until confident).
verdict_row() {
  local label=$1
  shift
  local start end dir
  start=$(date +%s.%N)
  target/release/harness run "$@" --no-progress --out "$runs" >/dev/null 2>&1 || [ $? -eq 1 ]
  end=$(date +%s.%N)
  dir=$(ls -td "$runs"/*/ | head -1)
  python3 - "$dir" "$label" "$start" "$end" <<'EOF'
import json, sys
d, label, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
meta = json.load(open(d + "run.json"))
summary = json.load(open(d + "summary.json"))
trials = len(meta["trials"])
wall = end - start
print(f"| `{label}` | {meta.get('parallel', 1)} | {trials} | {wall:.1f} s | {wall / trials:.2f} s | {summary['verdict']['kind']} |")
EOF
}

{
  echo "# Benchmark figures ($(date -u +%Y-%m-%d), $(nproc) CPUs)"
  if [ "$only" = all ] || [ "$only" = verdict ]; then
    echo
    echo "## Time to a verdict on the simulated cluster"
    echo
    echo "| command | trials at once | trials | wall | wall per trial | verdict |"
    echo "|---|---:|---:|---:|---:|---|"
    verdict_row "seed.yaml --trials 20 --parallel 1" scenarios/seed.yaml --trials 20 --parallel 1
    verdict_row "seed.yaml --trials 20" scenarios/seed.yaml --trials 20
    verdict_row "seed.yaml --until-confident --parallel 1" scenarios/seed.yaml --until-confident --parallel 1
    verdict_row "seed.yaml --until-confident" scenarios/seed.yaml --until-confident
    verdict_row "seed-race.yaml --until-confident" scenarios/seed-race.yaml --until-confident
    verdict_row "seed.yaml --backend local --trials 20 --parallel 1" scenarios/seed.yaml --backend local --trials 20 --parallel 1
  fi
  if [ "$only" = all ]; then
    echo
    python3 bench/loopback.py --runs 15 --duration 3
    echo
    echo "## Building the simulated cluster"
    echo
    cargo bench -q -p harness --bench topology 2>/dev/null
    echo
    echo "## Analysis"
    echo
    cargo bench -q -p harness --bench analysis 2>/dev/null
  fi
} | tee "$out"
