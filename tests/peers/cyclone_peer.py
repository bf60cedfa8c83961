#!/usr/bin/env python3
"""An independent DDS peer for interop tests: Cyclone DDS (PyPI `cyclonedds`) speaking ROS 2's
std_msgs/msg/String on rt/chatter, with demo_nodes QoS (reliable, keep-last 10, volatile).

  cyclone_peer.py pub [--count N] [--rate-hz R] [--format demo|foreign] [--domain D]
  cyclone_peer.py sub [--count N] [--domain D]

`pub` publishes stock demo payloads ("Hello World: N", as demo_nodes_cpp does) or foreign text.
`sub` prints one JSON object per received message ({"data": ...}) and exits after N.
Lines are flushed as written. It never picks an interface itself: the caller runs it inside a
private network namespace whose loopback carries multicast.
"""
import argparse
import json
import os
import sys
import time

# Cyclone avoids loopback for multicast unless told; inside our namespace lo is all there is.
os.environ.setdefault(
    "CYCLONEDDS_URI",
    "<CycloneDDS><Domain><General><Interfaces>"
    '<NetworkInterface name="lo" multicast="true"/>'
    "</Interfaces></General></Domain></CycloneDDS>",
)

from cyclonedds.domain import DomainParticipant  # noqa: E402
from cyclonedds.pub import DataWriter  # noqa: E402
from cyclonedds.sub import DataReader  # noqa: E402
from cyclonedds.topic import Topic  # noqa: E402
from ros_chatter import QOS, String_  # noqa: E402



def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["pub", "sub"])
    ap.add_argument("--count", type=int, default=0, help="0 = until killed")
    ap.add_argument("--rate-hz", type=float, default=20.0)
    ap.add_argument("--format", choices=["demo", "foreign"], default="demo")
    ap.add_argument("--domain", type=int, default=int(os.environ.get("ROS_DOMAIN_ID", "0")))
    args = ap.parse_args()

    dp = DomainParticipant(args.domain)
    topic = Topic(dp, "rt/chatter", String_, qos=QOS)
    print(json.dumps({"peer": "cyclone", "mode": args.mode, "ready": True}), flush=True)
    if args.mode == "pub":
        writer = DataWriter(dp, topic, qos=QOS)
        seq = 0
        period = 1.0 / args.rate_hz
        while args.count == 0 or seq < args.count:
            seq += 1
            text = f"Hello World: {seq}" if args.format == "demo" else f"bonjour {seq}"
            writer.write(String_(data=text))
            print(json.dumps({"sent": seq}), flush=True)
            time.sleep(period)  # pacing the publication rate, not synchronisation
    else:
        reader = DataReader(dp, topic, qos=QOS)
        got = 0
        for sample in reader.take_iter():
            print(json.dumps({"data": sample.data}), flush=True)
            got += 1
            if args.count and got >= args.count:
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
