"""Starts the real huepool server for the client tests (HUEPOOL_BIN), on a
loopback port it picks itself (--port 0), and stops it (SIGTERM, then SIGKILL after a bounded wait).

    with HuepoolServer(workers=2) as server:
        server.url  # http://127.0.0.1:PORT

Also: the corpus paths (HUEPOOL_CORPUS_DIR) and their Pillow reference, and
the damaged images the tests use.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("HUEPOOL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
STARTUP_TIMEOUT_S = 60     # a loaded 2-core CI box can take a while to fork the pool
STOP_TIMEOUT_S = 30        # the server's own drain timeout is shorter


def huepool_bin() -> str:
    path = os.environ.get("HUEPOOL_BIN")
    if not path or not os.access(path, os.X_OK):
        raise unittest.SkipTest("HUEPOOL_BIN is not set to the built huepool binary")
    return path


def corpus_dir() -> Path:
    d = Path(os.environ.get("HUEPOOL_CORPUS_DIR", SOURCE_DIR.parent / "shared" / "corpus"))
    if not (d / "reference.json").is_file():
        raise unittest.SkipTest("corpus not found at %s (HUEPOOL_CORPUS_DIR)" % d)
    return d


def corpus() -> list[tuple[Path, dict]]:
    """(path, Pillow's reference entry) for each corpus image, in reference.json's order."""
    d = corpus_dir()
    ref = json.loads((d / "reference.json").read_text())
    return [(d / e["file"], e) for e in ref["images"]]


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released): for
    connection-refused tests."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_damaged_png(src: Path, directory: Path, name: str = "damaged.png") -> Path:
    """The first half of a real PNG: valid signature and header, data that ends
    before the last row, so the decoder must fail (decode_failed)."""
    data = src.read_bytes()
    out = directory / name
    out.write_bytes(data[: len(data) // 2])
    return out


def make_not_an_image(directory: Path, name: str = "notes.png") -> Path:
    out = directory / name
    out.write_bytes(b"this is a text file with a .png name\n" * 4)
    return out


class HuepoolServer:
    def __init__(self, *extra_args: str, workers: int = 2, env: dict | None = None):
        self.extra_args = list(extra_args)
        self.workers = workers
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.final_log = ""
        self.pump: threading.Thread | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="huepool-serve-", suffix=".log", delete=False)

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    def __enter__(self) -> "HuepoolServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        cmd = [huepool_bin(), "serve", "--host", "127.0.0.1", "--port", "0",
               "--workers", str(self.workers), *self.extra_args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log,
                                     env=self.env)
        # The server binds port 0 and prints "huepool listening on http://HOST:PORT"
        # on stdout; the rest of stdout is copied into the log so the pipe never fills.
        first_line: list[bytes] = []
        got_line = threading.Event()

        def pump():
            for line in self.proc.stdout:
                if not got_line.is_set():
                    first_line.append(line)
                    got_line.set()
                self.log.write(line)
                self.log.flush()
            got_line.set()

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()
        if not got_line.wait(STARTUP_TIMEOUT_S) or not first_line:
            self.stop()
            raise RuntimeError("huepool serve printed no listening line:\n" + self.log_text())
        m = re.search(rb"listening on http://[^\s]*:(\d+)", first_line[0])
        if not m:
            self.stop()
            raise RuntimeError("unexpected first line %r:\n%s" % (first_line[0], self.log_text()))
        self.port = int(m.group(1))
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        # Listening is not ready: poll /readyz (no event to wait on from outside
        # the process), and give up at once if the server exits.
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("huepool serve exited with %s:\n%s" % (self.proc.returncode, self.log_text()))
            if self.get("/readyz")[0] == 200:
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("huepool serve not ready after %d s:\n%s" % (STARTUP_TIMEOUT_S, self.log_text()))
            time.sleep(0.05)

    def get(self, path: str) -> tuple[int, dict, bytes]:
        """(status, headers, body); status 0 when nothing answers yet."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        except OSError:
            return 0, {}, b""
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.pump is not None:
            self.pump.join(timeout=10)   # the server has exited: its stdout is at EOF
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if not self.log.closed:
            self.final_log = self.log_text()
            self.log.close()
            os.unlink(self.log.name)

    def log_text(self, tail: int = 4000) -> str:
        if self.log.closed:
            return self.final_log[-tail:]
        self.log.flush()
        try:
            return Path(self.log.name).read_text(errors="replace")[-tail:]
        except OSError:
            return ""


def run_unittest() -> None:
    """unittest.main with output CTest shows on failure; exit 1 on any failure."""
    sys.stdout.reconfigure(line_buffering=True)
    unittest.main(verbosity=2)


def make_slow_png(directory: Path, side: int = 10_000, name: str = "slow.png") -> Path:
    """A valid side x side one-colour PNG (100 MP, ~300 KB): tiny to send,
    ~0.5 s of work for a worker, so a few of them keep a worker busy."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = (b"\x00" + b"\x20\x40\x60" * side) * 100
    z = zlib.compressobj(6)
    idat = b"".join(z.compress(rows) for _ in range(side // 100)) + z.flush()
    out = directory / name
    out.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
                    + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return out


class QueueFiller:
    """Keeps a one-worker server's job queue non-empty: two requests of
    `copies` slow images each, processes=1, so while one request's image runs
    the other's waits in the queue (the pool alternates between them).
    Entering returns once the server reports a queued job (GET /v1/info)."""

    def __init__(self, server: HuepoolServer, slow_png: Path, copies: int = 4):
        self.server, self.copies = server, copies
        self.data = slow_png.read_bytes()
        self.threads: list[threading.Thread] = []
        self.statuses: list[int] = []

    def _post(self) -> None:
        boundary = "fill-" + os.urandom(8).hex()
        part = (b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="image"; filename="slow.png"'
                b"\r\n\r\n" + self.data + b"\r\n")
        body = part * self.copies + b"--" + boundary.encode() + b"--\r\n"
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
        try:
            conn.request("POST", "/v1/analyze?processes=1", body,
                         {"Content-Type": "multipart/form-data; boundary=" + boundary})
            r = conn.getresponse()
            r.read()
            self.statuses.append(r.status)
        finally:
            conn.close()

    def __enter__(self) -> "QueueFiller":
        for _ in range(2):
            t = threading.Thread(target=self._post, daemon=True)
            t.start()
            self.threads.append(t)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            status, _, body = self.server.get("/v1/info")
            if status == 200 and json.loads(body)["pool"]["queued"] >= 1:
                return self
            if time.monotonic() > deadline or not any(t.is_alive() for t in self.threads):
                raise RuntimeError("the queue never filled:\n" + self.server.log_text())
            time.sleep(0.01)

    def __exit__(self, *exc) -> None:
        for t in self.threads:
            t.join()
