#!/usr/bin/env bash
# One Rust version everywhere: the workspace's `rust-version`, both Dockerfiles and the CI
# workflows must name the same toolchain, and it must be at least the highest `rust-version` of
# any locked dependency. Then the workspace is compiled with exactly that toolchain (`cargo
# check`: every crate's code through that rustc, without the second codegen and link of a
# full build), so an image built on the pinned `rust:` base cannot fail where CI on a newer
# stable passed.
set -euo pipefail
cd "$(dirname "$0")/.."

minor() { echo "$1" | cut -d. -f1,2; }
newer() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n1)" = "$1" ] && [ "$1" != "$2" ]; }

need=$(cargo metadata --format-version 1 --locked | python3 -c '
import json, sys
m = json.load(sys.stdin)
key = lambda v: tuple(int(x) for x in v.split("."))
best = max(((p["rust_version"], p["name"]) for p in m["packages"] if p.get("rust_version")), key=lambda t: key(t[0]))
print(best[0], best[1])')
need_version=${need% *}
need_by=${need#* }

workspace=$(sed -n 's/^rust-version = "\([0-9.]*\)"/\1/p' Cargo.toml)
dockerfile=$(sed -n 's/^ARG RUST_VERSION=\([0-9.]*\)$/\1/p' docker/Dockerfile)
ros=$(sed -n 's/.*--default-toolchain \([0-9.]*\).*/\1/p' docker/ros.Dockerfile)
mapfile -t workflows < <(grep -ho 'dtolnay/rust-toolchain@[^ ]*' .github/workflows/*.yml | sed 's/.*@//' | sort -u)

fail=0
echo "toolchain: locked dependencies need ≥ $need_version ($need_by); workspace rust-version $workspace"
for where in "docker/Dockerfile:$dockerfile" "docker/ros.Dockerfile:$ros" $(printf 'workflows:%s ' "${workflows[@]}"); do
  file=${where%%:*} version=${where#*:}
  if [ -z "$version" ] || [ "$(minor "$version")" != "$(minor "$workspace")" ]; then
    echo "toolchain: $file names '${version:-nothing}', the workspace $workspace" >&2
    fail=1
  fi
done
if newer "$(minor "$need_version")" "$(minor "$workspace")"; then
  echo "toolchain: $need_by needs Rust $need_version, but the workspace pins $workspace" >&2
  fail=1
fi
[ "$fail" -eq 0 ] || exit 1

rustup toolchain install "$workspace" --profile minimal >/dev/null
CARGO_TARGET_DIR=target/msrv cargo "+$workspace" check --workspace --locked
echo "toolchain: the workspace compiles with Rust $workspace (cargo check)"
