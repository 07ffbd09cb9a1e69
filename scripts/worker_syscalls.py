#!/usr/bin/python3
"""Which system calls does a worker make once its seccomp filter is in force?

Runs `huepool analyze --workers 1` under `strace -f` over the real-image
corpus, the real-world files (or the PNG, JPEG, WebP and GIF files of the
folders named) and damaged variants of each (truncated, bytes flipped, header
broken: both PNG paths, fast and libpng, JPEG, WebP and GIF, good and bad),
then prints, per system call, how many times the workers made it after
the filter was loaded, and every worker death. This is how the allow-list in
worker/syscall_filter.cpp was found and is checked (docs/RELIABILITY.md).

  scripts/worker_syscalls.py BUILD/server/huepool [CORPUS_DIR ...]

Needs strace. Exit status 1 if a worker died of SIGSYS (a needed call missing).
"""
import collections
import os
import random
import re
import subprocess
import sys
import tempfile


def damaged(data, rng):
    yield data
    if len(data) > 64:
        yield data[: len(data) // 2]                     # truncated mid-stream
        yield data[: len(data) - 7]                      # truncated near the end
        for _ in range(3):                               # a few bytes flipped
            b = bytearray(data)
            for _ in range(8):
                i = rng.randrange(16, len(b))
                b[i] ^= 1 << rng.randrange(8)
            yield bytes(b)
        b = bytearray(data)
        b[16:24] = b"\xff" * 8                           # broken header (IHDR size / SOF)
        yield bytes(b)
    yield b""
    yield b"not an image at all"


def main():
    binary = sys.argv[1]
    dirs = sys.argv[2:] or [os.path.join(os.path.dirname(__file__), "..", "..", "shared", d)
                            for d in ("corpus/seed12", "realworld")]
    rng = random.Random(14)
    with tempfile.TemporaryDirectory(prefix="huepool-syscalls-") as tmp:
        inputs = []
        for d in dirs:
            for name in sorted(os.listdir(d)):
                if not name.lower().endswith((".png", ".jpg", ".jpeg", ".webp", ".gif")):
                    continue
                with open(os.path.join(d, name), "rb") as f:
                    data = f.read()
                for i, variant in enumerate(damaged(data, rng)):
                    path = os.path.join(tmp, f"{i}-{name}")
                    with open(path, "wb") as f:
                        f.write(variant)
                    inputs.append(path)
        trace = os.path.join(tmp, "trace")
        cmd = ["strace", "-f", "-ff", "-qq", "-o", trace, binary, "analyze", "--workers", "1",
               "--mode", "imap_unordered", "--timeout-ms", "60000"] + inputs
        out = subprocess.run(cmd, capture_output=True, text=True)
        results = out.stdout.splitlines()
        counts = collections.Counter()
        deaths = []
        workers = 0
        for name in os.listdir(tmp):
            if not name.startswith("trace."):
                continue
            with open(os.path.join(tmp, name), errors="replace") as f:
                lines = f.read().splitlines()
            # posix_spawn's child: a few calls, then the exec of `huepool worker`.
            if not any(l.startswith("execve(") and '"worker"' in l for l in lines):
                continue
            workers += 1
            filtered = False
            for line in lines:
                if not filtered:
                    # The load itself (libseccomp's feature probes pass NULL and fail).
                    filtered = line.startswith("seccomp(SECCOMP_SET_MODE_FILTER") and "filter=" in line
                    continue
                m = re.match(r"([a-z0-9_]+)\(", line)
                if m:
                    counts[m.group(1)] += 1
                if line.startswith("+++ killed by") or line.startswith("--- SIGSYS"):
                    deaths.append(line)
        print(f"{len(inputs)} inputs, {len(results)} result lines, {workers} worker processes")
        errors = collections.Counter(re.findall(r'"code":"([a-z_]+)"', out.stdout))
        print("errors by code:", dict(errors))
        print("system calls after the filter was loaded (all workers):")
        for sc, n in sorted(counts.items()):
            print(f"  {sc:20} {n}")
        for d in deaths:
            print("DEATH:", d)
        return 1 if any("SIGSYS" in d for d in deaths) else 0


if __name__ == "__main__":
    sys.exit(main())
