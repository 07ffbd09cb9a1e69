"""Builds docker/Dockerfile from the checkout into huepool:latest (the fixture
the container and compose tests use) and reports the runtime image's size."""

import json
import time

from deploylib import DOCKERFILE, IMAGE, SOURCE_DIR, check, ensure_docker, log, run

# The runtime stage adds the binary, libpng, libjpeg and a user to the base
# image. A budget far below the build stage's ~770 MB of toolchain catches
# build-time packages leaking into the runtime image.
RUNTIME_LAYERS_BUDGET_MB = 40


def main():
    ensure_docker()
    start = time.monotonic()
    run(["docker", "build", "--network", "host", "-t", IMAGE, "-f", DOCKERFILE, SOURCE_DIR], timeout=1500)
    log(f"docker build took {time.monotonic() - start:.1f}s")

    size = int(run(["docker", "image", "inspect", "-f", "{{.Size}}", IMAGE]).stdout)
    base = int(run(["docker", "image", "inspect", "-f", "{{.Size}}", "debian:bookworm-slim"]).stdout)
    added_mb = (size - base) / 1e6
    log(f"image {IMAGE}: {size / 1e6:.1f} MB, of which the base debian:bookworm-slim is {base / 1e6:.1f} MB "
        f"and huepool's layers {added_mb:.1f} MB")
    check(added_mb < RUNTIME_LAYERS_BUDGET_MB,
          f"the runtime stage adds {added_mb:.1f} MB to the base (budget {RUNTIME_LAYERS_BUDGET_MB} MB): "
          "build-time packages in the runtime image?")

    # The image's metadata is what production relies on.
    config = run(["docker", "image", "inspect", "-f", "{{json .Config}}", IMAGE]).stdout
    config = json.loads(config)
    check(config["User"] not in ("", "0", "root") and not config["User"].startswith("0:"),
          f"image runs as {config['User']!r}")
    check("8080/tcp" in (config.get("ExposedPorts") or {}), f"EXPOSE 8080 missing: {config.get('ExposedPorts')}")
    check(config.get("Healthcheck", {}).get("Test", [])[1:] == ["huepool", "healthcheck"],
          f"HEALTHCHECK is {config.get('Healthcheck')}")
    check(config.get("Entrypoint") == ["huepool"], f"ENTRYPOINT {config.get('Entrypoint')} (exec form, huepool as PID 1)")
    # The runtime image has no compiler and no headers.
    p = run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", IMAGE, "-c",
             "command -v c++ cmake; ls /usr/include/boost 2>/dev/null | head -1; huepool --version"])
    lines = p.stdout.split()
    check(lines and lines[0] == "huepool" and len(lines) == 2, f"build tools in the runtime image? {p.stdout!r}")
    log("ok")


if __name__ == "__main__":
    main()
