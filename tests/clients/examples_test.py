"""examples/curl.sh and examples/client.mjs run against the real server; their
output is parsed and checked against the corpus reference (Pillow's answers)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from server_fixture import SOURCE_DIR, HuepoolServer, corpus, free_port, make_damaged_png, run_unittest

EXAMPLES = SOURCE_DIR / "examples"


def sections(output: str) -> dict[str, str]:
    """curl.sh's output split at its "## step" headers (the command line dropped)."""
    out, name = {}, None
    for line in output.splitlines():
        if line.startswith("## "):
            name = line[3:]
            out[name] = ""
        elif name is not None and not line.startswith("$ "):
            out[name] += line + "\n"
    return out


def ndjson(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Examples(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.images = corpus()
        cls.tmp = tempfile.TemporaryDirectory(prefix="huepool-examples-")
        cls.png, cls.png_ref = next((p, r) for p, r in cls.images if r["format"] == "PNG")
        cls.jpeg, cls.jpeg_ref = next((p, r) for p, r in cls.images if r["format"] == "JPEG")
        cls.damaged = make_damaged_png(cls.png, Path(cls.tmp.name))
        cls.server = HuepoolServer(workers=2)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    def check_result(self, r: dict, ref: dict, name: str | None = None):
        self.assertNotIn("error", r)
        self.assertEqual(r["name"], name or Path(ref["file"]).name)
        self.assertEqual((r["hex"], r["count"], r["percentage"]), (ref["hex"], ref["count"], ref["percentage"]))

    def test_curl_sh(self):
        self.assertTrue(shutil.which("curl"))
        run = subprocess.run(["bash", str(EXAMPLES / "curl.sh"), self.server.url, str(self.png), str(self.jpeg),
                              str(self.damaged)], capture_output=True, text=True, timeout=240)
        self.assertEqual(run.returncode, 0, run.stderr + run.stdout[-2000:])
        s = sections(run.stdout)
        step = lambda prefix: next(v for k, v in s.items() if k.startswith(prefix))  # noqa: E731

        self.assertEqual(json.loads(step("health")), {"status": "ok"})
        self.assertIn("png", json.loads(step("info"))["formats"])

        doc = json.loads(step("map"))
        self.assertEqual((doc["count"], doc["failed"]), (2, 0))
        self.check_result(doc["results"][0], self.png_ref)
        self.check_result(doc["results"][1], self.jpeg_ref)

        raw = json.loads(step("raw body"))["results"][0]
        self.check_result(raw, self.png_ref, name="one-image")

        lines = ndjson(step("imap:"))
        self.assertEqual([x.get("index") for x in lines[:-1]], [0, 1])
        self.assertEqual(lines[-1]["done"], True)
        self.check_result(lines[1], self.jpeg_ref)

        lines = ndjson(step("imap_unordered"))
        self.assertEqual(sorted(x["index"] for x in lines[:-1]), [0, 1])
        self.assertEqual((lines[-1]["done"], lines[-1]["count"]), (True, 2))
        for x in lines[:-1]:
            ref = self.png_ref if x["index"] == 0 else self.jpeg_ref
            self.check_result(x, ref)
            self.assertEqual([c["hex"] for c in x["colors"]], [t["hex"] for t in ref["top"][:3]])

        ignore = json.loads(step("alpha=ignore"))["results"][0]
        self.assertLessEqual(ignore["pixels"], self.png_ref["pixels"])

        doc = json.loads(step("a damaged image"))
        self.assertEqual(doc["failed"], 1)
        self.assertEqual(doc["results"][1]["error"]["code"], "decode_failed")

        bad = step("a bad option").strip().splitlines()
        self.assertEqual(bad[-1], "HTTP 400")
        problem = json.loads(bad[0])
        self.assertEqual(problem["status"], 400)
        self.assertIn("mode", problem["detail"])

        self.assertRegex(step("metrics"), r"(?m)^# (HELP|TYPE) huepool_")

    def node(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["node", str(EXAMPLES / "client.mjs"), *args], capture_output=True, text=True,
                              timeout=240)

    def test_client_mjs_streams_every_mode(self):
        files = [str(p) for p, _ in self.images[:3]] + [str(self.damaged)]
        for mode in ("imap_unordered", "imap", "map"):
            with self.subTest(mode=mode):
                run = self.node("--url", self.server.url, "--mode", mode, "--top", "2", *files)
                self.assertEqual(run.returncode, 1, run.stderr)   # the damaged image failed
                lines = run.stdout.splitlines()
                self.assertEqual(len(lines), 5, run.stdout)
                self.assertRegex(lines[-1], r"^# 4 images, 1 failed, [\d.]+ ms$")
                rows = [line.split("\t") for line in lines[:-1]]
                indexes = [int(r[0]) for r in rows]
                if mode == "imap_unordered":
                    self.assertEqual(sorted(indexes), [0, 1, 2, 3])
                else:
                    self.assertEqual(indexes, [0, 1, 2, 3])
                for r in rows:
                    i = int(r[0])
                    if i == 3:
                        self.assertEqual(r[1:4], ["damaged.png", "error", "decode_failed"])
                        continue
                    ref = self.images[i][1]
                    self.assertEqual(r[1:4], [Path(ref["file"]).name, ref["hex"], "%.4f%%" % ref["percentage"]])
                    self.assertEqual(r[5], " ".join("%s:%.4f%%" % (t["hex"], t["percentage"]) for t in ref["top"][:2]))

    def test_client_mjs_reports_problems(self):
        bad = self.node("--url", self.server.url, "--top", "0", str(self.png))
        self.assertEqual(bad.returncode, 2)
        self.assertIn("HTTP 400", bad.stderr)
        refused = self.node("--url", "http://127.0.0.1:%d" % free_port(), str(self.png))
        self.assertEqual(refused.returncode, 3)
        self.assertIn("cannot reach", refused.stderr)


if __name__ == "__main__":
    run_unittest()
