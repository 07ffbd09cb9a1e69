"""README.md against what works:
- the quick start is two commands; the test one is exactly what .ci/run runs,
  the serve one is the script that builds a Release binary and serves
  (quickstart_serve_test runs it for real);
- the configuration table is `huepool serve --help-markdown`, verbatim;
- every curl example (```console blocks, `$ curl ...`) is run against the real
  server and answers what the README shows (run-dependent fields aside:
  elapsed_ms, worker pids, and the completion order of imap_unordered);
- the metric names in "Operations" are exactly the families /metrics exports;
- relative links point to files that exist.
After a deliberate API change, regenerate the examples and the table:
  HUEPOOL_BIN=build/server/huepool python3 tests/deploy/readme_test.py --update"""

import json
import re
import subprocess
import sys

from deploylib import (run_main, CORPUS_DIR, SOURCE_DIR, check, help_markdown, http_get, huepool_server, log)

README = SOURCE_DIR / "README.md"
TABLE_BEGIN = "<!-- BEGIN huepool serve --help-markdown -->"
TABLE_END = "<!-- END huepool serve --help-markdown -->"
README_URL = "http://127.0.0.1:8080"
# Values that differ from run to run (or host to host) by nature.
VOLATILE = {"elapsed_ms", "worker", "uptime_s", "pid", "started_at"}
EXAMPLE_WORKERS = 2  # the README's outputs come from a server with two workers


def section(text, title):
    m = re.search(rf"^## {re.escape(title)}\b.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    check(m, f"README has no '## {title}' section")
    return m.group(1)


def check_quick_start(text):
    block = re.search(r"```(?:sh|bash)\n(.*?)```", section(text, "Quick start"), re.S)
    check(block, "no sh block in the Quick start section")
    commands = [l.split("#")[0].strip() for l in block.group(1).splitlines()]
    commands = [c for c in commands if c]
    check(len(commands) == 2, f"the quick start should be two commands, it is {commands}")
    serve, test = commands

    ci = (SOURCE_DIR / ".ci" / "run").read_text()
    ci_command = [l.strip()[len("exec "):] for l in ci.splitlines() if l.strip().startswith("exec ")]
    check(ci_command == [test], f".ci/run runs {ci_command}, the README's test command is {test!r}")
    test_script = (SOURCE_DIR / test.split()[-1]).read_text()
    check("ctest" in test_script, f"{test} does not run ctest")

    serve_script = (SOURCE_DIR / serve.split()[-1]).read_text()
    for needle in ("install-deps.sh", "-DCMAKE_BUILD_TYPE=Release", "huepool serve"):
        check(needle in serve_script, f"{serve} lacks {needle!r}")
    log(f"quick start: {commands} (.ci/run runs {ci_command[0]!r})")


def check_config_table(text):
    check(TABLE_BEGIN in text and TABLE_END in text, "README lacks the configuration table markers")
    table = text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip("\n") + "\n"
    generated = help_markdown()
    check(table == generated, "README's configuration table differs from `huepool serve --help-markdown`; "
          f"paste its output between the markers (or run readme_test.py --update):\n{generated}")
    log(f"configuration table: {len(generated.splitlines()) - 2} options, identical to --help-markdown")


def normalize(value):
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def parse_output(text, unordered):
    """JSON or NDJSON output, normalized; None when it is not JSON."""
    lines = [l for l in text.strip().splitlines() if l.strip()]
    try:
        docs = [normalize(json.loads(l)) for l in lines]
    except json.JSONDecodeError:
        try:
            return normalize(json.loads(text))
        except json.JSONDecodeError:
            return None
    if unordered:
        docs.sort(key=lambda d: (d.get("done", False), d.get("index", -1)))
    return docs


def split_http(text):
    """`curl -i` output: (status line, content-type, body)."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.splitlines()
    ctype = next((l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("content-type:")), None)
    return lines[0].strip(), ctype, body


def examples(text):
    """(command, shown output) for every `$ ` line of every ```console block."""
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    yield command, "\n".join(output)
                command, output = line[2:], []
            else:
                output.append(line)
        if command:
            yield command, "\n".join(output)


def check_examples(text, port):
    seed = CORPUS_DIR / "seed12"
    count = 0
    for command, shown in examples(text):
        if "curl " not in command:
            continue
        check(README_URL in command, f"example does not use {README_URL}: {command}")
        live = subprocess.run(["bash", "-c", command.replace(README_URL, f"http://127.0.0.1:{port}")],
                              cwd=seed, capture_output=True, text=True, timeout=120)
        check(live.returncode == 0, f"example failed ({live.returncode}): {command}\n{live.stderr}")
        got = live.stdout
        if re.search(r"curl -\w*i", command):
            want_status, want_type, shown = split_http(shown)
            got_status, got_type, got = split_http(got)
            check((want_status, want_type) == (got_status, got_type),
                  f"{command}\nREADME shows {want_status} {want_type}, the server answers {got_status} {got_type}")
        unordered = "imap_unordered" in command
        want, have = parse_output(shown, unordered), parse_output(got, unordered)
        if want is not None:
            check(want == have, f"{command}\nREADME shows:\n{shown}\nthe server answers:\n{got}\n"
                  "(if the change is intended: python3 tests/deploy/readme_test.py --update)")
        else:  # text (metrics): every shown line's series name exists
            names = {l.split()[0] for l in got.splitlines() if l and not l.startswith("#")}
            for line in shown.splitlines():
                if line and not line.startswith("#"):
                    check(line.split()[0] in names, f"{command}: README shows {line.split()[0]}, not in the output")
        count += 1
    check(count >= 8, f"only {count} curl examples in the README")
    log(f"{count} curl examples answer what the README shows")


def check_metrics(text, port):
    status, _, body = http_get(port, "/metrics")
    check(status == 200, f"/metrics answered {status}")
    exported = set(re.findall(r"^# TYPE (\S+) ", body.decode(), re.M))
    documented = set(re.findall(r"`(huepool_[a-z0-9_]+)[`{]", section(text, "Operations")))
    check(exported, "no metric families in /metrics")
    check(documented == exported, f"Operations documents {sorted(documented - exported)} that /metrics lacks "
          f"and lacks {sorted(exported - documented)}")
    log(f"{len(exported)} metric families documented")


def check_links(text):
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        check((SOURCE_DIR / target).exists(), f"README links to {target}, which does not exist")
    check("docs/BENCHMARKS.md" in text, "README does not link docs/BENCHMARKS.md")


def update(port):
    """Rewrites README.md's example outputs and configuration table from the
    running server: after a deliberate change to the API, regenerate, review
    the diff, commit. Commands run in order, as the test runs them."""
    text = README.read_text()
    seed = CORPUS_DIR / "seed12"

    def fill(block):
        out = []
        for line in block.group(1).splitlines():
            if not line.startswith("$ "):
                continue
            live = subprocess.run(["bash", "-c", line[2:].replace(README_URL, f"http://127.0.0.1:{port}")],
                                  cwd=seed, capture_output=True, text=True, timeout=120)
            out += [line, live.stdout.replace("\r\n", "\n").rstrip("\n")]
        return "```console\n" + "\n".join(out) + "\n```"

    text = re.sub(r"```console\n(.*?)```", fill, text, flags=re.S)
    text = re.sub(re.escape(TABLE_BEGIN) + ".*?" + re.escape(TABLE_END),
                  lambda _: TABLE_BEGIN + "\n" + help_markdown() + TABLE_END, text, flags=re.S)
    README.write_text(text)
    log(f"rewrote the examples and the configuration table of {README}")


def main():
    if sys.argv[1:] == ["--update"]:
        with huepool_server(["--workers", str(EXAMPLE_WORKERS)]) as (port, _):
            update(port)
        return
    text = README.read_text()
    check_quick_start(text)
    check_config_table(text)
    check_links(text)
    with huepool_server(["--workers", str(EXAMPLE_WORKERS)]) as (port, _):
        check_examples(text, port)
        check_metrics(text, port)
    log("ok")


if __name__ == "__main__":
    run_main(main)
