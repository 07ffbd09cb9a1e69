"""docs/openapi.yaml against the real server: every documented path, method and
status is reached; every body the server sends (JSON, each NDJSON line,
problem+json) validates against the documented schema (JSON Schema 2020-12);
every route the server answers is documented; the document's own examples
validate too."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import threading
import time
import unittest
import uuid
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from server_fixture import (SOURCE_DIR, HuepoolServer, QueueFiller, corpus, make_damaged_png,
                            make_not_an_image, make_slow_png, run_unittest)

SPEC_PATH = SOURCE_DIR / "docs" / "openapi.yaml"
METHODS = ("get", "head", "post", "put", "delete", "patch", "options")
# Responses any path can give, described once in components.responses (see
# the document's description): not listed -> NotFound, another method ->
# MethodNotAllowed, not HTTP -> MalformedRequest, header block too big -> HeaderTooLarge.
ANY_ROUTE = {"400": "MalformedRequest", "404": "NotFound", "405": "MethodNotAllowed", "431": "HeaderTooLarge"}


def load_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def resolve(spec: dict, node, seen=()):
    """A copy of `node` with every local $ref replaced by its target (the
    document has no recursive schemas), so plain jsonschema can validate it
    on any version from Debian 12's 4.10 on."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            assert ref not in seen, "recursive $ref " + ref
            target = spec
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            merged = resolve(spec, target, seen + (ref,))
            siblings = {k: resolve(spec, v, seen) for k, v in node.items() if k != "$ref"}
            if siblings and isinstance(merged, dict):
                merged = {**merged, **siblings}
            return merged
        return {k: resolve(spec, v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(spec, v, seen) for v in node]
    return node


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


class Exchange:
    def __init__(self, method, path, status, headers, body):
        self.method, self.path, self.status, self.headers, self.body = method, path, status, headers, body

    @property
    def media(self) -> str:
        return media_type(self.headers.get("content-type", ""))

    def json(self):
        return json.loads(self.body)


def multipart(files: list[tuple[str, bytes]], extra_fields: list[tuple[str, str]] = ()) -> tuple[bytes, str]:
    boundary = "contract-" + uuid.uuid4().hex
    out = bytearray()
    for name, value in extra_fields:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, name, value)).encode()
    for filename, data in files:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"%s\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n" % (boundary, filename)).encode()
        out += data + b"\r\n"
    out += ("--%s--\r\n" % boundary).encode()
    return bytes(out), "multipart/form-data; boundary=" + boundary


class OpenApiContract(unittest.TestCase):
    seen: set  # (path key, method, status) observed

    @classmethod
    def setUpClass(cls):
        cls.spec = load_spec()
        cls.seen = set()
        cls.lock = threading.Lock()
        cls.images = corpus()
        cls.tmp = Path(os.environ.get("TMPDIR", "/tmp")) / ("huepool-contract-" + uuid.uuid4().hex[:8])
        cls.tmp.mkdir()
        cls.png = cls.images[0][0].read_bytes()
        cls.jpeg = next(p for p, ref in cls.images if ref["format"] == "JPEG").read_bytes()
        cls.slow_png = make_slow_png(cls.tmp)
        cls.damaged = make_damaged_png(cls.images[0][0], cls.tmp).read_bytes()
        cls.not_image = make_not_an_image(cls.tmp).read_bytes()
        # One server with default limits, one with tiny ones for 413 and 503.
        cls.server = HuepoolServer(workers=2)
        cls.small = HuepoolServer("--max-images", "2", "--max-queued-jobs", "1", "--max-body-bytes", "8MiB",
                                  "--body-timeout", "1s", workers=1)
        cls.server.start()
        cls.small.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.small.stop()
        for f in cls.tmp.iterdir():
            f.unlink()
        cls.tmp.rmdir()

    # ------------------------------------------------------------ plumbing

    def schema(self, node) -> Draft202012Validator:
        s = resolve(self.spec, node)
        Draft202012Validator.check_schema(s)
        return Draft202012Validator(s)

    def assert_valid(self, instance, node, what: str):
        errors = sorted(self.schema(node).iter_errors(instance), key=lambda e: list(e.path))
        if errors:
            self.fail("%s does not match the documented schema:\n%s\n%s" % (
                what, "\n".join("  %s: %s" % (list(e.path), e.message) for e in errors[:5]),
                json.dumps(instance)[:600]))

    def path_key(self, path: str) -> str | None:
        bare = path.split("?")[0]
        return bare if bare in self.spec["paths"] else None

    def documented_response(self, path: str, method: str, status: int) -> tuple[str, dict]:
        key = self.path_key(path)
        op = self.spec["paths"][key].get(method.lower()) if key else None
        if op is not None and str(status) in op["responses"]:
            return key, resolve(self.spec, op["responses"][str(status)])
        generic = ANY_ROUTE.get(str(status))
        if key is None:
            self.assertIn(status, (400, 404, 431), "%s %s answered %d but the path is not documented" % (method, path, status))
        elif op is None:
            self.assertIn(status, (400, 405, 431), "%s %s answered %d but the method is not documented" % (method, key, status))
        else:
            self.assertIn(status, (400, 431), "%s %s answered %d, which is not documented" % (method, key, status))
        return key or "*", resolve(self.spec, self.spec["components"]["responses"][generic])

    def request(self, server: HuepoolServer, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Exchange:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            ex = Exchange(method, path, r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()
        self.check(ex)
        return ex

    def raw(self, server: HuepoolServer, data: bytes, method: str, path: str) -> Exchange:
        """Sends bytes as they are (for requests http.client will not make) and checks the answer."""
        with socket.create_connection(("127.0.0.1", server.port), timeout=120) as sock:
            sock.sendall(data)
            return self.read_answer(sock, method, path)

    def read_answer(self, sock: socket.socket, method: str, path: str) -> Exchange:
        r = http.client.HTTPResponse(sock, method=method)
        r.begin()
        ex = Exchange(method, path, r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        self.check(ex)
        return ex

    def check(self, ex: Exchange):
        """Validates one exchange against the document and records it as seen."""
        key, response = self.documented_response(ex.path, ex.method, ex.status)
        with self.lock:
            self.seen.add((key, ex.method.lower(), str(ex.status)))
        for name, h in response.get("headers", {}).items():
            if h.get("required"):
                self.assertIn(name.lower(), ex.headers, "%s %s %d lacks header %s" % (ex.method, ex.path, ex.status, name))
        if ex.status == 405:
            documented = {m.upper() for m in METHODS if m in self.spec["paths"][key]}
            allow = {m.strip() for m in ex.headers.get("allow", "").split(",") if m.strip()}
            self.assertEqual(allow, documented, "Allow of %s" % key)
        content = response.get("content")
        if ex.method == "HEAD" or not content:
            self.assertEqual(ex.body, b"", "%s %s: a body where none is documented" % (ex.method, ex.path))
            return
        self.assertIn(ex.media, content, "%s %s %d answered %s; documented: %s" % (
            ex.method, ex.path, ex.status, ex.media, list(content)))
        schema = content[ex.media].get("schema", {})
        if ex.media == "application/x-ndjson":
            self.assertTrue(ex.body.endswith(b"\n"), "NDJSON must end with a newline")
            lines = [json.loads(line) for line in ex.body.split(b"\n") if line.strip()]
            self.assertTrue(lines and lines[-1].get("done") is True, "the stream must end with its done line")
            for i, line in enumerate(lines):
                self.assert_valid(line, schema, "NDJSON line %d of %s %s" % (i, ex.method, ex.path))
                self.assertEqual("done" in line, i == len(lines) - 1, "only the last line is a done line")
        elif ex.media.endswith("json"):
            self.assert_valid(ex.json(), schema, "%s %s %d" % (ex.method, ex.path, ex.status))
        else:
            self.assertTrue(ex.body, "%s %s: empty %s body" % (ex.method, ex.path, ex.media))

    def post(self, server, query: str, files, **kw) -> Exchange:
        body, ctype = multipart(files, **kw)
        return self.request(server, "POST", "/v1/analyze" + query, body, {"Content-Type": ctype})

    # ------------------------------------------------------------ the document itself

    def test_document_is_openapi_3_1_with_valid_schemas(self):
        self.assertRegex(self.spec["openapi"], r"^3\.1\.\d+$")
        self.assertEqual(self.spec.get("jsonSchemaDialect"), "https://json-schema.org/draft/2020-12/schema")
        for name, schema in self.spec["components"]["schemas"].items():
            with self.subTest(schema=name):
                Draft202012Validator.check_schema(resolve(self.spec, schema))
        ids = []
        for path, item in self.spec["paths"].items():
            self.assertTrue(path.startswith("/"))
            for method, op in item.items():
                if method not in METHODS:
                    continue
                ids.append(op["operationId"])
                self.assertTrue(op["responses"], "%s %s has no responses" % (method, path))
                resolve(self.spec, op)   # every $ref resolves
        self.assertEqual(len(ids), len(set(ids)), "operationIds must be unique")
        for name in ANY_ROUTE.values():
            self.assertIn(name, self.spec["components"]["responses"])

    def test_examples_match_their_schemas(self):
        # Examples are real responses (docs/CLIENTS.md says how they were taken).
        for path, item in self.spec["paths"].items():
            for method, op in item.items():
                if method not in METHODS:
                    continue
                for status, response in op["responses"].items():
                    response = resolve(self.spec, response)
                    for media, content in response.get("content", {}).items():
                        for ex_name, example in content.get("examples", {}).items():
                            value = example["value"]
                            lines = ([json.loads(line) for line in value.splitlines() if line.strip()]
                                     if media == "application/x-ndjson" else [value])
                            self.assertTrue(lines, "example %s is empty" % ex_name)
                            for v in lines:
                                self.assert_valid(v, content["schema"], "example %s of %s %s %s" % (
                                    ex_name, method, path, status))

    # ------------------------------------------------------------ POST /v1/analyze

    def test_analyze_map_multipart_and_raw(self):
        ex = self.post(self.server, "", [("a.png", self.png), ("b.jpg", self.jpeg), ("bad.png", self.damaged)])
        self.assertEqual(ex.status, 200)
        doc = ex.json()
        self.assertEqual([r["index"] for r in doc["results"]], [0, 1, 2])
        self.assertEqual((doc["count"], doc["failed"]), (3, 1))
        self.assertEqual(doc["results"][2]["error"]["code"], "decode_failed")
        raw = self.request(self.server, "POST", "/v1/analyze?name=raw.jpg&top=3", self.jpeg,
                           {"Content-Type": "image/jpeg"})
        self.assertEqual(raw.status, 200)
        self.assertEqual(raw.json()["results"][0]["name"], "raw.jpg")
        self.assertEqual(len(raw.json()["results"][0]["colors"]), 3)
        # palette=K validates against the schema (PaletteEntry) like every response here.
        pal = self.request(self.server, "POST", "/v1/analyze?name=raw.jpg&top=3&palette=4", self.jpeg,
                           {"Content-Type": "image/jpeg"})
        self.assertEqual(pal.status, 200)
        entries = pal.json()["results"][0]["palette"]
        self.assertEqual(len(entries), 4)
        self.assertEqual(sum(e["count"] for e in entries), pal.json()["results"][0]["pixels"])
        bad = self.request(self.server, "POST", "/v1/analyze?palette=17", self.jpeg, {"Content-Type": "image/jpeg"})
        self.assertEqual(bad.status, 400)
        self.assertEqual(bad.json()["option"], "palette")

    def test_analyze_streams(self):
        for mode in ("imap", "imap_unordered"):
            with self.subTest(mode=mode):
                ex = self.post(self.server, "?mode=%s&top=5&palette=3&processes=2&alpha=ignore" % mode,
                               [("a.png", self.png), ("notes.png", self.not_image), ("b.jpg", self.jpeg)])
                self.assertEqual(ex.status, 200)
                self.assertEqual(ex.media, "application/x-ndjson")
                self.assertEqual(ex.headers.get("transfer-encoding"), "chunked")
                lines = [json.loads(x) for x in ex.body.splitlines()]
                self.assertEqual(lines[-1]["count"], 3)
                self.assertEqual(lines[-1]["failed"], 1)
                if mode == "imap":
                    self.assertEqual([x["index"] for x in lines[:-1]], [0, 1, 2])

    def test_analyze_request_errors(self):
        cases = [
            ("bad option", 400, lambda: self.post(self.server, "?mode=fast", [("a.png", self.png)])),
            ("malformed multipart", 400, lambda: self.request(
                self.server, "POST", "/v1/analyze", b"--nope\r\nnot a part",
                {"Content-Type": "multipart/form-data; boundary=xyz"})),
            ("not an upload", 415, lambda: self.request(
                self.server, "POST", "/v1/analyze", b"hello", {"Content-Type": "text/plain"})),
            ("no image", 422, lambda: self.post(self.server, "", [], extra_fields=[("comment", "hi")])),
            ("too many images", 413, lambda: self.post(
                self.small, "", [("a.png", self.png), ("b.png", self.png), ("c.png", self.png)])),
        ]
        for what, status, call in cases:
            with self.subTest(what):
                ex = call()
                self.assertEqual(ex.status, status, ex.body[:300])
                self.assertEqual(ex.media, "application/problem+json")
                self.assertEqual(ex.json()["status"], status)

    def test_analyze_limits_and_timeouts(self):
        # Over the body limit, told by Content-Length: refused before the body is read.
        ex = self.raw(self.small, b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                      b"Content-Length: 9000000\r\n\r\n", "POST", "/v1/analyze")
        self.assertEqual((ex.status, ex.json()["code"]), (413, "body_too_large"))
        # Too many images once the stream has started: the done line carries the 413.
        ex = self.post(self.small, "?mode=imap", [("a.png", self.png), ("b.png", self.png), ("c.png", self.png)])
        self.assertEqual(ex.status, 200)
        done = json.loads(ex.body.splitlines()[-1])
        self.assertEqual((done["error"]["status"], done["error"]["code"]), (413, "too_many_images"))
        # A body that stalls: 408 after the body timeout (1 s on this server).
        ex = self.raw(self.small, b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                      b"Content-Length: 1000\r\n\r\n\x89PNG", "POST", "/v1/analyze")
        self.assertEqual((ex.status, ex.json()["code"]), (408, "body_timeout"))

    def test_analyze_queue_full_is_503(self):
        # One worker and a queue of one, kept full by slow images.
        with QueueFiller(self.small, self.slow_png, copies=2) as filler:   # --max-images 2
            ex = self.post(self.small, "", [("a.png", self.png)])
        self.assertEqual(filler.statuses, [200, 200])
        self.assertEqual((ex.status, ex.json()["code"]), (503, "queue_full"))
        self.assertEqual(ex.headers.get("retry-after"), "1")

    def test_any_path_malformed_and_oversized_requests(self):
        ex = self.raw(self.server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "GET", "/healthz")
        self.assertEqual((ex.status, ex.json()["code"]), (400, "bad_request"))
        big = b"X-Filler: " + b"a" * (20 << 10) + b"\r\n"
        ex = self.raw(self.server, b"GET /v1/info HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n", "GET", "/v1/info")
        self.assertEqual((ex.status, ex.json()["code"]), (431, "header_too_large"))

    def test_draining_server_is_not_ready(self):
        # Requests whose headers are half sent when SIGTERM arrives are still
        # answered, after the drain has begun: /readyz 503, POST 503 shutting_down.
        with HuepoolServer(workers=1) as server:
            heads = {("GET", "/readyz"): b"GET /readyz HTTP/1.1\r\nHost: x\r\n",
                     ("HEAD", "/readyz"): b"HEAD /readyz HTTP/1.1\r\nHost: x\r\n",
                     ("POST", "/v1/analyze"): b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                                              b"Content-Length: 4\r\n"}
            socks = {}
            try:
                for key, head in heads.items():
                    socks[key] = socket.create_connection(("127.0.0.1", server.port), timeout=60)
                    socks[key].sendall(head)
                # Every connection is known to the server once it answers a later one.
                self.assertEqual(server.get("/healthz")[0], 200)
                server.proc.send_signal(signal.SIGTERM)
                deadline = time.monotonic() + 30
                while '"draining"' not in server.log_text(100_000):
                    self.assertLess(time.monotonic(), deadline, "no draining event in the log")
                    time.sleep(0.01)
                answers = {}
                for (method, path), sock in socks.items():
                    sock.sendall(b"\r\n" + (b"\x89PNG" if method == "POST" else b""))
                    answers[method] = self.read_answer(sock, method, path)
            finally:
                for sock in socks.values():
                    sock.close()
        self.assertEqual(answers["GET"].status, 503)
        self.assertEqual(answers["GET"].json()["draining"], True)
        self.assertEqual(answers["HEAD"].status, 503)
        self.assertEqual((answers["POST"].status, answers["POST"].json()["code"]), (503, "shutting_down"))

    # ------------------------------------------------------------ operations

    def test_operations_endpoints(self):
        for path in ("/healthz", "/readyz", "/metrics", "/v1/info", "/"):
            for method in ("GET", "HEAD"):
                with self.subTest(path=path, method=method):
                    ex = self.request(self.server, method, path)
                    self.assertEqual(ex.status, 200)
        page = self.request(self.server, "GET", "/")
        self.assertEqual(page.body, (SOURCE_DIR / "server" / "http" / "web" / "index.html").read_bytes(),
                         "GET / must serve server/http/web/index.html as built into the binary")
        info = self.request(self.server, "GET", "/v1/info").json()
        self.assertEqual(info["pool"]["workers"], 2)
        metrics = self.request(self.server, "GET", "/metrics").body.decode()
        self.assertRegex(metrics, r"(?m)^# TYPE huepool_\w+ (counter|gauge|histogram)$")

    def test_unknown_paths_and_methods(self):
        for method, path in (("GET", "/nope"), ("GET", "/v1/analyze/x"), ("POST", "/healthz"),
                             ("GET", "/v1/analyze"), ("DELETE", "/v1/info"), ("PUT", "/")):
            with self.subTest(method=method, path=path):
                ex = self.request(self.server, method, path)
                self.assertIn(ex.status, (404, 405))
                self.assertEqual(ex.media, "application/problem+json")

    def test_every_answered_route_is_documented(self):
        # Probe likely routes with every method: anything but 404/405 must be a
        # documented operation (check() fails otherwise).
        probes = list(self.spec["paths"]) + ["/v1", "/v1/", "/v2/analyze", "/analyze", "/index.html",
                                             "/favicon.ico", "/health", "/ready", "/info", "/v1/metrics",
                                             "/healthz/", "/v1/info/", "/v1/analyze/"]
        for path in probes:
            for method in METHODS:
                with self.subTest(method=method, path=path):
                    body = b"" if method in ("post", "put", "patch") else None
                    ex = self.request(self.server, method.upper(), path, body,
                                      {"Content-Type": "text/plain"} if body is not None else {})
                    if self.path_key(path) is None:
                        self.assertEqual(ex.status, 404)

    def test_zz_every_documented_response_was_seen(self):
        # Runs last (unittest orders by name): everything documented was reached.
        documented = set()
        for path, item in self.spec["paths"].items():
            for method, op in item.items():
                if method in METHODS:
                    documented |= {(path, method, s) for s in op["responses"]}
        seen_any = {s for _, _, s in self.seen}
        for status in ANY_ROUTE:
            self.assertIn(status, seen_any, "the generic %s response was never produced" % status)
        missing = sorted(documented - self.seen)
        self.assertFalse(missing, "documented but never produced: %s" % missing)


if __name__ == "__main__":
    run_unittest()
