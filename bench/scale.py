#!/usr/bin/env python3
"""Cost as the work grows: `harness run` on generated scenarios of more ROS 2 processes and more
nodes, one trial each, one after another, on the simulated cluster (every DDS process inside the
harness's own namespaces). Our r2r nodes on Fast DDS (ROS 2 Jazzy's wheels:
target/ros-jazzy/release, scripts/build-ros.sh), two discovery schemes side by side:

  - simple discovery: SPDP multicast reaching every node (network.multicastBetweenNodes, as on
    one LAN or the host network);
  - a Fast DDS discovery server (the wheels' fast-discovery-server in a pod on the master,
    ROS_DISCOVERY_SERVER in every process).

  sudo python3 bench/scale.py [--participants 2,12,50,100] [--nodes 2,5,10] [--rate-hz 1] [--warmup-s 4]

Per run: time to a verdict (the harness's wall time, start to exit), the harness's peak RSS
(VmHWM of its own process, not its nodes'), and each node's discovery traffic (SPDP/SEDP packets
and bytes per second, sent by its processes: the kernel's counters in run.json), mean and max
over nodes. Markdown on stdout."""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER_IP = None  # set per scenario: the server is the last pod, on the master


def library_path(venv):
    dirs = [os.path.join(venv, "lib")]
    dirs += sorted(glob.glob(os.path.join(venv, "lib", "python*", "site-packages", "ros_*.libs")))
    return ":".join(dirs)


def scenario(name, nodes, pods, server, venv, rate, warmup=4):
    """`pods`: (pod name, node index, [(container, role, processes)]); `server`: add the
    discovery server pod (last, on node 0) and point every process at it."""
    y = [f"name: {name}", "nodes:"]
    for i in range(nodes):
        y.append(f"  - {{name: n{i}}}")
    y.append("pods:")
    ip = f"10.42.0.{len(pods) + 2}"
    for pod, node, containers in pods:
        y += [f"  - name: {pod}", "    nodeSelector:", f"      kubernetes.io/hostname: n{node}", "    containers:"]
        for c, role, n in containers:
            env = f", env: {{ROS_DISCOVERY_SERVER: \"{ip}:11811\"}}" if server else ""
            y.append(f"      - {{name: {c}, role: {role}, processes: {n}{env}}}")
    if server:
        exe = os.path.join(venv, "bin", "fast-discovery-server")
        y += [
            "  - name: ds",
            "    nodeSelector:",
            "      kubernetes.io/hostname: n0",
            "    containers:",
            f"      - {{name: server, role: process, standIn: [\"{exe}\", \"-i\", \"0\", \"-l\", \"{ip}\", \"-p\", \"11811\"],"
            f" env: {{LD_LIBRARY_PATH: \"{library_path(venv)}\"}}}}",
        ]
    y += [
        f"trials: {{count: 1, durationS: 4, warmupS: {warmup}, drainS: 0.5, rateHz: {rate}}}",
        "network: {multicastBetweenNodes: " + ("false" if server else "true") + "}",
        "dds: {transport: ros}",
        "",
    ]
    return "\n".join(y)


def run(text, work):
    path = os.path.join(work, "s.yaml")
    with open(path, "w") as f:
        f.write(text)
    out = tempfile.mkdtemp(dir=work)
    start = time.monotonic()
    p = subprocess.Popen(
        [os.path.join(ROOT, "target/release/harness"), "run", "--backend", "netns", "--no-progress",
         "--parallel", "1", "--out", out, path],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hwm = 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.1)
    wall = time.monotonic() - start
    if p.returncode not in (0, 1, 130):
        sys.exit(f"harness exited {p.returncode} on:\n{text}")
    d = glob.glob(os.path.join(out, "*"))[0]
    summary = json.load(open(os.path.join(d, "summary.json")))
    t = summary["trials"][0]
    if t["meta"]["interrupted"]:
        print(f"<!-- {path}: trial incomplete (no window for some pairs) -->", flush=True)
    pairs = t["pairs"]
    delivered = sum(1 for x in pairs if x["received"] > 0)
    rates = []
    for n in t.get("traffic", []):
        s = max(n["ms"], 1) / 1000
        rates.append((n["discovery_sent"]["packets"] / s, n["discovery_sent"]["bytes"] / s / 1024))
    return wall, hwm / 1024, delivered, len(pairs), rates


def row(label, participants, nodes, scheme, r):
    wall, rss, delivered, pairs, rates = r
    pk = [a for a, _ in rates] or [0]
    kb = [b for _, b in rates] or [0]
    mean = lambda v: sum(v) / len(v)
    print(f"| {label} | {participants} | {nodes} | {scheme} | {delivered}/{pairs} | {wall:.1f} | {rss:.0f} | "
          f"{mean(pk):.0f} | {max(pk):.0f} | {mean(kb):.1f} | {max(kb):.1f} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", default="2,12,50,100")
    ap.add_argument("--nodes", default="2,5,10")
    ap.add_argument("--rate-hz", type=float, default=1.0)
    ap.add_argument("--warmup-s", type=float, default=4.0)
    ap.add_argument("--venv", default=os.path.join(ROOT, ".venv-jazzy"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/scale.py drives the netns backend: run it as root")
    for b in ["target/release/harness", "target/ros-jazzy/release/talker"]:
        if not os.path.exists(os.path.join(ROOT, b)):
            sys.exit(f"{b} is missing: cargo build --release -p harness; bash scripts/build-ros.sh jazzy")
    work = tempfile.mkdtemp(prefix="chatter-scale-")
    print("| series | participants | nodes | discovery | pairs delivered | time to verdict s | harness RSS MiB |"
          " discovery sent pkt/s per node (mean) | (max) | KiB/s per node (mean) | (max) |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in [int(x) for x in a.participants.split(",") if x]:
        half = max(n // 2, 1)
        pods = [("robot", 1, [("t", "talker", half)]), ("base", 0, [("l", "listener", n - half)])]
        for server in (False, True):
            r = run(scenario(f"scale-p{n}", 2, pods, server, a.venv, a.rate_hz, a.warmup_s), work)
            row("participants", n, 2, "server" if server else "simple", r)
    for k in [int(x) for x in a.nodes.split(",") if x]:
        # Every node a pod of two talkers and two listeners.
        pods = [(f"p{i}", i, [("t", "talker", 2), ("l", "listener", 2)]) for i in range(k)]
        for server in (False, True):
            r = run(scenario(f"scale-n{k}", k, pods, server, a.venv, a.rate_hz, a.warmup_s), work)
            row("nodes", 4 * k, k, "server" if server else "simple", r)


if __name__ == "__main__":
    main()
