"""The `prng` check beyond its rows in `zoo.py`: callbacks that use randomness
as RL practitioners do, correctly (never flagged), and more ways to misuse a key
(each flagged at the user's line)."""

from __future__ import annotations

import linecache
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import pytest
from jaxtyping import Array, Bool, Float, Int, Key, UInt32
from zoo import (
    DitheredReturns,
    DitheredReturnsSplit,
    EpsilonCounterSplit,
    PicksWithTheKey,
    Returns,
    ReturnTracker,
    Summary,
)

import lerax_callback as lc
from lerax_testing import check_callback

FAST = {"checks": ["prng"], "seed": 0, "max_examples": 2}

# --------------------------------------------------------------- correct ones


class NoisyReturns(ReturnTracker):
    """Sums rewards with a little Gaussian noise, drawn from the method's key."""

    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        return 1e-3 * jr.normal(key, dtype=jnp.float32)

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        total = ctx.state.ret + ctx.reward.astype(jnp.float32) + self.noise(key)
        return Returns(jnp.where(ctx.done, 0.0, total), ctx.state.steps + 1)


class SplitsThreeWays(NoisyReturns):
    """`jr.split(key, 3)`, each sub-key drawn from once: noise, a coin and a
    categorical pick."""

    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        keys = jr.split(key, 3)
        coin = jr.bernoulli(keys[1], 0.5)
        arm = jr.categorical(keys[2], jnp.zeros(4, jnp.float32))
        scale = jnp.where(coin, 1e-3, 2e-3) * (1 + arm).astype(jnp.float32)
        return scale * jr.normal(keys[0], dtype=jnp.float32)


class BootstrapsOverSplitKeys(NoisyReturns):
    """A bootstrap of the reward scale, one resample per sub-key, under `vmap`."""

    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        data = jnp.linspace(0.0, 1.0, 8, dtype=jnp.float32)
        keys = jr.split(key, 4)
        means = jax.vmap(lambda k: jr.choice(k, data, (8,)).mean())(keys)
        return 1e-3 * means.mean()


class ExploresInOneBranch(NoisyReturns):
    """One draw in each branch of a `lax.cond`: only one branch runs."""

    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        return jax.lax.cond(
            jnp.ones((), bool),
            lambda k: jr.normal(k, dtype=jnp.float32),
            lambda k: jr.uniform(k, dtype=jnp.float32),
            key,
        )


class PermutesEpisodes(NoisyReturns):
    """Shuffles episode slots for logging, and folds a pass counter into the key
    for each of a loop's draws."""

    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        order_key, loop_key = jr.split(key)
        order = jr.permutation(order_key, 5)

        def one(i: Int[Array, ""], total: Float[Array, ""]) -> Float[Array, ""]:
            return total + jr.normal(jr.fold_in(loop_key, i), dtype=jnp.float32)

        summed = jax.lax.fori_loop(0, 3, one, jnp.zeros((), jnp.float32))
        return 1e-3 * (summed + order[0].astype(jnp.float32))


class CarriesKeyThroughScan(NoisyReturns):
    """A key carried through a `lax.scan` and split on each pass."""

    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        def one(
            carry: tuple[Key[Array, ""], Float[Array, ""]], _: None
        ) -> tuple[tuple[Key[Array, ""], Float[Array, ""]], None]:
            carried, draw = jr.split(carry[0])
            return (carried, carry[1] + jr.normal(draw, dtype=jnp.float32)), None

        start = (key, jnp.zeros((), jnp.float32))
        (_, total), _ = jax.lax.scan(one, start, None, length=3)
        return 1e-3 * total


class SeededPerStep(NoisyReturns):
    """Evaluation noise seeded from the step count: deterministic on purpose, and
    not reported (it depends on the state, see `_prng`'s docstring)."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        step_key = jr.fold_in(jr.key(0), ctx.state.steps)
        total = ctx.state.ret + ctx.reward.astype(jnp.float32)
        total = total + 1e-3 * jr.normal(step_key, dtype=jnp.float32)
        return Returns(jnp.where(ctx.done, 0.0, total), ctx.state.steps + 1)


class SplitsInline(NoisyReturns):
    """Splits inline at each draw: `jr.split(key)[0]` and `jr.split(key)[1]` are
    the two halves of one split, computed twice."""

    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        coin = jr.bernoulli(jr.split(key)[1], 0.5)
        return jnp.where(coin, 1e-3, 2e-3) * jr.normal(jr.split(key)[0])


class UnpacksThenSplitsInline(NoisyReturns):
    """`k_noise, _ = jr.split(key)` (an `unstack` in newer JAX) and
    `jr.split(key)[1]` elsewhere: the two halves of one split."""

    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        k_noise, _ = jr.split(key)
        coin = jr.bernoulli(jr.split(key)[1], 0.5)
        return jnp.where(coin, 1e-3, 2e-3) * jr.normal(k_noise)


class RawKeyed(lc.AbstractCallbackStepState):
    """A key stored as raw `uint32[2]` data, as `jax.random.PRNGKey` makes them."""

    key: UInt32[Array, " 2"]
    explored: Int[Array, ""]


class RawEpsilonGreedy(lc.AbstractCallback[Summary, RawKeyed]):
    """Counts epsilon-greedy explorations, splitting a raw key kept in the state."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.zeros((), jnp.float32))

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> RawKeyed:
        return RawKeyed(jr.key_data(key), jnp.zeros((), jnp.int32))

    def explore(self, stored: UInt32[Array, " 2"]) -> tuple[Any, Bool[Array, ""]]:
        carried, draw = jr.split(stored)
        return carried, jr.bernoulli(draw, 0.1)

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> RawKeyed:
        carried, explore = self.explore(ctx.state.key)
        return RawKeyed(carried, ctx.state.explored + explore.astype(jnp.int32))

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.mean(ctx.step_state.explored).astype(jnp.float32))

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        return ctx.state

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        return ctx.state


CORRECT = [
    ReturnTracker(),  # ignores its key
    NoisyReturns(),
    SplitsThreeWays(),
    SplitsInline(),
    UnpacksThenSplitsInline(),
    BootstrapsOverSplitKeys(),
    ExploresInOneBranch(),
    PermutesEpisodes(),
    CarriesKeyThroughScan(),
    SeededPerStep(),
    RawEpsilonGreedy(),
    lc.CallbackList([DitheredReturnsSplit(), PicksWithTheKey(), EpsilonCounterSplit()]),
]


@pytest.mark.parametrize("callback", CORRECT, ids=lambda c: type(c).__name__)
def test_correct_uses_of_keys_are_not_flagged(callback):
    report = check_callback(callback, **FAST)
    assert report.result("prng").status == "passed", report.render()


@pytest.mark.parametrize("callback", [SplitsThreeWays(), RawEpsilonGreedy()])
def test_correct_random_callbacks_pass_every_check(callback):
    report = check_callback(callback, seed=0, max_examples=3)
    assert report.ok, report.render()


# ---------------------------------------------------------------- defects


class SplitsThenDrawsTheKey(NoisyReturns):
    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        first, _ = jr.split(key)
        return jr.normal(first, dtype=jnp.float32) + jr.normal(key, dtype=jnp.float32)


class IndexesKeysDrawnUnderVmap(NoisyReturns):
    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        keys = jr.split(key, 4)
        batch = jax.vmap(lambda k: jr.normal(k, dtype=jnp.float32))(keys).mean()
        return batch + jr.uniform(keys[2], dtype=jnp.float32)


class DrawsTheSameKeyEachPass(NoisyReturns):
    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        def one(i: Int[Array, ""], total: Float[Array, ""]) -> Float[Array, ""]:
            return total + jr.normal(key, dtype=jnp.float32)

        return jax.lax.fori_loop(0, 3, one, jnp.zeros((), jnp.float32))


class HoldsItsOwnKey(NoisyReturns):
    seed_key: Key[Array, ""] = eqx.field(default_factory=lambda: jr.key(7))

    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        return jr.normal(self.seed_key, dtype=jnp.float32)


class StoresRawKeyUnsplit(RawEpsilonGreedy):
    def explore(self, stored: UInt32[Array, " 2"]) -> tuple[Any, Bool[Array, ""]]:
        return stored, jr.bernoulli(stored, 0.1)


class StartsFromAFixedKey(RawEpsilonGreedy):
    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> RawKeyed:
        return RawKeyed(jr.PRNGKey(0), jnp.zeros((), jnp.int32))


class SplitsInlineDrawsOneHalfTwice(NoisyReturns):
    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        coin = jr.bernoulli(jr.split(key)[0], 0.5)
        return jnp.where(coin, 1e-3, 2e-3) * jr.normal(jr.split(key)[0])


class UnpacksThenSplitsInlineTwice(NoisyReturns):
    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        k_noise, _ = jr.split(key)
        coin = jr.bernoulli(jr.split(key)[0], 0.5)
        return jnp.where(coin, 1e-3, 2e-3) * jr.normal(k_noise)


class SplitsToAnotherShape(NoisyReturns):
    """`split(key)` and `split(key, 3)` are two splits of `key` to other shapes:
    two draws from it, not one split computed twice."""

    def noise(self, key: Key[Array, ""]) -> Float[Array, ""]:
        coin = jr.bernoulli(jr.split(key)[1], 0.5)
        return jnp.where(coin, 1e-3, 2e-3) * jr.normal(jr.split(key, 3)[2])


class StoresTheHalfItDrew(RawEpsilonGreedy):
    def explore(self, stored: UInt32[Array, " 2"]) -> tuple[Any, Bool[Array, ""]]:
        _, draw = jr.split(stored)
        return draw, jr.bernoulli(draw, 0.1)


class StoresTheKeyAfterDrawing(RawEpsilonGreedy):
    """Starts each environment's exploration from a draw of the `key` argument,
    then stores that key: `on_step`'s first split repeats the draw."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> RawKeyed:
        start = jr.randint(key, (), 0, 3, jnp.int32)
        return RawKeyed(jr.key_data(key), start)


DEFECTS = [
    (SplitsThenDrawsTheKey(), "on_step", "draws from one key twice", "jr.normal(key"),
    (
        IndexesKeysDrawnUnderVmap(),
        "on_step",
        "draws from one key twice",
        "jr.uniform(keys[2]",
    ),
    (
        DrawsTheSameKeyEachPass(),
        "on_step",
        "on every pass of a loop",
        "jr.normal(key",
    ),
    (
        HoldsItsOwnKey(),
        "on_step",
        "made from constants or held by the callback",
        "self.seed_key",
    ),
    (
        StoresRawKeyUnsplit(),
        "on_step",
        "returns it unchanged in `step_state.key`",
        "jr.bernoulli(stored",
    ),
    (
        StartsFromAFixedKey(),
        "step_reset",
        "stores a key made from constants",
        "jr.PRNGKey(0)",
    ),
    (
        SplitsInlineDrawsOneHalfTwice(),
        "on_step",
        "draws from one key twice",
        "jr.normal(jr.split(key)[0])",
    ),
    (
        UnpacksThenSplitsInlineTwice(),
        "on_step",
        "draws from one key twice",
        "jr.normal(k_noise)",
    ),
    (
        SplitsToAnotherShape(),
        "on_step",
        "draws from one key twice",
        "jr.split(key, 3)[2]",
    ),
    (
        StoresTheHalfItDrew(),
        "on_step",
        "stores in `step_state.key` a key it drew from",
        "jr.bernoulli(draw",
    ),
    (
        StoresTheKeyAfterDrawing(),
        "step_reset",
        "stores in `step_state.key` a key it drew from",
        "jr.randint(key",
    ),
    (
        lc.CallbackList([DitheredReturnsSplit(), DitheredReturns()]),
        "on_step",
        "draws from one key twice",
        "jr.uniform(key)",
    ),
]


@pytest.mark.parametrize(
    ("callback", "method", "words", "line"),
    DEFECTS,
    ids=[type(d[0]).__name__ for d in DEFECTS],
)
def test_misused_keys_are_flagged_at_the_users_line(callback, method, words, line):
    report = check_callback(callback, **FAST)
    [failure] = report.failures
    assert failure.method == method, report.render()
    assert words in failure.message, report.render()
    assert failure.location is not None, report.render()
    assert line in linecache.getline(*failure.location), report.render()
    assert "jax.random" in (failure.advice or "")
