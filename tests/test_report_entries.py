"""One defect, one entry, on real reports: every check run on each defective
callback of `zoo.py` and `examples/broken`, counting the entries the text report
shows. Slow-ish (all checks per callback, `max_examples=5`); one test per callback
so that pytest-xdist spreads them."""

from __future__ import annotations

import importlib.util
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest
from zoo import DEFECTS

from lerax_testing import check_callback
from lerax_testing._explain._causes import group_failures
from lerax_testing._globals import restore_jax_config

ROOT = Path(__file__).resolve().parent.parent


def _common_mistakes() -> Any:
    if "common_mistakes" in sys.modules:
        return sys.modules["common_mistakes"]
    path = ROOT / "examples" / "broken" / "common_mistakes.py"
    spec = importlib.util.spec_from_file_location("common_mistakes", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["common_mistakes"] = module  # equinox's dataclasses look it up
    spec.loader.exec_module(module)
    return module


BROKEN = _common_mistakes()
CALLBACKS: dict[str, Any] = {}
for _row in DEFECTS:
    if _row.check != "lerax":  # it needs Lerax: `test_checks.py` runs it there
        CALLBACKS.setdefault(type(_row.defective).__name__, _row.defective)
for _name in ("PythonIfOnDone", "DriftingDtype", "PrintsWhileTracing"):
    CALLBACKS[_name] = getattr(BROKEN, _name)()

ENTRIES = {name: 1 for name in CALLBACKS} | {"NotAModule": 2}
"""Entries each defective callback's report shows: one per defect. `NotAModule`
is neither an equinox Module nor an `AbstractCallback`: two fixes."""


def test_defective_callbacks_average_at_most_1_3_entries() -> None:
    assert set(ENTRIES) == set(CALLBACKS)
    assert statistics.mean(ENTRIES.values()) <= 1.3


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)  # some defects write files at trace time
    with restore_jax_config():
        yield


@pytest.mark.parametrize("name", list(CALLBACKS))
def test_each_defect_is_one_entry_with_a_fix_and_whole_messages(name: str) -> None:
    report = check_callback(CALLBACKS[name], seed=0, max_examples=5)
    causes = group_failures(report.failures)
    text = report.render()
    assert len(causes) == ENTRIES[name], text
    assert sum(line.startswith("  [") for line in text.splitlines()) == len(causes)
    for cause in causes:
        assert cause.failure.advice, text
        assert f"fix: {cause.failure.advice}" in text
    for failure in report.failures:
        assert not failure.message.rstrip().endswith(":"), failure.message


def test_a_python_if_is_one_short_entry() -> None:
    report = check_callback(BROKEN.PythonIfOnDone(), seed=0, max_examples=5)
    text = report.render()
    lines = text.splitlines()
    assert len(lines) < 25, text
    assert [line for line in lines if line.startswith("  [")] == [
        "  [jit] `on_step` under `jax.jit` fails at `if ctx.done:`: a Python `if`, "
        "`while`, `and`/`or`/`not` or `bool()` on a traced value."
    ]
    assert "    also breaks: vmap, structure, scan" in lines
    assert "seed=" not in text.replace(f"seed={report.seed})", "")  # one seed
