"""What runtime type checking costs: in a jitted training loop, and in eager calls.

Measures, in one run, with checking off and on (`lerax_callback.enable_typechecking`):

1. the reference training loop (`lerax_testing.run_training`, one `eqx.filter_jit`):
    its tracing, when the checks run, and its compiled calls, which run compiled
    code only (expected ratio ~1.00x); and whether the two traced programs are
    identical (then the compiled loops are the same program);
2. eager calls of a callback's `on_step` (it builds and returns a new state);
3. building a `StepContext`; and, off, a `StepContext` against an `equinox.Module`
    with the same fields and no hook (the cost of the switch's boolean test).

Each jitted measurement uses a callback class of its own, so that checking on
really traces anew instead of reusing the compilation made with checking off. Timed
pairs run in alternation, so that drifts in the machine's speed hit both alike; each
figure is the best of the repeats.

Run with `python benchmarks/typecheck.py` (`--quick` for a short run).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Int

import lerax_callback as lc
from lerax_testing import run_training


class Count(lc.AbstractCallbackState):
    count: Int[Array, ""]


class Total(lc.AbstractCallbackStepState):
    total: Float[Array, ""]
    episodes: Int[Array, ""]


class PlainStepContext(eqx.Module):
    """`StepContext`'s fields without its type-checking hook."""

    state: Any
    env: Any
    policy: Any
    done: Bool[Array, ""]
    reward: Float[Array, ""]
    locals: dict


def make_callback() -> lc.AbstractCallback:
    """A new callback class (and instance) each call: its own jit cache entry."""

    class RewardTotals(lc.AbstractCallback[Count, Total]):
        def reset(self, ctx, *, key):
            return Count(jnp.zeros((), jnp.int32))

        def step_reset(self, ctx, *, key):
            return Total(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

        def on_step(self, ctx, *, key):
            return Total(
                ctx.state.total + ctx.reward,
                ctx.state.episodes + ctx.done.astype(jnp.int32),
            )

        def on_iteration(self, ctx, *, key):
            return Count(ctx.state.count + 1)

        def on_training_start(self, ctx, *, key):
            return ctx.state

        def on_training_end(self, ctx, *, key):
            return ctx.state

    return RewardTotals()


def trainer(callback: lc.AbstractCallback) -> Callable[[Any], Any]:
    def train(key: Any = 0) -> Any:
        result = run_training(
            callback, num_envs=8, num_steps=64, num_iterations=16, key=key
        )
        return result.step_state.total

    return train


def seconds(fn: Callable[[], Any], number: int) -> float:
    """Mean seconds per call of `fn` over `number` calls."""
    start = time.perf_counter()
    for _ in range(number):
        jax.block_until_ready(fn())
    return (time.perf_counter() - start) / number


def compare(
    off: Callable[[], Any], on: Callable[[], Any], *, number: int, repeats: int
) -> tuple[float, float]:
    """Best seconds per call of `off` (checking off) and `on` (checking on)."""
    best = {False: float("inf"), True: float("inf")}
    for _ in range(repeats):
        for enabled, fn in ((False, off), (True, on)):
            with lc.enable_typechecking(enabled):
                best[enabled] = min(best[enabled], seconds(fn, number))
    return best[False], best[True]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    quick = parser.parse_args().quick
    loop_n, eager_n, repeats = (5, 200, 3) if quick else (10, 1000, 10)
    print(f"jax {jax.__version__} on {jax.default_backend()}")
    rows = []

    # 1. The jitted loop: tracing (a new callback class each time, so that nothing
    # is cached), and the compiled loop.
    def trace() -> Any:
        return jax.make_jaxpr(trainer(make_callback()))(jr.key(0))

    trace()  # Warm JAX up.
    tracing = compare(trace, trace, number=1, repeats=max(3, repeats // 2))
    trains, jaxprs = {}, {}
    for enabled in (False, True):
        with lc.enable_typechecking(enabled):
            trains[enabled] = trainer(make_callback())
            jaxprs[enabled] = str(jax.make_jaxpr(trains[enabled])(jr.key(0)))
            seconds(trains[enabled], 1)  # Compile.
    loop = compare(trains[False], trains[True], number=loop_n, repeats=repeats)
    rows.append(("jitted loop, after compilation", *loop, "ms", 1e3))
    rows.append(("jitted loop, tracing (where checks run)", *tracing, "ms", 1e3))

    # 2. Eager `on_step` calls. The classes are defined with checking off; turning
    # it on wraps their methods, as it does for any callback defined before.
    callback = make_callback()
    state = Total(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))
    ctx = lc.StepContext(state, None, None, jnp.array(False), jnp.array(1.0), {})
    key = jr.key(0)

    def on_step() -> Any:
        return callback.on_step(ctx, key=key)

    eager = compare(on_step, on_step, number=eager_n, repeats=repeats)
    rows.append(("eager on_step call", *eager, "us", 1e6))

    # 3. Building contexts.
    done, reward = jnp.array(False), jnp.array(1.0)

    def build(cls: type) -> Callable[[], Any]:
        return lambda: cls(state, None, None, done, reward, {})

    context = compare(
        build(lc.StepContext), build(lc.StepContext), number=eager_n, repeats=repeats
    )
    rows.append(("StepContext(...) construction", *context, "us", 1e6))
    plain = hooked = float("inf")
    with lc.enable_typechecking(False):
        for _ in range(repeats):
            plain = min(plain, seconds(build(PlainStepContext), eager_n))
            hooked = min(hooked, seconds(build(lc.StepContext), eager_n))

    print(f"{'measurement':42} {'off':>10} {'on':>10}  ratio on/off")
    for name, off, on, unit, scale in rows:
        print(
            f"{name:42} {off * scale:8.2f}{unit} {on * scale:8.2f}{unit}  "
            f"{on / off:.2f}x"
        )
    print(
        f"{'checking off: plain module vs StepContext':42} {plain * 1e6:8.2f}us "
        f"{hooked * 1e6:8.2f}us  {hooked / plain:.2f}x"
    )
    same = jaxprs[False] == jaxprs[True]
    print(f"traced training programs identical with checking off and on: {same}")


if __name__ == "__main__":
    main()
