"""Differential test: generated PNGs and JPEGs, mutated the ways real files
go wrong (chunks reordered, duplicated, dropped, grown, truncated, PLTE/tRNS
misplaced, bad CRCs in critical and ancillary chunks; JPEG markers duplicated,
misplaced or dropped, stray bytes, cut files), each analyzed by huepool and
by Pillow 9.4 under alpha=keep and alpha=ignore.

Every outcome must be one of:
- both succeed with the same pixels and counts;
- both fail (huepool with a stable code, never `internal`);
- huepool fails where Pillow guesses, in a class docs/INPUTS.md decides
  (DECIDED_FAILURES, matched on huepool's message);
- huepool succeeds where Pillow refuses, only with a warning that names the
  defect (a bad CRC in a chunk huepool skips unread, and the like).

Hundreds of cases in a few seconds; run by CTest (common_mutation_differential).
"""

from __future__ import annotations

import io
import random
import re
import struct
import sys
import tempfile
import unittest
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import image_forge as F  # noqa: E402

# Chunks huepool skips unread (docs/INPUTS.md): damage inside them (a wrong
# length for their type) changes no pixel and cannot be seen without reading
# them, so huepool answers where Pillow, which parses them, refuses.
SKIPPED_UNREAD = (b"gAMA", b"pHYs", b"tEXt", b"tIME")

# huepool fails, Pillow answers: each pattern is a decision of docs/INPUTS.md.
DECIDED_FAILURES = {
    "palette index": "an index past the PLTE is damage; Pillow and libpng invent a colour",
    "alpha=ignore needs it": "a tRNS libpng drops is ambiguous under alpha=ignore",
    "unhandled critical chunk": "the PNG spec forbids guessing past an unknown critical chunk; Pillow skips it",
    "CRC error": "a critical chunk with a bad CRC is damage (Pillow checks no IDAT CRC)",
    "IDAT: ": "a zlib error in the image data (Pillow stops inflating once it has the rows)",
    "PLTE: invalid": "a palette image's PLTE of a length not a multiple of 3 (Pillow ignores the rest)",
    "PLTE: duplicate": "two palettes: which one is meant cannot be known (Pillow takes the last)",
    "IHDR": "IHDR not first, duplicated or of the wrong length: huepool judges the size from the first chunk",
    "Not enough image data": "the zlib stream ends before its end, checksum included (Pillow stops once it has the rows)",
    "Corrupt JPEG data": "libjpeg's corrupt-data warnings mean invented pixels (DESIGN §1); Pillow ignores them",
    "Premature end of JPEG file": "data cut short: Pillow pads with grey",
    "Invalid SOS parameters": "a sequential JPEG with progressive scan parameters",
    "Inconsistent progression": "a progressive scan that refines coefficients never sent",
}


def png_bases(rng: random.Random) -> list[tuple[str, F.Png]]:
    """Valid PNGs of several types: the material the mutations start from."""
    def samples(w, h, ch, depth):
        top = (1 << depth) - 1
        return [[rng.choice([0, top, top // 3, rng.randrange(top + 1)]) for _ in range(w * ch)] for _ in range(h)]
    out = []
    w, h = 9, 6
    pal = [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(5)]
    out.append(("pal8-trns", F.Png(w, h, 8, 3, [[rng.randrange(5) for _ in range(w)] for _ in range(h)], pal,
                                   trns=bytes([0, 128, 255]))))
    out.append(("pal2", F.Png(w, h, 2, 3, [[rng.randrange(4) for _ in range(w)] for _ in range(h)], pal[:4])))
    out.append(("gray8-trns", F.Png(w, h, 8, 0, samples(w, h, 1, 8), trns=b"\x00\x00")))
    out.append(("gray4", F.Png(w, h, 4, 0, samples(w, h, 1, 4))))
    out.append(("rgb8-trns", F.Png(w, h, 8, 2, samples(w, h, 3, 8), trns=b"\x00\x00\x00\x00\x00\x00")))
    out.append(("rgba8", F.Png(w, h, 8, 6, samples(w, h, 4, 8))))
    out.append(("graya8", F.Png(w, h, 8, 4, samples(w, h, 2, 8))))
    out.append(("rgb8-adam7", F.Png(w, h, 8, 2, samples(w, h, 3, 8), interlace=1)))
    return out


def with_extras(png: F.Png) -> list[bytes]:
    """The PNG's chunks with ancillary chunks around them and IDAT in three pieces."""
    chunks = png.chunks()
    idat = next(c for c in chunks if F.chunk_type(c) == b"IDAT")
    data = idat[8:-4]
    third = max(1, len(data) // 3)
    pieces = [F.chunk(b"IDAT", data[:third]), F.chunk(b"IDAT", data[third:2 * third]),
              F.chunk(b"IDAT", data[2 * third:])]
    i = chunks.index(idat)
    return (chunks[:1] + [F.chunk(b"gAMA", struct.pack(">I", 45455)), F.chunk(b"tEXt", b"Title\x00test")]
            + chunks[1:i] + [F.chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1))] + pieces
            + [F.chunk(b"tIME", bytes(7))] + chunks[i + 1:])


def png_mutations(chunks: list[bytes], rng: random.Random):
    types = [F.chunk_type(c) for c in chunks]
    n = len(chunks)
    for i in range(n - 1):
        swapped = chunks[:]
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        yield "swap%d" % i, F.assemble(swapped)
    for i in range(n):
        yield "dup%d-%s" % (i, types[i].decode()), F.assemble(chunks[:i + 1] + [chunks[i]] + chunks[i + 1:])
        yield "drop%d-%s" % (i, types[i].decode()), F.assemble(chunks[:i] + chunks[i + 1:])
        bad = bytearray(chunks[i])
        bad[-1] ^= 0x5A
        yield "crc%d-%s" % (i, types[i].decode()), F.assemble(chunks[:i] + [bytes(bad)] + chunks[i + 1:])
        data = chunks[i][8:-4]
        yield "grow%d-%s" % (i, types[i].decode()), F.assemble(
            chunks[:i] + [F.chunk(types[i], data + bytes([rng.randrange(256)]))] + chunks[i + 1:])
        if data:
            yield "shrink%d-%s" % (i, types[i].decode()), F.assemble(
                chunks[:i] + [F.chunk(types[i], data[:-1])] + chunks[i + 1:])
    for kind in (b"PLTE", b"tRNS"):
        if kind not in types:
            continue
        c = chunks[types.index(kind)]
        rest = [x for x in chunks if x is not c]
        for at in range(1, len(rest) + 1):
            yield "move-%s-%d" % (kind.decode(), at), F.assemble(rest[:at] + [c] + rest[at:])
    whole = F.assemble(chunks)
    for cut in sorted({len(whole) - 1, len(whole) - 12, len(whole) - 13, len(whole) - 20, len(whole) // 2, 40}):
        yield "cut%d" % cut, whole[:cut]


def jpeg_bases(rng: random.Random) -> list[tuple[str, bytes]]:
    from PIL import Image
    out = []
    for name, mode, progressive in (("rgb", "RGB", False), ("prog", "RGB", True), ("gray", "L", False)):
        im = Image.new(mode, (24, 16))
        im.putdata([tuple(rng.randrange(256) for _ in mode) if len(mode) > 1 else rng.randrange(256)
                    for _ in range(24 * 16)])
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=80, progressive=progressive)
        out.append((name, buf.getvalue()))
    return out


def jpeg_segments(jpeg: bytes) -> list[bytes]:
    """SOI, then each marker with its segment (and, for SOS, its entropy-coded data), EOI last."""
    marks = F.jpeg_markers(jpeg)
    starts = [m[0] for m in marks if not 0xD0 <= m[1] <= 0xD7]
    return [jpeg[a:b] for a, b in zip(starts, starts[1:] + [len(jpeg)])]


def jpeg_mutations(jpeg: bytes, rng: random.Random):
    segs = jpeg_segments(jpeg)
    names = ["%02x" % s[1] for s in segs]
    for i in range(1, len(segs)):
        yield "dup%d-%s" % (i, names[i]), b"".join(segs[:i + 1] + [segs[i]] + segs[i + 1:])
        yield "drop%d-%s" % (i, names[i]), b"".join(segs[:i] + segs[i + 1:])
        if i + 1 < len(segs):
            swapped = segs[:]
            swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
            yield "swap%d-%s" % (i, names[i]), b"".join(swapped)
        stray = bytes(rng.randrange(0, 0xFF) for _ in range(rng.choice([1, 3, 9])))
        if i > 1:
            yield "stray%d-%s" % (i, names[i]), b"".join(segs[:i]) + stray + b"".join(segs[i:])
    for cut in sorted({len(jpeg) - 2, len(jpeg) - 5, len(jpeg) * 3 // 4, len(jpeg) // 2}):
        yield "cut%d" % cut, jpeg[:cut]
    sos = next(i for i, s in enumerate(segs) if s[1] == 0xDA)
    data_at = sum(len(s) for s in segs[:sos]) + 4 + int.from_bytes(segs[sos][2:4], "big") - 2
    for k in range(6):
        flipped = bytearray(jpeg)
        at = rng.randrange(data_at, len(jpeg) - 2)
        flipped[at] = (flipped[at] ^ (1 << rng.randrange(8))) or 1
        if flipped[at] == 0xFF or flipped[at - 1] == 0xFF:
            continue
        yield "flip%d" % k, bytes(flipped)


class MutationDifferential(unittest.TestCase):
    def run_cases(self, cases: list[tuple[str, bytes, bool]]):
        """cases: (name, bytes, Pillow is the pixel reference)."""
        tmp = tempfile.TemporaryDirectory(prefix="huepool-mutations-")
        self.addCleanup(tmp.cleanup)
        paths = {}
        for name, data, _ in cases:
            p = Path(tmp.name) / name
            p.write_bytes(data)
            paths[name] = p
        counts = {"same": 0, "both_failed": 0, "decided": 0, "warned": 0}
        for alpha in ("keep", "ignore"):
            results = F.analyze(list(paths.values()), alpha=alpha)
            for name, data, reference in cases:
                r = results[str(paths[name])]
                p = F.pillow_counts(data, alpha)
                with self.subTest(case=name, alpha=alpha):
                    err = r.get("error")
                    if err:
                        self.assertIn(err["code"], ("decode_failed", "too_large", "unsupported_format", "no_pixels"))
                    if err and isinstance(p, Exception):
                        counts["both_failed"] += 1
                    elif err:
                        if err["code"] == "no_pixels":  # Pillow "succeeds" with zero pixels
                            self.assertEqual(p[0], 0)
                            counts["both_failed"] += 1
                            continue
                        reason = [k for k in DECIDED_FAILURES if k in err["message"]]
                        self.assertTrue(reason, "huepool failed where Pillow answered, outside the decided "
                                                "classes: %s" % err)
                        counts["decided"] += 1
                    elif isinstance(p, Exception):
                        skipped = any(k.decode() in name and ("shrink" in name or "grow" in name)
                                      for k in SKIPPED_UNREAD)
                        self.assertTrue(r.get("warnings") or skipped, "huepool answered where Pillow refused "
                                                                      "(%r), without a warning: %s" % (p, r))
                        counts["warned"] += 1
                    else:
                        if reference:
                            self.assertEqual(F.counts_of(r), p)
                        counts["same"] += 1
        return counts

    def test_png_mutations(self):
        rng = random.Random(11)
        cases = []
        for base_name, png in png_bases(rng):
            for mut_name, data in png_mutations(with_extras(png), rng):
                cases.append(("%s-%s.png" % (base_name, mut_name), data, True))
        self.assertGreater(len(cases), 300)
        counts = self.run_cases(cases)
        print("PNG mutations:", len(cases), "files x 2 alpha modes:", counts, file=sys.stderr)
        self.assertGreater(counts["same"], 100)

    def test_png_mutations_fast_path_equals_libpng(self):
        """Issue 13: the same mutated PNGs through both PNG decoders
        (`--png-decoder fast|libpng`): every result line identical but for
        elapsed_ms and worker (the pid), warnings and error messages included, both alpha modes."""
        rng = random.Random(11)
        tmp = tempfile.TemporaryDirectory(prefix="huepool-png-paths-")
        self.addCleanup(tmp.cleanup)
        paths = []
        for base_name, png in png_bases(rng):
            for mut_name, data in png_mutations(with_extras(png), rng):
                p = Path(tmp.name) / ("%s-%s.png" % (base_name, mut_name))
                p.write_bytes(data)
                paths.append(p)
        self.assertGreater(len(paths), 300)
        for alpha in ("keep", "ignore"):
            fast = F.analyze(paths, alpha=alpha, extra=["--png-decoder", "fast"])
            libpng = F.analyze(paths, alpha=alpha, extra=["--png-decoder", "libpng"])
            for p in paths:
                a, b = dict(fast[str(p)]), dict(libpng[str(p)])
                for r in (a, b):
                    r.pop("elapsed_ms", None)
                    r.pop("worker", None)
                with self.subTest(case=p.name, alpha=alpha):
                    self.assertEqual(a, b)

    def test_jpeg_mutations(self):
        rng = random.Random(12)
        cases = []
        for base_name, jpeg in jpeg_bases(rng):
            for mut_name, data in jpeg_mutations(jpeg, rng):
                cases.append(("%s-%s.jpg" % (base_name, mut_name), data, True))
        self.assertGreater(len(cases), 60)
        counts = self.run_cases(cases)
        print("JPEG mutations:", len(cases), "files x 2 alpha modes:", counts, file=sys.stderr)
        self.assertGreater(counts["same"], 20)


if __name__ == "__main__":
    unittest.main(verbosity=2)
