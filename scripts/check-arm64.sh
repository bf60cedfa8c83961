#!/usr/bin/env bash
# Verifies the aarch64 node builds without a Pi: the ELF is aarch64, and an arm64 talker (under
# qemu-user) reaches an amd64 listener inside a private network namespace, messages counted.
set -euo pipefail
cd "$(dirname "$0")/.."
arm=target/aarch64-unknown-linux-gnu/release
for b in talker listener; do
  [ -x "$arm/$b" ] || { echo "missing $arm/$b: run scripts/build-arm64.sh" >&2; exit 1; }
  machine=$(readelf -h "$arm/$b" | sed -n 's/.*Machine: *//p')
  [ "$machine" = "AArch64" ] || { echo "$arm/$b is $machine, not AArch64" >&2; exit 1; }
  echo "$b: AArch64 ELF, $(stat -c %s "$arm/$b") bytes (stripped)"
done
# The amd64 side is the test build's listener (scripts/test.sh built it): no release build of
# its own just for this check.
[ -x target/debug/listener ] || cargo build -q -p listener
unshare_args=(--net); [ "$(id -u)" -eq 0 ] || unshare_args=(--user --map-root-user --net)
out=$(unshare "${unshare_args[@]}" -- sh -c '
  ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo
  qemu-aarch64 -L /usr/aarch64-linux-gnu '"$arm"'/talker --id pi-talker --rate-hz 50 --duration 20 >/dev/null &
  timeout 60 target/debug/listener --id amd64-listener --count 25 --expect-talkers 1
  kill $! 2>/dev/null || true')
received=$(printf '%s\n' "$out" | grep -c '"kind":"recv".*"talker":"pi-talker"' || true)
echo "arm64 talker (qemu) → amd64 listener: $received messages"
[ "$received" -eq 25 ] || { echo "expected 25 messages" >&2; exit 1; }
