#!/usr/bin/env python3
"""Loopback benchmarks of the talker/listener, side by side with Cyclone DDS's ddsperf, all in
one private network namespace created here (nothing multicasts on a real interface).

  sudo python3 bench/loopback.py [--runs 15] [--duration 3] [--rates 1000,2000,5000,10000]

Measures
  1. time from start to first received message (talker and listener started together),
     median over --runs fresh pairs;
  2. a rate sweep: per rate, messages sent by the talker vs received by the listener (reliable,
     keep-last 10); the highest rate with zero loss is the lossless rate;
  3. ddsperf pub/sub at the same rates and unthrottled (reliable), in the same namespace, and
     ddsperf ping/pong latency at 1 kHz (one-way = round trip / 2) beside ours at 1 kHz;
  4. node footprint: a talker and a listener at 10 Hz for --footprint-seconds, CPU time and
     peak RSS of each (wait4), natively and — with --arm64-bin-dir and qemu-aarch64 — the
     aarch64 builds under qemu-user (emulator included);
  5. binary sizes.

Needs release builds: cargo build --release -p talker -p listener
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CYCLONE_LO = ('<CycloneDDS><Domain><General><Interfaces>'
              '<NetworkInterface name="lo" multicast="true"/>'
              '</Interfaces></General></Domain></CycloneDDS>')


def enter_namespace():
    """Re-executes this script inside a new network namespace with a multicast loopback."""
    if os.environ.get("CHATTER_BENCH_NS") == "1":
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "link", "set", "lo", "multicast", "on"],
                    ["ip", "route", "add", "224.0.0.0/4", "dev", "lo"]):
            subprocess.run(cmd, check=True)
        return
    os.environ["CHATTER_BENCH_NS"] = "1"
    unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--net"]
    os.execvp("unshare", unshare + ["--", sys.executable, os.path.abspath(__file__)] + sys.argv[1:])


def records(proc):
    for line in proc.stdout:
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue


class Drain:
    """Reads a process's JSON-line records on a thread so its stdout never blocks."""

    def __init__(self, proc):
        import threading
        self.records = []
        self.thread = threading.Thread(target=lambda: self.records.extend(records(proc)), daemon=True)
        self.thread.start()

    def join(self):
        self.thread.join(timeout=30)
        return self.records


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=10)


def first_message(bin_dir, runs):
    times = []
    for i in range(runs):
        domain = str(i % 200)  # a fresh domain per run: no stale participant can help
        listener = subprocess.Popen([f"{bin_dir}/listener", "--id", "l", "--count", "1", "--domain", domain],
                                    stdout=subprocess.PIPE, text=True)
        talker = subprocess.Popen([f"{bin_dir}/talker", "--id", "t", "--rate-hz", "100", "--domain", domain],
                                  stdout=subprocess.PIPE, text=True)
        starts, first = [], None
        for r in records(listener):
            if r["kind"] == "start":
                starts.append(r["t_ns"])
            elif r["kind"] == "recv":
                first = r["t_ns"]
        stop(talker)
        talker_start = next(r["t_ns"] for r in records(talker) if r["kind"] == "start")
        starts.append(talker_start)
        times.append((first - min(starts)) / 1e6)
    return times


def sweep(bin_dir, rates, duration):
    rows = []
    for rate in rates:
        listener = subprocess.Popen([f"{bin_dir}/listener", "--id", "l"], stdout=subprocess.PIPE, text=True)
        first = listener.stdout.readline()  # the start record: the listener is up
        assert '"start"' in first, first
        drain = Drain(listener)
        t0 = time.monotonic()
        talker = subprocess.run([f"{bin_dir}/talker", "--id", "t", "--rate-hz", str(rate), "--duration",
                                 str(duration), "--linger", "1"], stdout=subprocess.PIPE, text=True, check=True)
        elapsed = time.monotonic() - t0
        stop(listener)
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
                     "achieved": sent / duration, "p50_us": p50, "p99_us": p99, "wall_s": elapsed})
    return rows


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
    """ddsperf ping/pong at `rate`: round-trip percentiles of the last full second, in µs."""
    env = dict(os.environ, CYCLONEDDS_URI=CYCLONE_LO)
    pong = subprocess.Popen(["ddsperf", "-D", str(duration + 2), "pong"], stdout=subprocess.DEVNULL, env=env)
    out = subprocess.run(["ddsperf", "-D", str(duration), "ping", f"{rate}Hz", "size", "52"],
                         stdout=subprocess.PIPE, text=True, check=True, env=env).stdout
    pong.wait(timeout=duration + 10)
    rows = re.findall(r"50% ([\d.]+)us 90% [\d.]+us 99% ([\d.]+)us", out)
    p50, p99 = (float(x) for x in rows[-1]) if rows else (float("nan"), float("nan"))
    return {"rtt_p50_us": p50, "rtt_p99_us": p99}


def footprint(cmd_prefix, bin_dir, seconds):
    """A talker and a listener at 10 Hz for `seconds`: (CPU s, peak RSS MiB) of each, measured by
    GNU time around each process (a fork of this script would inherit this process's peak RSS:
    Linux keeps the high-water mark across exec)."""
    import tempfile
    tmp = tempfile.mkdtemp()
    timed = lambda name: ["/usr/bin/time", "-f", "%U %S %M", "-o", os.path.join(tmp, name)] + cmd_prefix
    listener = subprocess.Popen(timed("listener") + [f"{bin_dir}/listener", "--id", "l", "--duration",
                                                      str(seconds + 2)], stdout=subprocess.PIPE, text=True)
    drain = Drain(listener)
    talker = subprocess.Popen(timed("talker") + [f"{bin_dir}/talker", "--id", "t", "--rate-hz", "10", "--duration",
                                                  str(seconds)], stdout=subprocess.DEVNULL)
    talker.wait()
    listener.wait()
    heard = sum(1 for r in drain.join() if r["kind"] == "recv")
    out = {}
    for name in ("talker", "listener"):
        user, sys_, kib = open(os.path.join(tmp, name)).read().split()[-3:]
        out[name] = (float(user) + float(sys_), int(kib) / 1024)
    shutil.rmtree(tmp)
    return out, heard


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--duration", type=int, default=3)
    ap.add_argument("--rates", default="1000,5000,10000,20000,50000,100000")
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--arm64-bin-dir", default=os.path.join(ROOT, "target", "aarch64-unknown-linux-gnu", "release"))
    ap.add_argument("--footprint-seconds", type=int, default=20)
    ap.add_argument("--sections", default="first,sweep,latency,footprint,sizes",
                    help="which of first,sweep,latency,footprint,sizes to measure")
    args = ap.parse_args()
    enter_namespace()
    rates = [int(r) for r in args.rates.split(",")]
    sections = set(args.sections.split(","))
    have_ddsperf = shutil.which("ddsperf") is not None
    if "first" in sections:
        first(args)
    if "sweep" in sections:
        rate_sweep(args, rates, have_ddsperf)
    if "latency" in sections:
        latency(args, have_ddsperf)
    if "footprint" in sections:
        node_footprint(args)
    if "sizes" in sections:
        sizes(args)


def first(args):
    times = first_message(args.bin_dir, args.runs)
    print(f"## Time to first message ({args.runs} runs, talker at 100 Hz)\n")
    print(f"median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, max {max(times):.1f} ms\n")


def rate_sweep(args, rates, have_ddsperf):
    print(f"## Rate sweep, reliable keep-last 10, {args.duration} s per rate\n")
    print("| requested Hz | chatter sent/s | sent before match | chatter lost after match | p50 µs | p99 µs "
          "| ddsperf recv/s | ddsperf lost |")
    print("|---|---|---|---|---|---|---|---|")
    lossless = 0
    for row in sweep(args.bin_dir, rates, args.duration):
        d = ddsperf(row["rate"], args.duration) if have_ddsperf else {"achieved": float("nan"), "lost": "n/a"}
        if row["lost"] == 0:
            lossless = max(lossless, row["rate"])
        print(f"| {row['rate']} | {row['achieved']:.0f} | {row['before_match']} | {row['lost']} | {row['p50_us']:.0f} | {row['p99_us']:.0f} "
              f"| {d['achieved']:.0f} | {d['lost']} |")
    if have_ddsperf:
        d = ddsperf(None, args.duration)
        print(f"| unthrottled | – | – | – | – | – | {d['achieved']:.0f} | {d['lost']} |")
    print(f"\nhighest lossless chatter rate: {lossless} Hz")


def latency(args, have_ddsperf):
    ours = sweep(args.bin_dir, [1000], args.duration)[0]
    print("\n## One-way latency at 1 kHz, reliable, 52-byte payload, same namespace\n")
    print("| | p50 µs | p99 µs |")
    print("|---|---|---|")
    print(f"| chatter talker → listener (stamped in the nodes) | {ours['p50_us']:.0f} | {ours['p99_us']:.0f} |")
    if have_ddsperf:
        d = ddsperf_latency(1000, args.duration)
        print(f"| ddsperf ping/pong (round trip / 2) | {d['rtt_p50_us'] / 2:.0f} | {d['rtt_p99_us'] / 2:.0f} |")


def node_footprint(args):
    print(f"\n## Node footprint: talker + listener at 10 Hz for {args.footprint_seconds} s\n")
    print("| build | talker CPU | talker peak RSS | listener CPU | listener peak RSS | heard |")
    print("|---|---|---|---|---|---|")
    builds = [("amd64, native", [], args.bin_dir)]
    if shutil.which("qemu-aarch64") and os.path.isfile(os.path.join(args.arm64_bin_dir, "talker")):
        builds.append(("arm64 under qemu-user (emulator included)",
                       ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"], args.arm64_bin_dir))
    for name, prefix, bin_dir in builds:
        out, heard = footprint(prefix, bin_dir, args.footprint_seconds)
        (tc, tr), (lc, lr) = out["talker"], out["listener"]
        share = lambda cpu: f"{cpu:.2f} s ({100 * cpu / args.footprint_seconds:.1f} %)"
        print(f"| {name} | {share(tc)} | {tr:.1f} MiB | {share(lc)} | {lr:.1f} MiB | {heard} |")


def sizes(args):
    print("\n## Binary sizes (release, stripped as built)\n")
    print("| binary | amd64 | aarch64 |")
    print("|---|---|---|")
    for b in ("talker", "listener", "harness"):
        size = lambda d: f"{os.path.getsize(os.path.join(d, b)) / 2**20:.1f} MiB" if os.path.isfile(os.path.join(d, b)) else "–"
        print(f"| {b} | {size(args.bin_dir)} | {size(args.arm64_bin_dir)} |")


if __name__ == "__main__":
    main()
