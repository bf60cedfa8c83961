#!/usr/bin/env python3
"""The stock ROS 2 demo nodes (`ros2 run demo_nodes_cpp|demo_nodes_py talker|listener`) on real
rclpy, for local and netns runs: no demo_nodes wheel exists, rclpy and the RMWs do (PyPI
`ros-<distro>-rclpy[fastrtps]`). What matters for a measurement is kept as the stock nodes have
it: std_msgs/msg/String on /chatter, QoS depth 10 (reliable, volatile), "Hello World: N" from
1, one message per period from a timer, and rcutils' console lines on stderr (the default):

  [INFO] [1764650000.123456789] [talker]: Publishing: 'Hello World: 1'   (--flavour cpp)
  [INFO] [1764650000.123456789] [talker]: Publishing: "Hello World: 1"   (--flavour py)
  [INFO] [1764650000.124001002] [listener]: I heard: [Hello World: 1]

  demo_nodes.py talker [--rate-hz R] [--flavour cpp|py] [--phase F]   (the stock talker: 1 Hz)
  demo_nodes.py listener

--phase F (0 ≤ F < 1) puts the talker's sends on the wall-clock grid of its period, F of a
period in: the harness gives each of several stock talkers its own F, so that their
"Hello World: N" — which names no talker — are sent far apart, and a listener's receipt of N
can be attributed to its sender by send time (see the harness's demo attribution).

The RMW is whatever rcl selects (RMW_IMPLEMENTATION; these wheels: rmw_fastrtps_cpp), with its
own environment (ROS_DOMAIN_ID, ROS_STATIC_PEERS, ROS_DISCOVERY_SERVER,
FASTDDS_BUILTIN_TRANSPORTS, FASTRTPS_DEFAULT_PROFILES_FILE, ...) untouched. SIGINT and SIGTERM
end the node cleanly (its participant leaves) with exit status 0, within a bounded time.
"""
import argparse
import math
import os
import signal
import sys
import threading
import time

import rclpy
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from rclpy.qos import QoSProfile
from std_msgs.msg import String


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("node", choices=["talker", "listener"])
    ap.add_argument("--rate-hz", type=float, default=1.0)
    ap.add_argument("--flavour", choices=["cpp", "py"], default="cpp")
    ap.add_argument("--phase", type=float, default=None)
    args, ros_args = ap.parse_known_args()
    # SIGINT and SIGTERM are ours, not rclpy's: with rclpy's handlers (the default) the
    # signal's shutdown of the context could race the executor's wait, and a listener on
    # Fast DDS was seen not to exit at all (once in CI), and for 5 s in 2 of 3 Kilted host-network
    # trials (cf. ros2/rclpy#944). Here the handler only sets a flag; the main loop
    # wakes at least every 0.1 s, and shuts the node down itself.
    rclpy.init(args=[sys.argv[0], *ros_args], signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    node = Node(args.node)
    qos = QoSProfile(depth=10)
    if args.node == "talker":
        pub = node.create_publisher(String, "chatter", qos)
        count = [0]
        quote = "'" if args.flavour == "cpp" else '"'

        def tick() -> None:
            count[0] += 1
            msg = String(data=f"Hello World: {count[0]}")
            # Logged just before it is published, as demo_nodes_cpp does: the log stamp is the
            # send time the harness reads, so it must not come after a receipt.
            node.get_logger().info(f"Publishing: {quote}{msg.data}{quote}")
            try:
                pub.publish(msg)
            except Exception:  # a SIGTERM shut the context down under this callback
                if rclpy.ok():
                    raise

        period = 1.0 / args.rate_hz
        if args.phase is None:
            node.create_timer(period, tick)
        else:
            # The first send at the next instant that is `phase` of a period into the grid.
            now = time.time()
            offset = (args.phase % 1.0) * period
            first = (math.floor((now - offset) / period) + 1) * period + offset
            started = []

            def start() -> None:
                started[0].cancel()
                node.create_timer(period, tick)
                tick()

            started.append(node.create_timer(max(first - now, 0.0), start))
    else:
        node.create_subscription(
            String, "chatter", lambda msg: node.get_logger().info(f"I heard: [{msg.data}]"), qos
        )
    try:
        while not stop.is_set() and rclpy.ok():
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        # Leaving the domain is bounded: a participant whose teardown blocks (Fast DDS) must
        # not keep a stopped node alive; it says so and exits.
        def bound() -> None:
            if not done.wait(5.0):
                print("demo_nodes: shutdown did not finish within 5 s; exiting", file=sys.stderr, flush=True)
                os._exit(0)

        done = threading.Event()
        threading.Thread(target=bound, daemon=True).start()
        node.destroy_node()
        rclpy.try_shutdown()
        done.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
