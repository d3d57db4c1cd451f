#!/usr/bin/env bash
# Validates the deployment files:
#   - deploy/compose.yaml: `docker compose config -q` when the compose plugin
#     exists, and in every case a structural check with python3 + PyYAML;
#   - deploy/k8s/*.yaml: every document parses and has apiVersion, kind and
#     metadata.name (Kustomization files: apiVersion, kind, existing resources);
#   - deploy/Dockerfile: multi-stage, node:20-bookworm-slim, non-root user.
# Exits non-zero on any broken file. DEPLOY_DIR overrides the folder checked.
set -euo pipefail

DEPLOY_DIR="${DEPLOY_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
COMPOSE="$DEPLOY_DIR/compose.yaml"
[[ -f "$COMPOSE" ]] || { echo "check: $COMPOSE is missing" >&2; exit 1; }

if docker compose version >/dev/null 2>&1; then
  echo "check: docker compose config -q $COMPOSE"
  docker compose -f "$COMPOSE" config -q
else
  echo "check: docker compose plugin not available; validating compose.yaml with python3 + PyYAML instead"
fi

if ! python3 -c 'import yaml' >/dev/null 2>&1; then
  echo "check: installing PyYAML with pip"
  python3 -m pip install --quiet --disable-pip-version-check PyYAML >&2 ||
    { echo "check: could not install PyYAML" >&2; exit 1; }
fi

python3 - "$DEPLOY_DIR" <<'EOF'
import glob
import os
import sys

import yaml

deploy = sys.argv[1]
errors = []


def err(msg):
    errors.append(msg)


# ---- compose.yaml ----
compose_path = os.path.join(deploy, "compose.yaml")
try:
    with open(compose_path) as f:
        compose = yaml.safe_load(f)
except yaml.YAMLError as e:
    err(f"compose.yaml: YAML error: {e}")
    compose = None

REQUIRED_SERVICES = ["eventstore", "mongo", "mongo-init", "kafka", "org-server", "worker"]
APP_ENV = {
    "EVENTSTORE_URL": "esdb://eventstore:2113?tls=false",
    "MONGODB_URL": "mongodb://mongo:27017/purser?replicaSet=rs0",
    "KAFKA_BROKERS": "kafka:9092",
}
if compose is not None:
    services = compose.get("services") if isinstance(compose, dict) else None
    if not isinstance(services, dict) or not services:
        err("compose.yaml: no services mapping")
        services = {}
    for name in REQUIRED_SERVICES:
        if name not in services:
            err(f"compose.yaml: service '{name}' is missing")
    for name, svc in services.items():
        if not isinstance(svc, dict):
            err(f"compose.yaml: service '{name}' is not a mapping")
            continue
        if "image" not in svc and "build" not in svc:
            err(f"compose.yaml: service '{name}' has neither image nor build")
        deps = svc.get("depends_on") or {}
        for dep in deps if isinstance(deps, (list, dict)) else []:
            if dep not in services:
                err(f"compose.yaml: service '{name}' depends on unknown service '{dep}'")
    for name in ("org-server", "worker"):
        env = (services.get(name) or {}).get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env if "=" in e)
        for key, want in APP_ENV.items():
            if str(env.get(key)) != want:
                err(f"compose.yaml: {name}: {key} should be {want!r}, is {env.get(key)!r}")
    if "healthcheck" not in (services.get("org-server") or {}):
        err("compose.yaml: org-server has no healthcheck")
    elif "/health" not in str(services["org-server"]["healthcheck"].get("test")):
        err("compose.yaml: org-server healthcheck does not probe /health")
    if compose.get("volumes") is not None and not isinstance(compose.get("volumes"), dict):
        err("compose.yaml: top-level volumes is not a mapping")
    print(f"check: compose.yaml ok ({len(services)} services)" if not errors else "check: compose.yaml has errors")
compose_errors = len(errors)

# ---- k8s manifests ----
k8s_dir = os.path.join(deploy, "k8s")
files = sorted(glob.glob(os.path.join(k8s_dir, "*.yaml")) + glob.glob(os.path.join(k8s_dir, "*.yml")))
if not files:
    err("k8s: no manifests found")
kinds = []
for path in files:
    rel = os.path.relpath(path, deploy)
    try:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        err(f"{rel}: YAML error: {e}")
        continue
    if not docs:
        err(f"{rel}: no documents")
    for i, doc in enumerate(docs):
        where = f"{rel} document {i + 1}"
        if not isinstance(doc, dict):
            err(f"{where}: not a mapping")
            continue
        for key in ("apiVersion", "kind"):
            if not isinstance(doc.get(key), str) or not doc.get(key):
                err(f"{where}: missing {key}")
        if doc.get("kind") == "Kustomization":
            for res in doc.get("resources") or []:
                if not os.path.exists(os.path.join(k8s_dir, res)):
                    err(f"{where}: resource {res} does not exist")
            continue
        meta = doc.get("metadata")
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta.get("name"):
            err(f"{where}: missing metadata.name")
            continue
        kinds.append(f"{doc['kind']}/{meta['name']}")
        if doc.get("kind") in ("Deployment", "StatefulSet"):
            spec = doc.get("spec") or {}
            sel = ((spec.get("selector") or {}).get("matchLabels")) or {}
            labels = (((spec.get("template") or {}).get("metadata") or {}).get("labels")) or {}
            if not sel or any(labels.get(k) != v for k, v in sel.items()):
                err(f"{where}: selector.matchLabels does not match the pod template labels")
            containers = (((spec.get("template") or {}).get("spec") or {}).get("containers")) or []
            if not containers or not all(isinstance(c, dict) and c.get("image") for c in containers):
                err(f"{where}: containers without image")
            if doc.get("kind") == "StatefulSet" and not spec.get("serviceName"):
                err(f"{where}: StatefulSet without serviceName")

for want in ("Namespace/purser", "ConfigMap/purser-config", "Deployment/org-server", "Service/org-server",
             "Deployment/worker", "StatefulSet/eventstore", "Service/eventstore", "StatefulSet/mongo",
             "Service/mongo", "StatefulSet/kafka", "Service/kafka"):
    if files and want not in kinds:
        err(f"k8s: {want} is missing")
print(f"check: k8s ok ({len(files)} files, {len(kinds)} objects)" if len(errors) == compose_errors else "check: k8s has errors")

# ---- Dockerfile ----
dockerfile = os.path.join(deploy, "Dockerfile")
try:
    text = open(dockerfile).read()
    froms = [l for l in text.splitlines() if l.strip().upper().startswith("FROM ")]
    if len(froms) < 2:
        err("Dockerfile: not multi-stage")
    if "node:20-bookworm-slim" not in text:
        err("Dockerfile: not based on node:20-bookworm-slim")
    users = [l.split()[1] for l in text.splitlines() if l.strip().upper().startswith("USER ") and len(l.split()) > 1]
    if not users or users[-1] in ("root", "0"):
        err("Dockerfile: final stage does not switch to a non-root USER")
except OSError as e:
    err(f"Dockerfile: {e}")

if errors:
    for e in errors:
        print(f"check: ERROR {e}", file=sys.stderr)
    sys.exit(1)
print("check: deploy files ok")
EOF
