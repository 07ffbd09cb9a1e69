"""Builds PNG files chunk by chunk and walks JPEG markers, for tests that need
files no well-behaved encoder writes (a tRNS after IDAT, a palette index past
the PLTE, a thousand zTXt chunks, stray bytes before a marker), plus the two
oracles those tests compare huepool with: Pillow 9.4 and `huepool analyze`.

PNG: W3C PNG spec (third edition) §5 chunk layout, §11 chunks. JPEG: ITU T.81
Annex B marker segments.
"""

from __future__ import annotations

import collections
import io
import json
import os
import struct
import subprocess
import unittest
import zlib
from dataclasses import dataclass, field
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


# ---------------------------------------------------------------- PNG chunks

def chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    """One chunk: length, type, data, CRC (the right one unless `crc` is given)."""
    if crc is None:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def ihdr(width: int, height: int, depth: int, color_type: int, interlace: int = 0) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace))


def pack_row(samples: list[int], depth: int) -> bytes:
    """One scanline's samples at `depth` bits, big-endian, without the filter byte."""
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    per_byte = 8 // depth
    out = bytearray()
    for i in range(0, len(samples), per_byte):
        v = 0
        for j in range(per_byte):
            v = (v << depth) | (samples[i + j] if i + j < len(samples) else 0)
        out.append(v)
    return bytes(out)


def idat_data(rows: list[list[int]], depth: int) -> bytes:
    """The zlib stream of non-interlaced rows, each with filter type None."""
    return zlib.compress(b"".join(b"\x00" + pack_row(r, depth) for r in rows))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def idat_data_adam7(rows: list[list[int]], depth: int, channels: int) -> bytes:
    """The zlib stream of rows (samples, `channels` per pixel) laid out as Adam7 passes."""
    height, width = len(rows), len(rows[0]) // channels
    raw = b""
    for x0, y0, dx, dy in ADAM7:
        for y in range(y0, height, dy):
            picked = []
            for x in range(x0, width, dx):
                picked += rows[y][x * channels:(x + 1) * channels]
            if picked:
                raw += b"\x00" + pack_row(picked, depth)
    return zlib.compress(raw)


@dataclass
class Png:
    """A PNG as a list of chunks, so that tests can reorder, duplicate or damage them."""
    width: int
    height: int
    depth: int
    color_type: int
    rows: list[list[int]]                  # samples per row, CHANNELS[color_type] per pixel
    palette: list[tuple[int, int, int]] = field(default_factory=list)
    trns: bytes | None = None              # raw tRNS data
    interlace: int = 0

    def chunks(self) -> list[bytes]:
        out = [ihdr(self.width, self.height, self.depth, self.color_type, self.interlace)]
        if self.palette:
            out.append(chunk(b"PLTE", b"".join(bytes(c) for c in self.palette)))
        if self.trns is not None:
            out.append(chunk(b"tRNS", self.trns))
        data = (idat_data_adam7(self.rows, self.depth, CHANNELS[self.color_type]) if self.interlace
                else idat_data(self.rows, self.depth))
        out.append(chunk(b"IDAT", data))
        out.append(chunk(b"IEND", b""))
        return out

    def bytes(self) -> bytes:
        return PNG_SIGNATURE + b"".join(self.chunks())


def chunk_type(c: bytes) -> bytes:
    return c[4:8]


def assemble(chunks: list[bytes]) -> bytes:
    return PNG_SIGNATURE + b"".join(chunks)


# ---------------------------------------------------------------- JPEG markers

def jpeg_markers(data: bytes) -> list[tuple[int, int, bool]]:
    """(offset, marker byte, follows entropy-coded data) of every marker in a
    JPEG: segments, SOS, the restart markers inside entropy-coded data, EOI.
    Offsets point at the 0xFF. Bytes inserted before a marker that follows
    entropy-coded data may be read by the Huffman decoder as padding bits."""
    out = [(0, 0xD8, False)]
    pos, after_data = 2, False
    while pos + 1 < len(data):
        if data[pos] != 0xFF:
            raise ValueError("no marker at %d" % pos)
        marker = data[pos + 1]
        out.append((pos, marker, after_data))
        after_data = False
        if marker == 0xD9:
            break
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        pos += 2 + length
        if marker == 0xDA:  # entropy-coded data follows, up to the next marker that is not a stuffed 0 or RSTn
            after_data = True
            while pos + 1 < len(data):
                if data[pos] == 0xFF and data[pos + 1] != 0x00:
                    if 0xD0 <= data[pos + 1] <= 0xD7:
                        out.append((pos, data[pos + 1], True))
                        pos += 2
                        continue
                    break
                pos += 1
    return out


# ---------------------------------------------------------------- oracles

def huepool_bin() -> str:
    path = os.environ.get("HUEPOOL_BIN")
    if not path or not os.access(path, os.X_OK):
        raise unittest.SkipTest("HUEPOOL_BIN is not set to the built huepool binary")
    return path


def analyze(paths: list[Path], alpha: str = "keep", top: int = 256, extra: list[str] | None = None) -> dict[str, dict]:
    """`huepool analyze` over `paths` in one process: result object per path."""
    if not paths:
        return {}
    cmd = [huepool_bin(), "analyze", "--alpha", alpha, "--top", str(top)] + (extra or []) + [str(p) for p in paths]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode not in (0, 1):
        raise AssertionError("huepool analyze exited %d: %s" % (proc.returncode, proc.stderr[-2000:]))
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return {r["name"]: r for r in results}


def pillow_counts(data: bytes, alpha: str = "keep", top: int = 256):
    """Pillow's answer as (pixels counted, [(r, g, b, count), ...] most common
    first, ties by first occurrence), or the exception it raised."""
    from PIL import Image  # python3-pil
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data))
            im = im.convert("RGBA" if alpha == "ignore" else "RGB")
            pixels = list(im.getdata())
    except Exception as e:  # noqa: BLE001 - any failure is Pillow's answer
        return e
    if alpha == "ignore":
        pixels = [p[:3] for p in pixels if p[3] != 0]
    counted = collections.Counter(pixels)
    return len(pixels), [(c[0], c[1], c[2], n) for c, n in counted.most_common(top)]


def counts_of(result: dict):
    """The same shape as pillow_counts() from a huepool result."""
    return result["pixels"], [(c["r"], c["g"], c["b"], c["count"]) for c in result["colors"]]


def naive_counts(rgb_pixels: list[tuple[int, int, int]], top: int = 256):
    counted = collections.Counter(rgb_pixels)
    return len(rgb_pixels), [(c[0], c[1], c[2], n) for c, n in counted.most_common(top)]
