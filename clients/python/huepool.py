#!/usr/bin/env python3
"""huepool client: Python's multiprocessing.Pool, over the network.

    import huepool
    with huepool.Client("http://127.0.0.1:8080", processes=4) as pool:
        for r in pool.imap_unordered(["a.png", "b.jpg"]):
            print(r.name, r.hex, r.percentage)

`map` returns a list in input order once every image is done; `imap` yields
results in input order, each as soon as it and all before it are done;
`imap_unordered` yields each result the moment the server has it. Each call is
one POST /v1/analyze with the images as multipart/form-data, streamed from the
files in chunks while the response is read on the same connection, so results
can arrive while later images are still being uploaded.

Errors:
  * a failed image is a Result with `.error` set (an ImageError: code, message)
    and never fails the others; with raise_errors=True it is raised instead,
    as ImageFailed, when its turn comes;
  * a request-level problem (an application/problem+json answer, or a stream
    whose done line carries an error) raises ProblemError with the problem's
    fields (status, type, title, detail, code, retry_after, problem);
  * a connection that cannot be made or breaks raises ConnectionFailed (also
    an OSError), a stream cut before its done line raises IncompleteStream.

Python standard library only; one file, so it can be copied into a project.
Command line: python3 huepool.py --url http://127.0.0.1:8080 --mode imap_unordered FILE...
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

__all__ = [
    "Client", "Result", "Color", "PaletteColor", "ImageError", "Summary", "ResultStream",
    "HuePoolError", "ProblemError", "ImageFailed", "ConnectionFailed", "IncompleteStream",
]

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_CONNECT_TIMEOUT = 10.0   # seconds to establish the TCP connection
DEFAULT_TIMEOUT = 300.0          # seconds any single socket read or write may wait
UPLOAD_CHUNK = 256 * 1024        # bytes read from a file per send()
SENDER_JOIN_S = 2.0              # how long closing waits for the upload thread to stop
MODES = ("map", "imap", "imap_unordered")

# A source is a path, or (name, binary file object) for data that is not a
# file on disk (a pipe, a socket, an io.BytesIO).
Source = Union[str, "os.PathLike[str]", Tuple[str, IO[bytes]]]


# --------------------------------------------------------------------------
# Results and errors


@dataclass(frozen=True)
class Color:
    r: int
    g: int
    b: int
    hex: str
    count: Optional[int] = None
    percentage: Optional[float] = None

    @classmethod
    def from_json(cls, d: dict) -> "Color":
        if "r" in d:
            r, g, b = d["r"], d["g"], d["b"]
        else:
            r, g, b = (int(d["hex"][i:i + 2], 16) for i in (1, 3, 5))
        hx = d.get("hex") or "#%02x%02x%02x" % (r, g, b)
        return cls(r, g, b, hx, d.get("count"), d.get("percentage"))

    @property
    def rgb(self) -> Tuple[int, int, int]:
        return (self.r, self.g, self.b)


@dataclass(frozen=True)
class PaletteColor:
    """One cluster of palette=K: its mean color with the count and percentage
    of the pixels assigned to it, and the most common exact color inside it."""
    color: Color
    dominant: Color

    @classmethod
    def from_json(cls, d: dict) -> "PaletteColor":
        return cls(Color.from_json(d), Color.from_json(d["dominant"]))

    @property
    def hex(self) -> str:
        return self.color.hex

    @property
    def count(self) -> Optional[int]:
        return self.color.count

    @property
    def percentage(self) -> Optional[float]:
        return self.color.percentage


@dataclass(frozen=True)
class ImageError:
    code: str      # stable: unsupported_format, decode_failed, too_large, timeout, worker_crashed, no_pixels, ...
    message: str


@dataclass(frozen=True)
class Result:
    """One image's answer. `ok` is False when `error` is set; the image fields are then None.
    `data` is the server's JSON object as received; `source` is what was passed in."""
    index: int
    name: str
    source: Any = None
    format: Optional[str] = None
    width: Optional[int] = None
    height: Optional[int] = None
    pixels: Optional[int] = None
    color: Optional[Color] = None
    hex: Optional[str] = None
    count: Optional[int] = None
    percentage: Optional[float] = None
    elapsed_ms: Optional[float] = None
    worker: Optional[int] = None
    colors: Optional[List[Color]] = None
    palette: Optional[List[PaletteColor]] = None   # with palette=K, largest share first
    frames: Optional[int] = None   # GIF and WebP: frames in the file (the first is counted); None for PNG, JPEG
    # Defects in the file that changed no counted pixel (stray bytes before a
    # JPEG marker, a PNG without IEND, ...): for people, not a stable code.
    warnings: List[str] = field(default_factory=list)
    error: Optional[ImageError] = None
    data: dict = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def from_json(cls, d: dict, source: Any = None) -> "Result":
        err = d.get("error")
        if err is not None:
            return cls(index=d["index"], name=d.get("name", ""), source=source,
                       error=ImageError(err.get("code", ""), err.get("message", "")), data=d)
        return cls(index=d["index"], name=d.get("name", ""), source=source,
                   format=d.get("format"), width=d.get("width"), height=d.get("height"),
                   pixels=d.get("pixels"), color=Color.from_json({**d["color"], "hex": d.get("hex")}),
                   hex=d.get("hex"), count=d.get("count"), percentage=d.get("percentage"),
                   elapsed_ms=d.get("elapsed_ms"), worker=d.get("worker"),
                   colors=[Color.from_json(c) for c in d["colors"]] if "colors" in d else None,
                   palette=[PaletteColor.from_json(p) for p in d["palette"]] if "palette" in d else None,
                   frames=d.get("frames"),
                   warnings=list(d.get("warnings", [])), data=d)


@dataclass(frozen=True)
class Summary:
    """The last line of a stream (or the envelope of a map answer)."""
    count: int
    failed: int
    elapsed_ms: Optional[float]
    data: dict = field(default_factory=dict, repr=False)


class ResultStream:
    """What imap and imap_unordered return: an iterator of Results, each
    yielded as its line arrives. `summary` is None until the done line has
    been read. `close()` (or leaving a `with` block) abandons the request."""

    def __init__(self):
        self.summary: Optional[Summary] = None
        self._lines: Optional[Iterator[Result]] = None
        self._exchange: Optional[_Exchange] = None

    def __iter__(self) -> "ResultStream":
        return self

    def __next__(self) -> Result:
        return next(self._lines)

    def close(self) -> None:
        self._lines.close()
        self._exchange.close()   # also when iteration never started

    def __enter__(self) -> "ResultStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class HuePoolError(Exception):
    """Base of every error this module raises."""


class ProblemError(HuePoolError):
    """The server refused or aborted the request (RFC 9457 problem details).

    Raised for a non-2xx answer, and for a stream whose done line carries an
    error (then `partial` holds the results that arrived before it)."""

    def __init__(self, status: int, problem: dict, retry_after: Optional[float] = None,
                 partial: Optional[List[Result]] = None):
        self.status = status
        self.problem = dict(problem)
        self.type = problem.get("type", "about:blank")
        self.title = problem.get("title", "")
        self.detail = problem.get("detail", problem.get("message", ""))
        self.code = problem.get("code")
        self.instance = problem.get("instance")
        self.retry_after = retry_after
        self.partial = partial or []
        text = "HTTP %d" % status
        if self.title:
            text += " " + self.title
        if self.detail:
            text += ": " + self.detail
        super().__init__(text)


class ImageFailed(HuePoolError):
    """One image failed and raise_errors=True: carries its Result."""

    def __init__(self, result: Result):
        self.result = result
        super().__init__("%s (index %d): %s: %s" % (result.name, result.index,
                                                   result.error.code, result.error.message))


class ConnectionFailed(HuePoolError, OSError):
    """The server could not be reached, or the connection broke or timed out."""


class IncompleteStream(HuePoolError):
    """The response ended without its done line: results may be missing."""

    def __init__(self, message: str, partial: List[Result]):
        self.partial = partial
        super().__init__(message)


# --------------------------------------------------------------------------
# Multipart upload, generated piece by piece


class _Part:
    def __init__(self, index: int, source: Source, boundary: str):
        if isinstance(source, tuple):
            self.name, self.stream = source[0], source[1]
            self.path = None
            self.size = _remaining(self.stream)
        else:
            self.path = os.fspath(source)
            self.name = os.path.basename(self.path)
            self.stream = None
            self.size = os.stat(self.path).st_size   # raises FileNotFoundError before anything is sent
        # As browsers and curl write a name (the WHATWG HTML multipart/form-data
        # encoding, which the server decodes): '"', CR and LF as %22 %0D %0A,
        # everything else as it is, backslash included. A file name that is
        # not UTF-8 goes as its own bytes (the server shows them as U+FFFD).
        safe = self.name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        self.head = ("--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"%s\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n"
                     % (boundary, safe)).encode("utf-8", "surrogateescape")
        self.index = index

    def chunks(self) -> Iterator[bytes]:
        yield self.head
        if self.path is not None:
            with open(self.path, "rb") as f:
                yield from self._copy(f)
        else:
            yield from self._copy(self.stream)
        yield b"\r\n"

    def _copy(self, f: IO[bytes]) -> Iterator[bytes]:
        sent = 0
        while True:
            b = f.read(UPLOAD_CHUNK)
            if not b:
                break
            sent += len(b)
            yield b
        # The Content-Length already sent promised self.size bytes.
        if self.size is not None and sent != self.size:
            raise HuePoolError("%s changed size while being uploaded" % self.name)


def _remaining(stream: IO[bytes]) -> Optional[int]:
    """Bytes left in a seekable stream (a file, BytesIO); None for a pipe or socket."""
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(here)
        return end - here
    except (OSError, ValueError):
        return None


class _Upload:
    """A multipart/form-data body whose length is known in advance when every
    source's size is (then it is sent with Content-Length; otherwise chunked)."""

    def __init__(self, sources: Sequence[Source]):
        self.boundary = "huepool-" + uuid.uuid4().hex
        self.parts = [_Part(i, s, self.boundary) for i, s in enumerate(sources)]
        self.tail = ("--%s--\r\n" % self.boundary).encode()
        if all(p.size is not None for p in self.parts):
            self.length = sum(len(p.head) + p.size + 2 for p in self.parts) + len(self.tail)
        else:
            self.length = None
        self.content_type = "multipart/form-data; boundary=" + self.boundary

    def chunks(self) -> Iterator[bytes]:
        for p in self.parts:
            yield from p.chunks()
        yield self.tail


# --------------------------------------------------------------------------
# The client


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None   # an HTTP date: not worth a dependency here


class _Exchange:
    """One request on its own connection: the body goes out on a sender thread
    while the caller reads the response, so a streaming answer can start
    before the upload ends (and an early refusal is read, not lost)."""

    def __init__(self, client: "Client", method: str, target: str, upload: Optional[_Upload]):
        self.client = client
        self.send_error: Optional[BaseException] = None
        self.conn = http.client.HTTPConnection(client.host, client.port, timeout=client.connect_timeout)
        try:
            self.conn.connect()
        except OSError as e:
            self.conn.close()
            raise ConnectionFailed("cannot connect to %s: %s" % (client.url, e)) from e
        self.conn.sock.settimeout(client.timeout)
        self.sender: Optional[threading.Thread] = None
        try:
            self.conn.putrequest(method, target, skip_accept_encoding=True)
            self.conn.putheader("Accept", "application/json, application/x-ndjson, application/problem+json")
            self.conn.putheader("User-Agent", "huepool.py")
            if upload is not None:
                self.conn.putheader("Content-Type", upload.content_type)
                if upload.length is not None:
                    self.conn.putheader("Content-Length", str(upload.length))
                else:
                    self.conn.putheader("Transfer-Encoding", "chunked")
            self.conn.endheaders()
        except OSError as e:
            self.conn.close()
            raise ConnectionFailed("sending the request to %s failed: %s" % (client.url, e)) from e
        if upload is not None:
            self.sender = threading.Thread(target=self._send, args=(upload,), daemon=True,
                                           name="huepool-upload")
            self.sender.start()

    def _send(self, upload: _Upload) -> None:
        chunked = upload.length is None
        try:
            for b in upload.chunks():
                if not b:
                    continue
                if chunked:
                    self.conn.send(b"%x\r\n" % len(b) + b + b"\r\n")
                else:
                    self.conn.send(b)
            if chunked:
                self.conn.send(b"0\r\n\r\n")
        except BaseException as e:   # the reader reports it; a server that answered early closes on us
            self.send_error = e
            if not isinstance(e, OSError):
                # A local problem (a file that changed): stop the exchange so the reader wakes up.
                try:
                    self.conn.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def response(self) -> http.client.HTTPResponse:
        try:
            return self.conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise self._failure("no answer from %s" % self.client.url, e) from e

    def _failure(self, what: str, e: BaseException) -> HuePoolError:
        local = self.send_error
        if local is not None and not isinstance(local, OSError):
            return local if isinstance(local, HuePoolError) else HuePoolError(str(local))
        return ConnectionFailed("%s: %s" % (what, e))

    def close(self) -> None:
        if self.sender is not None and self.sender.is_alive() and self.conn.sock is not None:
            # Wake a sender blocked in send(): close() alone does not interrupt it.
            try:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.conn.close()
        if self.sender is not None:
            # Bounded: a sender blocked reading a caller's pipe that never
            # delivers cannot be woken from here; it ends (daemon) once that
            # source is closed, since every send then fails.
            self.sender.join(timeout=SENDER_JOIN_S)


class Client:
    """A pool of workers on a huepool server, used like multiprocessing.Pool.

    processes:    most workers one request may use at once (None: the server decides)
    top:          also return the K most common colors per image (Result.colors)
    palette:      also return K (1..16) perceptual dominant colors per image (Result.palette)
    alpha:        "ignore" to skip fully transparent pixels (default: every pixel counts)
    raise_errors: raise ImageFailed for a failed image instead of returning it
    timeout:      seconds a single socket read/write may block (None: forever)
    connect_timeout: seconds to establish a connection
    """

    def __init__(self, url: str = DEFAULT_URL, processes: Optional[int] = None, *,
                 top: Optional[int] = None, alpha: Optional[str] = None,
                 palette: Optional[int] = None,
                 raise_errors: bool = False, timeout: Optional[float] = DEFAULT_TIMEOUT,
                 connect_timeout: Optional[float] = DEFAULT_CONNECT_TIMEOUT):
        u = urllib.parse.urlsplit(url if "//" in url else "http://" + url)
        if u.scheme != "http":
            raise ValueError("only http:// URLs are supported, not %r" % url)
        self.url = url
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 80
        self.base_path = u.path.rstrip("/")
        self.processes = processes
        self.top = top
        self.alpha = alpha
        self.palette = palette
        self.raise_errors = raise_errors
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._closed = False
        self.last_summary: Optional[Summary] = None   # of the last map call or finished stream

    # Pool's context-manager protocol. Nothing is held between requests (each
    # call has its own connection), so leaving the block only marks the client closed.
    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True

    terminate = close

    def join(self) -> None:
        pass

    # ------------------------------------------------------------ the modes

    def map(self, sources: Iterable[Source], **options) -> List[Result]:
        """All results, in input order, once every image is done (one JSON answer)."""
        sources = list(sources)
        ex, resp = self._post(sources, "map", options)
        try:
            body = self._read_all(ex, resp)
        finally:
            ex.close()
        try:
            doc = json.loads(body)
        except ValueError as e:
            raise HuePoolError("the server's answer is not JSON: %s" % e) from e
        results = [Result.from_json(d, self._source(sources, d)) for d in doc.get("results", [])]
        results.sort(key=lambda r: r.index)
        self.last_summary = Summary(doc.get("count", len(results)), doc.get("failed", 0),
                                    doc.get("elapsed_ms"), doc)
        if self._raise_errors(options):
            for r in results:
                if not r.ok:
                    raise ImageFailed(r)
        return results

    def imap(self, sources: Iterable[Source], **options) -> "ResultStream":
        """Results in input order, each as soon as it and all before it are done."""
        return self._stream(list(sources), "imap", options)

    def imap_unordered(self, sources: Iterable[Source], **options) -> "ResultStream":
        """Results in completion order, each the moment it is done (match them by .index or .source)."""
        return self._stream(list(sources), "imap_unordered", options)

    def analyze(self, sources: Iterable[Source], mode: str = "map", **options):
        if mode not in MODES:
            raise ValueError("mode must be one of %s" % ", ".join(MODES))
        return getattr(self, mode)(sources, **options)

    # ----------------------------------------------------- operations endpoints

    def info(self) -> dict:
        return json.loads(self._get("/v1/info"))

    def healthy(self) -> bool:
        return self._get_ok("/healthz")

    def ready(self) -> bool:
        return self._get_ok("/readyz")

    # ------------------------------------------------------------- internals

    def _query(self, mode: str, options: dict) -> str:
        q = {"mode": mode}
        for key in ("processes", "top", "palette", "alpha"):
            value = options.get(key, getattr(self, key))
            if value is not None:
                q[key] = str(value)
        unknown = set(options) - {"processes", "top", "palette", "alpha", "raise_errors"}
        if unknown:
            raise TypeError("unknown option(s): %s" % ", ".join(sorted(unknown)))
        return urllib.parse.urlencode(q)

    def _raise_errors(self, options: dict) -> bool:
        return options.get("raise_errors", self.raise_errors)

    @staticmethod
    def _source(sources: Sequence[Source], d: dict) -> Any:
        i = d.get("index")
        return sources[i] if isinstance(i, int) and 0 <= i < len(sources) else None

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("Client is closed")

    def _post(self, sources: List[Source], mode: str, options: dict):
        self._check_open()
        query = self._query(mode, options)
        upload = _Upload(sources)
        ex = _Exchange(self, "POST", "%s/v1/analyze?%s" % (self.base_path, query), upload)
        resp = ex.response()
        if resp.status >= 300:
            try:
                self._raise_problem(ex, resp)
            finally:
                ex.close()
        return ex, resp

    def _raise_problem(self, ex: _Exchange, resp: http.client.HTTPResponse):
        try:
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            raw = b""
        try:
            problem = json.loads(raw) if raw else {}
            if not isinstance(problem, dict):
                problem = {}
        except ValueError:
            problem = {"detail": raw.decode("utf-8", "replace")[:500]}
        problem.setdefault("status", resp.status)
        problem.setdefault("title", resp.reason)
        raise ProblemError(resp.status, problem, _retry_after(resp.getheader("Retry-After")))

    def _read_all(self, ex: _Exchange, resp: http.client.HTTPResponse) -> bytes:
        try:
            return resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise ex._failure("reading the answer from %s failed" % self.url, e) from e

    def _stream(self, sources: List[Source], mode: str, options: dict) -> "ResultStream":
        # The request goes out when the iterator is created (like Pool.imap,
        # which submits at once), so a refusal is raised here, not at next().
        ex, resp = self._post(sources, mode, options)
        stream = ResultStream()
        stream._exchange = ex
        stream._lines = self._lines(ex, resp, sources, self._raise_errors(options), stream)
        return stream

    def _lines(self, ex: _Exchange, resp, sources, raise_errors: bool,
               stream: "ResultStream") -> Iterator[Result]:
        received: List[Result] = []
        buf = b""
        try:
            while True:
                try:
                    data = resp.read1(65536)
                except http.client.IncompleteRead:
                    break   # the connection closed inside a chunk: a cut stream
                except (OSError, http.client.HTTPException) as e:
                    raise ex._failure("the stream from %s broke" % self.url, e) from e
                if not data:
                    break
                buf += data
                while True:
                    nl = buf.find(b"\n")
                    if nl < 0:
                        break
                    line, buf = buf[:nl].strip(), buf[nl + 1:]
                    if not line:
                        continue
                    d = json.loads(line)
                    if d.get("done"):
                        stream.summary = self.last_summary = Summary(
                            d.get("count", len(received)), d.get("failed", 0), d.get("elapsed_ms"), d)
                        if d.get("error"):
                            err = d["error"]
                            raise ProblemError(err.get("status", 500),
                                               {"title": err.get("code", ""), "detail": err.get("message", ""),
                                                **err}, partial=received)
                        return
                    r = Result.from_json(d, self._source(sources, d))
                    received.append(r)
                    if raise_errors and not r.ok:
                        raise ImageFailed(r)
                    yield r
            if ex.send_error is not None and not isinstance(ex.send_error, OSError):
                raise ex._failure("upload failed", ex.send_error)
            raise IncompleteStream("the stream from %s ended after %d result(s) without its done line"
                                   % (self.url, len(received)), received)
        finally:
            ex.close()

    def _get(self, path: str) -> bytes:
        self._check_open()
        ex = _Exchange(self, "GET", self.base_path + path, None)
        try:
            resp = ex.response()
            if resp.status >= 300:
                self._raise_problem(ex, resp)
            return self._read_all(ex, resp)
        finally:
            ex.close()

    def _get_ok(self, path: str) -> bool:
        try:
            self._get(path)
            return True
        except ProblemError:
            return False


# --------------------------------------------------------------------------
# Command line


def _line(r: Result) -> str:
    if not r.ok:
        return "%d\t%s\terror\t%s\t%s" % (r.index, r.name, r.error.code, r.error.message)
    text = "%d\t%s\t%s\t%.4f%%\t%dx%d" % (r.index, r.name, r.hex, r.percentage, r.width, r.height)
    if r.colors:
        text += "\t" + " ".join("%s:%.4f%%" % (c.hex, c.percentage) for c in r.colors)
    if r.palette:
        text += "\tpalette " + " ".join("%s:%.4f%%" % (p.hex, p.percentage) for p in r.palette)
    return text


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        prog="huepool.py",
        description="Post images to a huepool server and print one line per image: "
                    "index, name, hex of the most popular color, its percentage, size "
                    "(and, with --top, the top colors; with --palette, the palette); failed images print 'error CODE MESSAGE'.")
    ap.add_argument("files", nargs="+", metavar="FILE")
    ap.add_argument("--url", default=os.environ.get("HUEPOOL_URL", DEFAULT_URL))
    ap.add_argument("--mode", choices=MODES, default="imap_unordered")
    ap.add_argument("--processes", type=int)
    ap.add_argument("--top", type=int)
    ap.add_argument("--palette", type=int, help="also K (1..16) perceptual dominant colors per image")
    ap.add_argument("--alpha", choices=("ignore",))
    ap.add_argument("--json", action="store_true", help="print the server's JSON object per image instead")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    ap.add_argument("--connect-timeout", type=float, default=DEFAULT_CONNECT_TIMEOUT)
    args = ap.parse_args(argv)

    failed = 0
    start = time.monotonic()
    try:
        with Client(args.url, args.processes, top=args.top, alpha=args.alpha, palette=args.palette,
                    timeout=args.timeout, connect_timeout=args.connect_timeout) as pool:
            for r in pool.analyze(args.files, args.mode):
                failed += not r.ok
                print(json.dumps(r.data, separators=(",", ":")) if args.json else _line(r), flush=True)
    except ProblemError as e:
        print("huepool.py: %s" % e, file=sys.stderr)
        return 2
    except (HuePoolError, OSError) as e:
        print("huepool.py: %s" % e, file=sys.stderr)
        return 3
    print("# %d image(s), %d failed, %.0f ms" % (len(args.files), failed, (time.monotonic() - start) * 1000),
          file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
