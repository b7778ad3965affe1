"""Every check catches real defective callbacks and leaves their correct twins alone."""

from __future__ import annotations

import importlib.util
from typing import Any

import jax.numpy as jnp
import pytest
from zoo import (
    DEFECTS,
    Defect,
    PlainNumberField,
    Returns,
    ReturnTracker,
    SnapshotsPolicyFromStart,
    WeakStart,
)

from lerax_testing import CHECKS, check_callback
from lerax_testing._globals import config_changes, config_snapshot, restore_jax_config


def _id(case: Defect) -> str:
    return f"{case.check}-{type(case.defective).__name__}"


def zoo_problems(defects: list[Defect], checks: tuple[str, ...]) -> list[str]:
    """What keeps `defects` from showing each of `checks` at work: a check with
    no defective callback, a row of no registered check, and a twin that is not
    its defect's own (shared with another defect, such as the zoo's plain
    `ReturnTracker`, it shows nothing of this defect's fix)."""
    problems = [
        f"no row for `{c}`" for c in checks if c not in {d.check for d in defects}
    ]
    problems += [
        f"`{d.check}` is not registered" for d in defects if d.check not in checks
    ]
    fixed: dict[str, set[str]] = {}
    for defect in defects:
        twin, defective = type(defect.twin).__name__, type(defect.defective).__name__
        fixed.setdefault(twin, set()).add(defective)
        if twin == defective:
            problems.append(f"`{defective}` is its own twin")
    problems += [
        f"`{twin}` is the twin of {', '.join(sorted(defectives))}"
        for twin, defectives in fixed.items()
        if len(defectives) > 1
    ]
    return problems


def test_every_check_has_defects_each_with_a_twin_of_its_own():
    """A check registered without a row in `zoo.py` (a defective callback and its
    correct twin, the same callback with the defect fixed) fails here."""
    problems = zoo_problems(DEFECTS, CHECKS)
    assert not problems, "tests/zoo.py: " + "; ".join(problems)


def test_the_zoo_test_sees_a_missing_row_and_a_shared_twin():
    rows = [d for d in DEFECTS if d.check != "x64"]
    assert zoo_problems(rows, CHECKS) == ["no row for `x64`"]
    shared = DEFECTS[0]._replace(twin=DEFECTS[1].twin)
    assert zoo_problems([shared, *DEFECTS[1:]], CHECKS) == [
        "`KeywordKey` is the twin of NotAModule, PositionalKey"
    ]


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path, monkeypatch):
    # Some defects write files at trace time; keep them out of the checkout.
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _restore_jax_config():
    # Some defects change JAX's configuration (`DisablesJit`); whatever a check
    # leaves behind must not reach the next test. The test proves the check itself
    # already restored it.
    before = config_snapshot()
    with restore_jax_config():
        yield
        assert config_changes(before, config_snapshot()) == []


NEEDS_LERAX = pytest.mark.skipif(
    importlib.util.find_spec("lerax") is None,
    reason="the `lerax` check needs Lerax (Python 3.13)",
)


def _cases() -> list[Any]:
    """The rows, those of the `lerax` check marked `lerax` (they run where Lerax
    is installed, in the Lerax test jobs)."""
    return [
        pytest.param(c, id=_id(c), marks=[pytest.mark.lerax, NEEDS_LERAX])
        if c.check == "lerax"
        else pytest.param(c, id=_id(c))
        for c in DEFECTS
    ]


@pytest.mark.parametrize("case", _cases())
def test_the_check_catches_the_defect(case: Defect):
    check, defective, _, method, words, options = case
    report = check_callback(
        defective, checks=[check], seed=0, max_examples=10, **options
    )
    result = report.result(check)
    assert result.status == "failed", report.render()
    failure = result.failures[0]
    assert failure.check == check
    assert failure.method == method, report.render()
    text = " ".join(str(v) for v in failure.to_dict().values())
    assert words in text, report.render()
    assert not report.ok


@pytest.mark.parametrize("case", _cases())
def test_the_check_passes_the_correct_twin(case: Defect):
    check, _, twin, _, _, options = case
    report = check_callback(twin, checks=[check], seed=0, max_examples=10, **options)
    assert report.result(check).status == "passed", report.render()
    assert report.ok


@pytest.mark.parametrize("num_envs", [1, 3])
def test_a_plain_number_in_a_step_state_is_not_flagged(num_envs):
    """A leaf that is not an array reaches every method as it is, under `jit` as
    eagerly: the jitted episode, which would turn it into an array, is not used
    for such a callback, so `purity` and `retrace` see no difference."""
    report = check_callback(PlainNumberField(), seed=0, num_envs=num_envs)
    assert report.ok, report.render()


@pytest.mark.parametrize("num_envs", [1, 3])
def test_a_state_filled_in_at_training_start_is_not_flagged(num_envs):
    """`reset` may return a placeholder that `on_training_start` fills in: the
    iteration loop starts from `on_training_start`'s state, in Lerax as in the
    reference loop."""
    report = check_callback(SnapshotsPolicyFromStart(), seed=0, num_envs=num_envs)
    assert report.ok, report.render()


def test_weakly_typed_starts_are_not_flagged():
    """`jnp.array(0.0)` and `jnp.array(0)` starts become float32 and int32 in a
    `lax.scan`: no drift, no retrace."""
    report = check_callback(
        WeakStart(), checks=["structure", "scan", "retrace"], seed=0, max_examples=10
    )
    assert report.ok, report.render()


class SumsRewardsFromAnIntegerStart(ReturnTracker):
    """Starts its sum at `jnp.array(0)`, a weakly typed int32, and adds float
    rewards: `lax.scan` makes the start float32 on entry, as Lerax's algorithms
    train it without complaint."""

    def step_reset(self, ctx: Any, *, key: Any) -> Returns:
        return Returns(jnp.array(0), jnp.zeros((), jnp.int32))  # type: ignore[arg-type]

    def on_step(self, ctx: Any, *, key: Any) -> Returns:
        return Returns(ctx.state.ret + ctx.reward, ctx.state.steps + 1)


def test_a_weak_integer_start_that_scan_promotes_is_not_flagged():
    report = check_callback(
        SumsRewardsFromAnIntegerStart(),
        checks=["structure", "scan", "retrace"],
        seed=0,
        max_examples=10,
    )
    assert report.ok, report.render()
