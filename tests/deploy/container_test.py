"""One container from huepool:latest (built by image_build_test), as production runs it:
non-root on a read-only root filesystem without capabilities, healthy by its
own HEALTHCHECK, correct answers for the real corpus,
workers reaped and replaced with huepool as PID 1, and `docker stop` draining a
request that is still uploading, then exiting 0 inside the stop timeout."""

import json
import os
import signal
import threading
import time

from deploylib import (run_main, IMAGE, LABEL, StreamingUpload, check, check_results, children_of, corpus_files,
                       ensure_docker, free_port, image_exists, inspect, log, logs, post_multipart,
                       proc_status, remove_stale, run, status_or_none, unique_name, wait_for, wait_healthy)

TEST = "container"
WORKERS = 2
STOP_TIMEOUT_S = 60  # docker stop -t: SIGKILL after this; must exceed the drain timeout


def main():
    ensure_docker()
    check(image_exists(IMAGE), f"{IMAGE} is missing: image_build_test (the fixture) must run first")
    remove_stale(TEST)
    name = unique_name(TEST)
    port = free_port()
    # As docker/k8s/deployment.yaml runs it: read-only root filesystem, no
    # capabilities, no privilege gain.
    run(["docker", "run", "-d", "--name", name, "--label", f"{LABEL}={TEST}", "--network", "host",
         "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
         "-e", "HUEPOOL_HOST=127.0.0.1", "-e", f"HUEPOOL_PORT={port}", "-e", f"HUEPOOL_WORKERS={WORKERS}", IMAGE])
    try:
        exercise(name, port)
    except BaseException:
        log("---- container log ----\n" + logs(name))
        raise
    finally:
        run(["docker", "rm", "-f", name], check_rc=False)


def exercise(name, port):
    started = time.monotonic()
    health = wait_healthy(name)
    log(f"healthy by its own HEALTHCHECK after {time.monotonic() - started:.1f}s: {health['Log'][-1]['Output']!r}")

    # Non-root, checked on the running process rather than on the image's metadata.
    server_pid = int(inspect(name, "{{.State.Pid}}"))
    uid = proc_status(server_pid)["Uid"].split()
    check(uid[0] != "0" and uid[1] != "0", f"the server runs as uid {uid}")
    log(f"server (PID 1 in the container, host pid {server_pid}) runs as uid {uid[0]}")

    # The corpus, uploaded as one multipart request, matches Pillow's answers.
    paths = corpus_files()
    status, headers, body = post_multipart(port, paths)
    check(status == 200, f"upload answered {status}: {body[:500]!r}")
    doc = json.loads(body)
    check_results(doc["results"], paths)
    check(doc["count"] == len(paths) and doc["failed"] == 0, f"summary {doc['count']}/{doc['failed']}")
    log(f"{len(paths)} corpus images match reference.json")

    check_workers_reaped(server_pid, port)
    check_drain_on_stop(name, port)


def check_workers_reaped(server_pid, port):
    """PID 1 duties: a killed worker is reaped (no zombie) and replaced."""
    workers = wait_for(lambda: len(children_of(server_pid)) >= WORKERS and children_of(server_pid), 30,
                       f"{WORKERS} worker processes")
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    log(f"killed worker {victim}")

    def replaced():
        kids = children_of(server_pid)
        states = {k: (proc_status(k) or {}).get("State", "gone") for k in kids}
        zombies = [k for k, s in states.items() if s.startswith("Z")]
        return (victim not in kids and not zombies and len(kids) >= WORKERS
                and status_or_none(port, "/readyz") == 200) and states

    states = wait_for(replaced, 30, f"worker {victim} reaped and replaced, no zombies")
    log(f"worker {victim} reaped; workers now {states}")


def check_drain_on_stop(name, port):
    """`docker stop` while a request is mid-upload: SIGTERM drains it (every
    image answered, a clean done line) and the container exits 0."""
    paths = corpus_files()
    up = StreamingUpload(port, paths, "mode=imap&processes=1", timeout=120)
    up.send_parts(1)
    first = up.read_lines(1)[0]
    check(up.status == 200, f"streaming upload answered {up.status}")
    log(f"request in flight (first line for {first.get('name')}); docker stop -t {STOP_TIMEOUT_S}")

    stop = {}

    def docker_stop():
        t0 = time.monotonic()
        stop["proc"] = run(["docker", "stop", "-t", str(STOP_TIMEOUT_S), name], check_rc=False, timeout=300)
        stop["seconds"] = time.monotonic() - t0

    stopper = threading.Thread(target=docker_stop)
    stopper.start()
    # SIGTERM has arrived once the server stops reporting ready (or stops accepting).
    wait_for(lambda: status_or_none(port, "/readyz") != 200, 30, "the server to leave readiness after SIGTERM")
    log("server is draining; sending the rest of the upload")
    up.send_rest()
    lines = up.read_all()
    stopper.join()

    done = lines[-1]
    check(done.get("done") is True, f"stream did not end with a done line: {lines[-1]}")
    check("error" not in done, f"drain cut the request: {done}")
    check_results(lines[:-1], paths)
    check(done["count"] == len(paths), f"done line counts {done['count']} of {len(paths)}")
    exit_code = int(inspect(name, "{{.State.ExitCode}}"))
    log(f"docker stop returned after {stop['seconds']:.1f}s (limit {STOP_TIMEOUT_S}s); exit code {exit_code}")
    check(stop["proc"].returncode == 0, f"docker stop failed: {stop['proc'].stderr}")
    check(exit_code == 0, f"container exited {exit_code} after SIGTERM (137 = killed at the stop timeout)")
    check(inspect(name, "{{.State.OOMKilled}}") == "false", "container was OOM-killed")


if __name__ == "__main__":
    run_main(main)
    log("ok")
