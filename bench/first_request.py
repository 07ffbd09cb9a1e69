#!/usr/bin/env python3
"""first_request (issue 13): the first request a fresh worker serves against the
next ones, and each worker's idle and peak RSS.

    bench/first_request.py [--bin build-release/server/huepool] [--starts 5] [IMAGE]

For each of --starts fresh servers (`--workers 1`): wait for /readyz, read the
worker's VmRSS (idle, before any image), then POST IMAGE raw 8 times one after
the other and record the client's wall time and the result's elapsed_ms (the
worker's time for the image), then the worker's VmHWM (its peak RSS). Prints per start the first request against the
median of requests 2-8, and the medians over all starts.

Wall and elapsed times on a shared machine carry the scheduler's noise (a
request that waits for a CPU looks slow), so each request is also measured
where waiting does not count: the worker's own CPU time (first field of
/proc/PID/schedstat, nanoseconds on a CPU) and its minor page faults (field 10
of /proc/PID/stat; a cold counter table shows as thousands of faults). The
ratios are per start (first against the median of the next 7), then the
median over starts.

The first request follows 0.2 s of idle, the next ones come back to back: on a
busy machine other processes evict the worker's caches in that idle time, so
part of "first" is the idle, not the freshness. --gap S gives every request the
same S seconds of idle before it (--gap 0.2: like for like).

Posting the same image back to back also flatters the warm requests: the
colour-table lines of the image's ~100k colours (6 MB) are still in the
last-level cache from the request before, which a worker in service, seeing a
different image each time, does not have. --between OTHER posts OTHER (untimed)
before each of requests 2-8, so each of them follows one other image, as in
service; the first stays the worker's first image.
"""
import argparse
import json
import os
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path


def descendants(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append(int(p.name))
            out.extend(descendants(int(p.name)))
    return out


def status_kib(pid: int, field: str) -> int:
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss_kib(pid: int) -> int:
    return status_kib(pid, "VmRSS")


def cpu_ns(pid: int) -> int:
    return int(Path("/proc/%d/schedstat" % pid).read_text().split()[0])


def minor_faults(pid: int) -> int:
    return int(Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[7])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build-release/server/huepool")
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--gap", type=float, default=0.0,
                    help="seconds of idle before each of requests 2-8 too (the first always follows 0.2 s)")
    ap.add_argument("--between", metavar="OTHER",
                    help="post this image (untimed) before each of requests 2-8")
    ap.add_argument("image", nargs="?", default="../shared/corpus/seed12/skimage-coffee.png")
    args = ap.parse_args()
    body = Path(args.image).read_bytes()
    other = Path(args.between).read_bytes() if args.between else None
    firsts, rests, first_wall, rest_wall, rss, peak = [], [], [], [], [], []
    ratios = {"elapsed": [], "wall": [], "cpu": []}
    first_faults, rest_faults = [], []
    for start in range(args.starts):
        server = subprocess.Popen([args.bin, "serve", "--port", "0", "--workers", "1", "--host", "127.0.0.1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            port = None
            while port is None:
                line = server.stdout.readline()
                if not line:
                    raise SystemExit("server exited")
                for word in line.replace(":", " ").split():
                    if word.isdigit() and 1024 < int(word) < 65536:
                        port = int(word)
            base = "http://127.0.0.1:%d" % port
            while True:
                try:
                    if urllib.request.urlopen(base + "/readyz", timeout=2).status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.02)
            time.sleep(0.2)
            workers = [p for p in descendants(server.pid)
                       if b"worker" in Path("/proc/%d/cmdline" % p).read_bytes()]
            idle = [rss_kib(p) for p in workers]
            rss.extend(idle)
            elapsed, wall, cpu, faults = [], [], [], []
            for _ in range(8):
                req = urllib.request.Request(base + "/v1/analyze?name=img.png", data=body,
                                             headers={"Content-Type": "image/png"})
                if other is not None and elapsed:
                    urllib.request.urlopen(urllib.request.Request(
                        base + "/v1/analyze?name=other", data=other,
                        headers={"Content-Type": "application/octet-stream"}), timeout=30).read()
                if elapsed:
                    time.sleep(args.gap)
                c0, f0 = cpu_ns(workers[0]), minor_faults(workers[0])
                t0 = time.perf_counter()
                doc = json.loads(urllib.request.urlopen(req, timeout=30).read())
                wall.append((time.perf_counter() - t0) * 1e3)
                cpu.append((cpu_ns(workers[0]) - c0) / 1e6)
                faults.append(minor_faults(workers[0]) - f0)
                elapsed.append(doc["results"][0]["elapsed_ms"])
            peak.append(status_kib(workers[0], "VmHWM"))
            ratios["elapsed"].append(elapsed[0] / statistics.median(elapsed[1:]))
            ratios["wall"].append(wall[0] / statistics.median(wall[1:]))
            ratios["cpu"].append(cpu[0] / statistics.median(cpu[1:]))
            first_faults.append(faults[0])
            rest_faults.append(statistics.median(faults[1:]))
            firsts.append(elapsed[0])
            rests.append(statistics.median(elapsed[1:]))
            first_wall.append(wall[0])
            rest_wall.append(statistics.median(wall[1:]))
            print("start %d: worker idle RSS %s KiB, peak %d KiB after the 8 images; elapsed_ms first %.2f, next median %.2f (%.2fx); "
                  "wall ms first %.2f, next median %.2f (%.2fx)"
                  % (start, idle, peak[-1], elapsed[0], rests[-1], elapsed[0] / rests[-1], wall[0], rest_wall[-1],
                     wall[0] / rest_wall[-1]))
            print("         worker CPU ms first %.2f, next median %.2f (%.2fx); minor faults first %d, next median %d"
                  % (cpu[0], statistics.median(cpu[1:]), ratios["cpu"][-1], faults[0], rest_faults[-1]))
        finally:
            server.terminate()
            server.wait(timeout=10)
    print("median over %d starts: elapsed_ms first %.2f vs %.2f (%.2fx); wall first %.2f vs %.2f (%.2fx); "
          "idle worker RSS %d KiB, peak %d KiB" % (args.starts, statistics.median(firsts), statistics.median(rests),
                                      statistics.median(firsts) / statistics.median(rests),
                                      statistics.median(first_wall), statistics.median(rest_wall),
                                      statistics.median(first_wall) / statistics.median(rest_wall),
                                      statistics.median(rss), statistics.median(peak)))
    print("median of per-start ratios first/next: elapsed %.2fx, wall %.2fx, worker CPU %.2fx; "
          "minor faults first %d vs next %d (medians)"
          % (statistics.median(ratios["elapsed"]), statistics.median(ratios["wall"]),
             statistics.median(ratios["cpu"]), statistics.median(first_faults), statistics.median(rest_faults)))


if __name__ == "__main__":
    main()
