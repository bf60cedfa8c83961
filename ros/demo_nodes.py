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
  both: [--message-type T] [--payload-bytes B] [--reliability reliable|best-effort] [--depth D]

--message-type sensor_msgs/msg/Image or sensor_msgs/msg/PointCloud2 publishes (and subscribes
to) sensor-sized messages, as a camera or a lidar driver does, on the same topic: --payload-bytes
is the size of their `data` (an 8-bit mono image 1024 pixels wide where the size allows, else one
row; a cloud of 16-byte x/y/z/intensity points). Their `header.frame_id` carries
"Hello World: N", and the console lines are those of the String demo, so the harness reads
either alike. With String, --payload-bytes pads the text as the harness's own talker does
("Hello World: N ~xxx…"), and the listener logs the head only: the payload never reaches the
console.

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
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

STRING, IMAGE, CLOUD = "std_msgs/msg/String", "sensor_msgs/msg/Image", "sensor_msgs/msg/PointCloud2"
# "Hello World: N" and padding, as the harness's own talker pads (chatter's payload module).
PAD = " ~"


def message_class(name):
    """The rclpy class of a message type (sensor_msgs only imported when asked for)."""
    if name == STRING:
        return String
    from sensor_msgs.msg import Image, PointCloud2  # pylint: disable=import-outside-toplevel
    return Image if name == IMAGE else PointCloud2


def sized_message(name, size):
    """A message of type `name` whose payload is `size` bytes (its `data`; a String's text is
    padded on each send instead)."""
    cls = message_class(name)
    msg = cls()
    if name == IMAGE:
        width = 1024 if size >= 1024 and size % 1024 == 0 else max(size, 1)
        msg.height, msg.width, msg.encoding, msg.step = max(size, 1) // width, width, "mono8", width
        msg.data = bytes(msg.height * msg.step)
    elif name == CLOUD:
        from sensor_msgs.msg import PointField  # pylint: disable=import-outside-toplevel
        msg.fields = [PointField(name=n, offset=4 * i, datatype=PointField.FLOAT32, count=1)
                      for i, n in enumerate(("x", "y", "z", "intensity"))]
        msg.height, msg.point_step, msg.is_dense = 1, 16, True
        msg.width = -(-max(size, 1) // 16)
        msg.row_step = msg.width * msg.point_step
        msg.data = bytes(msg.row_step)
    return msg


def stamp(msg, node, text, size):
    """Puts "Hello World: N" (`text`) in the message: a String's data (padded to `size`), an
    image's or a cloud's header (with the time of sending)."""
    if isinstance(msg, String):
        msg.data = text if len(text) >= size else text + PAD + "x" * max(size - len(text) - len(PAD), 0)
    else:
        msg.header.frame_id = text
        msg.header.stamp = node.get_clock().now().to_msg()


def heard(msg):
    """What the listener logs of a message: its "Hello World: N", never its payload."""
    if isinstance(msg, String):
        return msg.data.split(PAD, 1)[0]
    return msg.header.frame_id


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("node", choices=["talker", "listener"])
    ap.add_argument("--rate-hz", type=float, default=1.0)
    ap.add_argument("--flavour", choices=["cpp", "py"], default="cpp")
    ap.add_argument("--phase", type=float, default=None)
    ap.add_argument("--message-type", choices=[STRING, IMAGE, CLOUD], default=STRING)
    ap.add_argument("--payload-bytes", type=int, default=0)
    ap.add_argument("--reliability", choices=["reliable", "best-effort"], default="reliable")
    ap.add_argument("--depth", type=int, default=10)
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
    qos = QoSProfile(depth=args.depth, reliability=ReliabilityPolicy.RELIABLE if args.reliability == "reliable"
                     else ReliabilityPolicy.BEST_EFFORT)
    cls = message_class(args.message_type)
    if args.node == "talker":
        pub = node.create_publisher(cls, "chatter", qos)
        count = [0]
        quote = "'" if args.flavour == "cpp" else '"'
        # Built once: a camera driver fills the same buffer each frame.
        msg = sized_message(args.message_type, args.payload_bytes)

        def tick() -> None:
            count[0] += 1
            text = f"Hello World: {count[0]}"
            stamp(msg, node, text, args.payload_bytes)
            # Logged just before it is published, as demo_nodes_cpp does: the log stamp is the
            # send time the harness reads, so it must not come after a receipt.
            node.get_logger().info(f"Publishing: {quote}{text}{quote}")
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
        node.create_subscription(cls, "chatter", lambda m: node.get_logger().info(f"I heard: [{heard(m)}]"), qos)
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
