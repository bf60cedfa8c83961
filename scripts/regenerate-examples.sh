#!/usr/bin/env bash
# Regenerates the committed example runs in results/example*/ from real runs of this build (as
# root: the netns examples need namespaces; `example/` itself runs as an ordinary user, in a user
# namespace of its own, as the README's main command does for most users). Each run goes to a
# temporary directory first and replaces its example only when it finished; pass example names
# (example, example-local, …) to regenerate only those.
#
#   bash scripts/regenerate-examples.sh [NAME…]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p harness
h="$PWD/target/release/harness"
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

# name | how it runs (the command after `harness`, without --out)
examples=(
  "example|user|run --no-progress scenarios/seed.yaml"
  "example-local|root|run --no-progress --backend local scenarios/seed.yaml"
  "example-race|root|run --no-progress --backend netns scenarios/seed-race.yaml"
  "example-fastdds|root|run --no-progress --backend netns scenarios/seed-fastdds.yaml"
  "example-hostnetwork-fastdds|root|run --no-progress --backend netns scenarios/seed-hostnetwork-fastdds.yaml"
  "example-camera|root|run --no-progress --backend netns scenarios/seed-camera.yaml"
  "example-camera-wifi|root|run --no-progress --backend netns scenarios/seed-camera-wifi.yaml"
  "example-matrix|root|matrix --no-progress scenarios/stock-demo.yaml"
  "example-matrix-fastdds|root|matrix --no-progress scenarios/seed-fastdds.yaml"
  "example-matrix-camera|root|matrix --no-progress --trials 2 scenarios/seed-camera.yaml"
  "example-sweep|root|sweep --no-progress scenarios/sweep-loss.yaml --sizes 1KiB,64KiB,256KiB,1MiB,4MiB"
  "example-sweep-camera|root|sweep --no-progress --trials 2 scenarios/seed-camera.yaml --sizes 1KiB,16KiB,64KiB,256KiB,1MiB"
)
for entry in "${examples[@]}"; do
  IFS='|' read -r name who cmd <<<"$entry"
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  out="$tmp/$name"
  mkdir -p "$out"
  echo "== $name: harness $cmd"
  if [ "$who" = user ]; then
    chown nobody "$out"
    # shellcheck disable=SC2086
    runuser -u nobody -- "$h" $cmd --out "$out" || [ $? -eq 1 ]
  else
    # shellcheck disable=SC2086
    "$h" $cmd --out "$out" || [ $? -eq 1 ]
  fi
  made=$(find "$out" -mindepth 1 -maxdepth 1 -type d | head -1)
  [ -n "$made" ] || { echo "regenerate-examples: $name made no run directory" >&2; exit 1; }
  rm -rf "results/$name"
  cp -r "$made" "results/$name"
  chown -R "$(id -u):$(id -g)" "results/$name"
done
