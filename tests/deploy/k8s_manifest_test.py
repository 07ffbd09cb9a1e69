"""docker/k8s/*.yaml and docker/compose.yaml checked against the real server
and the Dockerfile: probe paths answer 200 on the running binary, ports and
the non-root uid agree with the image, every HUEPOOL_* variable exists, grace
periods exceed the drain timeout, and every manifest names the image the
Dockerfile is built into."""

import re

import yaml

from deploylib import (run_main, COMPOSE_FILE, DOCKERFILE, IMAGE, SOURCE_DIR, check, config_rows, help_markdown,
                       http_get, huepool_server, log)

K8S_DIR = SOURCE_DIR / "docker" / "k8s"
README = SOURCE_DIR / "README.md"


def seconds(text):
    """A huepool or compose duration (500ms, 30s, 2m, 1m30s, bare seconds) in seconds."""
    text = str(text).strip()
    if re.fullmatch(r"\d+", text):
        return float(text)
    total, rest = 0.0, text
    for number, unit in re.findall(r"(\d+)(ms|s|m|h)", text):
        total += int(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
        rest = rest.replace(number + unit, "", 1)
    check(not rest, f"not a duration: {text!r}")
    return total


def dockerfile_facts():
    """The runtime stage's USER uid, EXPOSE port and ENV variables."""
    text = DOCKERFILE.read_text()
    runtime = text[text.rindex("\nFROM "):]
    user = re.search(r"^USER (\d+)", runtime, re.M)
    expose = re.search(r"^EXPOSE (\d+)", runtime, re.M)
    check(user and expose, "Dockerfile's runtime stage needs a numeric USER and EXPOSE")
    env = dict(re.findall(r"(HUEPOOL_[A-Z_]+)=(\S+)", runtime))
    return int(user.group(1)), int(expose.group(1)), env


def load_manifests():
    docs = {}
    for path in sorted(K8S_DIR.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") != "Kustomization":
                docs[doc["kind"]] = doc
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    present = {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    check(listed == present, f"kustomization.yaml lists {sorted(listed)}, the folder has {sorted(present)}")
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        check(kind in docs, f"no {kind} in docker/k8s")
    return docs


def main():
    options = {re.sub(r"`", "", r["environment"]): re.sub(r"`", "", r["default"]) for r in config_rows(help_markdown())}
    check("HUEPOOL_DRAIN_TIMEOUT" in options and "HUEPOOL_PORT" in options, f"options: {sorted(options)}")
    uid, exposed, image_env = dockerfile_facts()
    for var in image_env:
        check(var in options, f"Dockerfile sets {var}, which huepool serve does not know")

    docs = load_manifests()
    deploy = docs["Deployment"]
    pod = deploy["spec"]["template"]["spec"]
    labels = deploy["spec"]["template"]["metadata"]["labels"]
    check(deploy["spec"]["selector"]["matchLabels"].items() <= labels.items(), "Deployment selector misses its pods")
    (container,) = [c for c in pod["containers"] if c["name"] == "huepool"]
    check(container["image"] == IMAGE, f"Deployment image {container['image']!r}, the Dockerfile builds {IMAGE!r}")
    check(container.get("imagePullPolicy") == "IfNotPresent", "a :latest image needs imagePullPolicy IfNotPresent")

    env = {e["name"]: e for e in container.get("env", [])}
    for name in env:
        check(name in options, f"the Deployment sets {name}, which huepool serve does not know")
    port = int(env["HUEPOOL_PORT"]["value"]) if "HUEPOOL_PORT" in env else int(image_env.get("HUEPOOL_PORT", options["HUEPOOL_PORT"]))
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    check(list(ports.values()) == [port] == [exposed], f"containerPort {ports}, server port {port}, EXPOSE {exposed}")

    # Workers follow the CPU limit, not the node's CPU count.
    workers = env.get("HUEPOOL_WORKERS", {}).get("valueFrom", {}).get("resourceFieldRef", {})
    check(workers.get("resource") == "limits.cpu", "HUEPOOL_WORKERS should come from limits.cpu")
    res = container["resources"]
    check(set(res["requests"]) == set(res["limits"]) == {"cpu", "memory"}, f"resources {res}")

    # Probes: the paths and ports exist on the running server.
    probes = {k: container[k]["httpGet"] for k in ("livenessProbe", "readinessProbe", "startupProbe") if k in container}
    check(probes["livenessProbe"]["path"] == "/healthz" and probes["readinessProbe"]["path"] == "/readyz",
          f"probes {probes}")
    with huepool_server(["--workers", "1"]) as (server_port, _):
        for kind, probe in probes.items():
            check(probe["port"] in ports or probe["port"] == port, f"{kind} port {probe['port']} is not the container's")
            status, _, body = http_get(server_port, probe["path"])
            check(status == 200, f"{kind} {probe['path']} answered {status}: {body[:200]!r}")
        log(f"probe paths {sorted({p['path'] for p in probes.values()})} answer 200 on the real server")

    # Grace periods outlast the drain (plus the preStop pause).
    drain = seconds(env["HUEPOOL_DRAIN_TIMEOUT"]["value"] if "HUEPOOL_DRAIN_TIMEOUT" in env
                    else options["HUEPOOL_DRAIN_TIMEOUT"])
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    pause = seconds(pre_stop[1]) if pre_stop[:1] == ["sleep"] else 0
    grace = pod["terminationGracePeriodSeconds"]
    check(grace > drain + pause, f"terminationGracePeriodSeconds {grace} <= drain {drain}s + preStop {pause}s")
    log(f"grace {grace}s > drain {drain}s + preStop {pause}s")

    # The pod runs as the image's non-root user.
    security = pod["securityContext"]
    check(security.get("runAsNonRoot") is True and security.get("runAsUser") == uid,
          f"pod securityContext {security}, image USER {uid}")

    svc, hpa, pdb = docs["Service"], docs["HorizontalPodAutoscaler"], docs["PodDisruptionBudget"]
    check(svc["spec"]["selector"].items() <= labels.items(), "Service selector misses the pods")
    check(all(p["targetPort"] in ports or p["targetPort"] == port for p in svc["spec"]["ports"]), "Service targetPort")
    check(hpa["spec"]["scaleTargetRef"]["name"] == deploy["metadata"]["name"], "HPA targets another Deployment")
    check(hpa["spec"]["minReplicas"] >= 2, "HPA minReplicas < 2 leaves a PDB with minAvailable 1 no room")
    check(pdb["spec"]["selector"]["matchLabels"].items() <= labels.items(), "PDB selector misses the pods")

    # docker/compose.yaml: same image, known variables, stop grace > drain.
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    replicas = {n: s for n, s in compose["services"].items() if n.startswith("huepool")}
    check(len(replicas) >= 2, f"compose has {len(replicas)} huepool replica(s)")
    for name, service in replicas.items():
        check(service["image"] == IMAGE, f"compose {name} image {service['image']!r}")
        for var in service.get("environment", {}):
            check(var in options, f"compose {name} sets {var}, which huepool serve does not know")
        check(seconds(service["stop_grace_period"]) > seconds(options["HUEPOOL_DRAIN_TIMEOUT"]),
              f"compose {name} stop_grace_period <= drain timeout")

    # The README tells users to build that same name.
    check(f"-t {IMAGE} -f docker/Dockerfile" in README.read_text(), f"README does not build {IMAGE}")
    log("ok")


if __name__ == "__main__":
    run_main(main)
