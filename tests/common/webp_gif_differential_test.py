"""WebP and GIF, pixel for pixel and count for count against Pillow 9.4
(Image.open(f).convert('RGB'), or 'RGBA' with alpha-0 pixels dropped for
alpha=ignore), and `frames` against Pillow's n_frames. Files are written by
Pillow (WebP: lossy and lossless, with and without alpha, animated; GIF:
adaptive palettes of 2 to 256 colours, gray, transparency, interlaced or not,
animated with optimised sub-frames) and by tests/common/gif_forge.py for the
GIF layouts Pillow's writer never produces; plus the real files in
tests/common/data/webp-gif (see its README). Damaged files are checked
against the decisions in docs/INPUTS.md "WebP" and "GIF".

Run by CTest (common_webp_gif_differential) with HUEPOOL_BIN set.
"""

from __future__ import annotations

import collections
import io
import random
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gif_forge as G  # noqa: E402
import image_forge as F  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "webp-gif"


def pillow_frames(data: bytes) -> int:
    from PIL import Image
    return getattr(Image.open(io.BytesIO(data)), "n_frames", 1)


def pillow_size(data: bytes):
    """The size Pillow reads from the header, without decoding; None if it cannot."""
    import warnings
    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning for a flipped size
            return Image.open(io.BytesIO(data)).size
    except Exception:  # noqa: BLE001
        return None


def picture(kind: str, size: tuple[int, int], rng: random.Random, mode: str = "RGB"):
    """A test image: noise, a gradient, or a few flat colours, in `mode`."""
    from PIL import Image
    w, h = size
    if kind == "noise":
        im = Image.frombytes("RGBA", size, bytes(rng.randrange(256) for _ in range(w * h * 4)))
    elif kind == "gradient":
        im = Image.new("RGBA", size)
        im.putdata([((x * 255) // max(1, w - 1), (y * 255) // max(1, h - 1), (x + y) % 256,
                     255 if (x + y) % 3 else 0) for y in range(h) for x in range(w)])
    else:
        flats = [(rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.choice([0, 128, 255]))
                 for _ in range(4)]
        im = Image.new("RGBA", size)
        im.putdata([flats[(x // 3 + y // 2) % 4] for y in range(h) for x in range(w)])
    return im.convert(mode)


def pillow_bytes(im, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


class Batch:
    def __init__(self, test: unittest.TestCase):
        self._dir = tempfile.TemporaryDirectory(prefix="huepool-webp-gif-")
        test.addCleanup(self._dir.cleanup)
        self.files: dict[str, bytes] = {}

    def add(self, name: str, data: bytes) -> str:
        path = str(Path(self._dir.name) / name)
        Path(path).write_bytes(data)
        self.files[path] = data
        return path


class DifferentialCase(unittest.TestCase):
    fmt = ""

    def assert_like_pillow(self, batch: Batch) -> None:
        """Every file in the batch, both alpha modes: Pillow's counts, and
        Pillow's n_frames as `frames`."""
        self.assertGreater(len(batch.files), 0)
        for alpha in ("keep", "ignore"):
            results = F.analyze([Path(p) for p in batch.files], alpha=alpha)
            for path, data in batch.files.items():
                with self.subTest(file=Path(path).name, alpha=alpha):
                    r = results[path]
                    expected = F.pillow_counts(data, alpha)
                    self.assertNotIsInstance(expected, Exception, "Pillow refused a generated file")
                    if expected[0] == 0:
                        self.assertEqual(r.get("error", {}).get("code"), "no_pixels", r)
                        continue
                    self.assertNotIn("error", r)
                    self.assertEqual(r["format"], self.fmt)
                    self.assertEqual(F.counts_of(r), expected)
                    self.assertEqual(r["frames"], pillow_frames(data))
                    self.assertNotIn("warnings", r)


class WebpLikePillow(DifferentialCase):
    fmt = "webp"

    def test_still_lossy_and_lossless_with_and_without_alpha(self):
        rng = random.Random(15)
        batch = Batch(self)
        sizes = [(1, 1), (3, 5), (17, 13), (64, 48), (257, 3), (5, 211), (120, 90)]
        for size in sizes:
            for kind in ("noise", "gradient", "flat"):
                for mode in ("RGB", "RGBA"):
                    im = picture(kind, size, rng, mode)
                    tag = "%dx%d-%s-%s" % (size[0], size[1], kind, mode)
                    for quality in (5, 80, 100):
                        batch.add("lossy-q%d-%s.webp" % (quality, tag), pillow_bytes(im, "WEBP", quality=quality))
                    batch.add("lossless-%s.webp" % tag, pillow_bytes(im, "WEBP", lossless=True))
                    batch.add("lossless-exact-%s.webp" % tag, pillow_bytes(im, "WEBP", lossless=True, exact=True))
                    batch.add("lossy-m6-%s.webp" % tag, pillow_bytes(im, "WEBP", quality=50, method=6))
        self.assert_like_pillow(batch)

    def test_animated_first_frame_and_frame_count(self):
        rng = random.Random(16)
        batch = Batch(self)
        for size in [(1, 1), (16, 9), (40, 30), (97, 61)]:
            for mode in ("RGB", "RGBA"):
                for n in (2, 3, 7):
                    frames = [picture(rng.choice(["noise", "gradient", "flat"]), size, rng, mode) for _ in range(n)]
                    for lossless in (False, True):
                        data = pillow_bytes(frames[0], "WEBP", save_all=True, append_images=frames[1:],
                                            lossless=lossless, duration=40, loop=0)
                        batch.add("anim-%dx%d-%s-n%d-l%d.webp" % (size[0], size[1], mode, n, lossless), data)
                # Later frames that differ only in a corner: the encoder stores sub-rectangles.
                base = picture("flat", size, rng, mode)
                later = base.copy()
                later.paste((1, 2, 3) if mode == "RGB" else (1, 2, 3, 255), (0, 0, max(1, size[0] // 3), 1))
                batch.add("anim-subrect-%dx%d-%s.webp" % (size[0], size[1], mode),
                          pillow_bytes(base, "WEBP", save_all=True, append_images=[later, base], lossless=True))
        self.assert_like_pillow(batch)

    def test_real_files(self):
        batch = Batch(self)
        for path in sorted(DATA.glob("*.webp")):
            batch.add(path.name, path.read_bytes())
        self.assert_like_pillow(batch)


class GifLikePillow(DifferentialCase):
    fmt = "gif"

    def test_pillow_written_palettes_gray_transparency_interlace(self):
        from PIL import Image
        rng = random.Random(17)
        batch = Batch(self)
        for size in [(1, 1), (2, 3), (16, 16), (33, 17), (300, 2), (3, 170), (64, 64)]:
            for kind in ("noise", "gradient", "flat"):
                tag = "%dx%d-%s" % (size[0], size[1], kind)
                rgb = picture(kind, size, rng)
                for colors in (2, 4, 16, 256):
                    p = rgb.quantize(colors=colors)
                    for interlace in (False, True):
                        batch.add("p%d-i%d-%s.gif" % (colors, interlace, tag),
                                  pillow_bytes(p, "GIF", interlace=interlace))
                    # Transparency: one palette index transparent.
                    batch.add("p%d-trns-%s.gif" % (colors, tag),
                              pillow_bytes(p, "GIF", transparency=rng.randrange(colors)))
                batch.add("gray-%s.gif" % tag, pillow_bytes(rgb.convert("L"), "GIF"))
                batch.add("bilevel-%s.gif" % tag, pillow_bytes(rgb.convert("1"), "GIF"))
                rgba = picture(kind, size, rng, "RGBA")
                batch.add("rgba-%s.gif" % tag, pillow_bytes(rgba, "GIF"))
                batch.add("rgb-%s.gif" % tag, pillow_bytes(rgb, "GIF"))
        del Image
        self.assert_like_pillow(batch)

    def test_pillow_written_animations(self):
        rng = random.Random(18)
        batch = Batch(self)
        for size in [(1, 1), (9, 7), (40, 25)]:
            for n in (2, 5):
                frames = [picture(rng.choice(["noise", "gradient", "flat"]), size, rng) for _ in range(n)]
                for disposal in (0, 1, 2, 3):
                    for optimize in (False, True):
                        batch.add("anim-%dx%d-n%d-d%d-o%d.gif" % (size[0], size[1], n, disposal, optimize),
                                  pillow_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:],
                                               disposal=disposal, optimize=optimize, duration=30))
                quantized = [f.quantize(colors=rng.choice([2, 16, 256])) for f in frames]
                batch.add("anim-local-tables-%dx%d-n%d.gif" % (size[0], size[1], n),
                          pillow_bytes(quantized[0], "GIF", save_all=True, append_images=quantized[1:],
                                       transparency=0))
        self.assert_like_pillow(batch)

    def test_hand_written_layouts(self):
        """What Pillow fills outside a first frame smaller than the screen
        (index 0, or the transparent index), a frame reaching past the screen
        (the image grows), local tables on the first frame, no colour table,
        small LZW code sizes, interlacing of every height up to 17."""
        rng = random.Random(19)
        batch = Batch(self)
        for case in range(120):
            table = [(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                     for _ in range(rng.choice([2, 3, 4, 8, 16, 100, 256]))]
            size = 1 << max(1, (len(table) - 1).bit_length())
            sw, sh = rng.randrange(1, 30), rng.randrange(1, 30)
            x, y = rng.randrange(0, sw + 3), rng.randrange(0, sh + 3)
            w, h = rng.randrange(1, 20), rng.randrange(1, 18)
            local = rng.random() < 0.3
            transparent = rng.choice([None, None, 0, rng.randrange(size)])
            indices = [rng.randrange(size) for _ in range(w * h)]
            min_code = max(2, (size - 1).bit_length()) if rng.random() < 0.7 else 8
            first = G.frame((x, y, w, h), indices, min_code, local=table if local else None,
                            transparent=transparent, interlace=rng.random() < 0.5, dispose=rng.randrange(4))
            extra = [G.frame((0, 0, 1, 1), [rng.randrange(size)], min_code) for _ in range(rng.choice([0, 0, 1, 4]))]
            global_table = table if not local else (rng.choice([None, [(9, 9, 9)] * 2]))
            batch.add("hand-%03d.gif" % case, G.gif((sw, sh), [first] + extra, global_table,
                                                     background=rng.randrange(size)))
        for case in range(10):  # no colour table at all: Pillow reads indices as gray levels
            w, h = rng.randrange(1, 12), rng.randrange(1, 12)
            batch.add("no-table-%d.gif" % case,
                      G.gif((w, h), [G.frame((0, 0, w, h), [rng.randrange(256) for _ in range(w * h)])], None))
        self.assert_like_pillow(batch)

    def test_real_files(self):
        batch = Batch(self)
        for path in sorted(DATA.glob("*.gif")):
            batch.add(path.name, path.read_bytes())
        self.assert_like_pillow(batch)


class DamagedFiles(unittest.TestCase):
    """Typed errors for damaged files (docs/INPUTS.md "WebP", "GIF"): every
    truncation of a few files fails with decode_failed, never a partial
    count; where the cut or the defect changes no counted pixel the result
    stands with a warning."""

    def analyze(self, files: dict[str, bytes], alpha: str = "keep") -> dict[str, dict]:
        batch = Batch(self)
        paths = {name: batch.add(name, data) for name, data in files.items()}
        results = F.analyze([Path(p) for p in paths.values()], alpha=alpha)
        return {name: results[p] for name, p in paths.items()}

    def test_every_truncation_fails_or_stands_complete(self):
        rng = random.Random(20)
        files = {}
        for mode in ("RGB", "RGBA"):
            im = picture("noise", (23, 11), rng, mode)
            for name, data in {
                "lossy-%s.webp" % mode: pillow_bytes(im, "WEBP", quality=70),
                "lossless-%s.webp" % mode: pillow_bytes(im, "WEBP", lossless=True),
                "anim-%s.webp" % mode: pillow_bytes(im, "WEBP", save_all=True, append_images=[im.rotate(90)]),
                "gif-%s.gif" % mode: pillow_bytes(im, "GIF", interlace=mode == "RGBA"),
            }.items():
                for cut in range(0, len(data)):
                    files["cut%05d-%s" % (cut, name)] = data[:cut]
                files["whole-" + name] = data
        results = self.analyze(files)
        for name, r in results.items():
            with self.subTest(file=name):
                data = files[name]
                whole = results["whole-" + name.split("-", 1)[1]]
                if "error" in r:
                    code = r["error"]["code"]
                    self.assertIn(code, ("decode_failed", "unsupported_format"), r)
                    if code == "unsupported_format":  # the magic bytes themselves are cut
                        self.assertLess(len(data), 12)
                    continue
                # An answer from a cut file is the whole file's answer (only the
                # GIF trailer, or bytes after the first frame, may be missing).
                self.assertTrue(name.endswith(".gif") or name.startswith("whole-"), r)
                self.assertEqual(F.counts_of(r), F.counts_of(whole))
                if not name.startswith("whole-"):
                    self.assertIn("warnings", r)

    def test_gif_index_beyond_the_table_fails(self):
        table = [(10, 20, 30), (200, 0, 0), (0, 200, 0)]  # padded to 4 entries
        files = {
            "index-5.gif": G.gif((4, 1), [G.frame((0, 0, 4, 1), [0, 5, 1, 2], 3)], table),
            "index-4-local.gif": G.gif((2, 2), [G.frame((0, 0, 2, 2), [0, 1, 2, 4], 3, local=table)], None),
            "fill-beyond.gif": G.gif((4, 4), [G.frame((1, 1, 1, 1), [1], 3, transparent=6)], table),
        }
        results = self.analyze(files)
        self.assertIn("colour index 5 at row 0, column 1 is beyond the 4-entry colour table",
                      results["index-5.gif"]["error"]["message"])
        self.assertIn("colour index 4 at row 1, column 1", results["index-4-local.gif"]["error"]["message"])
        self.assertIn("fills the screen outside the first frame", results["fill-beyond.gif"]["error"]["message"])
        for r in results.values():
            self.assertEqual(r["error"]["code"], "decode_failed")
        # Under alpha=ignore the transparent fill is not counted, so its index does not matter.
        ignored = self.analyze({"fill-beyond.gif": files["fill-beyond.gif"]}, alpha="ignore")["fill-beyond.gif"]
        self.assertEqual((ignored["pixels"], ignored["hex"]), (1, "#c80000"))

    def test_gif_defects_after_the_first_frame_are_warnings(self):
        table = [(1, 2, 3), (4, 5, 6)]
        first = G.frame((0, 0, 2, 1), [0, 1], 2)
        second = G.frame((0, 0, 2, 1), [1, 1], 2)
        files = {
            "no-trailer.gif": G.gif((2, 1), [first, second], table, trailer=False),
            "cut-second.gif": G.gif((2, 1), [first, second], table, trailer=False)[:-3],
            "stray.gif": G.gif((2, 1), [first, b"\x00\x07", second], table),
        }
        results = self.analyze(files)
        self.assertEqual(results["no-trailer.gif"]["frames"], 2)
        self.assertIn("without a trailer", results["no-trailer.gif"]["warnings"][0])
        self.assertEqual(results["cut-second.gif"]["frames"], 2)
        self.assertIn("ends inside a block", results["cut-second.gif"]["warnings"][0])
        self.assertEqual(results["stray.gif"]["frames"], 2)
        self.assertIn("2 bytes that start no block", results["stray.gif"]["warnings"][0])
        for r in results.values():
            self.assertEqual(r["count"], 1)
            self.assertEqual(r["pixels"], 2)
        for name in files:  # Pillow counts the same frames
            self.assertEqual(results[name]["frames"], pillow_frames(files[name]))

    def test_gif_without_image_and_bad_lzw(self):
        table = [(1, 2, 3), (4, 5, 6)]
        good = G.gif((3, 1), [G.frame((0, 0, 3, 1), [0, 1, 0], 2)], table)
        lzw_at = good.index(b",") + 10  # descriptor (10 bytes), then the code size byte
        early_end = bytearray(G.gif((3, 1), [G.frame((0, 0, 3, 1), [0], 2)], table))
        files = {
            "no-image.gif": G.gif((3, 1), [], table),
            "early-eoi.gif": bytes(early_end),
            "bad-code.gif": good[:lzw_at + 2] + b"\xff" + good[lzw_at + 3:],
            "zero-screen.gif": G.gif((0, 0), [G.frame((0, 0, 0, 0), [], 2)], table),
            # Pillow skips a byte that starts no block; giflib refuses it (docs/INPUTS.md).
            "stray-before-frame.gif": G.gif((3, 1), [b"\x07", G.frame((0, 0, 3, 1), [0, 1, 0], 2)], table),
        }
        results = self.analyze(files)
        self.assertIn("no image", results["no-image.gif"]["error"]["message"])
        self.assertIn("before the frame's last pixel", results["early-eoi.gif"]["error"]["message"])
        self.assertIn("0 pixels", results["zero-screen.gif"]["error"]["message"])
        self.assertIn("unknown type before the first frame", results["stray-before-frame.gif"]["error"]["message"])
        for name, r in results.items():
            with self.subTest(file=name):
                self.assertEqual(r["error"]["code"], "decode_failed", r)

    def test_webp_damage(self):
        from PIL import Image
        im = Image.new("RGB", (8, 8), (10, 200, 30))
        lossy = pillow_bytes(im, "WEBP")
        files = {
            "riff-size-past-end.webp": lossy[:4] + (len(lossy) + 100).to_bytes(4, "little") + lossy[8:],
            "not-vp8.webp": lossy[:12] + b"ABCD" + lossy[16:],
            "header-only.webp": lossy[:30],
        }
        results = self.analyze(files)
        for name, r in results.items():
            with self.subTest(file=name):
                self.assertEqual(r.get("error", {}).get("code"), "decode_failed", r)
                self.assertTrue(r["error"]["message"].startswith("WebP: "))

    def test_webp_flipped_bytes_like_pillow(self):
        """Every byte of a lossy, a lossless and an animated file flipped: where
        Pillow answers, huepool gives the same counts; where Pillow refuses,
        huepool fails with decode_failed (or too_large: a flipped size)."""
        rng = random.Random(21)
        files = {}
        for name, data in {
            "lossy": pillow_bytes(picture("noise", (12, 9), rng, "RGBA"), "WEBP", quality=60),
            "lossless": pillow_bytes(picture("noise", (10, 7), rng, "RGBA"), "WEBP", lossless=True),
            "anim": pillow_bytes(picture("flat", (6, 5), rng, "RGB"), "WEBP", save_all=True,
                                 append_images=[picture("noise", (6, 5), rng, "RGB")], lossless=True),
        }.items():
            for at in range(12, len(data)):
                flipped = bytearray(data)
                flipped[at] ^= 0xFF if at % 2 else (1 << (at % 8))
                files["%s-%05d.webp" % (name, at)] = bytes(flipped)
        for alpha in ("keep", "ignore"):
            results = self.analyze(files, alpha)
            outcomes = collections.Counter()
            for name, r in results.items():
                size = pillow_size(files[name])
                if size is None or size[0] * size[1] > 4096:
                    # A flipped size byte: too big for Pillow's pure-Python count
                    # here; huepool answers that size or fails with a code.
                    with self.subTest(file=name, alpha=alpha):
                        if "error" in r:
                            self.assertIn(r["error"]["code"], ("decode_failed", "too_large", "no_pixels"), r)
                        else:
                            self.assertEqual((r["width"], r["height"]), size)
                    outcomes["large, not compared"] += 1
                    continue
                expected = F.pillow_counts(files[name], alpha)
                with self.subTest(file=name, alpha=alpha):
                    if isinstance(expected, Exception) or expected[0] == 0:
                        self.assertIn("error", r)
                        self.assertIn(r["error"]["code"], ("decode_failed", "too_large", "no_pixels"), r)
                        outcomes["both fail" if isinstance(expected, Exception) else "no pixels"] += 1
                    else:
                        self.assertNotIn("error", r)
                        self.assertEqual(F.counts_of(r), expected)
                        outcomes["same counts"] += 1
            print("WebP flipped bytes, alpha=%s:" % alpha, dict(outcomes), file=sys.stderr)

if __name__ == "__main__":
    unittest.main(verbosity=1)
