#!/usr/bin/env bash
# The project's CI: a fresh virtual environment, the README's install command,
# lint, the README's main job on the shipped examples, the README's tests and its
# documentation build.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

venv=$(mktemp -d)/venv
python3 -m venv "$venv"
# shellcheck disable=SC1091
source "$venv/bin/activate"
python -m pip install -q --upgrade pip

echo "== install (README)"
pip install -q -e ".[test]"

echo "== lint"
ruff check .
ruff format --check .

echo "== main job on the shipped examples (README)"
lerax-conformance examples/*.py --seed 0

echo "== the broken examples must fail (exit status 1)"
set +e
lerax-conformance examples/broken/ --seed 0 --format json --output "$venv/broken.json" >/dev/null
status=$?
set -e
if [ "$status" -ne 1 ]; then
    echo "expected exit status 1 from the broken examples, got $status" >&2
    exit 1
fi
python - "$venv/broken.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
summary = data["summary"]
print("broken examples:", json.dumps(summary))
assert summary["failed"] == summary["callbacks"] == 3, "every broken example must fail"
PY

echo "== quick tests (README)"
python -m pytest -q -m "not slow" tests/test_api.py tests/test_causes.py tests/test_layout.py tests/test_registry.py tests/test_arguments.py tests/test_docs.py

echo "== the full suite (README)"
python -m pytest -n 2 -q

echo "== the documentation site (README): a broken link or reference fails"
pip install -q -e ".[docs]"
zensical build --strict
deactivate

echo "== Python 3.13 with Lerax: both releases users run"
# Lerax needs Python 3.13; pyenv provides it on these machines and on CI's.
py313=""
if command -v pyenv >/dev/null 2>&1; then
    version=$(pyenv versions --bare | grep -E '^3\.13(\.[0-9]+)?$' | sort -V | tail -n 1 || true)
    if [ -n "$version" ]; then
        py313=$(PYENV_VERSION="$version" pyenv which python3)
    fi
fi
if [ -z "$py313" ] && command -v python3.13 >/dev/null 2>&1; then
    py313=$(command -v python3.13)
fi
if [ -z "$py313" ]; then
    echo "no Python 3.13 found (pyenv versions, python3.13): the Lerax jobs cannot run" >&2
    exit 1
fi
# Lerax's main branch (0.0.6) is not on the package index: its wheel is in
# ../shared/wheels beside the project's checkout (or $LERAX_WHEELS). A clone made
# elsewhere (a temporary folder) looks beside the checkout it was cloned from.
wheel=""
origin=$(git -C "$root" config --get remote.origin.url 2>/dev/null || true)
for folder in "${LERAX_WHEELS:-}" "$root/../shared/wheels" \
    ${origin:+"$origin/../shared/wheels"}; do
    if [ -n "$folder" ] && [ -z "$wheel" ]; then
        wheel=$(ls "$folder"/lerax-0.0.6-*.whl 2>/dev/null | head -n 1 || true)
    fi
done
if [ -z "$wheel" ]; then
    echo "no wheel of Lerax 0.0.6 in ../shared/wheels (or \$LERAX_WHEELS): the" \
        "Lerax main job cannot run" >&2
    exit 1
fi

lerax_job() {
    # $1: what to install besides the toolkit (the index's release or the wheel)
    local venv313
    venv313=$(mktemp -d)/venv
    "$py313" -m venv "$venv313"
    # shellcheck disable=SC1091
    source "$venv313/bin/activate"
    python -m pip install -q --upgrade pip
    pip install -q -e ".[test]" "$1"
    python -c "import importlib.metadata as m, sys; print('lerax', m.version('lerax'), 'on Python', sys.version.split()[0])"
    lerax-conformance examples/lerax/ --seed 0
    python -m pytest -n 2 -q -m lerax
}

echo "== Lerax 0.0.5 (the package index)"
lerax_job "lerax==0.0.5"
echo "== the built-ins' cost in Lerax's PPO (a measurement, printed, not a gate)"
python benchmarks/lerax_ppo.py
deactivate

echo "== Lerax 0.0.6 (main, from its wheel)"
lerax_job "$wheel"
deactivate
