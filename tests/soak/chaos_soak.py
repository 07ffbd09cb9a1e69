#!/usr/bin/env python3
"""Chaos soak: the real server under mixed good and hostile uploads while
workers are SIGKILLed, bounded in time and requests, loopback only.

Many client threads post multipart batches of 1-8 images in all three modes
(map, imap, imap_unordered). The images are a mix of kinds with known
answers: good PNGs and JPEGs (answers from `huepool analyze`, run once at
the start), truncated files, text, empty parts, decompression bombs (a PNG
header announcing 10^10 pixels) and text-chunk bombs (a good PNG carrying a
zTXt chunk that inflates to 64 MiB). Meanwhile a killer thread SIGKILLs a
random worker, preferring one that is running, every --kill-interval
seconds after the pool has respawned the last one.

It asserts, and exits 1 listing what failed:
  - every image sent got exactly one result or one explicit error, and that
    answer is the one its kind must get (a good image its exact colour and
    count; a bad one its error code): no image lost to a killed worker
    (`worker_crashed` allowed only with --allow-crashed);
  - every request was answered 200 (bad input is per image, never 5xx);
  - the server never died; no zombie children once the pool is idle;
  - open fds and server RSS back near their baseline (measured after a
    warm-up) at the end (RSS not under AddressSanitizer, whose quarantine
    keeps freed memory; LeakSanitizer checks the server's exit there).
It prints a summary (and writes it as JSON with --report): requests, images,
kills, retries and restarts (from /metrics), errors by code, RSS and fds
before/after, p50/p99 request latency under chaos.

    python3 tests/soak/chaos_soak.py --bin build/server/huepool --duration 60
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "seed12"
MODES = ("map", "imap", "imap_unordered")
# Drift allowed at the end against the post-warm-up baseline.
FD_SLACK = 8
RSS_SLACK_BYTES = 48 << 20


# ---- images ---------------------------------------------------------------

def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, rows: bytes, extra_chunks: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra_chunks +
            chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


def generated_png(width: int, height: int, seed: int) -> bytes:
    rng = random.Random(seed)
    palette = [bytes(rng.randrange(256) for _ in range(3)) for _ in range(5)]
    rows = bytearray()
    for _ in range(height):
        rows.append(0)
        for _ in range(width):
            rows += palette[min(rng.randrange(9), 4)]
    return png(width, height, bytes(rows))


def decompression_bomb() -> bytes:
    # 100000 x 100000 announced, one row of data: rejected from the header.
    return png(100_000, 100_000, b"\x00" + b"\x00" * 300_000)


def text_chunk_bomb(base: bytes) -> bytes:
    # A zTXt that inflates to 64 MiB, inserted after IHDR: metadata is skipped unread.
    ztxt = chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"\x00" * (64 << 20), 9))
    ihdr_end = 8 + 25
    return base[:ihdr_end] + ztxt + base[ihdr_end:]


class Kinds:
    """Image kinds with the answer each must get: ("ok", hex, count) or ("error", code)."""

    def __init__(self, huepool: str, corpus: Path, workdir: Path):
        self.items: list[tuple[str, str, bytes, tuple]] = []  # (kind, name, bytes, expected)
        good: list[tuple[str, bytes]] = [(f"gen{i}.png", generated_png(40 + 37 * i, 30 + 23 * i, i)) for i in range(6)]
        for name in ("skimage-coffee.png", "skimage-astronaut.png", "skimage-hubble_deep_field.jpg"):
            p = corpus / name
            if p.is_file():
                good.append((name, p.read_bytes()))
        for name, data in good:
            self.items.append(("good", name, data, self.answer(huepool, workdir, name, data)))
        base_name, base = good[0]
        self.items.append(("text_bomb", "ztxt-bomb.png", text_chunk_bomb(base), self.answer(huepool, workdir, base_name, base)))
        for name, data in good[:: max(1, len(good) // 3)]:
            self.items.append(("truncated", "cut-" + name, data[: len(data) // 2], ("error", "decode_failed")))
        self.items.append(("text", "notes.txt", b"plain text, not an image\n" * 20, ("error", "unsupported_format")))
        self.items.append(("empty", "empty.png", b"", ("error", "unsupported_format")))
        self.items.append(("pixel_bomb", "bomb.png", decompression_bomb(), ("error", "too_large")))

    @staticmethod
    def answer(huepool: str, workdir: Path, name: str, data: bytes) -> tuple:
        path = workdir / ("ref-" + name)
        path.write_bytes(data)
        out = subprocess.run([huepool, "analyze", str(path)], capture_output=True, text=True, timeout=300)
        line = json.loads(out.stdout.splitlines()[0])
        if "error" in line:
            raise SystemExit(f"reference answer for {name} failed: {line}")
        return ("ok", line["hex"], line["count"])

    def pick(self, rng: random.Random, n: int) -> list[tuple[str, str, bytes, tuple]]:
        return [rng.choice(self.items) for _ in range(n)]


# ---- server ---------------------------------------------------------------

class Server:
    def __init__(self, huepool: str, workers: int, log_path: Path):
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen([huepool, "serve", "--host", "127.0.0.1", "--port", "0",
                                      "--workers", str(workers)],
                                     stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if "listening on http://" not in line:
            raise SystemExit("the server did not start: " + line)
        self.port = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
        # An AddressSanitizer build says so at start. Its RSS is no measure of
        # leaks (freed memory waits in ASan's quarantine, 256 MiB by default);
        # there LeakSanitizer checks the server at exit instead.
        self.sanitized = b"AddressSanitizer build" in log_path.read_bytes()
        self.wait(lambda info: info["ready"], "the pool never became ready")

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def info(self) -> dict:
        return json.loads(self.get("/v1/info")[1])

    def metrics(self) -> dict[str, float]:
        out = {}
        for line in self.get("/metrics")[1].decode().splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                out[key] = float(value)
        return out

    def wait(self, pred, what: str, limit_s: float = 120) -> dict:
        end = time.monotonic() + limit_s
        while True:
            info = self.info()
            if pred(info):
                return info
            if time.monotonic() > end:
                raise SystemExit(what + ": " + json.dumps(info))
            time.sleep(0.02)  # polling the server's state

    def children(self) -> list[tuple[int, str, str]]:
        """(pid, state, cmdline) of the server's direct children."""
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()
                if int(fields[1]) != self.proc.pid:
                    continue
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                out.append((int(entry), fields[0], cmd))
            except (OSError, ValueError):
                continue
        return out

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


# ---- clients --------------------------------------------------------------

def multipart(images) -> tuple[str, bytes]:
    boundary = "soak-" + os.urandom(8).hex()
    body = bytearray()
    for _, name, data, _ in images:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n").encode()
        body += data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return "multipart/form-data; boundary=" + boundary, bytes(body)


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.images = 0
        self.outcomes = collections.Counter()  # "ok" or the error code
        self.latencies_ms: list[float] = []
        self.failures: list[str] = []
        self.crashed = 0

    def fail(self, text: str):
        with self.lock:
            if len(self.failures) < 50:
                self.failures.append(text)


def one_request(port: int, mode: str, images, tally: Tally):
    content_type, body = multipart(images)
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("POST", f"/v1/analyze?mode={mode}", body=body, headers={"Content-Type": content_type})
        r = conn.getresponse()
        raw = r.read()
    finally:
        conn.close()
    latency = (time.monotonic() - t0) * 1000
    where = f"{mode} request of {[name for _, name, _, _ in images]}"
    if r.status != 200:
        tally.fail(f"{where}: HTTP {r.status} {raw[:300]!r}")
        return
    if mode == "map":
        doc = json.loads(raw)
        results, count = doc["results"], doc["count"]
    else:
        lines = [json.loads(l) for l in raw.decode().splitlines()]
        results, done = lines[:-1], lines[-1]
        if not done.get("done") or "error" in done:
            tally.fail(f"{where}: bad done line {done}")
        count = done.get("count")
    indices = sorted(res["index"] for res in results)
    if indices != list(range(len(images))) or count != len(images):
        tally.fail(f"{where}: {len(images)} images sent, results for indices {indices}, count {count}")
    with tally.lock:
        tally.requests += 1
        tally.images += len(images)
        tally.latencies_ms.append(latency)
    for res in results:
        kind, name, _, expected = images[res["index"]]
        if "error" in res:
            code = res["error"]["code"]
            with tally.lock:
                tally.outcomes[code] += 1
                tally.crashed += code == "worker_crashed"
            if code == "worker_crashed":
                continue  # counted, judged against --allow-crashed at the end
            if expected != ("error", code):
                tally.fail(f"{where}: {name} ({kind}) got error {res['error']}, expected {expected}")
        else:
            with tally.lock:
                tally.outcomes["ok"] += 1
            got = ("ok", res["hex"], res["count"])
            if got != expected:
                tally.fail(f"{where}: {name} ({kind}) got {got}, expected {expected}")


def client_loop(port: int, kinds: Kinds, seed: int, stop_at: float, budget, tally: Tally):
    rng = random.Random(seed)
    while time.monotonic() < stop_at and budget.take():
        try:
            one_request(port, rng.choice(MODES), kinds.pick(rng, rng.randint(1, 8)), tally)
        except Exception as e:  # a broken connection or bad JSON is a failure, not a crash of the soak
            tally.fail(f"request raised {type(e).__name__}: {e}")


class Budget:
    def __init__(self, n: int):
        self.left = n
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def killer_loop(server: Server, interval_s: float, stop: threading.Event, seed: int, kills: list[int]):
    rng = random.Random(seed)
    while not stop.wait(interval_s * rng.uniform(0.5, 1.5)):
        workers = [(pid, state) for pid, state, cmd in server.children() if " worker" in cmd and state != "Z"]
        running = [pid for pid, state in workers if state == "R"]
        targets = running or [pid for pid, _ in workers]
        if not targets:
            continue
        try:
            os.kill(rng.choice(targets), signal.SIGKILL)
            kills.append(1)
        except ProcessLookupError:
            continue
        # Let the pool respawn before the interval starts again: the killed
        # job is retried first on the fresh worker, and a second kill of the
        # same image would be a fault the soak itself made twice, which the
        # pool rightly reports (worker_crashed after two deaths).
        try:
            server.wait(lambda info: info["pool"]["live"] == info["pool"]["workers"], "no respawn", 60)
        except SystemExit:
            return


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.environ.get("HUEPOOL_BIN", str(ROOT / "build" / "server" / "huepool")))
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--duration", type=float, default=60, help="seconds of chaos")
    ap.add_argument("--max-requests", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kill-interval", type=float, default=0.5, help="mean seconds between worker kills")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--allow-crashed", type=int, default=0, help="worker_crashed answers tolerated")
    ap.add_argument("--report", type=Path, help="write the summary as JSON here")
    args = ap.parse_args()

    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="huepool-soak-") as tmp:
        workdir = Path(tmp)
        kinds = Kinds(args.bin, args.corpus, workdir)
        server = Server(args.bin, args.workers, workdir / "server.log")
        try:
            # Warm-up: one request of each kind per mode, then the baseline.
            warm = Tally()
            for mode in MODES:
                one_request(server.port, mode, kinds.items, warm)
            failures += ["warm-up: " + f for f in warm.failures]
            server.wait(lambda i: i["pool"]["busy"] == 0 and i["pool"]["queued"] == 0, "warm-up never ended")
            fds_before, rss_before = server.fds(), server.rss()
            metrics_before = server.metrics()

            tally, kills, stop = Tally(), [], threading.Event()
            killer = threading.Thread(target=killer_loop, args=(server, args.kill_interval, stop, args.seed, kills))
            budget = Budget(args.max_requests)
            stop_at = time.monotonic() + args.duration
            t0 = time.monotonic()
            clients = [threading.Thread(target=client_loop,
                                        args=(server.port, kinds, args.seed * 1000 + i, stop_at, budget, tally))
                       for i in range(args.clients)]
            killer.start()
            for c in clients:
                c.start()
            for c in clients:
                c.join()
            stop.set()
            killer.join()
            elapsed = time.monotonic() - t0
            failures += tally.failures

            if server.proc.poll() is not None:
                failures.append(f"the server died (exit {server.proc.returncode})")
                raise RuntimeError("server died")
            server.wait(lambda i: i["ready"] and i["pool"]["busy"] == 0 and i["pool"]["queued"] == 0,
                        "the pool never came back to ready and idle")
            end = time.monotonic() + 30
            while any(state == "Z" for _, state, _ in server.children()) and time.monotonic() < end:
                time.sleep(0.05)  # the pool reaps on SIGCHLD
            zombies = sum(state == "Z" for _, state, _ in server.children())
            fds_after, rss_after = server.fds(), server.rss()
            metrics_after = server.metrics()
            delta = {k: metrics_after.get(k, 0) - metrics_before.get(k, 0) for k in metrics_after}
            summary = {
                "duration_s": round(elapsed, 1),
                "clients": args.clients,
                "workers": args.workers,
                "requests": tally.requests,
                "images": tally.images,
                "kills": len(kills),
                "worker_restarts": delta.get("huepool_pool_worker_restarts_total", 0),
                "job_retries": delta.get("huepool_pool_job_retries_total"),
                "outcomes": dict(sorted(tally.outcomes.items())),
                "latency_ms": {"p50": round(percentile(tally.latencies_ms, 0.5), 1),
                               "p99": round(percentile(tally.latencies_ms, 0.99), 1),
                               "max": round(max(tally.latencies_ms, default=0), 1)},
                "server_fds": {"before": fds_before, "after": fds_after},
                "server_rss_mib": {"before": round(rss_before / 2**20, 1), "after": round(rss_after / 2**20, 1)},
                "zombies": zombies,
            }
            if tally.crashed > args.allow_crashed:
                failures.append(f"{tally.crashed} images answered worker_crashed (allowed {args.allow_crashed})")
            if zombies:
                failures.append(f"{zombies} zombie children after the pool went idle")
            if fds_after > fds_before + FD_SLACK:
                failures.append(f"server fds {fds_before} -> {fds_after}")
            summary["rss_checked"] = not server.sanitized
            if not server.sanitized and rss_after > rss_before + RSS_SLACK_BYTES:
                failures.append(f"server RSS {rss_before >> 20} -> {rss_after >> 20} MiB")
            if tally.requests == 0:
                failures.append("no request completed")
            print(json.dumps(summary, indent=2))
            if args.report:
                args.report.write_text(json.dumps(summary, indent=2) + "\n")
        except RuntimeError:
            pass
        finally:
            code = server.stop()
            if code != 0:
                failures.append(f"the server exited {code} on SIGTERM")
            if failures:
                tail = (workdir / "server.log").read_bytes()[-3000:].decode(errors="replace")
                print("server log tail:\n" + tail, file=sys.stderr)
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    print("chaos soak: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
