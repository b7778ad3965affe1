#!/usr/bin/env bash
# The project's CI: a fresh virtual environment, the README's install command,
# lint, the README's main job on the shipped examples, and the README's tests.
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
lerax-conformance examples/ --seed 0

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

echo "== tests (README)"
python -m pytest -n 2 -q
