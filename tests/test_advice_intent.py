"""Advice that keeps what the callback means: each template's defect, the twin
written by following the advice word for word, and proof that the twin passes
every check and still computes what the defective callback was meant to.

A fix that passes the checks by computing something else (an integer total cast
back, so that every reward below 1 adds 0) is no fix; each twin here is run on
rewards whose right result is computed by hand.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jax import lax
from jaxtyping import Array, Float, Int, Key

import lerax_callback as lc
from lerax_testing import check_callback

KEY = jr.key(0)
OPTIONS = {"seed": 0, "max_examples": 4}


def advice_for(callback: object, check: str) -> str:
    """The advice of `check`'s first failure on `callback`, which must fail it."""
    report = check_callback(callback, checks=[check], **OPTIONS)
    result = report.result(check)
    assert result.status == "failed", report.render()
    advice = result.failures[0].advice
    assert advice is not None
    return advice


def passes(callback: object) -> None:
    report = check_callback(callback, **OPTIONS)
    assert report.ok, report.render()


def run_steps(callback: lc.AbstractStepCallback, rewards: list[float]) -> object:
    """The step state after `on_step` on each reward in turn, in a jitted
    `lax.scan` as an algorithm runs it (one environment, no episode ending)."""
    start = callback.step_reset(lc.ResetContext(locals={}), key=KEY)

    def step(state: object, reward: Float[Array, ""]) -> tuple[object, None]:
        ctx = lc.StepContext(state, None, None, jnp.array(False), reward, {})
        return callback.on_step(ctx, key=KEY), None

    run = eqx.filter_jit(lambda s, r: lax.scan(step, s, r)[0])
    return run(start, jnp.asarray(rewards, jnp.float32))


REWARDS = [0.7, -0.2, 0.4, 0.3]


# -- an integer accumulator of float rewards: declare it a float ---------------


class IntSum(lc.AbstractCallbackStepState):
    total: Int[Array, ""]


class FloatSum(lc.AbstractCallbackStepState):
    total: Float[Array, ""]


class IntegerTotal(lc.AbstractStepCallback[IntSum]):
    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> IntSum:
        return IntSum(jnp.zeros((), jnp.int32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> IntSum:
        return IntSum(ctx.state.total + ctx.reward)


class FloatTotal(lc.AbstractStepCallback[FloatSum]):
    """`IntegerTotal` with the advice followed: `jnp.zeros((), jnp.float32)`,
    updates written `(old + x).astype(jnp.float32)`."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> FloatSum:
        return FloatSum(jnp.zeros((), jnp.float32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> FloatSum:
        return FloatSum((ctx.state.total + ctx.reward).astype(jnp.float32))


@pytest.mark.parametrize("check", ["structure", "scan"])
def test_an_integer_total_of_float_rewards_is_declared_a_float(check):
    advice = advice_for(IntegerTotal(), check)
    assert "`jnp.zeros((), jnp.float32)`" in advice
    assert "`(old + x).astype(jnp.float32)`" in advice
    assert "cast every update back" not in advice
    assert "truncates" in advice


def test_the_float_total_passes_and_sums_the_rewards():
    passes(FloatTotal())
    total = run_steps(FloatTotal(), REWARDS).total
    np.testing.assert_allclose(total, sum(REWARDS), rtol=1e-6)
    # What casting back would have computed: every update truncated to zero.
    truncated = 0
    for reward in REWARDS:
        truncated = int(np.float32(truncated + reward))
    assert truncated == 0
    assert sum(REWARDS) > 1


# -- an integer step count written with a float constant: add an integer -------


class Steps(lc.AbstractCallbackStepState):
    count: Int[Array, ""]


class FloatStepCounter(lc.AbstractStepCallback[Steps]):
    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Steps:
        return Steps(jnp.zeros((), jnp.int32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Steps:
        return Steps(ctx.state.count + 1.0)


class StepCounter(FloatStepCounter):
    """`FloatStepCounter` with the advice followed: `1.0` written `1`."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Steps:
        return Steps(ctx.state.count + 1)


def test_a_count_written_with_a_float_constant_is_told_to_add_an_integer():
    advice = advice_for(FloatStepCounter(), "structure")
    assert "`1.0`" in advice
    assert "write it `1`" in advice
    passes(StepCounter())
    assert int(run_steps(StepCounter(), REWARDS).count) == len(REWARDS)


# -- a float32 total that float64 rewards widen: cast back ---------------------


class WidenedTotal(lc.AbstractStepCallback[FloatSum]):
    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> FloatSum:
        return FloatSum(jnp.zeros((), jnp.float32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> FloatSum:
        return FloatSum(ctx.state.total + ctx.reward)


class CastBackTotal(WidenedTotal):
    """`WidenedTotal` with the advice followed: `new.astype(jnp.float32)`."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> FloatSum:
        new = ctx.state.total + ctx.reward
        return FloatSum(new.astype(jnp.float32))


def test_a_float_total_widened_under_x64_is_cast_back():
    advice = advice_for(WidenedTotal(), "x64")
    assert "cast every update back (`new.astype(jnp.float32)`)" in advice
    passes(CastBackTotal())
    total = run_steps(CastBackTotal(), REWARDS).total
    np.testing.assert_allclose(total, sum(REWARDS), rtol=1e-6)


# -- a Python `if` on a traced reward: `jnp.where` -----------------------------


class PositiveIf(lc.AbstractStepCallback[FloatSum]):
    """Sums the positive rewards with a Python `if`."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> FloatSum:
        return FloatSum(jnp.zeros((), jnp.float32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> FloatSum:
        reward = ctx.reward.astype(jnp.float32)
        if reward > 0:
            return FloatSum(ctx.state.total + reward)
        return ctx.state


class PositiveWhere(PositiveIf):
    """`PositiveIf` with the advice followed: `jnp.where(cond, a, b)`."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> FloatSum:
        reward = ctx.reward.astype(jnp.float32)
        total = ctx.state.total
        return FloatSum(jnp.where(reward > 0, total + reward, total))


def test_a_python_if_on_a_traced_value_becomes_jnp_where():
    assert "`jnp.where(cond, a, b)`" in advice_for(PositiveIf(), "jit")
    passes(PositiveWhere())
    total = run_steps(PositiveWhere(), REWARDS).total
    np.testing.assert_allclose(total, 0.7 + 0.4 + 0.3, rtol=1e-6)


# -- a list the callback appends to: a fixed-size buffer in the state ----------

N = 3


class Recent(lc.AbstractCallbackStepState):
    values: Float[Array, " buffer"]
    index: Int[Array, ""]


class AppendsToSelf(lc.AbstractStepCallback[FloatSum]):
    """Keeps every reward in a list of its own."""

    history: list

    def __init__(self) -> None:
        self.history = []

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> FloatSum:
        return FloatSum(jnp.zeros((), jnp.float32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> FloatSum:
        self.history.append(ctx.reward)
        return ctx.state


class RecentRewards(lc.AbstractStepCallback[Recent]):
    """`AppendsToSelf` with the advice followed: `jnp.zeros((N,))` in the state,
    updated with `.at[state.index % N].set(x)` and an index."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Recent:
        return Recent(jnp.zeros((N,)), jnp.zeros((), jnp.int32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Recent:
        state = ctx.state
        values = state.values.at[state.index % N].set(ctx.reward)
        return Recent(values, state.index + 1)


def test_a_list_on_self_becomes_a_fixed_size_buffer_in_the_state():
    report = check_callback(AppendsToSelf(), checks=["purity"], **OPTIONS)
    failure = report.result("purity").failures[0]
    assert "`self.history.append(...)` at line" in failure.message
    assert "the callback's own list `history`" in failure.message
    assert "never assign to `self`" not in (failure.advice or "").lower()
    assert "`jnp.zeros((N,))`" in (failure.advice or "")
    assert ".at[state.index % N].set(x)" in (failure.advice or "")
    passes(RecentRewards())
    state = run_steps(RecentRewards(), REWARDS)
    # Four rewards in a buffer of three: the fourth overwrote the first.
    np.testing.assert_allclose(state.values, [0.3, -0.2, 0.4], rtol=1e-6)
    assert int(state.index) == 4


# -- NaN from a division by a zero count: guard the divisor --------------------


class Mean(lc.AbstractCallbackState):
    mean: Float[Array, ""]


class Counts(lc.AbstractCallbackStepState):
    total: Float[Array, ""]
    episodes: Int[Array, ""]


class UnguardedMean(lc.AbstractCallback[Mean, Counts]):
    """The mean return per finished episode, dividing by a count that may be 0."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Mean:
        return Mean(jnp.zeros((), jnp.float32))

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Counts:
        return Counts(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Counts:
        total = ctx.state.total + ctx.reward.astype(jnp.float32)
        return Counts(total, ctx.state.episodes + ctx.done.astype(jnp.int32))

    def _mean(self, counts: Counts) -> Float[Array, ""]:
        return jnp.sum(counts.total) / jnp.sum(counts.episodes)

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Mean:
        return Mean(self._mean(ctx.step_state).astype(jnp.float32))

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Mean:
        return ctx.state

    def on_training_end(self, ctx: lc.TrainingContext, *, key: Key[Array, ""]) -> Mean:
        return ctx.state


class GuardedMean(UnguardedMean):
    """`UnguardedMean` with the advice followed: `x / jnp.maximum(n, 1)`."""

    def _mean(self, counts: Counts) -> Float[Array, ""]:
        return jnp.sum(counts.total) / jnp.maximum(jnp.sum(counts.episodes), 1)


def test_nan_from_a_zero_count_becomes_a_guarded_division():
    assert "`x / jnp.maximum(n, 1)`" in advice_for(UnguardedMean(), "finite")
    passes(GuardedMean())
    callback = GuardedMean()
    # The mean per finished episode; with none finished, no NaN but the total
    # (divided by `jnp.maximum(0, 1)`, one).
    for episodes, expected in ((0, 1.5), (2, 1.5 / 2), (3, 0.5)):
        counts = Counts(jnp.asarray(1.5, jnp.float32), jnp.asarray(episodes, jnp.int32))
        ctx = lc.IterationContext(
            Mean(jnp.zeros(())), counts, None, None, jnp.asarray(1), None, {}, {}
        )
        mean = jax.jit(lambda c: callback.on_iteration(c, key=KEY).mean)(ctx)
        np.testing.assert_allclose(mean, expected, rtol=1e-6)
