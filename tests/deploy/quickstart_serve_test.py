"""The README's first quick-start command, run for real the way a new user runs
it: on a copy of the checkout (no build directory yet), it installs what is
missing, builds a Release binary and serves with one worker per CPU; SIGTERM
then stops it with exit 0. (The second command, the test suite, is what runs
this test: readme_test checks it is exactly .ci/run's command.)"""

import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time

from deploylib import run_main, SOURCE_DIR, check, free_port, http_get, log, status_or_none, wait_for

BUILD_DEADLINE_S = 1200  # a Release build of huepool on a busy 2-core machine, with margin


def readme_serve_command():
    text = (SOURCE_DIR / "README.md").read_text()
    quick = re.search(r"^## Quick start.*?```(?:sh|bash)\n(.*?)```", text, re.M | re.S)
    check(quick, "README has no Quick start block")
    commands = [l.split("#")[0].strip() for l in quick.group(1).splitlines() if l.split("#")[0].strip()]
    return commands[0]


def copy_checkout(dest):
    """The files a fresh clone has (tracked plus not-ignored new ones), without build trees.
    Without git (a plain Debian 12 has none) or outside a work tree: the tree minus build*/ and .git."""
    git = shutil.which("git")
    listed = git and subprocess.run([git, "-C", SOURCE_DIR, "ls-files", "-co", "--exclude-standard", "-z"],
                                    capture_output=True)
    if listed and listed.returncode == 0:
        for rel in filter(None, listed.stdout.decode().split("\0")):
            src = SOURCE_DIR / rel
            if src.is_file():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / rel)
    else:
        shutil.copytree(SOURCE_DIR, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("build*", ".git"))


def main():
    command = readme_serve_command()
    log(f"README's serve command: {command!r}")
    with tempfile.TemporaryDirectory(prefix="huepool-quickstart-") as tmp:
        checkout = pathlib.Path(tmp) / "huepool"
        copy_checkout(checkout)
        port = free_port()
        env = {**os.environ, "HUEPOOL_PORT": str(port), "HUEPOOL_HOST": "127.0.0.1"}
        log_path = pathlib.Path(tmp) / "serve.log"
        with open(log_path, "w") as out:
            proc = subprocess.Popen(["bash", "-c", command], cwd=checkout, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        try:
            start = time.monotonic()
            wait_for(lambda: proc.poll() is not None or status_or_none(port, "/readyz") == 200,
                     BUILD_DEADLINE_S, "the quick start to build and serve", interval_s=1)
            check(proc.poll() is None, f"`{command}` exited {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            log(f"built and ready after {time.monotonic() - start:.0f}s")
            check((checkout / "build-release" / "CMakeCache.txt").is_file(), "no build-release/ tree")
            cache = (checkout / "build-release" / "CMakeCache.txt").read_text()
            check("CMAKE_BUILD_TYPE:STRING=Release" in cache, "the quick start's build is not Release")

            status, _, body = http_get(port, "/v1/info")
            check(status == 200, f"/v1/info answered {status}")
            info = json.loads(body)
            workers = info["pool"]["workers"]
            check(workers == os.cpu_count(), f"{workers} workers, want one per CPU ({os.cpu_count()})")
            log(f"serving on :{port} with {workers} workers (one per CPU)")

            proc.send_signal(signal.SIGTERM)  # serve.sh execs huepool: this is the server
            check(proc.wait(timeout=60) == 0, f"huepool serve exited {proc.returncode} on SIGTERM")
        except BaseException:
            log("---- serve.sh output ----\n" + log_path.read_text()[-3000:])
            raise
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    log("ok")


if __name__ == "__main__":
    run_main(main)
