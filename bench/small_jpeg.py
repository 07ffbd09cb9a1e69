#!/usr/bin/env python3
"""Writes the small JPEG of docs/BENCHMARKS.md "Small images with wrk": the
corpus's mate-Dune.jpg scaled to 150x103 (Lanczos), quality 70: 3.5 KB,
~11,500 distinct colours, the kind of thumbnail PERFORMANCE-NOTES' 3.4 KB
JPEG is. Needs Pillow (Debian's python3-pil: /usr/bin/python3).
    /usr/bin/python3 bench/small_jpeg.py OUT.jpg [CORPUS_DIR]"""
import sys

from PIL import Image

out = sys.argv[1]
corpus = sys.argv[2] if len(sys.argv) > 2 else "../shared/corpus"
image = Image.open(f"{corpus}/seed12/mate-Dune.jpg").convert("RGB").resize((150, 103), Image.LANCZOS)
image.save(out, quality=70)
