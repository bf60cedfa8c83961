#!/usr/bin/env bash
# Proves the node images on this machine, without a registry or a Docker engine:
#  1. builds static musl talker/listener for amd64 and arm64 (as docker/Dockerfile does: rust-lld),
#  2. builds their images with podman from the *same* runtime stages as docker/Dockerfile
#     (`node-base`, `talker`, `listener`, taken from it; only the COPY source is local),
#  3. checks each image's config (user 65532, entrypoint, architecture) and size (≤ 20 MB),
#  4. runs each image's root filesystem as its user in a private network namespace (arm64
#     through qemu-user) and requires the talker image to be heard by the listener image.
# Containers themselves cannot run here (the VM's cgroups are hybrid), hence step 4.
# Needs root (podman, network namespaces). Usage: bash scripts/image-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in podman setpriv qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "image-smoke: $tool missing: run \`bash scripts/setup.sh\`" >&2; exit 1; }
done

host=$(rustc -vV | sed -n 's/^host: //p')
export PATH="$(rustc --print sysroot)/lib/rustlib/$host/bin:$PATH"   # rust-lld
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld
declare -A triple=([amd64]=x86_64-unknown-linux-musl [arm64]=aarch64-unknown-linux-musl)
for arch in amd64 arm64; do
  rustup target list --installed | grep -q "${triple[$arch]}" || rustup target add "${triple[$arch]}"
done
cargo build --release --locked --target "${triple[amd64]}" --target "${triple[arm64]}" -p talker -p listener

work=$(mktemp -d)
cleanup() {
  podman rm -f -i "${containers[@]}" >/dev/null 2>&1 || true
  podman rmi -f -i "${images[@]}" >/dev/null 2>&1 || true
  rm -rf "$work"
}
containers=() images=()
trap cleanup EXIT

# The runtime stages of docker/Dockerfile, with the binaries copied from the build context.
awk '/^FROM scratch AS node-base/{p=1} /^# --- harness/{p=0} p' docker/Dockerfile \
  | sed 's|^COPY --from=nodes-build /out/|COPY |' >"$work/Containerfile"
grep -q '^COPY talker ' "$work/Containerfile" || { echo "image-smoke: runtime stages not found in docker/Dockerfile" >&2; exit 1; }

fail=0
printf '%-22s %-7s %-12s %-34s %10s\n' image arch user entrypoint bytes
for arch in amd64 arm64; do
  ctx="$work/ctx-$arch"
  mkdir -p "$ctx"
  cp "target/${triple[$arch]}/release/talker" "target/${triple[$arch]}/release/listener" "$ctx/"
  for node in talker listener; do
    tag="localhost/chatter-smoke/$node:$arch"
    podman build -q --layers=false --platform "linux/$arch" -f "$work/Containerfile" --target "$node" -t "$tag" "$ctx" >/dev/null
    images+=("$tag")
    read -r user entry got size < <(podman image inspect "$tag" \
      --format '{{.Config.User}} {{join .Config.Entrypoint ","}} {{.Architecture}} {{.Size}}')
    printf '%-22s %-7s %-12s %-34s %10s\n' "$node" "$got" "$user" "$entry" "$size"
    [ "$user" = "65532:65532" ] || { echo "image-smoke: $tag runs as '$user', not 65532:65532" >&2; fail=1; }
    [ "$entry" = "/usr/local/bin/$node" ] || { echo "image-smoke: $tag entrypoint '$entry'" >&2; fail=1; }
    [ "$got" = "$arch" ] || { echo "image-smoke: $tag is $got, not $arch" >&2; fail=1; }
    [ "$size" -le 20000000 ] || { echo "image-smoke: $tag is $size bytes (> 20 MB)" >&2; fail=1; }
    # The image's root filesystem, to run without a container runtime.
    ctr=$(podman create --platform "linux/$arch" "$tag")
    containers+=("$ctr")
    mkdir -p "$work/rootfs-$node-$arch"
    podman export "$ctr" | tar -x -C "$work/rootfs-$node-$arch"
    if [ -e "$work/rootfs-$node-$arch/bin/sh" ]; then echo "image-smoke: $tag has a shell" >&2; fail=1; fi
  done
done
[ "$fail" -eq 0 ] || exit 1

# Run a node from its image's root filesystem as the image's user (65532), in the current
# network namespace: amd64 chrooted into the rootfs, arm64 through qemu-user.
cat >"$work/run-node.sh" <<'RUN'
#!/usr/bin/env bash
set -euo pipefail
rootfs=$1 arch=$2 node=$3; shift 3
if [ "$arch" = amd64 ]; then
  exec chroot --userspec=65532:65532 "$rootfs" "/usr/local/bin/$node" "$@"
else
  exec setpriv --reuid 65532 --regid 65532 --clear-groups qemu-aarch64 "$rootfs/usr/local/bin/$node" "$@"
fi
RUN
chmod 755 "$work/run-node.sh"
chmod 755 "$work"

# Every pairing across architectures: the talker image of one heard by the listener image of
# another, in a private network namespace (DDS multicast never leaves it).
for pair in amd64:amd64 arm64:amd64 amd64:arm64; do
  t=${pair%:*} l=${pair#*:}
  out="$work/listener-$t-$l.jsonl"
  unshare -n bash -c '
    set -e
    ip link set lo up; ip link set lo multicast on; ip route add 224.0.0.0/4 dev lo
    "$0/run-node.sh" "$0/rootfs-listener-$2" "$2" listener --id "img-listener-$2" --count 10 --duration 60 --expect-talkers 1 >"$3" &
    lp=$!
    "$0/run-node.sh" "$0/rootfs-talker-$1" "$1" talker --id "img-talker-$1" --rate-hz 20 --duration 30 >/dev/null &
    tp=$!
    wait "$lp"; status=$?
    kill "$tp" 2>/dev/null || true; wait "$tp" 2>/dev/null || true
    exit "$status"
  ' "$work" "$t" "$l" "$out" || { echo "image-smoke: $t talker image → $l listener image: not heard" >&2; exit 1; }
  heard=$(grep -c "\"talker\":\"img-talker-$t\"" "$out" || true)
  echo "image-smoke: $t talker image → $l listener image: $heard messages heard"
  [ "$heard" -ge 10 ] || exit 1
done
echo "image-smoke: ok"
