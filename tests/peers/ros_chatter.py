"""What the ROS 2 demo nodes put on the wire, for the Cyclone DDS peers in this directory:
std_msgs/msg/String as its DDS type, and the demo QoS (reliable, keep-last 10, volatile).
Import it after CYCLONEDDS_URI is settled: importing Cyclone reads its configuration."""
from dataclasses import dataclass

from cyclonedds.core import Policy, Qos
from cyclonedds.idl import IdlStruct
from cyclonedds.util import duration


@dataclass
class String_(IdlStruct, typename="std_msgs::msg::dds_::String_"):
    data: str


QOS = Qos(
    Policy.Reliability.Reliable(duration(milliseconds=100)),
    Policy.History.KeepLast(10),
    Policy.Durability.Volatile,
)
