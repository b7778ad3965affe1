"""Callbacks against Lerax's own `lerax.callback` (Lerax 0.0.6), written as its
users write them: untyped `(self, ctx, *, key)` methods, `jax.Array` fields,
reading what the algorithms pass (`ctx.locals["value"]`,
`ctx.training_log["loss"]`).

`CASES` labels each by what the real `learn()` of the algorithms in `ALGORITHMS`
does with it (`lerax_testing._lerax._learn.trace_learn` traces it), with the
labels of `ours.py`. Needs Python 3.13 and Lerax: imported only there.
"""

from __future__ import annotations

import logging
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
from lerax.callback import (
    AbstractCallbackState,
    AbstractCallbackStepState,
    AbstractIterationCallback,
    AbstractStatelessCallback,
    AbstractStepCallback,
)

logger = logging.getLogger(__name__)  # configured by the training script, if at all

F32 = jnp.float32
I32 = jnp.int32

# ------------------------------------------------------------ printing, logging


class ValueDebugFString(AbstractStatelessCallback):
    """Prints the critic's value and the reward at each step with an f-string
    handed to `jax.debug.print`: every step prints `JitTracer(...)`."""

    def on_step(self, ctx, *, key):
        jax.debug.print(f"value={ctx.locals['value']} reward={ctx.reward}")
        return ctx.state

    def on_iteration(self, ctx, *, key):
        return ctx.state

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)


class ValueDebugPrint(ValueDebugFString):
    """`ValueDebugFString` leaving the formatting to `jax.debug.print`."""

    def on_step(self, ctx, *, key):
        jax.debug.print("value={v} reward={r}", v=ctx.locals["value"], r=ctx.reward)
        return ctx.state


class LossState(AbstractCallbackState):
    loss: jax.Array


class LossLoggerLazyArgs(AbstractIterationCallback[LossState]):
    """Logs the loss each iteration with `logging`'s own arguments: the record
    is made once, while tracing, and reads `JitTracer(...)` wherever the
    training script sets the logger to `INFO`."""

    def reset(self, ctx, *, key):
        return LossState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        loss = ctx.training_log["loss"]
        logger.info("iteration %s: loss %s", ctx.iteration_count, loss)
        return LossState(jnp.asarray(loss, F32))


class LossLoggerOnHost(LossLoggerLazyArgs):
    """Hands the values to a host function, which formats and logs them every
    iteration."""

    def on_iteration(self, ctx, *, key):
        loss = ctx.training_log["loss"]
        jax.debug.callback(
            lambda i, v: logger.info("iteration %d: loss %.4f", i, v),
            ctx.iteration_count,
            loss,
        )
        return LossState(jnp.asarray(loss, F32))


class KLPrintStr(AbstractIterationCallback[LossState]):
    """Prints PPO's approximate KL with `print(... + str(...))`: once, while
    tracing, `JitTracer(float32[])`."""

    def reset(self, ctx, *, key):
        return LossState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        kl = ctx.training_log["approx_kl"]
        print("approx_kl: " + str(kl))
        return LossState(jnp.asarray(kl, F32))


# ------------------------------------------------------------------ randomness


class ExplorationStats(AbstractCallbackStepState):
    noise_sq: jax.Array
    explored: jax.Array


class ExplorationProbe(AbstractStepCallback[ExplorationStats]):
    """Per step, the squared Gaussian action noise and an epsilon-greedy coin
    (epsilon 0.1) a DQN-style explorer would use, accumulated per environment:
    the noise and the coin each from a sub-key of the step's key."""

    def step_reset(self, ctx, *, key):
        return ExplorationStats(jnp.array(0.0, F32), jnp.array(0, I32))

    def draws(self, key):
        k_noise, k_coin = jr.split(key)
        return jr.normal(k_noise, (), F32), jr.bernoulli(k_coin, 0.1)

    def on_step(self, ctx, *, key):
        noise, coin = self.draws(key)
        return ExplorationStats(
            ctx.state.noise_sq + noise**2, ctx.state.explored + coin.astype(I32)
        )


class ExplorationProbeOneKey(ExplorationProbe):
    """The noise and the coin from the same key, hence the same uniform bits:
    the coin comes up exactly when the noise is below -1.28 (its 10% quantile),
    so exploration happens only on strongly negative noise."""

    def draws(self, key):
        return jr.normal(key, (), F32), jr.bernoulli(key, 0.1)


class EvalState(AbstractCallbackState):
    seed: jax.Array


class EvalSeedFoldIn(AbstractIterationCallback[EvalState]):
    """A fresh evaluation seed each iteration: the step's key folded with the
    iteration count."""

    def reset(self, ctx, *, key):
        return EvalState(jnp.array(0, I32))

    def eval_key(self, ctx, key):
        return jr.fold_in(key, ctx.iteration_count)

    def on_iteration(self, ctx, *, key):
        return EvalState(jr.randint(self.eval_key(ctx, key), (), 0, 10_000, I32))


class EvalSeedFixedKey(EvalSeedFoldIn):
    """Seeds the evaluation with `jr.key(0)` in the method: the same seed every
    iteration."""

    def eval_key(self, ctx, key):
        return jr.key(0)


class EpsilonState(AbstractCallbackStepState):
    rng: jax.Array
    explored: jax.Array


class StepRngSplit(AbstractStepCallback[EpsilonState]):
    """An epsilon-greedy counter drawing from a key kept per environment in the
    step state, split at every step."""

    def step_reset(self, ctx, *, key):
        return EpsilonState(key, jnp.array(0, I32))

    def on_step(self, ctx, *, key):
        rng, coin_key = jr.split(ctx.state.rng)
        coin = jr.bernoulli(coin_key, 0.1)
        return EpsilonState(rng, ctx.state.explored + coin.astype(I32))


class StepRngUnsplit(StepRngSplit):
    """Draws the coin from `ctx.state.rng` and keeps it as it was: every step of
    an environment makes the same choice."""

    def on_step(self, ctx, *, key):
        coin = jr.bernoulli(ctx.state.rng, 0.1)
        return EpsilonState(ctx.state.rng, ctx.state.explored + coin.astype(I32))


# ------------------------------------------------------------------ structure


class RewardSumState(AbstractCallbackStepState):
    total: jax.Array


class IntEpisodeReturn(AbstractStepCallback[RewardSumState]):
    """Sums rewards into an `int32` zero (`jnp.zeros((), jnp.int32)`, strongly
    typed): the first float reward turns the carry into `float32` and Lerax's
    step `scan` refuses it."""

    def step_reset(self, ctx, *, key):
        return RewardSumState(jnp.zeros((), jnp.int32))

    def on_step(self, ctx, *, key):
        return RewardSumState(ctx.state.total + ctx.reward)


# ------------------------------------------------------------------- the table

CASES: list[tuple[str, Any, str, str | None, str]] = [
    (
        "ValueDebugFString",
        ValueDebugFString,
        "trace-time only",
        "side_effects",
        "every step prints the tracer's text, never a value",
    ),
    (
        "LossLoggerLazyArgs",
        LossLoggerLazyArgs,
        "trace-time only",
        "side_effects",
        "one record, while tracing, reading `JitTracer(...)`",
    ),
    (
        "KLPrintStr",
        KLPrintStr,
        "trace-time only",
        "side_effects",
        "prints `JitTracer(float32[])` once, while tracing",
    ),
    (
        "ExplorationProbeOneKey",
        ExplorationProbeOneKey,
        "wrong numbers",
        "prng",
        "the coin and the noise come from one key",
    ),
    (
        "EvalSeedFixedKey",
        EvalSeedFixedKey,
        "wrong numbers",
        "prng",
        "the same evaluation seed every iteration",
    ),
    (
        "StepRngUnsplit",
        StepRngUnsplit,
        "wrong numbers",
        "prng",
        "every step of an environment makes the same epsilon choice",
    ),
    (
        "IntEpisodeReturn",
        IntEpisodeReturn,
        "crash",
        "lerax",
        "Lerax's step `scan` refuses a carry turned from int32 into float32",
    ),
    ("ValueDebugPrint", ValueDebugPrint, "correct", None, "values printed"),
    ("LossLoggerOnHost", LossLoggerOnHost, "correct", None, "logged on the host"),
    ("ExplorationProbe", ExplorationProbe, "correct", None, "one sub-key per draw"),
    ("EvalSeedFoldIn", EvalSeedFoldIn, "correct", None, "`jr.fold_in(key, i)`"),
    ("StepRngSplit", StepRngSplit, "correct", None, "stored key split each step"),
]

ALGORITHMS: dict[str, tuple[str, ...]] = {
    "ExplorationProbeOneKey": ("ppo", "sac"),
    "ExplorationProbe": ("ppo", "sac"),
    "StepRngUnsplit": ("ppo", "dqn"),
    "StepRngSplit": ("ppo", "dqn"),
    "IntEpisodeReturn": ("ppo", "sac"),
}
"""The algorithms each case is meant for, where not PPO alone (whose rollout
passes `value` in `locals` and logs `loss` and `approx_kl`)."""
