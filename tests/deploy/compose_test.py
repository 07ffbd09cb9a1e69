"""docker/compose.yaml as shipped: two huepool replicas (huepool:latest, built by
image_build_test) behind the nginx it builds. Uploads through nginx reach both
replicas with correct results; an upload reaches a worker through the proxy
while it is still incomplete; an imap_unordered stream delivers its first line
through the proxy while the request's last image is still being worked on;
large streamed requests complete (nginx's half-duplex proxy needs the replicas'
HUEPOOL_RESPOND_AFTER_UPLOAD); nginx's body limit is huepool's; `docker-compose stop` drains and
every container exits 0."""

import json
import socket
import time

from deploylib import (run_main, COMPOSE_FILE, IMAGE, StreamingUpload, check, check_results, corpus_files,
                       ensure_docker, free_port, http_get, image_exists, inspect, log, post_multipart, run, solid_png,
                       status_or_none, wait_for, wait_healthy)

TEST = "compose"
PROJECT = "huepooltestcompose"  # fixed, so a run killed by a timeout is cleaned up by the next one
UPLOADS = 6


def compose(env, *args, timeout=600, check_rc=True):
    return run(["docker-compose", "-p", PROJECT, "-f", COMPOSE_FILE, *args], env=env, timeout=timeout,
               check_rc=check_rc)


def main():
    ensure_docker()
    check(image_exists(IMAGE), f"{IMAGE} is missing: image_build_test (the fixture) must run first")
    ports = {"HUEPOOL_PROXY_PORT": free_port(), "HUEPOOL_REPLICA1_PORT": free_port(),
             "HUEPOOL_REPLICA2_PORT": free_port()}
    env = {k: str(v) for k, v in ports.items()}
    env["HUEPOOL_WORKERS"] = "1"
    compose(env, "down", "--remove-orphans", check_rc=False)  # leftovers of a killed run
    try:
        # huepool:latest is the fixture's image; only nginx is built here.
        compose(env, "build", "nginx")
        start = time.monotonic()
        compose(env, "up", "-d", "--no-build")
        log(f"docker-compose up returned after {time.monotonic() - start:.1f}s")
        exercise(env, ports)
    except BaseException:
        log("---- compose logs ----\n" + compose(env, "logs", "--no-color", "--tail", "40", check_rc=False).stdout)
        raise
    finally:
        compose(env, "down", "--remove-orphans", timeout=300, check_rc=False)


def container_ids(env):
    ids = {}
    for service in ("huepool-1", "huepool-2", "nginx"):
        ids[service] = compose(env, "ps", "-q", service).stdout.strip()
        check(ids[service], f"service {service} has no container")
    return ids


def exercise(env, ports):
    proxy = ports["HUEPOOL_PROXY_PORT"]
    ids = container_ids(env)
    for service in ("huepool-1", "huepool-2"):
        wait_healthy(ids[service])
    wait_for(lambda: status_or_none(proxy, "/readyz") == 200, 60, "nginx to answer /readyz")
    log(f"two healthy replicas behind nginx on 127.0.0.1:{proxy}")

    # nginx's configuration as rendered, against the replicas' own limit.
    rendered = run(["docker", "exec", ids["nginx"], "nginx", "-T"], quiet=True).stdout
    for directive in ("proxy_request_buffering off;", "proxy_buffering off;", "proxy_http_version 1.1;"):
        check(directive in rendered, f"nginx config lacks {directive}")
    status, _, body = http_get(ports["HUEPOOL_REPLICA1_PORT"], "/v1/info")
    check(status == 200, f"/v1/info answered {status}")
    limit = json.loads(body)["limits"]["max_body_bytes"]
    check(f"client_max_body_size {limit // (1 << 20)}m;" in rendered or f"client_max_body_size {limit};" in rendered,
          f"nginx's client_max_body_size does not match huepool's max_body_bytes {limit}")

    # Uploads through nginx reach both replicas, each answering correctly.
    paths = corpus_files(3)
    upstreams = []
    for _ in range(UPLOADS):
        status, headers, body = post_multipart(proxy, paths)
        check(status == 200, f"upload through nginx answered {status}: {body[:300]!r}")
        check_results(json.loads(body)["results"], paths)
        upstreams.append(headers.get("x-upstream-addr"))
    replicas = {f"127.0.0.1:{ports['HUEPOOL_REPLICA1_PORT']}", f"127.0.0.1:{ports['HUEPOOL_REPLICA2_PORT']}"}
    log(f"{UPLOADS} uploads answered by {upstreams}")
    check(set(upstreams) == replicas, f"uploads reached {set(upstreams)}, want both of {replicas}")
    for service in ("huepool-1", "huepool-2"):  # and each replica's own access log agrees
        out = run(["docker", "logs", ids[service]], quiet=True)
        check("/v1/analyze" in out.stdout + out.stderr, f"{service} logged no /v1/analyze request")

    # Streaming through the proxy. A tiny image, then large ones that one
    # worker (processes=1) takes in turn: the first line must come through
    # nginx while a replica still reports a busy worker, i.e. before the last
    # image of the request is done. A response-buffering proxy passes it on
    # only with the rest, when every worker is idle again.
    files = [("tiny.png", solid_png(1, 1))] + [(f"large-{i}.png", solid_png(6000, 6000)) for i in range(3)]
    up = StreamingUpload(proxy, files, "mode=imap_unordered&processes=1", timeout=120)
    up.send_rest()
    first = up.read_lines(1)[0]
    busy = sum(json.loads(http_get(ports[k], "/v1/info")[2])["pool"]["busy"]
               for k in ("HUEPOOL_REPLICA1_PORT", "HUEPOOL_REPLICA2_PORT"))
    check(up.status == 200 and up.headers.get("content-type", "").startswith("application/x-ndjson"),
          f"stream answered {up.status} {up.headers}")
    check(first.get("name") == "tiny.png" and "error" not in first, f"first line {first}")
    check(busy >= 1, "the first NDJSON line arrived when no worker was busy any more: the proxy held it back")
    lines = up.read_all()
    check(lines[-1].get("done") is True and "error" not in lines[-1], f"stream end: {lines[-1]}")
    check(sorted(l["pixels"] for l in lines[:-1]) == [1] + [36_000_000] * 3, f"results {lines[:-1]}")
    log(f"first line through nginx while {busy} worker(s) still busy on the rest of the request")

    # The upload streams through nginx (proxy_request_buffering off): with two
    # of twelve images sent, a replica has already finished one. Then the
    # whole stream completes: nginx stops forwarding a body once the answer
    # has begun, so this also checks HUEPOOL_RESPOND_AFTER_UPLOAD in compose.yaml.
    def completed():
        return sum(json.loads(http_get(ports[k], "/v1/info")[2])["pool"]["completed"]
                   for k in ("HUEPOOL_REPLICA1_PORT", "HUEPOOL_REPLICA2_PORT"))

    before = completed()
    paths = corpus_files()
    up = StreamingUpload(proxy, paths, "mode=imap_unordered", timeout=120)
    up.send_parts(2)
    wait_for(lambda: completed() > before, 60, "a replica to finish an image while the upload is incomplete")
    log("a replica finished an image while 10 of 12 were not uploaded yet: the upload streams through nginx")
    up.send_rest()
    lines = up.read_all()
    check(lines[-1].get("done") is True and "error" not in lines[-1], f"stream end: {lines[-1]}")
    check_results(lines[:-1], paths)
    log(f"{len(paths)} corpus images ({sum(p.stat().st_size for p in paths) / 1e6:.1f} MB) streamed through nginx")

    # A body over the limit is refused by nginx before it is sent, with huepool's error shape.
    s = socket.create_connection(("127.0.0.1", proxy), timeout=30)
    s.sendall(f"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
              f"Content-Length: {limit + 1}\r\nConnection: close\r\n\r\n".encode())
    answer = b""
    while chunk := s.recv(65536):
        answer += chunk
    s.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 413"), f"over-limit body answered {head[:100]!r}")
    check(json.loads(body)["status"] == 413, f"413 body {body!r}")

    # Stopping the stack drains and exits cleanly.
    compose(env, "stop", timeout=300)
    for service, cid in ids.items():
        code = inspect(cid, "{{.State.ExitCode}}")
        check(code == "0", f"{service} exited {code} on docker-compose stop")
    log("docker-compose stop: every container exited 0")


if __name__ == "__main__":
    run_main(main)
    log("ok")
