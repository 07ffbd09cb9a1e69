"""The real-world input kinds (issue 11) through the real server and its
workers: warnings cross the worker protocol into map and NDJSON results; a row
near the worker's memory budget decodes without the worker being killed, one
past it is too_large from the header; a metadata bomb costs milliseconds, not
the 10 s image timeout.

Run by CTest (e2e_realworld) with HUEPOOL_BIN set.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import sys
import time
import unittest
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "clients"))
sys.path.insert(0, str(HERE.parent / "common"))
import image_forge as F  # noqa: E402
from server_fixture import HuepoolServer  # noqa: E402

MiB = 1 << 20


def post(server: HuepoolServer, files: list[tuple[str, bytes]], query: str = "") -> tuple[int, bytes]:
    boundary = "rw-" + os.urandom(8).hex()
    body = b"".join(b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="image"; filename="'
                    + name.encode() + b'"\r\n\r\n' + data + b"\r\n" for name, data in files)
    body += b"--" + boundary.encode() + b"--\r\n"
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        conn.request("POST", "/v1/analyze" + query, body, {"Content-Type": "multipart/form-data; boundary=" + boundary})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def wide_png(width: int, depth: int) -> bytes:
    """A width x 1 RGBA PNG of one colour; its IDAT is the zlib stream of one long row."""
    sample = b"\x12\x34" if depth == 16 else b"\x12"
    row = b"\x00" + sample * 4 * width
    return F.PNG_SIGNATURE + F.ihdr(width, 1, depth, 6) + F.chunk(b"IDAT", zlib.compress(row, 1)) + F.chunk(b"IEND", b"")


def stray_jpeg() -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (32, 16), (10, 119, 202)).save(out, "JPEG", quality=90)
    jpeg = out.getvalue()
    dqt = jpeg.index(b"\xff\xdb")
    return jpeg[:dqt] + b"\x00\x00" + jpeg[dqt:]


class RealWorldOverHttp(unittest.TestCase):
    def test_warnings_and_decisions_in_every_mode(self):
        palette_bad = F.Png(4, 2, 8, 3, [[0, 1, 2, 5], [0, 0, 1, 1]], palette=[(255, 0, 0), (0, 255, 0)]).bytes()
        strip = F.Png(40000, 25, 8, 2, [[30, 60, 90] * 40000] * 25).bytes()
        files = [("webcam.jpg", stray_jpeg()), ("bad-palette.png", palette_bad), ("strip.png", strip)]
        with HuepoolServer(workers=2) as server:
            for mode in ("map", "imap", "imap_unordered"):
                status, body = post(server, files, "?mode=" + mode)
                self.assertEqual(status, 200, body[:500])
                if mode == "map":
                    results = json.loads(body)["results"]
                else:
                    lines = [json.loads(l) for l in body.splitlines() if l.strip()]
                    self.assertTrue(lines[-1]["done"])
                    results = sorted(lines[:-1], key=lambda r: r["index"])
                with self.subTest(mode=mode):
                    jpeg, bad, wide = results
                    self.assertEqual(jpeg["warnings"], ["JPEG: Corrupt JPEG data: 2 extraneous bytes before marker 0xdb"])
                    self.assertEqual(bad["error"]["code"], "decode_failed")
                    self.assertIn("palette index 2", bad["error"]["message"])
                    self.assertEqual((wide["width"], wide["hex"], wide["count"]), (40000, "#1e3c5a", 1_000_000))
                    self.assertNotIn("warnings", wide)

    def test_metadata_bomb_costs_milliseconds(self):
        inflates = zlib.compress(b"A" * 7_500_000, 9)
        png = F.Png(4, 4, 8, 2, [[0x33, 0x66, 0x99] * 4] * 4).chunks()
        for kind, prefix in ((b"zTXt", b"Comment\x00\x00"), (b"iTXt", b"Comment\x00\x01\x00\x00\x00")):
            bomb = F.assemble(png[:1] + [F.chunk(kind, prefix + inflates)] * 1000 + png[1:])
            with self.subTest(kind=kind), HuepoolServer(workers=1) as server:
                start = time.monotonic()
                status, body = post(server, [("bomb.png", bomb)])
                wall = time.monotonic() - start
                self.assertEqual(status, 200)
                r = json.loads(body)["results"][0]
                self.assertEqual((r["hex"], r["count"]), ("#336699", 16), r)
                self.assertLess(r["elapsed_ms"], 1000)
                self.assertLess(wall, 5)  # the 7 MB upload included; it was a 10 s timeout

    def test_rows_near_the_memory_budget(self):
        # worker_memory 768 MiB, max_body 16 MiB: max_buffer_bytes = 768 - 256 - 16 = 496 MiB.
        # This is about memory, not time: a 26-million-pixel RGBA16 row takes
        # over the default 10 s image timeout under ASan on a busy machine.
        with HuepoolServer("--worker-memory", "768MiB", "--max-body-bytes", "16MiB", "--image-timeout", "120s",
                           workers=1) as server:
            status, _, info = server.get("/v1/info")
            budget = json.loads(info)["limits"]["max_buffer_bytes"]
            self.assertEqual(budget, 496 * MiB)
            # Estimates (common/png_decoder.cpp): RGBA8 12 bytes a pixel, RGBA16 20.
            inside8 = budget // 12 - 1000
            inside16 = budget // 20 - 1000
            outside16 = budget // 20 + 1000
            status, body = post(server, [("rgba8.png", wide_png(inside8, 8)), ("rgba16.png", wide_png(inside16, 16)),
                                         ("over.png", F.PNG_SIGNATURE + F.ihdr(outside16, 1, 16, 6))])
            self.assertEqual(status, 200, body[:300])
            rgba8, rgba16, over = json.loads(body)["results"]
            self.assertEqual((rgba8.get("width"), rgba8.get("hex"), rgba8.get("count")), (inside8, "#121212", inside8),
                             rgba8)
            self.assertEqual((rgba16.get("width"), rgba16.get("hex")), (inside16, "#121212"), rgba16)
            self.assertEqual(over["error"]["code"], "too_large")
            self.assertIn("row buffers", over["error"]["message"])
            pool = json.loads(server.get("/v1/info")[2])["pool"]
            self.assertEqual(pool["restarts"], 0, "a worker was lost on the way: " + server.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
