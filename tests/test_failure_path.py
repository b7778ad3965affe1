"""The failure path costs about what the pass path does, counted rather than timed:
a failure that does not depend on the input is neither simplified nor traced
anew for every example, and a failing example one check simplified is reused by
the next check instead of being searched for again. (`benchmarks/failure_path.py`
measures the times.)"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import lerax_callback as lc
import lerax_testing._search as search
from lerax_testing import check_callback


class Steps(lc.AbstractCallbackStepState):
    count: jax.Array


class _Counting(lc.AbstractStepCallback[Steps]):
    def step_reset(self, ctx, *, key):
        return Steps(jnp.zeros((), jnp.int32))


RUNS = {"on_step": 0}


class PythonIf(_Counting):
    """Fails for every input under `jax.jit`: a Python `if` on a traced reward."""

    def on_step(self, ctx, *, key):
        if isinstance(ctx.reward, jax.core.Tracer):
            RUNS["on_step"] += 1  # traced, not called eagerly
        if ctx.reward > 0:
            return Steps(ctx.state.count + 1)
        return ctx.state


def _fail_below(reward):
    if reward < -1:
        raise RuntimeError("the logger rejects negative rewards")


class RaisesBelow(_Counting):
    """Fails for some inputs only: a host callback that raises for rewards < -1."""

    def on_step(self, ctx, *, key):
        jax.debug.callback(_fail_below, ctx.reward)
        return Steps(ctx.state.count + 1)


@pytest.fixture
def simplified(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a failing example was simplified, per call."""
    calls: list[int] = []
    original = search.simplify

    def counting(test, scenario, failures, *args, **kwargs):
        calls.append(scenario.num_envs)
        return original(test, scenario, failures, *args, **kwargs)

    monkeypatch.setattr(search, "simplify", counting)
    return calls


def test_a_failure_of_every_input_is_not_simplified_nor_traced_per_example(
    simplified: list[int],
):
    RUNS["on_step"] = 0
    report = check_callback(PythonIf(), seed=0, max_examples=20)
    failed = [r.check for r in report.results if r.status == "failed"]
    assert {"jit", "vmap", "structure", "scan"} <= set(failed), failed
    assert simplified == []
    # Traced once per shape and way of calling (jitted alone, vmapped, in an
    # episode, in the loop, under x64...), about 45 times, and never again
    # after a failure; when every example of every check traced it anew, 177.
    assert RUNS["on_step"] <= 60, RUNS["on_step"]


def test_an_example_one_check_simplified_is_reused_by_the_next(
    simplified: list[int],
):
    report = check_callback(RaisesBelow(), seed=0, max_examples=20)
    failing = [r for r in report.results if r.status == "failed"]
    assert len(failing) >= 3, report.render()
    # Once per number of environments at most, however many checks fail.
    assert len(simplified) == len(set(simplified)), simplified
    examples = {r.failures[0].example for r in failing if r.failures[0].example}
    assert len(examples) <= len(set(simplified)) + 1, examples
    for result in failing:
        example = result.failures[0].example or ""
        assert "1 step(s)" in example, (result.check, example)
