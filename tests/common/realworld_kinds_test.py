"""The real-world input kinds of issue 11, each generated many times over
(sizes, bit depths, colour types, positions, chunk orders), against Pillow 9.4
where Pillow's answer is the decision, and against the decision written in
docs/INPUTS.md where it is not. One `huepool analyze` process per
batch keeps the hundreds of files to seconds.

Run by CTest (common_realworld_kinds) with HUEPOOL_BIN set.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import unittest
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import image_forge as F  # noqa: E402

REALWORLD = Path(__file__).resolve().parents[2].parent / "shared" / "realworld"


def palette_rows(width: int, height: int, limit: int, rng: random.Random) -> list[list[int]]:
    return [[rng.randrange(limit) for _ in range(width)] for _ in range(height)]


def colors(n: int, rng: random.Random) -> list[tuple[int, int, int]]:
    return [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(n)]


class Batch:
    """Files written to one temporary folder, analyzed together."""

    def __init__(self, test: unittest.TestCase):
        self._dir = tempfile.TemporaryDirectory(prefix="huepool-kinds-")
        test.addCleanup(self._dir.cleanup)
        self.files: dict[str, bytes] = {}

    def add(self, name: str, data: bytes) -> str:
        path = Path(self._dir.name) / name
        path.write_bytes(data)
        self.files[str(path)] = data
        return str(path)

    def analyze(self, alpha: str, extra: list[str] | None = None) -> dict[str, dict]:
        return F.analyze([Path(p) for p in self.files], alpha=alpha, extra=extra)


class PaletteIndexBeyondPlte(unittest.TestCase):
    """Kind 1a: indices past the PLTE are damage (decode_failed naming the
    index and the palette size), never libpng's black."""

    def test_every_depth_position_and_palette_size(self):
        rng = random.Random(1)
        batch, expect = Batch(self), {}
        for depth in (1, 2, 4, 8):
            sizes = sorted({1, (1 << depth) - 1, max(1, (1 << depth) // 2)} - {0})
            for size in sizes:
                if size >= (1 << depth):
                    continue
                for interlace in (0, 1):
                    for where in ("first", "middle", "last"):
                        w, h = rng.choice([(1, 1), (7, 3), (33, 9), (300, 2)])
                        rows = palette_rows(w, h, size, rng)
                        bad = rng.randrange(size, 1 << depth)
                        y, x = {"first": (0, 0), "middle": (h // 2, w // 2), "last": (h - 1, w - 1)}[where]
                        rows[y][x] = bad
                        png = F.Png(w, h, depth, 3, rows, palette=colors(size, rng), interlace=interlace)
                        path = batch.add("bad-d%d-s%d-i%d-%s.png" % (depth, size, interlace, where), png.bytes())
                        expect[path] = (bad, size)
        for alpha in ("keep", "ignore"):
            results = batch.analyze(alpha)
            for path, (bad, size) in expect.items():
                with self.subTest(path=path, alpha=alpha):
                    err = results[path].get("error")
                    self.assertIsNotNone(err, results[path])
                    self.assertEqual(err["code"], "decode_failed")
                    self.assertIn("-entry PLTE", err["message"])
                    self.assertIn("%d-entry" % size, err["message"])
                    self.assertIn("palette index %d" % bad, err["message"])

    def test_valid_palettes_equal_pillow(self):
        rng = random.Random(2)
        batch = Batch(self)
        for depth in (1, 2, 4, 8):
            for interlace in (0, 1):
                for size in {1, 1 << depth, max(1, (1 << depth) - 1)}:
                    w, h = rng.choice([(5, 5), (64, 3), (17, 31)])
                    alphas = bytes(rng.choice([0, 255, 128]) for _ in range(rng.randrange(0, size + 1)))
                    png = F.Png(w, h, depth, 3, palette_rows(w, h, size, rng), palette=colors(size, rng),
                                trns=alphas or None, interlace=interlace)
                    batch.add("ok-d%d-s%d-i%d.png" % (depth, size, interlace), png.bytes())
        for alpha in ("keep", "ignore"):
            results = batch.analyze(alpha)
            for path, data in batch.files.items():
                with self.subTest(path=path, alpha=alpha):
                    self.assertNotIn("error", results[path])
                    self.assertEqual(F.counts_of(results[path]), F.pillow_counts(data, alpha))


class TransparencyOutOfSpec(unittest.TestCase):
    """Kind 1b: a tRNS libpng cannot use (too long, empty, before PLTE, after
    IDAT, duplicated, bad CRC, wrong length for gray/RGB) fails under
    alpha=ignore, saying why; under alpha=keep the answer is Pillow's, with a
    warning naming tRNS."""

    def cases(self, rng: random.Random):
        for color_type, depth in ((3, 8), (3, 4), (3, 1), (0, 8), (0, 16), (0, 2), (2, 8), (2, 16)):
            w, h = rng.choice([(4, 3), (19, 7), (64, 2)])
            if color_type == 3:
                size = min(3, 1 << depth)
                rows = palette_rows(w, h, size, rng)
                palette = colors(size, rng)
                good = bytes([0] + [255] * (size - 1))
                long_ = good + bytes(2)
                wrong_length = None
            else:
                top = (1 << depth) - 1
                rows = [[rng.choice([0, top, top // 2]) for _ in range(w * F.CHANNELS[color_type])] for _ in range(h)]
                palette = []
                good = b"\x00\x00" * F.CHANNELS[color_type]
                long_ = good + b"\x00\x00"
                wrong_length = good[:-1]
            base = F.Png(w, h, depth, color_type, rows, palette=palette, trns=good)
            chunks = base.chunks()
            trns_at = [F.chunk_type(c) for c in chunks].index(b"tRNS")
            trns = chunks[trns_at]
            without = chunks[:trns_at] + chunks[trns_at + 1:]
            idat_at = [F.chunk_type(c) for c in without].index(b"IDAT")
            name = "t%d-d%d" % (color_type, depth)
            yield name + "-long", F.assemble(without[:trns_at] + [F.chunk(b"tRNS", long_)] + without[trns_at:])
            yield name + "-empty", F.assemble(without[:trns_at] + [F.chunk(b"tRNS", b"")] + without[trns_at:])
            yield name + "-after-idat", F.assemble(without[:idat_at + 1] + [trns] + without[idat_at + 1:])
            yield name + "-duplicate", F.assemble(chunks[:trns_at + 1] + [trns] + chunks[trns_at + 1:])
            yield name + "-bad-crc", F.assemble(without[:trns_at] + [F.chunk(b"tRNS", good, crc=0x12345678)]
                                                + without[trns_at:])
            if color_type == 3:
                yield name + "-before-plte", F.assemble(without[:1] + [trns] + without[1:])
            if wrong_length is not None:
                yield name + "-short", F.assemble(without[:trns_at] + [F.chunk(b"tRNS", wrong_length)]
                                                  + without[trns_at:])

    def test_out_of_spec_trns(self):
        rng = random.Random(3)
        batch = Batch(self)
        for name, data in self.cases(rng):
            batch.add(name + ".png", data)
        self.assertGreater(len(batch.files), 40)
        ignore, keep = batch.analyze("ignore"), batch.analyze("keep")
        for path, data in batch.files.items():
            with self.subTest(path=path):
                err = ignore[path].get("error")
                self.assertIsNotNone(err, ignore[path])
                self.assertEqual(err["code"], "decode_failed")
                self.assertIn("tRNS", err["message"])
                self.assertIn("alpha=ignore", err["message"])
                self.assertNotIn("error", keep[path])
                self.assertTrue(any("tRNS" in w for w in keep[path].get("warnings", [])), keep[path])
                if "-d16" not in path:  # Pillow is the reference for 8-bit and palette PNG (DESIGN §1)
                    pillow = F.pillow_counts(data, "keep")
                    if not isinstance(pillow, Exception):  # Pillow fails on a bad CRC
                        self.assertEqual(F.counts_of(keep[path]), pillow)

    def test_shared_examples(self):
        if not REALWORLD.is_dir():
            self.skipTest("../shared/realworld is absent")
        r = F.analyze([REALWORLD / "trns-control.png", REALWORLD / "trns-longer-than-plte.png"], alpha="ignore")
        control = r[str(REALWORLD / "trns-control.png")]
        self.assertEqual((control["hex"], control["count"], control["pixels"]), ("#ff0000", 4, 7))
        self.assertEqual(r[str(REALWORLD / "trns-longer-than-plte.png")]["error"]["code"], "decode_failed")
        r = F.analyze([REALWORLD / "trns-longer-than-plte.png", REALWORLD / "palette-index-beyond-plte.png"])
        longer = r[str(REALWORLD / "trns-longer-than-plte.png")]
        self.assertEqual((longer["hex"], longer["count"], longer["pixels"]), ("#0000ff", 5, 12))
        bad = r[str(REALWORLD / "palette-index-beyond-plte.png")]["error"]
        self.assertEqual(bad["code"], "decode_failed")
        self.assertIn("palette index 2", bad["message"])


class LongStrips(unittest.TestCase):
    """Kind 2: long thin images within max_pixels are images: no per-side cap."""

    def test_png_strips_equal_pillow(self):
        rng = random.Random(4)
        batch = Batch(self)
        shapes = [(40000, 25), (32769, 1), (1, 65535), (65535, 1), (100000, 3), (3, 40000), (33000, 2)]
        for i, (w, h) in enumerate(shapes):
            color_type = [2, 0, 3, 6, 2, 4, 3][i]
            ch = F.CHANNELS[color_type]
            stripe = [rng.randrange(4) for _ in range(ch)]
            rows = [[(stripe[k % ch] * 60 + (x * 7 // max(w, 1)) * 10) % 256 for x in range(w) for k in range(ch)]
                    for _ in range(h)] if color_type != 3 else [[(x + y) % 3 for x in range(w)] for y in range(h)]
            palette = colors(3, rng) if color_type == 3 else []
            interlace = 1 if i == 6 else 0
            png = F.Png(w, h, 8, color_type, rows, palette=palette, interlace=interlace)
            batch.add("strip-%dx%d-t%d-i%d.png" % (w, h, color_type, interlace), png.bytes())
        results = batch.analyze("keep")
        for path, data in batch.files.items():
            with self.subTest(path=path):
                self.assertNotIn("error", results[path], results[path])
                self.assertEqual(F.counts_of(results[path]), F.pillow_counts(data, "keep"))

    def test_sixteen_bit_strip_counts_high_bytes(self):
        w, h = 40000, 2
        rows = [[(x % 5) * 0x3311 for x in range(w) for _ in range(3)] for _ in range(h)]
        batch = Batch(self)
        path = batch.add("strip16.png", F.Png(w, h, 16, 2, rows).bytes())
        r = batch.analyze("keep")[path]
        expected = F.naive_counts([((x % 5) * 0x3311 >> 8,) * 3 for _ in range(h) for x in range(w)])
        self.assertEqual(F.counts_of(r), expected)

    def test_jpeg_strips_equal_pillow(self):
        from PIL import Image
        import io
        batch = Batch(self)
        for w, h, mode in ((40000, 8, "RGB"), (8, 40000, "RGB"), (65500, 2, "L"), (33000, 16, "RGB")):
            im = Image.new(mode, (w, h))
            im.putdata([((x * 13) % 256, (x * 7) % 256, 90) if mode == "RGB" else (x * 13) % 256
                        for _ in range(h) for x in range(w)])
            out = io.BytesIO()
            im.save(out, "JPEG", quality=90)
            batch.add("strip-%dx%d-%s.jpg" % (w, h, mode), out.getvalue())
        results = batch.analyze("keep")
        for path, data in batch.files.items():
            with self.subTest(path=path):
                self.assertNotIn("error", results[path], results[path])
                self.assertEqual(F.counts_of(results[path]), F.pillow_counts(data, "keep"))

    def test_row_buffer_over_the_budget_is_too_large_from_the_header(self):
        # 100,000,000 x 1 RGBA16 is 800 MB a row as libpng reads it; the header
        # alone decides, so the file need not hold the rows.
        batch = Batch(self)
        header_only = F.PNG_SIGNATURE + F.ihdr(100_000_000, 1, 16, 6) + F.chunk(b"IEND", b"")
        path = batch.add("wide-rgba16.png", header_only)
        err = batch.analyze("keep")[path]["error"]
        self.assertEqual(err["code"], "too_large")
        self.assertIn("row buffers", err["message"])

    def test_shared_example(self):
        if not REALWORLD.is_dir():
            self.skipTest("../shared/realworld is absent")
        path = REALWORLD / "strip-40000x25.png"
        r = F.analyze([path], top=2)[str(path)]
        self.assertEqual([(c["hex"], c["count"]) for c in r["colors"]], [("#1e3c5a", 666675), ("#c86432", 333325)])


class MetadataIsSkippedUnread(unittest.TestCase):
    """Kind 3: work is bounded by pixels and bytes, never multiplied by
    metadata: text, ICC, EXIF and unknown chunks are skipped without being
    decompressed, JPEG APPn/COM markers without being kept."""

    # Measured on an idle machine: 2-5 ms of skipping for a 7 MB bomb, plus the
    # first image's cold counter table (docs/BENCHMARKS.md "Metadata bombs");
    # 40 s before chunks were skipped unread. HUEPOOL_TIME_SCALE (5 in
    # scripts/test.sh's ASan+UBSan pass, where everything runs slower) widens
    # the budget, still far below the unskipped 40 s.
    BUDGET_MS = 1000 * float(os.environ.get("HUEPOOL_TIME_SCALE", "1"))

    @staticmethod
    def bomb(kind: bytes, count: int, payload: bytes) -> bytes:
        png = F.Png(4, 4, 8, 2, [[0x33, 0x66, 0x99] * 4 for _ in range(4)])
        chunks = png.chunks()
        return F.assemble(chunks[:1] + [F.chunk(kind, payload)] * count + chunks[1:])

    def test_png_metadata_bombs(self):
        inflates = zlib.compress(b"A" * (7_500_000), 9)  # 7.5 MB of text in about 7 KB
        batch = Batch(self)
        batch.add("ztxt.png", self.bomb(b"zTXt", 1000, b"Comment\x00\x00" + inflates))
        batch.add("itxt.png", self.bomb(b"iTXt", 1000, b"Comment\x00\x01\x00\x00\x00" + inflates))
        batch.add("iccp.png", self.bomb(b"iCCP", 1000, b"icc\x00\x00" + inflates))
        batch.add("text.png", self.bomb(b"tEXt", 200, b"Comment\x00" + b"A" * 30000))
        batch.add("exif.png", self.bomb(b"eXIf", 200, b"MM\x00\x2a" + b"\x00" * 30000))
        batch.add("unknown.png", self.bomb(b"prVt", 1000, inflates))
        self.assertGreater(len(batch.files[next(iter(batch.files))]), 7_000_000)
        start = time.monotonic()
        results = batch.analyze("keep")
        wall = time.monotonic() - start
        for path in batch.files:
            with self.subTest(path=path):
                r = results[path]
                self.assertEqual((r["hex"], r["count"], r["pixels"]), ("#336699", 16, 16), r)
                self.assertLess(r["elapsed_ms"], self.BUDGET_MS)
        self.assertLess(wall, 10)

    def test_jpeg_marker_bombs(self):
        from PIL import Image
        import io
        out = io.BytesIO()
        Image.new("RGB", (16, 16), (0x33, 0x66, 0x99)).save(out, "JPEG", quality=95)
        jpeg = out.getvalue()
        segment = 65533
        batch = Batch(self)
        for marker in (0xFE, 0xE1, 0xE2, 0xED):  # COM, APP1 (EXIF/XMP), APP2 (ICC), APP13
            body = b"".join(b"\xff" + bytes([marker]) + (segment + 2).to_bytes(2, "big") + b"x" * segment
                            for _ in range(100))
            batch.add("bomb-%02x.jpg" % marker, jpeg[:2] + body + jpeg[2:])
        results = batch.analyze("keep")
        reference = F.pillow_counts(jpeg, "keep")
        for path in batch.files:
            with self.subTest(path=path):
                self.assertEqual(F.counts_of(results[path]), reference)
                self.assertLess(results[path]["elapsed_ms"], self.BUDGET_MS)


class JpegStrayBytes(unittest.TestCase):
    """Kind 4 against Pillow-written JPEGs (tests/common/jpeg_warnings_test.cpp
    covers restart markers, which Pillow cannot write): stray bytes before
    any marker change no pixel; the result says so in "warnings"."""

    def test_stray_bytes_before_every_marker(self):
        from PIL import Image
        import io
        rng = random.Random(5)
        batch, originals = Batch(self), {}
        for i, (mode, progressive, subsampling) in enumerate(
                [("RGB", False, 2), ("RGB", True, 0), ("L", False, 0), ("L", True, 0), ("RGB", False, 1),
                 ("CMYK", False, 0)]):
            w, h = rng.choice([(56, 40), (33, 17), (128, 8)])
            im = Image.new(mode, (w, h))
            im.putdata([tuple(rng.randrange(256) for _ in mode) if len(mode) > 1 else rng.randrange(256)
                        for _ in range(w * h)])
            out = io.BytesIO()
            im.save(out, "JPEG", quality=85, progressive=progressive, subsampling=subsampling)
            jpeg = out.getvalue()
            originals[i] = jpeg
            for offset, marker, after_data in F.jpeg_markers(jpeg)[1:]:
                for n in (1, 2, 7, 100):
                    stray = bytes(rng.randrange(0x00, 0xFF) for _ in range(n))  # never 0xFF: not a marker
                    batch.add("j%d-before-%02x-at%d-n%d%s.jpg" % (i, marker, offset, n, "-d" if after_data else ""),
                              jpeg[:offset] + stray + jpeg[offset:])
        self.assertGreater(len(batch.files), 150)
        results = batch.analyze("keep")
        for path, data in batch.files.items():
            i = int(Path(path).name.split("-")[0][1:])
            with self.subTest(path=path):
                r = results[path]
                if "-at2-" in path:
                    # Right after SOI the bytes break the magic number (FF D8 FF), as
                    # for Pillow, which cannot identify such a file either.
                    self.assertEqual(r["error"]["code"], "unsupported_format")
                    self.assertIsInstance(F.pillow_counts(data, "keep"), Exception)
                    continue
                self.assertNotIn("error", r, r)
                if not path.endswith("-d.jpg"):  # else the Huffman decoder may take them as padding bits
                    self.assertTrue(any("extraneous bytes" in w for w in r["warnings"]), r)
                self.assertEqual(F.counts_of(r), F.pillow_counts(originals[i], "keep"))
                self.assertEqual(F.counts_of(r), F.pillow_counts(data, "keep"))

    def test_shared_example(self):
        if not REALWORLD.is_dir():
            self.skipTest("../shared/realworld is absent")
        paths = [REALWORLD / "jpeg-control.jpg", REALWORLD / "jpeg-stray-bytes-before-dqt.jpg"]
        r = F.analyze(paths, top=2)
        control, stray = (r[str(p)] for p in paths)
        self.assertEqual(F.counts_of(control), F.counts_of(stray))
        self.assertEqual([c["hex"] for c in stray["colors"]], ["#0a77ca", "#0a79c8"])
        self.assertNotIn("warnings", control)
        self.assertEqual(stray["warnings"], ["JPEG: Corrupt JPEG data: 2 extraneous bytes before marker 0xdb"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
