# syntax=docker/dockerfile:1.7
# The ROS flavour: talker and listener built with the `ros` feature (r2r over rcl), so they use
# the image's real RMW (Fast DDS by default in Humble; RMW_IMPLEMENTATION selects another).
# r2r links the target's ROS libraries, so each platform builds natively (buildx runs the arm64
# build under QEMU):
#   docker buildx build --platform linux/amd64,linux/arm64 -f docker/ros.Dockerfile --target listener .
ARG ROS_DISTRO=humble

FROM ros:${ROS_DISTRO} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates clang libclang-dev \
 && rm -rf /var/lib/apt/lists/*
ENV RUSTUP_HOME=/opt/rustup CARGO_HOME=/opt/cargo PATH=/opt/cargo/bin:$PATH
RUN curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain 1.89
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/opt/cargo/registry \
    . "/opt/ros/${ROS_DISTRO}/setup.bash" \
 && cargo build --release --locked -p talker -p listener --features ros \
 && mkdir -p /out && cp target/release/talker target/release/listener /out/

FROM ros:${ROS_DISTRO}-ros-core AS runtime
ARG ROS_DISTRO
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Cyclone DDS as a second RMW (RMW_IMPLEMENTATION=rmw_cyclonedds_cpp), e.g. for unicast peers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends "ros-${ROS_DISTRO}-rmw-cyclonedds-cpp" \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 65532 --no-create-home --shell /usr/sbin/nologin ros
USER 65532:65532

FROM runtime AS talker
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=build /out/talker /usr/local/bin/talker
# The runtime base (ros-core) must carry every library the build (ros) linked: fail here, not on
# the Pi.
RUN . "/opt/ros/${ROS_DISTRO}/setup.bash" && ldd /usr/local/bin/talker | tee /dev/stderr | (! grep "not found")
ENTRYPOINT ["/ros_entrypoint.sh", "/usr/local/bin/talker", "--transport", "ros"]

FROM runtime AS listener
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=build /out/listener /usr/local/bin/listener
# The runtime base (ros-core) must carry every library the build (ros) linked: fail here, not on
# the Pi.
RUN . "/opt/ros/${ROS_DISTRO}/setup.bash" && ldd /usr/local/bin/listener | tee /dev/stderr | (! grep "not found")
ENTRYPOINT ["/ros_entrypoint.sh", "/usr/local/bin/listener", "--transport", "ros"]
