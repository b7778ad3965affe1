"""How long `check_callback` takes to report a failing callback, relative to a
passing one.

A failure must not cost much more than a pass: the goal is that no failing
callback takes more than about 3x the median passing callback's check. For each
callback below, in one run: the median of `--repeats` (3) timings of
`check_callback` with the default options, each on a fresh copy of the callback
(an instance of a new subclass, so that no program compiled for an earlier
measurement is reused), in a process whose one-time costs are paid by a first,
untimed check of every callback. Prints each time and its ratio to the median of
the passing callbacks' times, measured in the same run.

The failing callbacks are the slow cases seen in users' reports: a
`jax.debug.callback` whose Python function raises (a failure at run time, for
every input), a method returning a tuple instead of its state class (a failure
at trace time, for every input), a Python `if` on a traced reward (a trace-time
failure, also for every input), and a NaN only for some inputs (which the search
must find and shrink).

    python benchmarks/failure_path.py
    python benchmarks/failure_path.py --repeats 1
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import jax
import jax.numpy as jnp
from harness import fresh  # the harness benchmark's fresh copies (same folder)
from jaxtyping import Array, Float, Int

import lerax_callback as lc
from lerax_testing import check_callback


class Total(lc.AbstractCallbackStepState):
    total: Float[Array, ""]
    steps: Int[Array, ""]


class Mean(lc.AbstractCallbackState):
    mean: Float[Array, ""]


class Sums(lc.AbstractCallback[Mean, Total]):
    """Passes: a running return per environment, averaged per iteration."""

    def reset(self, ctx: Any, *, key: Any) -> Mean:
        return Mean(jnp.zeros((), jnp.float32))

    def step_reset(self, ctx: Any, *, key: Any) -> Total:
        return Total(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def on_step(self, ctx: Any, *, key: Any) -> Total:
        total = ctx.state.total + ctx.reward.astype(jnp.float32)
        return Total(jnp.where(ctx.done, 0.0, total), ctx.state.steps + 1)

    def on_iteration(self, ctx: Any, *, key: Any) -> Mean:
        return Mean(jnp.mean(ctx.step_state.total).astype(jnp.float32))

    def on_training_start(self, ctx: Any, *, key: Any) -> Mean:
        return ctx.state

    def on_training_end(self, ctx: Any, *, key: Any) -> Mean:
        return ctx.state


class Counts(Sums):
    """Passes: counts the steps with a positive reward."""

    def on_step(self, ctx: Any, *, key: Any) -> Total:
        positive = (ctx.reward > 0).astype(jnp.int32)
        return Total(ctx.state.total, ctx.state.steps + positive)


class Best(Sums):
    """Passes: keeps the best mean so far."""

    def on_iteration(self, ctx: Any, *, key: Any) -> Mean:
        mean = jnp.mean(ctx.step_state.total).astype(jnp.float32)
        return Mean(jnp.maximum(ctx.state.mean, mean))


def _raise(reward: Any) -> None:
    raise RuntimeError("the logger is not connected")


class HostRaises(Sums):
    """Fails: a host callback whose Python function raises."""

    def on_step(self, ctx: Any, *, key: Any) -> Total:
        jax.debug.callback(_raise, ctx.reward)
        return super().on_step(ctx, key=key)


class ReturnsTuple(Sums):
    """Fails: `on_step` returns a tuple, not its state class."""

    def on_step(self, ctx: Any, *, key: Any) -> Any:
        state = super().on_step(ctx, key=key)
        return (state.total, state.steps)


class PythonIf(Sums):
    """Fails: a Python `if` on a traced reward."""

    def on_step(self, ctx: Any, *, key: Any) -> Total:
        if ctx.reward > 0:
            return super().on_step(ctx, key=key)
        return ctx.state


class NanSometimes(Sums):
    """Fails for some inputs only: the log of a reward that may be negative."""

    def on_step(self, ctx: Any, *, key: Any) -> Total:
        state = super().on_step(ctx, key=key)
        logged = jnp.log(ctx.reward.astype(jnp.float32) + 1.0)
        return Total(state.total + logged, state.steps)


PASSING = (Sums(), Counts(), Best())
FAILING = (HostRaises(), ReturnsTuple(), PythonIf(), NanSometimes())


def seconds(callback: Any, repeats: int) -> float:
    """The median of `repeats` timings of `check_callback` on fresh copies."""
    times = []
    for _ in range(repeats):
        copy = fresh(callback)
        start = time.perf_counter()
        report = check_callback(copy, seed=0)
        times.append(time.perf_counter() - start)
        expected = callback in PASSING
        assert report.ok == expected, report.render()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for callback in (*PASSING, *FAILING):  # one-time costs, untimed
        check_callback(callback, seed=0)
    times = {type(c).__name__: seconds(c, args.repeats) for c in PASSING + FAILING}
    median = statistics.median(times[type(c).__name__] for c in PASSING)
    print(f"median passing callback: {median:.2f} s")
    for callback in PASSING + FAILING:
        name = type(callback).__name__
        kind = "passes" if callback in PASSING else "fails "
        ratio = times[name] / median
        print(f"  {name:<14} {kind} {times[name]:6.2f} s  {ratio:5.1f}x")
    worst = max(times[type(c).__name__] for c in FAILING) / median
    print(f"slowest failing / median passing: {worst:.1f}x (goal: at most about 3x)")


if __name__ == "__main__":
    main()
