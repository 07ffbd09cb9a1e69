#!/usr/bin/env python3
"""upload_schedule (issue 13): how one map upload of the corpus was spread over
the workers. For each server option given (e.g. --largest-first=true
--largest-first=false), a fresh `huepool serve --workers 2 OPTION`, then the
seed12 files (reference.json order) as one multipart map upload, --uploads
times after one warm-up; per upload the wall time, the server's elapsed_ms,
and per worker the summed elapsed_ms of its images and their indices.

    /usr/bin/python3 bench/upload_schedule.py --bin build/server/huepool [--reverse] \\
        --largest-first=true --largest-first=false
"""
import argparse
import json
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path


def multipart(corpus: Path, reverse: bool) -> tuple[bytes, str]:
    files = [i["file"] for i in json.loads((corpus / "reference.json").read_text())["images"]]
    if reverse:
        files.reverse()
    boundary = uuid.uuid4().hex
    body = b""
    for f in files:
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{Path(f).name}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n").encode() + (corpus / f).read_bytes() + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), boundary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/server/huepool")
    ap.add_argument("--corpus", default="../shared/corpus")
    ap.add_argument("--uploads", type=int, default=5)
    ap.add_argument("--reverse", action="store_true", help="upload the files in reverse order")
    args, options = ap.parse_known_args()
    body, boundary = multipart(Path(args.corpus), args.reverse)
    for option in options or [""]:
        server = subprocess.Popen([args.bin, "serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2",
                                   "--access-log=false"] + ([option] if option else []),
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            port = int(server.stdout.readline().split()[-1].split(":")[-1])
            url = "http://127.0.0.1:%d/v1/analyze" % port
            for n in range(args.uploads + 1):
                req = urllib.request.Request(url, data=body,
                                             headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
                t0 = time.perf_counter()
                doc = json.loads(urllib.request.urlopen(req, timeout=60).read())
                wall = (time.perf_counter() - t0) * 1e3
                if n == 0:
                    continue  # warm-up
                per_worker = {}
                for r in doc["results"]:
                    per_worker.setdefault(r["worker"], []).append(r)
                shares = "; ".join("worker %d: %.0f ms on %s" % (w, sum(r["elapsed_ms"] for r in rs),
                                                                 [r["index"] for r in rs])
                                   for w, rs in per_worker.items())
                print("%s wall %.0f ms, server %.0f ms; %s" % (option or "(default)", wall, doc["elapsed_ms"], shares))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
