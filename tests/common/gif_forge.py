"""GIF files written byte by byte, for the layouts Pillow's writer never
produces (a first frame smaller than the screen or reaching past it, a local
colour table on the first frame, indices beyond the table, no colour table,
a given LZW minimum code size). The LZW data uses literal codes only, with a
clear code before the code width would grow, which every decoder must read."""

from __future__ import annotations

import struct


def lzw_literals(indices: list[int], min_code: int) -> bytes:
    n = max(2, min_code)
    width, clear = n + 1, 1 << n
    codes, run = [clear], 0
    for i in indices:
        if run == (1 << n) - 2:
            codes.append(clear)
            run = 0
        codes.append(i)
        run += 1
    codes.append(clear + 1)  # end of information
    acc = nbits = 0
    out = bytearray()
    for c in codes:
        acc |= c << nbits
        nbits += width
        while nbits >= 8:
            out.append(acc & 255)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 255)
    return bytes(out)


def sub_blocks(data: bytes) -> bytes:
    out = bytearray()
    for i in range(0, len(data), 255):
        part = data[i:i + 255]
        out += bytes([len(part)]) + part
    return bytes(out + b"\0")


def color_table(colors: list[tuple[int, int, int]]) -> tuple[int, bytes]:
    """(size bits - 1, the table padded to its power of two)."""
    bits = max(1, (len(colors) - 1).bit_length())
    data = b"".join(bytes(c) for c in colors)
    return bits - 1, data + b"\0" * (3 * (1 << bits) - len(data))


def interlaced_order(height: int) -> list[int]:
    return (list(range(0, height, 8)) + list(range(4, height, 8)) + list(range(2, height, 4))
            + list(range(1, height, 2)))


def frame(rect: tuple[int, int, int, int], indices: list[int], min_code: int = 8,
          local: list[tuple[int, int, int]] | None = None, transparent: int | None = None,
          interlace: bool = False, dispose: int = 0) -> bytes:
    x, y, w, h = rect
    out = bytearray()
    if transparent is not None or dispose:
        flags = (dispose & 7) << 2 | (1 if transparent is not None else 0)
        out += b"\x21\xf9\x04" + bytes([flags]) + struct.pack("<H", 0) + bytes([transparent or 0]) + b"\0"
    flags = 0x40 if interlace else 0
    table = b""
    if local:
        bits, table = color_table(local)
        flags |= 0x80 | bits
    out += b"," + struct.pack("<HHHH", x, y, w, h) + bytes([flags]) + table
    if interlace:
        indices = [v for r in interlaced_order(h) for v in indices[r * w:(r + 1) * w]]
    out += bytes([max(2, min_code)]) + sub_blocks(lzw_literals(indices, min_code))
    return bytes(out)


def gif(screen: tuple[int, int], frames: list[bytes], palette: list[tuple[int, int, int]] | None = None,
        background: int = 0, trailer: bool = True) -> bytes:
    out = bytearray(b"GIF89a" + struct.pack("<HH", *screen))
    if palette:
        bits, table = color_table(palette)
        out += bytes([0x80 | bits, background, 0]) + table
    else:
        out += bytes([0, background, 0])
    for f in frames:
        out += f
    if trailer:
        out += b";"
    return bytes(out)
