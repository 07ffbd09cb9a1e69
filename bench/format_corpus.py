"""Writes the corpus of bench/format_bench: each PNG/JPEG of a directory
(default ../shared/corpus/seed12) as it is, and converted by Pillow 9.4 to
WebP lossy (Pillow's default quality 80), WebP lossless, and GIF (what
Pillow's GIF writer does with RGB input: an adaptive 256-colour palette).

    /usr/bin/python3 bench/format_corpus.py [SRC_DIR] OUT_DIR
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PIL import Image


def main() -> int:
    args = sys.argv[1:]
    src = Path(args[0]) if len(args) > 1 else Path(__file__).resolve().parents[2] / "shared" / "corpus" / "seed12"
    out = Path(args[-1])
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.iterdir()):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            continue
        shutil.copyfile(path, out / path.name)
        im = Image.open(path).convert("RGB")
        stem = path.stem
        im.save(out / (stem + "-lossy.webp"), "WEBP")
        im.save(out / (stem + "-lossless.webp"), "WEBP", lossless=True)
        im.save(out / (stem + ".gif"), "GIF")
        print(path.name, im.size, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
