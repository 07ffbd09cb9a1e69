#!/usr/bin/env python3
"""Deployment sizing (issue #6): the memory of one huepool container, as the
kernel accounts it to the container's cgroup (what a Kubernetes memory limit
counts), for the requests/limits in docker/k8s/deployment.yaml.

  python3 bench/container_memory.py [--workers 2] [--image huepool:latest]

Needs Docker (../shared/tools/docker-offline.sh) and huepool:latest
(docker build --network host -t huepool:latest -f docker/Dockerfile .).
Scenarios, each on a fresh container:
  idle      server + workers started, nothing sent
  corpus    ../shared/corpus/seed12 (12 images, 28.75 MP) as one map request, 5 times
  worst     every worker at once on a 100 MP image (the default --max-pixels) whose
            pixels are 16.7 M distinct colors: the largest count table there is
Prints the peak (memory.max_usage_in_bytes, cgroup v1) per scenario, and the
CPU time per megapixel of the corpus run (docker stats' cumulative usage)."""

import argparse
import json
import pathlib
import subprocess
import sys
import time
import struct
import zlib

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "deploy"))
import deploylib  # noqa: E402


def cgroup_file(container_id, name):
    return pathlib.Path(f"/sys/fs/cgroup/memory/docker/{container_id}/{name}")


def all_colors_png(width=10_000, height=10_000, band=500):
    """A 100 MP RGB PNG whose pixel i has color i mod 2^24 (every color ~6 times).
    Row filter Sub turns each row into constant deltas: a file of a few MB."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    z = zlib.compressobj(6)
    idat = []
    for y0 in range(0, height, band):
        px = (np.arange(y0 * width, (y0 + band) * width, dtype=np.uint64) % (1 << 24)).astype(np.uint32)
        rgb = np.stack([(px >> 16) & 255, (px >> 8) & 255, px & 255], axis=-1).astype(np.uint8)
        rgb = rgb.reshape(band, width, 3)
        sub = rgb.copy()
        sub[:, 1:, :] = rgb[:, 1:, :] - rgb[:, :-1, :]
        rows = np.concatenate([np.ones((band, 1), np.uint8), sub.reshape(band, width * 3)], axis=1)
        idat.append(z.compress(rows.tobytes()))
    idat.append(z.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(idat)) + chunk(b"IEND", b"")


def run_container(image, workers, port):
    name = deploylib.unique_name("membench")
    cid = deploylib.run(["docker", "run", "-d", "--name", name, "--network", "host",
                         "-e", "HUEPOOL_HOST=127.0.0.1", "-e", f"HUEPOOL_PORT={port}",
                         "-e", f"HUEPOOL_WORKERS={workers}", "-e", "HUEPOOL_IMAGE_TIMEOUT=2m", image], quiet=True).stdout.strip()
    deploylib.wait_ready(port)
    return name, cid


def peak_mb(cid):
    return int(cgroup_file(cid, "memory.max_usage_in_bytes").read_text()) / 2**20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--image", default=deploylib.IMAGE)
    args = ap.parse_args()
    deploylib.ensure_docker()
    rows = []

    port = deploylib.free_port()
    name, cid = run_container(args.image, args.workers, port)
    try:
        time.sleep(2)  # let start-up settle: idle is what it is after start
        rows.append(("idle", peak_mb(cid)))
        paths = deploylib.corpus_files()
        cpu0 = int(pathlib.Path(f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage").read_text())
        for _ in range(5):
            status, _, body = deploylib.post_multipart(port, paths)
            assert status == 200 and json.loads(body)["failed"] == 0, body[:300]
        cpu_s = (int(pathlib.Path(f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage").read_text()) - cpu0) / 1e9
        rows.append(("corpus x5 (map, 12 images)", peak_mb(cid)))
    finally:
        deploylib.run(["docker", "rm", "-f", name], quiet=True, check_rc=False)

    png = all_colors_png()
    worst = pathlib.Path("/tmp/huepool-all-colors-100mp.png")
    worst.write_bytes(png)
    port = deploylib.free_port()
    name, cid = run_container(args.image, args.workers, port)
    try:
        status, _, body = deploylib.post_multipart(port, [worst] * args.workers, "processes=%d" % args.workers,
                                                   timeout=600)
        results = json.loads(body)["results"]
        rows.append((f"worst: {args.workers} x 100 MP, 16.7 M colors at once", peak_mb(cid)))
        errors = [r["error"] for r in results if "error" in r]
    finally:
        deploylib.run(["docker", "rm", "-f", name], quiet=True, check_rc=False)

    print(f"huepool container, {args.workers} workers ({args.image}); peak cgroup memory:")
    for label, mb in rows:
        print(f"  {label:48s} {mb:8.1f} MiB")
    print(f"corpus CPU time: {cpu_s:.2f} s for 5 x 28.75 MP = {cpu_s / (5 * 28.75) * 1000:.1f} ms per MP")
    print(f"worst-case PNG {len(png) / 1e6:.2f} MB; errors: {errors or 'none'}")


if __name__ == "__main__":
    main()
