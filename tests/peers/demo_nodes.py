#!/usr/bin/env python3
"""A stand-in for the stock ROS 2 demo nodes (`ros2 run demo_nodes_cpp talker|listener`), which
cannot be installed here: Cyclone DDS (PyPI `cyclonedds`, as rmw_cyclonedds_cpp uses) speaking
std_msgs/msg/String on rt/chatter with the demo QoS, printing exactly rclcpp's console lines:

  [INFO] [1764650000.123456789] [talker]: Publishing: 'Hello World: 1'
  [INFO] [1764650000.124001002] [listener]: I heard: [Hello World: 1]

  demo_nodes.py talker [--rate-hz R]      (the stock talker publishes at 1 Hz, the default)
  demo_nodes.py listener

Like a real RMW it honours CYCLONEDDS_URI (unicast peers, interfaces) and ROS_DOMAIN_ID. It
prints with Python's print, so its stdout is block-buffered when piped unless PYTHONUNBUFFERED
is set (the harness sets it) — unlike the stock nodes, whose ROS 2 logger writes to stderr
unbuffered. It never chooses an interface itself, except in a
namespace whose only interface is loopback, where Cyclone needs to be told that loopback
carries multicast. Test and demo equipment: the harness runs it through a scenario's `command:`.
"""
import argparse
import os
import signal
import sys
import time


def only_loopback() -> bool:
    try:
        return [n for n in os.listdir("/sys/class/net") if n != "lo"] == []
    except OSError:
        return False


if "CYCLONEDDS_URI" not in os.environ and only_loopback():
    os.environ["CYCLONEDDS_URI"] = (
        "<CycloneDDS><Domain><General><Interfaces>"
        '<NetworkInterface name="lo" multicast="true"/>'
        "</Interfaces></General></Domain></CycloneDDS>"
    )

from cyclonedds.core import InstanceState, ReadCondition, SampleState, ViewState, WaitSet  # noqa: E402
from cyclonedds.domain import DomainParticipant  # noqa: E402
from cyclonedds.pub import DataWriter  # noqa: E402
from cyclonedds.sub import DataReader  # noqa: E402
from cyclonedds.topic import Topic  # noqa: E402
from cyclonedds.util import duration  # noqa: E402
from ros_chatter import QOS, String_  # noqa: E402



def log(node: str, message: str) -> None:
    now = time.time_ns()
    print(f"[INFO] [{now // 1_000_000_000}.{now % 1_000_000_000:09d}] [{node}]: {message}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("node", choices=["talker", "listener"])
    ap.add_argument("--rate-hz", type=float, default=1.0)
    args = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    dp = DomainParticipant(int(os.environ.get("ROS_DOMAIN_ID", "0")))
    topic = Topic(dp, "rt/chatter", String_, qos=QOS)
    if args.node == "talker":
        writer = DataWriter(dp, topic, qos=QOS)
        n = 0
        period = 1.0 / args.rate_hz
        next_at = time.monotonic() + period
        while not stop:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += period
            if stop:
                break
            n += 1
            data = f"Hello World: {n}"
            log("talker", f"Publishing: '{data}'")
            writer.write(String_(data=data))
    else:
        reader = DataReader(dp, topic, qos=QOS)
        # Woken by data (a wait set), not by polling; the timeout only rechecks for a signal.
        waitset = WaitSet(dp)
        waitset.attach(ReadCondition(reader, ViewState.Any | SampleState.Any | InstanceState.Any))
        while not stop:
            waitset.wait(duration(milliseconds=200))
            for sample in reader.take(N=100):
                if isinstance(sample, String_):
                    log("listener", f"I heard: [{sample.data}]")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
