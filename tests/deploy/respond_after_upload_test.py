"""`huepool serve --respond-after-upload` (HUEPOOL_RESPOND_AFTER_UPLOAD), the
setting the replicas behind nginx run with: images are still worked on while
the upload arrives, but an imap/imap_unordered answer begins only once the
upload is complete. Checked against the default on the same sequence: there
the first line arrives while the upload is incomplete."""

import json

from deploylib import (run_main, StreamingUpload, check, check_results, corpus_files, http_get, huepool_server, log,
                       solid_png, wait_for)


def completed(port):
    return json.loads(http_get(port, "/v1/info")[2])["pool"]["completed"]


def first_part_then_wait(port):
    """Sends one tiny image and then waits for the pool to have finished it."""
    files = [("tiny.png", solid_png(1, 1))] + corpus_files(3)
    up = StreamingUpload(port, files, "mode=imap_unordered", timeout=60)
    up.send_parts(1)
    wait_for(lambda: completed(port) >= 1, 60, "the first image to be finished while the upload is incomplete")
    return up, files


def main():
    with huepool_server(["--workers", "1"]) as (port, _):
        up, files = first_part_then_wait(port)
        first = up.read_lines(1)[0]  # the default: the answer has begun
        check(first["name"] == "tiny.png", f"first line {first}")
        up.send_rest()
        up.read_all()
        log("default: the first line arrives while the upload is incomplete")

    with huepool_server(["--workers", "1", "--respond-after-upload=true"]) as (port, _):
        up, files = first_part_then_wait(port)
        http_get(port, "/v1/info")  # one more turn of the server's event loop
        up.sock.setblocking(False)
        try:
            early = up.sock.recv(65536)
        except BlockingIOError:
            early = b""
        up.sock.setblocking(True)
        check(early == b"", f"the answer began before the upload ended: {early[:200]!r}")
        up.send_rest()
        lines = up.read_all()
        check(up.status == 200 and lines[-1].get("done") is True and "error" not in lines[-1], f"end {lines[-1:]}")
        check(sorted(l["index"] for l in lines[:-1]) == list(range(len(files))), f"indexes of {lines}")
        check_results([l for l in lines[:-1] if l["index"] > 0], [None] + files[1:])
        log("respond-after-upload: image 0 finished during the upload, the answer began after it, all lines came")


if __name__ == "__main__":
    run_main(main)
    log("ok")
