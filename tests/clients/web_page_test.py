"""Runs web_page_test.mjs (headless Debian chromium + playwright-core) against
the real server, with two corpus images and a damaged one, then a WebP and a
GIF (real files from tests/common/data/webp-gif) dropped together. Screenshots land in
$HUEPOOL_TEST_OUT (docs/web-page.png is one of them, committed by hand)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from server_fixture import HuepoolServer, corpus, make_damaged_png, run_unittest

HERE = Path(__file__).resolve().parent
WEBP_GIF = HERE.parent / "common" / "data" / "webp-gif"


def pick(images, name: str, fmt: str) -> Path:
    return next((p for p, _ in images if p.name == name), None) or next(p for p, r in images if r["format"] == fmt)


class WebPage(unittest.TestCase):
    def test_page_in_headless_chromium(self):
        chromium = os.environ.get("HUEPOOL_CHROMIUM", "/usr/bin/chromium")
        self.assertTrue(os.access(chromium, os.X_OK), "%s missing: scripts/install-deps.sh --test installs it" % chromium)
        self.assertTrue(shutil.which("node"), "node missing: scripts/install-deps.sh --test installs it")
        images = corpus()
        # Colourful ones make a telling screenshot; any PNG and JPEG would do.
        png = pick(images, "ukui-calla.png", "PNG")
        jpeg = pick(images, "mate-Dune.jpg", "JPEG")
        broken = pick(images, "sway-Blue_1920x1080.png", "PNG")
        out = Path(os.environ.get("HUEPOOL_TEST_OUT", tempfile.gettempdir()))
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="huepool-web-") as tmp, HuepoolServer(workers=2) as server:
            damaged = make_damaged_png(broken, Path(tmp), "damaged.png")
            run = subprocess.run(["node", str(HERE / "web_page_test.mjs"), server.url, str(out),
                                  str(png), str(jpeg), str(damaged),
                                  str(WEBP_GIF / "cpython-test-python.webp"), str(WEBP_GIF / "libtk8.6-tai-ku.gif")],
                                 capture_output=True, text=True, timeout=240)
            print(run.stdout, run.stderr)
            self.assertEqual(run.returncode, 0, "web_page_test.mjs failed (see above)\nserver log:\n" + server.log_text())
        self.assertTrue((out / "web-page.png").stat().st_size > 10_000)


if __name__ == "__main__":
    run_unittest()
