# Source it: `source scripts/ros-env.sh [jazzy|kilted]` gives a shell in which the ROS 2 wheels
# of .venv-<distro> (scripts/setup.sh) run — the venv's python with rclpy, and the r2r nodes of
# scripts/build-ros.sh (target/ros-<distro>/release/{talker,listener}, also put on PATH).
# Nothing of /opt/ros is sourced, and little is needed: the venv's python finds rclpy by itself,
# and the r2r nodes find the venv's libraries by their rpath (see scripts/build-ros.sh). Set:
#   PATH                the venv's bin (python, fast-discovery-server) and the r2r nodes
#   RMW_IMPLEMENTATION  rmw_fastrtps_cpp, the only RMW with a wheel (their librcl links it anyway)
#   AMENT_PREFIX_PATH   the venv, for tools that look packages up in its ament index
#   ROS_DISTRO          for tools that read it
_chh_distro=${1:-jazzy}
_chh_root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
_chh_venv="$_chh_root/.venv-$_chh_distro"
if [ ! -x "$_chh_venv/bin/python" ]; then
  echo "ros-env: ROS 2 $_chh_distro is not installed in .venv-$_chh_distro: run scripts/setup.sh" >&2
else
  export AMENT_PREFIX_PATH="$_chh_venv"
  export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
  export ROS_DISTRO="$_chh_distro"
  export PATH="$_chh_root/target/ros-$_chh_distro/release:$_chh_venv/bin:$PATH"
fi
unset _chh_distro _chh_root _chh_venv
