#!/usr/bin/env python3
"""Checks the deployment files without a Docker engine or a cluster: every YAML parses, the
compose file and the Kubernetes manifests have the services, commands, probes, resources and
autoscaling krawlr needs, and every KRAWLR_* setting they use is one krawlr knows."""
import json
import pathlib
import re
import sys

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)


known = set(re.findall(r'"((?:KRAWLR|PUBSUB)_[A-Z_]+|GCP_PROJECT_ID)"', (root / "src/config/declared.rs").read_text()))
known |= {"PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS"}
cli = (root / "src/cli.rs").read_text()
command_enum = cli[cli.index("enum Command {") : cli.index("\n}\n", cli.index("enum Command {"))]
commands = {c.lower() for c in re.findall(r"^    ([A-Z][a-z]+)\b", command_enum, re.M)}

compose = yaml.safe_load((root / "docker-compose.yml").read_text())
services = compose["services"]
for name in ["api", "worker", "webhook", "setup", "pubsub-emulator", "firestore-emulator"]:
    check(name in services, f"compose: service {name} missing")
for name in ["api", "worker", "webhook", "setup"]:
    svc = services[name]
    check(svc.get("command", [None])[0] in commands, f"compose: {name} runs an unknown command {svc.get('command')}")
    for var in svc["environment"]:
        check(var in known, f"compose: {name} sets unknown setting {var}")
check(services["worker"]["deploy"]["replicas"] >= 2, "compose: several workers")
check("8000:8000" in services["api"]["ports"], "compose: api port")

docs = []
for path in sorted((root / "deploy/k8s").glob("*.yaml")):
    for doc in yaml.safe_load_all(path.read_text()):
        check(doc.get("apiVersion") and doc.get("kind") and doc.get("metadata", {}).get("name"), f"{path.name}: apiVersion/kind/name")
        docs.append(doc)
by_kind = {}
for doc in docs:
    by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
config = by_kind["ConfigMap"]["krawlr"]["data"]
for var in config:
    check(var in known, f"k8s: ConfigMap sets unknown setting {var}")
for name, command in [("krawlr-api", "api"), ("krawlr-worker", "worker"), ("krawlr-webhooks", "webhooks")]:
    dep = by_kind["Deployment"][name]
    pod = dep["spec"]["template"]
    check(dep["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items(), f"k8s: {name} selector")
    container = pod["spec"]["containers"][0]
    check(container["args"] == [command], f"k8s: {name} runs {command}")
    check(command in commands, f"k8s: {command} is a krawlr command")
    check({"cpu", "memory"} <= container["resources"]["requests"].keys(), f"k8s: {name} requests")
    check(container["securityContext"]["runAsNonRoot"], f"k8s: {name} non-root")
    if command in ("api", "webhooks"):
        refs = [e.get("secretRef", {}).get("name") for e in container["envFrom"]]
        check("krawlr" in refs, f"k8s: {name} reads KRAWLR_SECRET_KEY from the krawlr Secret")
check("KRAWLR_SECRET_KEY" in by_kind["Secret"]["krawlr"]["stringData"], "k8s: the krawlr Secret holds KRAWLR_SECRET_KEY")
api = by_kind["Deployment"]["krawlr-api"]["spec"]["template"]["spec"]["containers"][0]
check(api["readinessProbe"]["httpGet"]["path"] == "/readyz", "k8s: api readiness on /readyz")
check(api["livenessProbe"]["httpGet"]["path"] == "/healthz", "k8s: api liveness on /healthz")
service = by_kind["Service"]["krawlr-api"]
check(service["spec"]["selector"] == by_kind["Deployment"]["krawlr-api"]["spec"]["selector"]["matchLabels"], "k8s: service selects the api")
scaled = by_kind["ScaledObject"]["krawlr-worker"]
check(scaled["spec"]["scaleTargetRef"]["name"] == "krawlr-worker", "k8s: KEDA scales the workers")
trigger = scaled["spec"]["triggers"][0]
check(trigger["type"] == "gcp-pubsub" and trigger["metadata"]["subscriptionName"] == "scrape-jobs-sub", "k8s: KEDA on scrape-jobs-sub")

dockerfile = (root / "Dockerfile").read_text()
check(len(re.findall(r"^FROM ", dockerfile, re.M)) >= 2, "Dockerfile: multi-stage")
check(re.search(r"^USER (?!root)", dockerfile, re.M), "Dockerfile: non-root user")

indexes = json.loads((root / "deploy/firestore.indexes.json").read_text())
for group, fields in [
    ("jobs", ["status", "updated_at"]),
    ("webhook_deliveries", ["status", "next_attempt_at"]),
    ("webhook_deliveries", ["endpoint_id", "created_at"]),
]:
    found = any(i["collectionGroup"] == group and [f["fieldPath"] for f in i["fields"]] == fields for i in indexes["indexes"])
    check(found, f"firestore.indexes.json: {group} index on {fields}")

if errors:
    print("deployment files: " + str(len(errors)) + " problems", *errors, sep="\n  ")
    sys.exit(1)
print(f"deployment files: {len(docs)} Kubernetes objects, {len(services)} compose services: ok")
