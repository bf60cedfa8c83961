#!/usr/bin/env bash
# Builds talker and listener with the `ros` transport (r2r over rcl and rmw_fastrtps_cpp) for
# real, against a ROS 2 distribution installed from PyPI wheels by scripts/setup.sh:
#
#   bash scripts/build-ros.sh [jazzy|kilted]     → target/ros-<distro>/release/{talker,listener}
#
# r2r generates its bindings from the venv's headers (AMENT_PREFIX_PATH, libclang) — only
# std_msgs (IDL_PACKAGE_FILTER). Two things the wheels differ in from an /opt/ros install:
# - no librmw_implementation (their librcl links librmw_fastrtps_cpp itself), which r2r links:
#   a link-time alias of that name for librmw_fastrtps_cpp.so, in the build's own directory;
# - their librcl loads the *_rosidl_generator_py libraries, which need libpython's symbols, which
#   a Rust binary has not: the nodes are linked against libpython3.11 (a DT_NEEDED entry).
# The installed venv is never changed.
# What the binaries need at run time is in scripts/ros-env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
distro=${1:-jazzy}
case "$distro" in jazzy|kilted) ;; *) echo "build-ros: unknown distro '$distro' (jazzy or kilted)" >&2; exit 2 ;; esac
venv="$PWD/.venv-$distro"
[ -x "$venv/bin/python" ] && [ -d "$venv/include/rcl" ] || {
  echo "build-ros: ROS 2 $distro is not installed in .venv-$distro: run scripts/setup.sh" >&2; exit 1; }
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || ldconfig -p | grep 'libclang.*\.so' >/dev/null || {
  echo "build-ros: libclang not found (r2r's bindgen needs it): apt-get install libclang-dev, or run scripts/setup.sh" >&2; exit 1; }
# (grep without -q: under pipefail, -q's early exit would fail ldconfig with SIGPIPE)
ldconfig -p | grep 'libpython3\.11\.so\.1\.0' >/dev/null || {
  echo "build-ros: libpython3.11.so.1.0 not found (the wheels' librcl needs it): apt-get install libpython3.11" >&2; exit 1; }
out="target/ros-$distro"
mkdir -p "$out/link"
ln -sfn "$venv/lib/librmw_fastrtps_cpp.so" "$out/link/librmw_implementation.so"
# r2r 0.9.7 knows no "kilted" (its build script refuses it); Kilted branched from Rolling, so r2r
# is built with its Rolling API against Kilted's headers and libraries (bindgen reads the real
# headers either way; the distro only selects r2r's own cfg-gated code).
r2r_distro=$distro
[ "$distro" != kilted ] || r2r_distro=rolling
# r2r's build script itself runs against the venv's libraries.
export AMENT_PREFIX_PATH="$venv" ROS_DISTRO="$r2r_distro" IDL_PACKAGE_FILTER=std_msgs CARGO_TARGET_DIR="$out" \
  LD_LIBRARY_PATH="$venv/lib$(printf ':%s' "$venv"/lib/python3*/site-packages/ros_*.libs)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The rpath: the venv's lib, and the site-packages/ros_*.libs directories where auditwheel put
# the libraries those depend on (tinyxml2, spdlog, OpenSSL, … under hashed names), which the
# copies in lib/ cannot find by their own rpath ($ORIGIN/../../../ros_*.libs). DT_RPATH, not
# RUNPATH: it also serves the dependencies' dependencies. So the nodes run with no environment.
rpath="$venv/lib$(printf ':%s' "$venv"/lib/python3*/site-packages/ros_*.libs)"
export RUSTFLAGS="${RUSTFLAGS:-} -L native=$PWD/$out/link -C link-arg=-Wl,--disable-new-dtags,-rpath,$rpath -C link-arg=-Wl,--no-as-needed -C link-arg=-l:libpython3.11.so.1.0"
cargo build --release --locked -p talker -p listener --features talker/ros,listener/ros
echo "build-ros: $out/release/talker and listener (ROS 2 $distro, r2r on rmw_fastrtps_cpp)"
