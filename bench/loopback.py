#!/usr/bin/env python3
"""Loopback benchmarks of the talker/listener — on RustDDS, and (where built) the r2r flavour on
ROS 2 with Fast DDS — side by side with Cyclone DDS's ddsperf, all in one private network
namespace created here (nothing multicasts on a real interface), with a private /dev/shm (so
Fast DDS's shared-memory segments never outlive the run).

  sudo python3 bench/loopback.py [--runs 15] [--duration 3] [--rates 1000,2000,5000,10000]
                                 [--ros-bin-dir target/ros-jazzy/release | --ros-bin-dir none]

The stacks measured, one after another in the same namespace:
  - RustDDS: target/release/{talker,listener} (ros2-client on RustDDS, UDP);
  - r2r on Fast DDS, its default transports (shared memory between processes of one host, UDP
    for discovery), and again with FASTDDS_BUILTIN_TRANSPORTS=UDPv4 (UDP only, like RustDDS):
    the `--features ros` build of scripts/build-ros.sh (--ros-bin-dir; skipped with a message
    where it is not built);
  - Cyclone DDS's ddsperf.
Which transport carried the data is measured, not assumed: UDP datagrams the namespace sent per
delivered message during the 1 kHz run (/proc/net/snmp is per network namespace), and the
entries seen in the private /dev/shm.

Measures
  1. time to first received message (talker and listener started together), median over
     --runs fresh pairs: from the nodes' first start record (transport open) and from spawn;
  2. a rate sweep: per rate, messages sent by the talker vs received by the listener (reliable,
     keep-last 10); the highest rate with zero loss is the lossless rate;
  3. ddsperf pub/sub at the same rates and unthrottled (reliable), in the same namespace, and
     ddsperf ping/pong latency at 1 kHz (one-way = round trip / 2) beside ours at 1 kHz (send
     time stamped in the payload by the talker, receive time by the listener: one clock);
  4. node footprint: a talker and a listener at 10 Hz for --footprint-seconds, CPU time and
     peak RSS of each (GNU time), natively and — with --arm64-bin-dir and qemu-aarch64 — the
     aarch64 builds under qemu-user (emulator included);
  5. binary sizes.

Needs release builds: cargo build --release -p talker -p listener (and, for r2r,
bash scripts/build-ros.sh jazzy).
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CYCLONE_LO = ('<CycloneDDS><Domain><General><Interfaces>'
              '<NetworkInterface name="lo" multicast="true"/>'
              '</Interfaces></General></Domain></CycloneDDS>')
SHM = "/dev/shm"


def enter_namespace():
    """Re-executes this script inside a new network namespace with a multicast loopback and a
    mount namespace with a private /dev/shm (one tmpfs for every process of the run: one host)."""
    if os.environ.get("CHATTER_BENCH_NS") == "1":
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "link", "set", "lo", "multicast", "on"],
                    ["ip", "route", "add", "224.0.0.0/4", "dev", "lo"],
                    ["mount", "-t", "tmpfs", "-o", "mode=1777,size=256m", "chatter-bench-shm", SHM]):
            subprocess.run(cmd, check=True)
        return
    os.environ["CHATTER_BENCH_NS"] = "1"
    unshare = ["unshare", "--net", "--mount"] if os.geteuid() == 0 else \
        ["unshare", "--user", "--map-root-user", "--net", "--mount"]
    os.execvp("unshare", unshare + ["--", sys.executable, os.path.abspath(__file__)] + sys.argv[1:])


class Stack:
    """One build of the talker/listener on one DDS stack: how to run it and how to name it."""

    def __init__(self, name, bin_dir, args=(), env=None, unset=()):
        self.name, self.bin_dir, self.args = name, bin_dir, list(args)
        self.extra_env, self.unset = dict(env or {}), tuple(unset)

    def cmd(self, binary, *args):
        return [os.path.join(self.bin_dir, binary)] + list(args) + self.args

    def env(self, domain=0):
        # rcl takes the domain from ROS_DOMAIN_ID (the r2r nodes refuse a --domain that differs);
        # the RustDDS nodes read it too, and --domain is always given as well.
        env = {k: v for k, v in os.environ.items() if k not in self.unset}
        env.update(self.extra_env, ROS_DOMAIN_ID=str(domain))
        return env


def rustdds_stack(bin_dir):
    return Stack("RustDDS (UDP)", bin_dir, unset=("FASTDDS_BUILTIN_TRANSPORTS",))


def r2r_stacks(ros_bin_dir, transports):
    """The r2r build on Fast DDS, once per requested builtin-transport setting. Like the tests,
    nothing of scripts/ros-env.sh but the RMW: the nodes find the wheels by their rpath."""
    base = {"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp"}
    unset = ("AMENT_PREFIX_PATH", "LD_LIBRARY_PATH", "FASTDDS_BUILTIN_TRANSPORTS", "FASTRTPS_DEFAULT_PROFILES_FILE",
             "FASTDDS_DEFAULT_PROFILES_FILE", "ROS_STATIC_PEERS", "ROS_AUTOMATIC_DISCOVERY_RANGE")
    stacks = []
    for t in transports:
        if t == "default":
            stacks.append(Stack("r2r / Fast DDS, default transports", ros_bin_dir, ["--transport", "ros"], base, unset))
        else:
            stacks.append(Stack(f"r2r / Fast DDS, FASTDDS_BUILTIN_TRANSPORTS={t}", ros_bin_dir, ["--transport", "ros"],
                                dict(base, FASTDDS_BUILTIN_TRANSPORTS=t), unset))
    return stacks


def records(proc):
    for line in proc.stdout:
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue  # a middleware's own console line


class Drain:
    """Reads a process's JSON-line records on a thread so its stdout never blocks."""

    def __init__(self, proc):
        self.records = []
        self.thread = threading.Thread(target=lambda: self.records.extend(records(proc)), daemon=True)
        self.thread.start()

    def join(self):
        self.thread.join(timeout=30)
        return self.records


def wait_start(proc, what):
    """Reads `proc`'s stdout up to its start record (the node is up); fails if it exits first."""
    for r in records(proc):
        if r.get("kind") == "start":
            return r
    raise SystemExit(f"loopback: {what} exited (status {proc.wait()}) before its start record")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=10)


def udp_counters():
    """This network namespace's UDP counters (/proc/net/snmp is per namespace)."""
    lines = [l.split() for l in open("/proc/net/snmp") if l.startswith("Udp:")]
    return dict(zip(lines[0][1:], (int(x) for x in lines[1][1:])))


class ShmWatch:
    """The entries that appear in the private /dev/shm while it runs (sampled every 50 ms): the
    most at once, and their kinds (ids and numbers folded). lttng-ust's wait files (rcl's
    tracing) are not a transport and are left out."""

    def __init__(self):
        self.before = set(os.listdir(SHM))
        self.most, self.kinds, self.done = 0, set(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done.wait(0.05):
            new = [n for n in os.listdir(SHM) if n not in self.before and not n.startswith("lttng-ust")]
            self.most = max(self.most, len(new))
            self.kinds.update(re.sub(r"\d+", "N", re.sub(r"[0-9a-f]{8,}", "<id>", n)) for n in new)

    def stop(self):
        self.done.set()
        self.thread.join()
        return self


def first_message(stack, runs):
    """Per run (ms): from the pair's first start record to the first receipt, and from spawn."""
    from_start, from_spawn = [], []
    for i in range(runs):
        domain = i % 200  # a fresh domain per run: no stale participant can help
        env = stack.env(domain)
        spawned = time.time_ns()
        listener = subprocess.Popen(stack.cmd("listener", "--id", "l", "--count", "1", "--domain", str(domain)),
                                    stdout=subprocess.PIPE, text=True, env=env)
        talker = subprocess.Popen(stack.cmd("talker", "--id", "t", "--rate-hz", "100", "--domain", str(domain)),
                                  stdout=subprocess.PIPE, text=True, env=env)
        starts, first = [], None
        for r in records(listener):
            if r["kind"] == "start":
                starts.append(r["t_ns"])
            elif r["kind"] == "recv":
                first = r["t_ns"]
        stop(talker)
        starts += [r["t_ns"] for r in records(talker) if r["kind"] == "start"]
        if first is None or len(starts) != 2:
            raise SystemExit(f"loopback: {stack.name}: run {i + 1} of the first-message test heard nothing")
        from_start.append((first - min(starts)) / 1e6)
        from_spawn.append((first - spawned) / 1e6)
    return from_start, from_spawn


def sweep(stack, rates, duration):
    rows = []
    for rate in rates:
        env = stack.env(0)
        listener = subprocess.Popen(stack.cmd("listener", "--id", "l", "--domain", "0"), stdout=subprocess.PIPE,
                                    text=True, env=env)
        wait_start(listener, f"{stack.name} listener")  # the listener is up
        drain = Drain(listener)
        udp0, shm = udp_counters(), ShmWatch()
        t0 = time.monotonic()
        talker = subprocess.run(stack.cmd("talker", "--id", "t", "--rate-hz", str(rate), "--duration", str(duration),
                                          "--linger", "1", "--domain", "0"),
                                stdout=subprocess.PIPE, text=True, check=True, env=env)
        elapsed = time.monotonic() - t0
        stop(listener)
        shm.stop()
        udp1 = udp_counters()
        got = [r for r in drain.join() if r["kind"] == "recv"]
        sent = next(json.loads(l) for l in talker.stdout.splitlines() if '"stop"' in l)["count"]
        seqs = {r["seq"] for r in got}
        received = len(seqs)
        # Messages published before discovery matched are not deliverable (volatile QoS); loss
        # counts from the first delivered sequence number on.
        first = min(seqs) if seqs else sent + 1
        deliverable = sent - (first - 1)
        lat = sorted(r["t_ns"] - r["sent_ns"] for r in got)
        p50 = lat[len(lat) // 2] / 1e3 if lat else float("nan")
        p99 = lat[int(len(lat) * 0.99)] / 1e3 if lat else float("nan")
        rows.append({"rate": rate, "sent": sent, "received": received, "lost": deliverable - received,
                     "before_match": first - 1,
                     "achieved": sent / duration, "p50_us": p50, "p99_us": p99, "wall_s": elapsed,
                     "udp_out": udp1["OutDatagrams"] - udp0["OutDatagrams"],
                     "udp_rcvbuf_errors": udp1["RcvbufErrors"] - udp0["RcvbufErrors"],
                     "shm_most": shm.most, "shm_kinds": sorted(shm.kinds)})
    return rows


def transport_seen(udp_per_msg, shm_most):
    """What carried the data, from what was measured: a UDP datagram (or more: heartbeats,
    acknowledgements) per message, or next to none while segments sat in /dev/shm."""
    if udp_per_msg >= 0.5:
        return "UDP"
    if shm_most > 0:
        return "shared memory (UDP only for discovery)"
    return "neither UDP nor /dev/shm?"


def ddsperf(rate, duration):
    env = dict(os.environ, CYCLONEDDS_URI=CYCLONE_LO)
    sub = subprocess.Popen(["ddsperf", "-D", str(duration + 2), "sub"], stdout=subprocess.PIPE, text=True, env=env)
    spec = [] if rate is None else [f"{rate}Hz"]
    subprocess.run(["ddsperf", "-D", str(duration), "pub"] + spec + ["size", "52"],
                   stdout=subprocess.DEVNULL, check=True, env=env)
    out = sub.communicate(timeout=duration + 10)[0]
    totals = re.findall(r"total (\d+) lost (\d+)", out)
    total, lost = (int(x) for x in totals[-1]) if totals else (0, 0)
    return {"rate": rate or "max", "received": total, "lost": lost, "achieved": total / duration}


def ddsperf_latency(rate, duration):
    """ddsperf ping/pong at `rate`: round-trip percentiles of the last full second, in µs, and
    the UDP datagrams sent per ping."""
    env = dict(os.environ, CYCLONEDDS_URI=CYCLONE_LO)
    udp0 = udp_counters()
    pong = subprocess.Popen(["ddsperf", "-D", str(duration + 2), "pong"], stdout=subprocess.DEVNULL, env=env)
    out = subprocess.run(["ddsperf", "-D", str(duration), "ping", f"{rate}Hz", "size", "52"],
                         stdout=subprocess.PIPE, text=True, check=True, env=env).stdout
    pong.wait(timeout=duration + 10)
    udp = udp_counters()["OutDatagrams"] - udp0["OutDatagrams"]
    rows = re.findall(r"50% ([\d.]+)us 90% [\d.]+us 99% ([\d.]+)us", out)
    p50, p99 = (float(x) for x in rows[-1]) if rows else (float("nan"), float("nan"))
    # A ping and its pong are two messages.
    return {"rtt_p50_us": p50, "rtt_p99_us": p99, "udp_per_msg": udp / (2 * rate * duration)}


def footprint(cmd_prefix, stack, seconds):
    """A talker and a listener at 10 Hz for `seconds`: (CPU s, peak RSS MiB) of each, measured by
    GNU time around each process (a fork of this script would inherit this process's peak RSS:
    Linux keeps the high-water mark across exec)."""
    tmp = tempfile.mkdtemp()
    env = stack.env(0)
    timed = lambda name: ["/usr/bin/time", "-f", "%U %S %M", "-o", os.path.join(tmp, name)] + cmd_prefix
    try:
        listener = subprocess.Popen(timed("listener") + stack.cmd("listener", "--id", "l", "--domain", "0",
                                                                  "--duration", str(seconds + 2)),
                                    stdout=subprocess.PIPE, text=True, env=env)
        drain = Drain(listener)
        talker = subprocess.Popen(timed("talker") + stack.cmd("talker", "--id", "t", "--rate-hz", "10", "--domain", "0",
                                                              "--duration", str(seconds)),
                                  stdout=subprocess.DEVNULL, env=env)
        talker.wait()
        listener.wait()
        heard = sum(1 for r in drain.join() if r["kind"] == "recv")
        out = {}
        for name in ("talker", "listener"):
            user, sys_, kib = open(os.path.join(tmp, name)).read().split()[-3:]
            out[name] = (float(user) + float(sys_), int(kib) / 1024)
    finally:
        shutil.rmtree(tmp)
    return out, heard


def ros_versions(ros_bin_dir):
    """'ROS 2 jazzy: rclpy …, rmw_fastrtps_cpp …, Fast DDS …; r2r …' from the wheels' dist-info
    names in .venv-<distro> and from Cargo.lock — what the r2r build was built against."""
    distro = next((p[4:] for p in os.path.normpath(ros_bin_dir).split(os.sep) if p.startswith("ros-")), "jazzy")
    site = glob.glob(os.path.join(ROOT, f".venv-{distro}", "lib", "python3*", "site-packages"))
    names = os.listdir(site[0]) if site else []
    version = lambda dist: next((n[len(dist) + 1:-len(".dist-info")] for n in names
                                 if n.startswith(dist + "-") and n.endswith(".dist-info")), "?")
    fastdds = version("ros_fastdds") if version("ros_fastdds") != "?" else version("ros_fastrtps")
    lock = open(os.path.join(ROOT, "Cargo.lock")).read()
    r2r = re.search(r'name = "r2r"\nversion = "([^"]+)"', lock)
    return (f"ROS 2 {distro}: rclpy {version('ros_rclpy')}, rmw_fastrtps_cpp {version('ros_rmw_fastrtps_cpp')}, "
            f"Fast DDS {fastdds}; r2r {r2r.group(1) if r2r else '?'}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--duration", type=int, default=3)
    ap.add_argument("--rates", default="1000,5000,10000,20000,50000,100000")
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--arm64-bin-dir", default=os.path.join(ROOT, "target", "aarch64-unknown-linux-gnu", "release"))
    ros_default = os.path.join(ROOT, "target", "ros-jazzy", "release")
    ap.add_argument("--ros-bin-dir", default=ros_default,
                    help="the r2r build (bash scripts/build-ros.sh jazzy); 'none' leaves r2r out")
    ap.add_argument("--fastdds-transports", default="default,UDPv4",
                    help="r2r runs, one per FASTDDS_BUILTIN_TRANSPORTS value ('default': the variable unset)")
    ap.add_argument("--footprint-seconds", type=int, default=20)
    ap.add_argument("--sections", default="first,sweep,latency,footprint,sizes",
                    help="which of first,sweep,latency,footprint,sizes to measure")
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    sections = set(args.sections.split(","))
    unknown = sections - {"first", "sweep", "latency", "footprint", "sizes"}
    if unknown:
        ap.error(f"--sections: unknown {', '.join(sorted(unknown))} (first,sweep,latency,footprint,sizes)")
    for b in ("talker", "listener"):
        if not os.path.isfile(os.path.join(args.bin_dir, b)):
            ap.error(f"--bin-dir: {os.path.join(args.bin_dir, b)} missing: cargo build --release -p talker -p listener")
    stacks, notes = [rustdds_stack(args.bin_dir)], []
    if args.ros_bin_dir != "none":
        missing = [b for b in ("talker", "listener") if not os.path.isfile(os.path.join(args.ros_bin_dir, b))]
        if missing and args.ros_bin_dir != ros_default:
            ap.error(f"--ros-bin-dir: {', '.join(os.path.join(args.ros_bin_dir, b) for b in missing)} missing")
        if missing:
            notes.append(f"loopback: no r2r build in {os.path.relpath(args.ros_bin_dir, ROOT)} (bash "
                         "scripts/build-ros.sh jazzy): its rows are left out")
        else:
            stacks += r2r_stacks(args.ros_bin_dir, args.fastdds_transports.split(","))
    have_ddsperf = shutil.which("ddsperf") is not None
    if not have_ddsperf:
        notes.append("loopback: ddsperf not found (Debian: cyclonedds-tools): its rows are left out")
    enter_namespace()
    for note in notes:
        print(note, file=sys.stderr)
    if len(stacks) > 1:
        print(f"r2r nodes: {ros_versions(args.ros_bin_dir)}\n")
    # The machine may be shared: the load beside the run is part of its figures.
    print(f"load average at start: {' '.join(open('/proc/loadavg').read().split()[:3])}\n")
    if "first" in sections:
        first(args, stacks)
    if "sweep" in sections:
        rate_sweep(args, stacks, rates, have_ddsperf)
    if "latency" in sections:
        latency(args, stacks, have_ddsperf)
    if "footprint" in sections:
        node_footprint(args, stacks)
    if "sizes" in sections:
        sizes(args)
    print(f"\nload average at end: {' '.join(open('/proc/loadavg').read().split()[:3])}")


def first(args, stacks):
    print(f"## Time to first message ({args.runs} runs, talker at 100 Hz, started with the listener)\n")
    print("| stack | median from start records | min | max | median from spawn | min | max |")
    print("|---|---|---|---|---|---|---|")
    for stack in stacks:
        from_start, from_spawn = first_message(stack, args.runs)
        print(f"| {stack.name} | {statistics.median(from_start):.1f} ms | {min(from_start):.1f} ms "
              f"| {max(from_start):.1f} ms | {statistics.median(from_spawn):.1f} ms | {min(from_spawn):.1f} ms "
              f"| {max(from_spawn):.1f} ms |", flush=True)
    print()


def rate_sweep(args, stacks, rates, have_ddsperf):
    print(f"## Rate sweep, reliable keep-last 10, {args.duration} s per rate\n")
    print("| requested Hz | stack | sent/s | sent before match | lost after match | p50 µs | p99 µs |")
    print("|---|---|---|---|---|---|---|")
    lost = {}  # stack → [(rate, lost)]
    for stack in stacks:
        for row in sweep(stack, rates, args.duration):
            lost.setdefault(stack.name, []).append((row["rate"], row["lost"]))
            print(f"| {row['rate']} | {stack.name} | {row['achieved']:.0f} | {row['before_match']} | {row['lost']} "
                  f"| {row['p50_us']:.0f} | {row['p99_us']:.0f} |", flush=True)
    if have_ddsperf:
        for rate in rates + [None]:
            d = ddsperf(rate, args.duration)
            if rate:
                lost.setdefault("ddsperf", []).append((rate, d["lost"]))
            print(f"| {rate or 'unthrottled'} | ddsperf | {d['achieved']:.0f} (received) | – | {d['lost']} | – | – |",
                  flush=True)
    print("\n| stack | highest lossless rate (it and every lower rate swept lost nothing) |")
    print("|---|---|")
    for name, rows in lost.items():
        lossless = 0
        for rate, n in sorted(rows):
            if n:
                break
            lossless = rate
        print(f"| {name} | {f'{lossless} Hz' if lossless else f'none (lost at {min(rates)} Hz)'} |")


def latency(args, stacks, have_ddsperf):
    print("\n## One-way latency at 1 kHz, reliable, 52-byte payload, same namespace\n")
    print("| stack | p50 µs | p99 µs | UDP datagrams sent per message | new /dev/shm entries (most at once) "
          "| data went over |")
    print("|---|---|---|---|---|---|")
    for stack in stacks:
        ours = sweep(stack, [1000], args.duration)[0]
        per_msg = ours["udp_out"] / max(ours["received"], 1)
        shm = f"{ours['shm_most']}" + (f" ({', '.join(ours['shm_kinds'])})" if ours["shm_kinds"] else "")
        print(f"| {stack.name} talker → listener (stamped in the nodes) | {ours['p50_us']:.0f} | {ours['p99_us']:.0f} "
              f"| {per_msg:.2f} | {shm} | {transport_seen(per_msg, ours['shm_most'])} |", flush=True)
    if have_ddsperf:
        d = ddsperf_latency(1000, args.duration)
        print(f"| ddsperf ping/pong (round trip / 2) | {d['rtt_p50_us'] / 2:.0f} | {d['rtt_p99_us'] / 2:.0f} "
              f"| {d['udp_per_msg']:.2f} | – | {transport_seen(d['udp_per_msg'], 0)} |")


def node_footprint(args, stacks):
    print(f"\n## Node footprint: talker + listener at 10 Hz for {args.footprint_seconds} s\n")
    print("| build | talker CPU | talker peak RSS | listener CPU | listener peak RSS | heard |")
    print("|---|---|---|---|---|---|")
    builds = [(f"amd64, native: {stack.name}", [], stack) for stack in stacks]
    if shutil.which("qemu-aarch64") and os.path.isfile(os.path.join(args.arm64_bin_dir, "talker")):
        builds.append(("arm64 under qemu-user (emulator included): RustDDS (UDP)",
                       ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"], rustdds_stack(args.arm64_bin_dir)))
    for name, prefix, stack in builds:
        out, heard = footprint(prefix, stack, args.footprint_seconds)
        (tc, tr), (lc, lr) = out["talker"], out["listener"]
        share = lambda cpu: f"{cpu:.2f} s ({100 * cpu / args.footprint_seconds:.1f} %)"
        print(f"| {name} | {share(tc)} | {tr:.1f} MiB | {share(lc)} | {lr:.1f} MiB | {heard} |", flush=True)


def sizes(args):
    print("\n## Binary sizes (release, stripped as built)\n")
    dirs = [("amd64", args.bin_dir), ("aarch64", args.arm64_bin_dir)]
    if args.ros_bin_dir != "none" and os.path.isdir(args.ros_bin_dir):
        dirs.append(("amd64 r2r (ROS 2 libraries not included)", args.ros_bin_dir))
    print("| binary | " + " | ".join(name for name, _ in dirs) + " |")
    print("|---" * (len(dirs) + 1) + "|")
    for b in ("talker", "listener", "harness"):
        size = lambda d: f"{os.path.getsize(os.path.join(d, b)) / 2**20:.1f} MiB" if os.path.isfile(os.path.join(d, b)) else "–"
        print(f"| {b} | " + " | ".join(size(d) for _, d in dirs) + " |")


if __name__ == "__main__":
    main()
