"""clients/python/huepool.py against the real server (HUEPOOL_BIN) and the
corpus (HUEPOOL_CORPUS_DIR): each mode, streaming, failed images, request-level
problems (400, 503), connection refused, timeouts, and the command line."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

from server_fixture import (SOURCE_DIR, HuepoolServer, QueueFiller, corpus, free_port, make_damaged_png,
                            make_not_an_image, make_slow_png, run_unittest)

sys.path.insert(0, str(SOURCE_DIR / "clients" / "python"))
import huepool  # noqa: E402

# How long the streaming test lets the upload hang before it gives up: only
# reached when the client (or server) fails to stream.
STREAM_WAIT_S = 60


class ClientAgainstServer(unittest.TestCase):
    server: HuepoolServer

    @classmethod
    def setUpClass(cls):
        cls.images = corpus()
        cls.paths = [p for p, _ in cls.images]
        cls.tmp = tempfile.TemporaryDirectory(prefix="huepool-client-test-")
        cls.damaged = make_damaged_png(cls.paths[0], Path(cls.tmp.name))
        cls.not_image = make_not_an_image(Path(cls.tmp.name))
        cls.server = HuepoolServer(workers=2)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    def check_against_reference(self, r: huepool.Result, ref: dict, top: int = 0):
        self.assertTrue(r.ok, r.error)
        self.assertEqual(r.name, Path(ref["file"]).name)
        self.assertEqual((r.width, r.height, r.pixels), (ref["width"], ref["height"], ref["pixels"]))
        self.assertEqual(r.hex, ref["hex"])
        self.assertEqual(r.color.rgb, (ref["color"]["r"], ref["color"]["g"], ref["color"]["b"]))
        self.assertEqual(r.count, ref["count"])
        self.assertEqual(r.percentage, ref["percentage"])
        self.assertGreater(r.worker, 0)
        if top:
            self.assertEqual([(c.hex, c.count) for c in r.colors],
                             [(t["hex"], t["count"]) for t in ref["top"][:top]])

    # ------------------------------------------------------------ the modes

    def test_map_returns_every_result_in_input_order(self):
        with huepool.Client(self.server.url, processes=2) as pool:
            results = pool.map(self.paths)
            summary = pool.last_summary
        self.assertEqual([r.index for r in results], list(range(len(self.paths))))
        for r, (path, ref) in zip(results, self.images):
            self.assertEqual(r.source, path)
            self.check_against_reference(r, ref)
        self.assertEqual((summary.count, summary.failed), (len(self.paths), 0))

    def test_imap_yields_in_input_order(self):
        with huepool.Client(self.server.url, processes=2, top=5) as pool:
            stream = pool.imap(self.paths)
            results = list(stream)
        self.assertEqual([r.index for r in results], list(range(len(self.paths))))
        for r, (_, ref) in zip(results, self.images):
            self.check_against_reference(r, ref, top=5)
        self.assertEqual((stream.summary.count, stream.summary.failed), (len(self.paths), 0))

    def test_imap_unordered_yields_every_result_once(self):
        with huepool.Client(self.server.url, processes=2) as pool:
            stream = pool.imap_unordered(self.paths)
            results = list(stream)
        self.assertEqual(sorted(r.index for r in results), list(range(len(self.paths))))
        for r in results:
            self.assertEqual(r.source, self.paths[r.index])
            self.check_against_reference(r, self.images[r.index][1])
        self.assertEqual(stream.summary.count, len(self.paths))

    def test_options_alpha_and_per_call_override(self):
        # alpha=keep and a per-call top override the client's defaults.
        with huepool.Client(self.server.url, top=2) as pool:
            [r] = pool.map(self.paths[:1], alpha="keep", top=3)
        self.check_against_reference(r, self.images[0][1], top=3)

    def test_frames_of_webp_and_gif(self):
        # GIF and WebP results say how many frames the file holds; PNG and JPEG do not.
        data = SOURCE_DIR / "tests" / "common" / "data" / "webp-gif"
        files = [data / "cpython-test-python.webp", data / "libtk8.6-tai-ku.gif", self.paths[0]]
        with huepool.Client(self.server.url) as pool:
            webp, gif, png = pool.map(files)
        self.assertEqual((webp.format, gif.format), ("webp", "gif"))
        for r in (webp, gif):
            self.assertTrue(r.ok, r.error)
            self.assertEqual(r.frames, r.data["frames"])
            self.assertGreaterEqual(r.frames, 1)
        self.assertIsNone(png.frames)

    def test_palette_option(self):
        # palette=K reaches the server (client default and per-call override)
        # and comes back as PaletteColor entries whose counts sum to the pixels.
        with huepool.Client(self.server.url, palette=4) as pool:
            [r] = pool.map(self.paths[:1])
            [r2] = pool.map(self.paths[:1], palette=2)
            [plain] = pool.map(self.paths[:1], palette=None)
        self.assertEqual(len(r.palette), 4)
        self.assertEqual(sum(p.count for p in r.palette), r.pixels)
        self.assertEqual([p.count for p in r.palette], sorted((p.count for p in r.palette), reverse=True))
        for p, d in zip(r.palette, r.data["palette"]):
            self.assertIsInstance(p, huepool.PaletteColor)
            self.assertEqual((p.hex, p.count, p.dominant.hex, p.dominant.count),
                             (d["hex"], d["count"], d["dominant"]["hex"], d["dominant"]["count"]))
            self.assertLessEqual(p.dominant.count, p.count)
        self.assertEqual(len(r2.palette), 2)
        self.assertIsNone(plain.palette)
        self.assertNotIn("palette", plain.data)

    # ------------------------------------------------------------ streaming

    def stream_with_held_back_last_image(self, mode: str):
        """The last image is a pipe that gets its bytes only after the first
        result has reached the caller: a result that arrives while the upload
        is still incomplete proves that both sides stream."""
        read_fd, write_fd = os.pipe()
        release = threading.Event()
        timed_out = threading.Event()
        last_path, last_ref = self.images[1]

        def feeder():
            if not release.wait(STREAM_WAIT_S):
                timed_out.set()
            with os.fdopen(write_fd, "wb") as w, open(last_path, "rb") as f:
                w.write(f.read())

        t = threading.Thread(target=feeder, daemon=True)
        t.start()
        with os.fdopen(read_fd, "rb") as pipe, huepool.Client(self.server.url) as pool:
            stream = getattr(pool, mode)([self.paths[0], ("held-back.png", pipe)])
            first = next(stream)
            self.assertFalse(timed_out.is_set(),
                             "the first result arrived only after the whole upload (no streaming)")
            self.assertIsNone(stream.summary)
            release.set()
            rest = list(stream)
        t.join()
        self.assertEqual(first.index, 0)
        self.check_against_reference(first, self.images[0][1])
        [last] = rest
        self.assertEqual((last.index, last.name), (1, "held-back.png"))
        self.assertEqual(last.hex, last_ref["hex"])
        self.assertEqual(stream.summary.count, 2)

    def test_imap_unordered_streams_results_before_the_upload_ends(self):
        self.stream_with_held_back_last_image("imap_unordered")

    def test_imap_streams_results_before_the_upload_ends(self):
        self.stream_with_held_back_last_image("imap")

    # ------------------------------------------------------------ failures

    def test_failed_images_are_results(self):
        files = [self.paths[0], self.damaged, self.not_image]
        with huepool.Client(self.server.url) as pool:
            for results in (pool.map(files), list(pool.imap(files))):
                self.assertTrue(results[0].ok)
                self.assertEqual(results[1].error.code, "decode_failed")
                self.assertEqual(results[1].name, "damaged.png")
                self.assertTrue(results[1].error.message)
                self.assertIsNone(results[1].hex)
                self.assertEqual(results[2].error.code, "unsupported_format")
            self.assertEqual(pool.last_summary.failed, 2)

    def test_names_come_back_as_given(self):
        # Every character that needs care, at the start, middle and end of a
        # name; plus a path whose name is not UTF-8 (shown as U+FFFD).
        specials = ['"', "\r", "\n", "\\", "%", ";", "'", "\u00fc", "\u20ac", "%41", '\\"']
        names = [n for c in specials for n in (c + "ab.png", "a" + c + "b.png", "ab.png" + c)]
        data = make_slow_png(Path(self.tmp.name), side=100, name="small.png").read_bytes()  # 100x100, one colour
        odd = Path(self.tmp.name) / os.fsdecode(b"odd\xff.png")
        odd.write_bytes(data)
        with huepool.Client(self.server.url) as pool:
            for call in (pool.map, lambda s: list(pool.imap_unordered(s))):
                results = call([(n, io.BytesIO(data)) for n in names] + [odd])
                self.assertEqual(sorted((r.index, r.name) for r in results),
                                 list(enumerate(names + ["odd\ufffd.png"])))
                self.assertTrue(all(r.ok for r in results))

    def test_failed_images_raise_by_option(self):
        files = [self.paths[0], self.damaged]
        with huepool.Client(self.server.url, raise_errors=True) as pool:
            with self.assertRaises(huepool.ImageFailed) as cm:
                pool.map(files)
            self.assertEqual(cm.exception.result.index, 1)
            self.assertEqual(cm.exception.result.error.code, "decode_failed")
            stream = pool.imap(files)
            self.assertTrue(next(stream).ok)
            with self.assertRaises(huepool.ImageFailed):
                next(stream)
            stream.close()

    def test_bad_option_raises_problem(self):
        with huepool.Client(self.server.url) as pool:
            with self.assertRaises(huepool.ProblemError) as cm:
                pool.map(self.paths[:1], top=0)
        e = cm.exception
        self.assertEqual(e.status, 400)
        self.assertEqual(e.problem["status"], 400)
        self.assertIn("top", e.detail)
        self.assertTrue(e.title)

    def test_queue_full_raises_problem_with_retry_after(self):
        # A one-worker server with a queue of one, kept full by slow images.
        with HuepoolServer("--max-queued-jobs", "1", workers=1) as busy, \
                QueueFiller(busy, make_slow_png(Path(self.tmp.name))) as filler:
            with huepool.Client(busy.url) as pool:
                with self.assertRaises(huepool.ProblemError) as cm:
                    pool.map(self.paths[:1])
        self.assertEqual(filler.statuses, [200, 200])
        e = cm.exception
        self.assertEqual((e.status, e.code), (503, "queue_full"))
        self.assertEqual(e.retry_after, 1.0)
        self.assertTrue(e.detail)

    def test_problem_after_the_stream_started(self):
        # Three images where two are allowed: the 413 comes in the done line,
        # after the lines of the images received before it.
        with HuepoolServer("--max-images", "2", workers=1) as small, huepool.Client(small.url) as pool:
            stream = pool.imap(self.paths[:3])
            got = [next(stream), next(stream)]
            with self.assertRaises(huepool.ProblemError) as cm:
                next(stream)
        e = cm.exception
        self.assertEqual((e.status, e.code), (413, "too_many_images"))
        self.assertEqual([r.index for r in e.partial], [0, 1])
        self.assertEqual(e.partial, got)

    def test_cut_stream_raises_incomplete(self):
        # The server dies mid-stream (SIGKILL, no done line): IncompleteStream
        # with what arrived, not a silent short result list.
        read_fd, write_fd = os.pipe()
        with HuepoolServer(workers=1) as doomed, os.fdopen(read_fd, "rb") as pipe, \
                os.fdopen(write_fd, "wb") as writer, huepool.Client(doomed.url) as pool:
            stream = pool.imap_unordered([self.paths[0], ("never-sent.png", pipe)])
            first = next(stream)
            doomed.proc.kill()
            doomed.proc.wait()
            with self.assertRaises(huepool.IncompleteStream) as cm:
                next(stream)
            writer.close()
        self.assertEqual(cm.exception.partial, [first])

    def test_connection_refused(self):
        port = free_port()   # bound and released: nothing listens there now
        with huepool.Client("http://127.0.0.1:%d" % port) as pool:
            with self.assertRaises(huepool.ConnectionFailed) as cm:
                pool.map(self.paths[:1])
        self.assertIsInstance(cm.exception, OSError)
        self.assertIn("cannot connect", str(cm.exception))

    def test_read_timeout(self):
        # A listener that accepts (the kernel completes the handshake) and
        # never answers: the configured timeout must end the wait.
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(4)
            url = "http://127.0.0.1:%d" % silent.getsockname()[1]
            with huepool.Client(url, timeout=0.5) as pool:
                with self.assertRaises(huepool.ConnectionFailed) as cm:
                    pool.map(self.paths[:1])
        self.assertIn("timed out", str(cm.exception))

    def test_missing_file_fails_before_sending(self):
        with huepool.Client(self.server.url) as pool:
            with self.assertRaises(FileNotFoundError):
                pool.map([self.paths[0], "/nonexistent/x.png"])

    # ------------------------------------------------------------ command line

    def test_command_line_prints_one_line_per_image(self):
        cli = SOURCE_DIR / "clients" / "python" / "huepool.py"
        files = [str(p) for p in self.paths[:3]] + [str(self.damaged)]
        out = subprocess.run([sys.executable, str(cli), "--url", self.server.url, "--mode", "imap_unordered",
                              "--top", "2", *files], capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 1, out.stderr)   # one image failed
        lines = out.stdout.splitlines()
        self.assertEqual(len(lines), 4, out.stdout)
        by_index = {int(line.split("\t")[0]): line.split("\t") for line in lines}
        self.assertEqual(sorted(by_index), [0, 1, 2, 3])
        for i in range(3):
            ref = self.images[i][1]
            self.assertEqual(by_index[i][1:3], [Path(ref["file"]).name, ref["hex"]])
        self.assertEqual(by_index[3][1:4], ["damaged.png", "error", "decode_failed"])
        refused = subprocess.run([sys.executable, str(cli), "--url", "http://127.0.0.1:%d" % free_port(),
                                  files[0]], capture_output=True, text=True, timeout=60)
        self.assertEqual(refused.returncode, 3)
        self.assertIn("cannot connect", refused.stderr)


if __name__ == "__main__":
    run_unittest()
