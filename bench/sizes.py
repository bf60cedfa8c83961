#!/usr/bin/env python3
"""Sensor-sized messages on loopback: goodput and loss of our talker/listener at 64 KiB, 1 MiB
and 4 MiB — on RustDDS and (where built) the r2r flavour on Fast DDS — beside Cyclone DDS's
ddsperf at the same sizes; and the r2r flavour's rate sweep with small messages, an older build
beside the current one. All in one private network namespace with a multicast loopback and a
private /dev/shm, created here (nothing multicasts on a real interface).

  sudo python3 bench/sizes.py [--duration 5] [--sizes 65536,1048576,4194304]
                              [--size-rates 10,30,100,300] [--rates 1000,2000,5000,10000,20000]
                              [--ros-bin-dir target/ros-jazzy/release | --ros-bin-dir none]
                              [--before-ros-bin-dir DIR]   (an older r2r build, for before/after)

Measures
  1. per stack, size and offered rate: messages sent, received, lost after the first delivered
     one (volatile QoS: what was sent before the match is not deliverable), goodput (received
     bytes over the talker's --duration), one-way latency p50/p99 (send time stamped in the
     payload, one clock), CPU seconds of talker and listener (the kernel's, wait4), and UDP receive-buffer
     errors in the namespace (/proc/net/snmp is per namespace); reliable, keep-last 10;
  2. ddsperf pub/sub at the same sizes and rates, and unthrottled (reliable, keep-last 10 like
     ours: -k 10);
  3. the r2r rate sweep (52-byte messages, reliable keep-last 10) of --before-ros-bin-dir beside
     --ros-bin-dir, and RustDDS's, with the highest lossless rate of each.

Needs release builds: cargo build --release -p talker -p listener, and bash
scripts/build-ros.sh jazzy for r2r.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loopback as lb  # noqa: E402  (the namespace, stacks and record readers are shared)

ROOT = lb.ROOT


def enter_namespace():
    """As loopback.py's, re-executing this script."""
    if os.environ.get("CHATTER_BENCH_NS") == "1":
        lb.enter_namespace()
        return
    os.environ["CHATTER_BENCH_NS"] = "1"
    unshare = ["unshare", "--net", "--mount"] if os.geteuid() == 0 else \
        ["unshare", "--user", "--map-root-user", "--net", "--mount"]
    os.execvp("unshare", unshare + ["--", sys.executable, os.path.abspath(__file__)] + sys.argv[1:])


def reap(proc, timeout):
    """Waits for `proc` (killing it after `timeout` s) and returns its CPU seconds, from the
    kernel's account of the child (wait4)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            proc.kill()
        time.sleep(0.05)


def size_run(stack, size, rate, duration):
    """One talker → listener run of `size`-byte messages at `rate` Hz for `duration` s."""
    env = stack.env(0)
    listener = subprocess.Popen(stack.cmd("listener", "--id", "l", "--domain", "0"), stdout=subprocess.PIPE,
                                text=True, env=env)
    lb.wait_start(listener, f"{stack.name} listener")
    drain = lb.Drain(listener)
    udp0 = lb.udp_counters()
    talker = subprocess.Popen(stack.cmd("talker", "--id", "t", "--rate-hz", str(rate), "--duration", str(duration),
                                        "--linger", "1", "--payload-bytes", str(size), "--domain", "0"),
                              stdout=subprocess.PIPE, text=True, env=env)
    out = lb.Drain(talker)
    cpu_t = reap(talker, duration + 30)
    listener.send_signal(signal.SIGTERM)
    cpu_l = reap(listener, 10)
    udp1 = lb.udp_counters()
    got = [r for r in drain.join() if r["kind"] == "recv" and r.get("bytes") == size]
    sent = next(r for r in out.join() if r["kind"] == "stop")["count"]
    seqs = {r["seq"] for r in got}
    first = min(seqs) if seqs else sent + 1
    lat = sorted(r["t_ns"] - r["sent_ns"] for r in got)
    pct = lambda q: lat[min(int(len(lat) * q), len(lat) - 1)] / 1e6 if lat else float("nan")
    return {"sent": sent, "received": len(seqs), "lost": sent - (first - 1) - len(seqs),
            "goodput": len(seqs) * size / duration / 2**20, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "cpu": (cpu_t, cpu_l), "rcvbuf": udp1["RcvbufErrors"] - udp0["RcvbufErrors"]}


def ddsperf_size(size, rate, duration):
    """ddsperf pub → sub of `size`-byte samples (reliable, keep-last 10) at `rate` (None: as fast
    as it can): received, lost (as ddsperf counts), goodput MiB/s."""
    env = dict(os.environ, CYCLONEDDS_URI=lb.CYCLONE_LO)
    sub = subprocess.Popen(["ddsperf", "-k", "10", "-D", str(duration + 2), "sub"], stdout=subprocess.PIPE,
                           text=True, env=env)
    spec = [] if rate is None else [f"{rate}Hz"]
    subprocess.run(["ddsperf", "-k", "10", "-D", str(duration), "pub"] + spec + ["size", str(size)],
                   stdout=subprocess.DEVNULL, check=True, env=env)
    out = sub.communicate(timeout=duration + 15)[0]
    totals = re.findall(r"total (\d+) lost (\d+)", out)
    total, lost = (int(x) for x in totals[-1]) if totals else (0, 0)
    return {"received": total, "lost": lost, "goodput": total * size / duration / 2**20}


def size_table(args, stacks, sizes, rates, have_ddsperf):
    print(f"## Goodput and loss by message size, reliable keep-last 10, {args.duration} s per run\n")
    print("| size | offered Hz | offered MiB/s | stack | sent | received | lost after match | goodput MiB/s "
          "| p50 / p99 ms | talker / listener CPU s | UDP RcvbufErrors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        for rate in rates:
            offered = f"{size * rate / 2**20:.1f}"
            for stack in stacks:
                r = size_run(stack, size, rate, args.duration)
                print(f"| {size // 1024} KiB | {rate} | {offered} | {stack.name} | {r['sent']} | {r['received']} "
                      f"| {r['lost']} | {r['goodput']:.1f} | {r['p50_ms']:.1f} / {r['p99_ms']:.1f} "
                      f"| {r['cpu'][0]:.2f} / {r['cpu'][1]:.2f} | {r['rcvbuf']} |", flush=True)
            if have_ddsperf:
                d = ddsperf_size(size, rate, args.duration)
                print(f"| {size // 1024} KiB | {rate} | {offered} | ddsperf | – | {d['received']} | {d['lost']} "
                      f"| {d['goodput']:.1f} | – | – | – |", flush=True)
        if have_ddsperf:
            d = ddsperf_size(size, None, args.duration)
            print(f"| {size // 1024} KiB | unthrottled | – | ddsperf | – | {d['received']} | {d['lost']} "
                  f"| {d['goodput']:.1f} | – | – | – |", flush=True)


def rate_table(args, stacks, rates):
    print(f"\n## Rate sweep, 52-byte messages, reliable keep-last 10, {args.duration} s per rate\n")
    print("| requested Hz | stack | sent/s | lost after match | p50 / p99 µs |")
    print("|---|---|---|---|---|")
    lossless = {}
    for stack in stacks:
        best, broken = 0, False
        for row in lb.sweep(stack, rates, args.duration):
            print(f"| {row['rate']} | {stack.name} | {row['achieved']:.0f} | {row['lost']} "
                  f"| {row['p50_us']:.0f} / {row['p99_us']:.0f} |", flush=True)
            broken = broken or row["lost"] > 0
            best = best if broken else row["rate"]
        lossless[stack.name] = best
    print("\n| stack | highest lossless rate (it and every lower rate swept lost nothing) |")
    print("|---|---|")
    for name, best in lossless.items():
        print(f"| {name} | {f'{best} Hz' if best else f'none (lost at {min(rates)} Hz)'} |")


def r2r_stack(name, bin_dir, transports):
    stack = lb.r2r_stacks(bin_dir, [transports])[0]
    stack.name = name
    return stack


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--sizes", default="65536,1048576,4194304")
    ap.add_argument("--size-rates", default="10,30,100,300")
    ap.add_argument("--rates", default="1000,2000,5000,10000,20000")
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--ros-bin-dir", default=os.path.join(ROOT, "target", "ros-jazzy", "release"))
    ap.add_argument("--before-ros-bin-dir", default=None)
    ap.add_argument("--sections", default="sizes,rates")
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    ros = args.ros_bin_dir != "none"
    dirs = [args.bin_dir] + ([args.ros_bin_dir] if ros else []) + [d for d in [args.before_ros_bin_dir] if d]
    for d in dirs:
        for b in ("talker", "listener"):
            if not os.path.isfile(os.path.join(d, b)):
                ap.error(f"{os.path.join(d, b)} missing (cargo build --release / bash scripts/build-ros.sh jazzy)")
    have_ddsperf = shutil.which("ddsperf") is not None
    enter_namespace()
    if ros:
        print(f"r2r nodes: {lb.ros_versions(args.ros_bin_dir)}")
    print(f"load average at start: {' '.join(open('/proc/loadavg').read().split()[:3])}\n")
    rustdds = lb.rustdds_stack(args.bin_dir)
    r2r = [r2r_stack("r2r / Fast DDS, default transports", args.ros_bin_dir, "default"),
           r2r_stack("r2r / Fast DDS, UDPv4", args.ros_bin_dir, "UDPv4")] if ros else []
    if "sizes" in sections:
        size_table(args, [rustdds] + r2r, [int(s) for s in args.sizes.split(",")],
                   [int(r) for r in args.size_rates.split(",")], have_ddsperf)
    if "rates" in sections:
        stacks = [rustdds]
        if args.before_ros_bin_dir:
            stacks += [r2r_stack("r2r before, default transports", args.before_ros_bin_dir, "default"),
                       r2r_stack("r2r before, UDPv4", args.before_ros_bin_dir, "UDPv4")]
        if ros:
            stacks += [r2r_stack("r2r now, default transports", args.ros_bin_dir, "default"),
                       r2r_stack("r2r now, UDPv4", args.ros_bin_dir, "UDPv4")]
        rate_table(args, stacks, [int(r) for r in args.rates.split(",")])
    print(f"\nload average at end: {' '.join(open('/proc/loadavg').read().split()[:3])}")


if __name__ == "__main__":
    main()
