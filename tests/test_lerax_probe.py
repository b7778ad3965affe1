"""The probe: callbacks written the way RL practitioners write them against Lerax
0.0.6 (`lerax_probe/correct.py`, `lerax_probe/defective.py`), each labelled by
what the real algorithms it is meant for do with it, checked as a user would:
`check_callback(cb, algorithms=...)` must pass every correct one and fail every
defective one.

Labels come from running each callback in the real `learn()` of its algorithms
(1 and 2 environments): a crash, a NaN in its state or a tracer printed makes it
defective, and so does a key reused, which only the `prng` check sees
(`STATISTICAL`). Where the harness disagrees with that today, `GAPS` says why, as a
strict expected failure: the day they agree, the test says so.
Needs Lerax 0.0.6 (Python 3.13); skipped elsewhere.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("lerax.curriculum", reason="needs Lerax 0.0.6 (main branch)")

sys.path.insert(0, str(Path(__file__).resolve().parent / "lerax_probe"))

import correct  # noqa: E402
import defective  # noqa: E402

from lerax_testing import check_callback  # noqa: E402

pytestmark = pytest.mark.lerax

OPTIONS = {"seed": 0, "max_examples": 4}


@pytest.fixture(autouse=True)
def _as_users_run() -> Any:
    """JAX's default rank promotion, as the probe's authors train: the suite's
    strict setting (`conftest.py`) would fail their implicit broadcasts, which
    training allows."""
    import jax

    with jax.numpy_rank_promotion("allow"):
        yield


GAPS: dict[str, str] = {}
"""Where the harness and the real algorithms disagree today, with why: a strict
expected failure, so that the day they agree the test says so."""

RELABELLED: dict[str, str] = {
    "IntAccumulatorFloatReward": "written as a dtype drift, but `jnp.array(0)` is "
    "weakly typed: `lax.scan` makes it float32 on entry and every algorithm trains it",
    "LRSumIntInit": "written as a dtype drift of the iteration state, but "
    "`jnp.array(0)` is weakly typed and promoted on entry, as above",
    "OnTrainingEndWrongClass": "written as a wrong state class, but from "
    "`on_training_end`, whose state `learn()` drops (it returns the policy)",
    "NumpyOnTracer": "written as a NumPy conversion, but `np.mean` calls the "
    "array's own `.mean()`, which traces: every algorithm trains it",
}
"""Callbacks written as defective that the real algorithms train without
complaint: by the ground truth, correct."""

STATISTICAL: dict[str, str] = {
    "KeyReuseNoSplit": "draws the same noise every iteration from a key kept "
    "in the state: the algorithms train it without complaint, but the numbers "
    "are wrong, and the `prng` check reports it, as it was written to be",
}
"""Callbacks the real algorithms train without complaint whose numbers are
wrong all the same: defective, as written, and failed by a check that reads
more than a crash, a NaN or a printed tracer."""


def _params(cases: list[tuple[str, Any, tuple[str, ...]]]) -> list[Any]:
    params = []
    for name, factory, algorithms in cases:
        marks = []
        if name in GAPS:
            marks.append(pytest.mark.xfail(reason=GAPS[name], strict=True))
        params.append(pytest.param(factory, algorithms, id=name, marks=marks))
    return params


CORRECT = [*correct.CASES, *(c for c in defective.CASES if c[0] in RELABELLED)]
DEFECTIVE = [c for c in defective.CASES if c[0] not in RELABELLED]
assert set(STATISTICAL) <= {c[0] for c in DEFECTIVE}


@pytest.mark.parametrize(("factory", "algorithms"), _params(CORRECT))
def test_a_correct_callback_passes(factory: Any, algorithms: tuple[str, ...]):
    report = check_callback(factory(), algorithms=algorithms, **OPTIONS)
    assert report.ok, report.render()


@pytest.mark.parametrize(("factory", "algorithms"), _params(DEFECTIVE))
def test_a_defective_callback_fails(factory: Any, algorithms: tuple[str, ...]):
    if isinstance(factory, type) and inspect.isabstract(factory):
        # A method left abstract: Python refuses to make one, before any check.
        with pytest.raises(TypeError, match="abstract"):
            factory()
        return
    report = check_callback(factory(), algorithms=algorithms, **OPTIONS)
    assert not report.ok, report.render()
