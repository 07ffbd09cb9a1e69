"""Helpers shared by the deployment tests (tests/deploy/*_test.py).

They drive the real artefacts: the huepool binary, the Docker image built from
docker/Dockerfile, docker/compose.yaml with its nginx, and the README. Nothing
here stands in for a part of huepool; it only speaks HTTP, multipart and
Docker's command line.

Environment (set by tests/deploy/CMakeLists.txt, like every huepool test):
  HUEPOOL_BIN         the built binary
  HUEPOOL_SOURCE_DIR  the checkout
  HUEPOOL_CORPUS_DIR  ../shared/corpus (12 real images + reference.json)
"""

import contextlib
import http.client
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import zlib

SOURCE_DIR = pathlib.Path(os.environ.get("HUEPOOL_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
CORPUS_DIR = pathlib.Path(os.environ.get("HUEPOOL_CORPUS_DIR", SOURCE_DIR.parent / "shared" / "corpus"))
HUEPOOL_BIN = os.environ.get("HUEPOOL_BIN", "")

# The one image name: docker/compose.yaml and docker/k8s/ refer to it, the
# README's `docker build -t` writes it, and k8s_manifest_test checks they agree.
IMAGE = "huepool:latest"
NGINX_IMAGE = "huepool-nginx:latest"
DOCKERFILE = SOURCE_DIR / "docker" / "Dockerfile"
COMPOSE_FILE = SOURCE_DIR / "docker" / "compose.yaml"
DOCKER_OFFLINE = SOURCE_DIR.parent / "shared" / "tools" / "docker-offline.sh"

# Every container and compose project a test creates carries this label, so a
# run killed by a CTest timeout is cleaned up by the next run of the same test.
LABEL = "org.huepool.test"


def log(*args):
    print(*args, flush=True)


class Failure(AssertionError):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def run_main(main):
    """Runs a test script's main(); a Failure ends it with "FAIL: ..." and a non-zero exit."""
    try:
        main()
    except Failure as e:
        raise SystemExit(f"FAIL: {e}")


def run(cmd, *, timeout=600, check_rc=True, env=None, cwd=None, quiet=False):
    """Runs a command, returns CompletedProcess (text). Raises Failure on a non-zero exit."""
    if not quiet:
        log("$", " ".join(str(c) for c in cmd))
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                       env=full_env, cwd=cwd)
    if check_rc and p.returncode != 0:
        raise Failure(f"command failed ({p.returncode}): {' '.join(map(str, cmd))}\n"
                      f"stdout:\n{p.stdout[-4000:]}\nstderr:\n{p.stderr[-4000:]}")
    return p


# ---------------------------------------------------------------- Docker

def ensure_docker():
    """Makes Docker usable or fails loudly: a deployment test never passes by skipping."""
    if not DOCKER_OFFLINE.is_file() and not shutil.which("docker"):
        raise Failure(f"Docker is not installed and {DOCKER_OFFLINE} is absent: the deployment tests need "
                      "Docker (run `ctest -LE docker` to leave them out knowingly)")
    if DOCKER_OFFLINE.is_file():
        p = run(["bash", DOCKER_OFFLINE], timeout=900, check_rc=False)
        sys.stdout.write(p.stdout)
        if p.returncode != 0:
            raise Failure(f"docker-offline.sh could not make Docker usable (exit {p.returncode}):\n{p.stderr}")
    p = run(["docker", "info", "--format", "{{.ServerVersion}}"], check_rc=False, quiet=True)
    check(p.returncode == 0, "Docker is not usable on this machine (`docker info` failed); the deployment "
          f"tests need it (run `ctest -LE docker` to leave them out knowingly):\n{p.stderr}")
    check(shutil.which("docker-compose"), "docker-compose is not installed")


def image_exists(name):
    return run(["docker", "image", "inspect", name], check_rc=False, quiet=True).returncode == 0


def remove_stale(test_name):
    """Removes containers left behind by an earlier, killed run of the same test."""
    ids = run(["docker", "ps", "-aq", "--filter", f"label={LABEL}={test_name}"], quiet=True).stdout.split()
    if ids:
        log(f"removing {len(ids)} stale container(s) of {test_name}")
        run(["docker", "rm", "-f", *ids], check_rc=False)


def unique_name(test_name):
    return f"huepool-{test_name}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def inspect(container, fmt):
    return run(["docker", "inspect", "-f", fmt, container], quiet=True).stdout.strip()


def wait_healthy(container, deadline_s=120):
    """Waits for Docker's own HEALTHCHECK to report healthy; fails on unhealthy or exit."""
    end = time.monotonic() + deadline_s
    status = ""
    while time.monotonic() < end:
        state = json.loads(inspect(container, "{{json .State}}"))
        health = state.get("Health") or {}
        status = health.get("Status", "none")
        if status == "healthy":
            return health
        if not state.get("Running"):
            raise Failure(f"container {container} exited ({state.get('ExitCode')}) before becoming healthy:\n"
                          + logs(container))
        if status == "unhealthy":
            raise Failure(f"container {container} is unhealthy: {json.dumps(health.get('Log', [])[-3:], indent=1)}")
        time.sleep(0.5)  # polling Docker's state: there is no event to await from here
    raise Failure(f"container {container} not healthy after {deadline_s}s (status {status}):\n" + logs(container))


def logs(container):
    p = run(["docker", "logs", "--tail", "60", container], check_rc=False, quiet=True)
    return p.stdout + p.stderr


# ---------------------------------------------------------------- processes on the host

def children_of(pid):
    """Direct children of a host pid (any thread may be the parent)."""
    kids = set()
    task_dir = pathlib.Path(f"/proc/{pid}/task")
    for task in task_dir.iterdir() if task_dir.exists() else []:
        try:
            kids.update(int(k) for k in (task / "children").read_text().split())
        except OSError:
            pass
    return kids


def proc_status(pid):
    """Fields of /proc/<pid>/status as a dict, or None when the process is gone."""
    try:
        text = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


# ---------------------------------------------------------------- ports and HTTP

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, timeout=10):
    """(status, headers dict, body bytes); raises OSError when nothing answers."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def status_or_none(port, path):
    try:
        return http_get(port, path, timeout=5)[0]
    except OSError:
        return None


def wait_for(predicate, deadline_s, what, interval_s=0.2):
    """Polls an outside condition (a server we cannot get an event from) until true."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise Failure(f"timed out after {deadline_s}s waiting for {what}")


def wait_ready(port, deadline_s=60):
    wait_for(lambda: status_or_none(port, "/readyz") == 200, deadline_s, f"/readyz 200 on port {port}")


# ---------------------------------------------------------------- multipart uploads

def corpus_files(limit=None):
    files = sorted((CORPUS_DIR / "seed12").iterdir())
    check(files, f"no corpus images in {CORPUS_DIR}/seed12")
    return files[:limit] if limit else files


def reference():
    """file name -> Pillow's answer from reference.json."""
    data = json.loads((CORPUS_DIR / "reference.json").read_text())
    return {pathlib.Path(i["file"]).name: i for i in data["images"]}


def solid_png(width, height, rgb=(16, 32, 48)):
    """An 8-bit RGB PNG of one color, encoded here (a few KB even when large):
    filter Sub makes every row one pixel and then zeros."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"\x01" + bytes(rgb) + bytes(3 * (width - 1))
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row * min(256, height - y)) for y in range(0, height, 256)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def multipart_parts(files, boundary):
    """The body split so that piece i ends right after the delimiter that closes
    part i: once piece i is sent, a streaming parser knows part i is complete.
    The first piece also carries the opening delimiter; field name "image".
    A file is a path or a (name, bytes) pair."""
    pieces = []
    for i, f in enumerate(files):
        name, data = (f.name, f.read_bytes()) if isinstance(f, pathlib.Path) else f
        head = (f"Content-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode()
        close = b"\r\n--" + boundary.encode() + (b"\r\n" if i + 1 < len(files) else b"--\r\n")
        pieces.append((f"--{boundary}\r\n".encode() if i == 0 else b"") + head + data + close)
    return pieces


def post_multipart(port, paths, query="", timeout=120):
    """A whole multipart upload; returns (status, headers, body)."""
    boundary = "huepool-" + uuid.uuid4().hex
    body = b"".join(multipart_parts(paths, boundary))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", "/v1/analyze" + (f"?{query}" if query else ""), body=body,
                  headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def check_results(results, paths):
    """Every result matches Pillow's answer for the corpus file at its index
    (None in `paths` marks an index that is checked elsewhere)."""
    ref = reference()
    wanted = sum(p is not None for p in paths)
    check(len(results) == wanted, f"{len(results)} results for {wanted} images")
    for r in results:
        check("error" not in r, f"image failed: {r}")
        name = paths[r["index"]].name
        want = ref[name]
        check(r["name"] == name, f"result {r['index']} is named {r['name']!r}, sent {name!r}")
        for key in ("width", "height", "pixels", "hex", "count"):
            check(r[key] == want[key], f"{name}: {key} = {r[key]!r}, reference says {want[key]!r}")
        check(r["format"] == want["format"].lower(), f"{name}: format {r['format']!r}")
        check(abs(r["percentage"] - want["percentage"]) < 1e-9, f"{name}: percentage {r['percentage']}")


class StreamingUpload:
    """A multipart upload sent piece by piece on a raw socket while the
    response is read as it comes: the tests use it to prove that results
    stream back (through a proxy, or during a drain) before the upload ends.
    Content-Length is known up front, as a browser or curl would send it."""

    def __init__(self, port, paths, query, timeout=120):
        self.paths = list(paths)
        boundary = "huepool-" + uuid.uuid4().hex
        self.parts = multipart_parts(self.paths, boundary)
        length = sum(len(p) for p in self.parts)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        head = (f"POST /v1/analyze?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode()
        self.sock.sendall(head)
        self.sent_parts = 0
        self.buf = b""
        self.status = None
        self.headers = {}
        self.chunked = False
        self.body = b""      # de-chunked body received so far
        self.eof = False

    def send_parts(self, n):
        """Sends the next n parts, each with the delimiter that completes it."""
        for part in self.parts[self.sent_parts:self.sent_parts + n]:
            self.sock.sendall(part)
        self.sent_parts = min(len(self.parts), self.sent_parts + n)

    def send_rest(self):
        self.send_parts(len(self.parts))

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
        self.buf += data
        self._parse()

    def _parse(self):
        if self.status is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            self.status = int(lines[0].split()[1])
            self.headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
            self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
            self.buf = self.buf[end + 4:]
        if not self.chunked:
            self.body += self.buf
            self.buf = b""
            return
        while True:
            crlf = self.buf.find(b"\r\n")
            if crlf < 0:
                return
            size = int(self.buf[:crlf].split(b";")[0], 16)
            if size == 0:
                self.eof = True
                return
            if len(self.buf) < crlf + 2 + size + 2:
                return
            self.body += self.buf[crlf + 2:crlf + 2 + size]
            self.buf = self.buf[crlf + 2 + size + 2:]

    def lines(self):
        return [json.loads(l) for l in self.body.split(b"\n")[:-1] if l.strip()]

    def read_lines(self, n):
        """Blocks until at least n complete NDJSON lines arrived (socket timeout = failure)."""
        while len(self.lines()) < n:
            check(not self.eof, f"stream ended after {len(self.lines())} line(s), wanted {n}: {self.body[-500:]!r}")
            try:
                self._recv()
            except socket.timeout:
                raise Failure(f"no NDJSON line #{n} within {self.sock.gettimeout()}s "
                              f"(status {self.status}, {len(self.lines())} line(s) so far)")
        return self.lines()

    def read_all(self):
        while not self.eof:
            self._recv()
        self.sock.close()
        return self.lines()


@contextlib.contextmanager
def huepool_server(extra_args=(), env=None):
    """The real binary on an ephemeral port: yields (port, Popen). Its stderr
    (the access log) goes to a file, shown when the server fails to start."""
    check(HUEPOOL_BIN and os.access(HUEPOOL_BIN, os.X_OK), f"HUEPOOL_BIN is not an executable: {HUEPOOL_BIN!r}")
    port = free_port()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([HUEPOOL_BIN, "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args],
                                env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=err)
        try:
            wait_for(lambda: proc.poll() is not None or status_or_none(port, "/readyz") == 200, 60,
                     "huepool serve ready")
            if proc.poll() is not None:
                err.seek(0)
                raise Failure(f"huepool serve exited {proc.returncode}: {err.read().decode()[-2000:]}")
            yield port, proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def help_markdown():
    """`huepool serve --help-markdown`: the configuration table, one source for README and /v1/info."""
    p = run([HUEPOOL_BIN, "serve", "--help-markdown"], quiet=True)
    return p.stdout


def config_rows(markdown):
    """Parses the configuration table into dicts keyed by lower-cased header names."""
    rows = [l for l in markdown.splitlines() if l.strip().startswith("|")]
    check(len(rows) >= 3, f"no markdown table in:\n{markdown}")

    def cells(line):
        return [c.strip() for c in line.strip().strip("|").split("|")]

    header = [re.sub(r"[`*]", "", h).lower() for h in cells(rows[0])]
    return [dict(zip(header, cells(r))) for r in rows[2:]]
