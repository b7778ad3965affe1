"""Defective callbacks, each with the correct twin the harness must not flag.

Every defect is a mistake seen in real training code, and its twin is the same
callback with the defect fixed. `DEFECTS` holds a `Defect` row per defect and
check; `tests/test_checks.py` asserts that the check catches the defective
callback and passes its twin, and that every registered check has rows, each
with a twin of its own.
"""

from __future__ import annotations

import collections
import logging
import os
import random
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax import lax
from jaxtyping import Array, Bool, Float, Int, Key

import lerax_callback as lc

# ---------------------------------------------------------------- shared states


class Returns(lc.AbstractCallbackStepState):
    """A running episode return and the number of steps seen."""

    ret: Float[Array, ""]
    steps: Int[Array, ""]


class Summary(lc.AbstractCallbackState):
    """The mean return over environments."""

    mean: Float[Array, ""]


def zero_returns() -> Returns:
    return Returns(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))


class ReturnTracker(lc.AbstractCallback[Summary, Returns]):
    """A correct callback: tracks per-environment returns, averages them."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.zeros((), jnp.float32))

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Returns:
        return zero_returns()

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        total = ctx.state.ret + ctx.reward.astype(jnp.float32)
        return Returns(jnp.where(ctx.done, 0.0, total), ctx.state.steps + 1)

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.mean(ctx.step_state.ret).astype(jnp.float32))

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        return ctx.state

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        return ctx.state


# ------------------------------------------------------------------------- api


class NotAModule:
    """Has the method names, but is no equinox Module nor an AbstractCallback."""

    def reset(self, ctx: Any, *, key: Any) -> Any:
        return lc.EmptyCallbackState()

    step_reset = on_step = on_iteration = reset
    on_training_start = on_training_end = continue_training = reset


class IsAModule(lc.AbstractCallback[lc.EmptyCallbackState, lc.EmptyCallbackStepState]):
    """`NotAModule` as a callback: an `AbstractCallback` (so an equinox Module)
    whose step methods return step states."""

    def reset(self, ctx: Any, *, key: Any) -> lc.EmptyCallbackState:
        return lc.EmptyCallbackState()

    def step_reset(self, ctx: Any, *, key: Any) -> lc.EmptyCallbackStepState:
        return lc.EmptyCallbackStepState()

    on_step = step_reset
    on_iteration = on_training_start = on_training_end = reset


class PositionalKey(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, key: Key[Array, ""]) -> Returns:  # type: ignore[override]
        return super().on_step(ctx, key=key)


class KeywordKey(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        return super().on_step(ctx, key=key)


class Undeclared(lc.AbstractCallback):  # no state types declared
    reset = ReturnTracker.reset
    step_reset = ReturnTracker.step_reset
    on_step = ReturnTracker.on_step
    on_iteration = ReturnTracker.on_iteration
    on_training_start = ReturnTracker.on_training_start
    on_training_end = ReturnTracker.on_training_end


class Declared(lc.AbstractCallback[Summary, Returns]):
    reset = ReturnTracker.reset
    step_reset = ReturnTracker.step_reset
    on_step = ReturnTracker.on_step
    on_iteration = ReturnTracker.on_iteration
    on_training_start = ReturnTracker.on_training_start
    on_training_end = ReturnTracker.on_training_end


# ------------------------------------------------------------------------ runs


class MissingLogKey(ReturnTracker):
    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(ctx.training_log["episode_reward"].astype(jnp.float32))


class ReadsLogKey(ReturnTracker):
    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(ctx.training_log["loss"].astype(jnp.float32))


# ----------------------------------------------------------------------- types


class ReturnsStepState(ReturnTracker):
    def on_training_end(self, ctx: lc.TrainingContext, *, key: Key[Array, ""]) -> Any:
        return zero_returns()


class ReturnsFreshState(ReturnTracker):
    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        return Summary(jnp.zeros((), jnp.float32))


class StopsWithPythonBool(ReturnTracker):
    def continue_training(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Any:
        return ctx.step_state.steps < 100  # per-environment flags, not a scalar


class StopsWithPythonTrue(ReturnTracker):
    def continue_training(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Any:
        return True  # a Python bool, not a scalar boolean array


class StopsWithScalar(ReturnTracker):
    def continue_training(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        return jnp.all(ctx.step_state.steps < 100)


class StopsWithArrayTrue(ReturnTracker):
    def continue_training(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        return jnp.array(True)


# ------------------------------------------------------------------------- jit


class PythonIf(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        if ctx.done:  # a Python `if` on a traced value
            return Returns(jnp.zeros((), jnp.float32), ctx.state.steps + 1)
        total = ctx.state.ret + ctx.reward.astype(jnp.float32)
        return Returns(total, ctx.state.steps + 1)


class SelectsWithWhere(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        total = ctx.state.ret + ctx.reward.astype(jnp.float32)
        ret = jnp.where(ctx.done, jnp.zeros((), jnp.float32), total)
        return Returns(ret, ctx.state.steps + 1)


class FloatConversion(ReturnTracker):
    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        mean = float(jnp.mean(ctx.step_state.ret))  # concrete value needed
        return Summary(jnp.asarray(mean, jnp.float32))


class MeanAsArray(ReturnTracker):
    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        mean = jnp.mean(ctx.step_state.ret)  # stays a (traced) array
        return Summary(jnp.asarray(mean, jnp.float32))


class NumpyConversion(ReturnTracker):
    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(
            jnp.asarray(np.mean(np.asarray(ctx.step_state.ret)), jnp.float32)
        )


class JaxNumpyMean(ReturnTracker):
    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(
            jnp.asarray(jnp.mean(jnp.asarray(ctx.step_state.ret)), jnp.float32)
        )


# ------------------------------------------------------------------------ vmap


def _host_scale(x: np.ndarray) -> np.ndarray:
    return np.asarray(x * 2.0, dtype=np.float32)


class UnbatchableHostCall(ReturnTracker):
    """`jax.pure_callback` without a `vmap_method` cannot be vmapped."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        shape = jax.ShapeDtypeStruct((), jnp.float32)
        doubled = jax.pure_callback(_host_scale, shape, ctx.reward.astype(jnp.float32))
        return Returns(ctx.state.ret + doubled, ctx.state.steps + 1)


class BatchableHostCall(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        shape = jax.ShapeDtypeStruct((), jnp.float32)
        doubled = jax.pure_callback(
            _host_scale, shape, ctx.reward.astype(jnp.float32), vmap_method="sequential"
        )
        return Returns(ctx.state.ret + doubled, ctx.state.steps + 1)


def _host_centre(x: np.ndarray) -> np.ndarray:
    # Subtracts the mean of whatever it is given: over a batch, that mixes
    # environments; for one environment alone it gives zero.
    return np.asarray(x - x.mean(), dtype=np.float32)


class MixesEnvironments(ReturnTracker):
    """A batch-aware host call that is not per-environment: vmapped results differ
    from each environment's own."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        shape = jax.ShapeDtypeStruct((), jnp.float32)
        centred = jax.pure_callback(
            _host_centre,
            shape,
            ctx.reward.astype(jnp.float32),
            vmap_method="broadcast_all",
        )
        return Returns(ctx.state.ret + centred, ctx.state.steps + 1)


class CentresEachEnvironment(ReturnTracker):
    """The same host call, made per environment (`vmap_method="sequential"`)."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        shape = jax.ShapeDtypeStruct((), jnp.float32)
        centred = jax.pure_callback(
            _host_centre,
            shape,
            ctx.reward.astype(jnp.float32),
            vmap_method="sequential",
        )
        return Returns(ctx.state.ret + centred, ctx.state.steps + 1)


class AssumesBatched(ReturnTracker):
    """Reads environment 0 of the step states: breaks with one environment."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(ctx.step_state.ret[0].astype(jnp.float32))


class AveragesEnvironments(ReturnTracker):
    """Reduces over the step states, batched or not."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.mean(ctx.step_state.ret).astype(jnp.float32))


# ------------------------------------------------------------------- structure


class DtypeDrift(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        # `steps / 1` turns the int32 counter into a float: the scan carry changes.
        return Returns(
            ctx.state.ret + ctx.reward.astype(jnp.float32), ctx.state.steps + 1.0
        )  # type: ignore[arg-type]


class CountsInInt(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        return Returns(
            ctx.state.ret + ctx.reward.astype(jnp.float32), ctx.state.steps + 1
        )


class History(lc.AbstractCallbackStepState):
    rewards: Float[Array, " n"]


class GrowingHistory(lc.AbstractStepCallback[History]):
    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> History:
        return History(jnp.zeros((0,), jnp.float32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> History:
        reward = ctx.reward.astype(jnp.float32)[None]
        return History(jnp.concatenate([ctx.state.rewards, reward]))


class RollingHistory(GrowingHistory):
    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> History:
        return History(jnp.zeros((4,), jnp.float32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> History:
        rolled = jnp.roll(ctx.state.rewards, 1)
        return History(rolled.at[0].set(ctx.reward.astype(jnp.float32)))


class WeakStart(ReturnTracker):
    """Starts from weakly typed Python-scalar arrays: `lax.scan` accepts that."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Returns:
        return Returns(jnp.array(0.0), jnp.array(0))  # weak float32, weak int32


class Generation(lc.AbstractCallbackStepState):
    total: Float[Array, ""]
    generation: int = eqx.field(static=True)


class StaticCounter(lc.AbstractStepCallback[Generation]):
    """Counts steps in a static field: the state's static part changes each step."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Generation:
        return Generation(jnp.zeros((), jnp.float32), 0)

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Generation:
        total = ctx.state.total + ctx.reward.astype(jnp.float32)
        return Generation(total, ctx.state.generation + 1)


class StaticConfig(lc.AbstractStepCallback[Generation]):
    """A static configuration field that never changes is fine."""

    scale: float = eqx.field(static=True, default=0.5)

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Generation:
        return Generation(jnp.zeros((), jnp.float32), 7)

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Generation:
        total = ctx.state.total + self.scale * ctx.reward.astype(jnp.float32)
        return Generation(total, ctx.state.generation)


class Nested(lc.AbstractCallbackStepState):
    """A step state holding another module and a dict: a deeper pytree."""

    returns: Returns
    extras: dict[str, Array]


class NestedState(lc.AbstractStepCallback[Nested]):
    """Nested module states keep their structure step to step."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Nested:
        return Nested(zero_returns(), {"max": jnp.full((), -jnp.inf, jnp.float32)})

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Nested:
        reward = ctx.reward.astype(jnp.float32)
        returns = Returns(ctx.state.returns.ret + reward, ctx.state.returns.steps + 1)
        return Nested(returns, {"max": jnp.maximum(ctx.state.extras["max"], reward)})


class NestedDrift(NestedState):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Nested:
        state = super().on_step(ctx, key=key)
        return Nested(state.returns, {"max": state.extras["max"].astype(jnp.float16)})


# ---------------------------------------------------------------------- purity

LEAKED: list[Any] = []


class LeaksTracer(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        LEAKED.append(ctx.reward)  # a tracer escapes into a global list
        return super().on_step(ctx, key=key)


RECEIVED: collections.deque[Any] = collections.deque(maxlen=64)


class SendsRewardToHost(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        jax.debug.callback(RECEIVED.append, ctx.reward)  # the value, on the host
        return super().on_step(ctx, key=key)


class NumpyRandom(ReturnTracker):
    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.asarray(np.random.default_rng().normal(), jnp.float32))


class KeyRandom(ReturnTracker):
    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jr.normal(key, (), jnp.float32))


class SamplesWithPythonRandom(ReturnTracker):
    """Logs a random tenth of the iterations, chosen with Python's `random`: a
    choice made once, while tracing, under `jax.jit`."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        summary = super().on_iteration(ctx, key=key)
        if random.random() < 0.1:
            jax.debug.print("mean return {m}", m=summary.mean)
        return summary


class SamplesWithTheKey(ReturnTracker):
    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        summary = super().on_iteration(ctx, key=key)
        lax.cond(
            jr.uniform(key) < 0.1,
            lambda m: jax.debug.print("mean return {m}", m=m),
            lambda m: None,
            summary.mean,
        )
        return summary


class JittersWithNumpy(ReturnTracker):
    """Adds exploration noise to each step's return from NumPy's global generator."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        noise = jnp.float32(np.random.normal(scale=1e-3))
        returns = super().on_step(ctx, key=key)
        return Returns((returns.ret + noise).astype(jnp.float32), returns.steps)


class JittersWithTheKey(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        noise = 1e-3 * jr.normal(key, (), jnp.float32)
        returns = super().on_step(ctx, key=key)
        return Returns((returns.ret + noise).astype(jnp.float32), returns.steps)


class SelfMutating(ReturnTracker):
    calls: int = 0

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        object.__setattr__(self, "calls", self.calls + 1)
        return super().on_iteration(ctx, key=key)


class HostLog:
    """A host-side sink, changed by design through `jax.debug.callback`."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def __call__(self, value: Any) -> None:
        self.values.append(float(value))


class LogsThroughHost(ReturnTracker):
    sink: HostLog = eqx.field(static=True, default_factory=HostLog)

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        summary = super().on_iteration(ctx, key=key)
        jax.debug.callback(self.sink, summary.mean)
        return summary


class WritesTrainingLog(ReturnTracker):
    """Adds a metric to the algorithm's own training log, as Lerax's
    `TensorBoardCallback` once did: every later reader of the log sees it."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        log = ctx.training_log
        log["learning_rate"] = jnp.asarray(3e-4, jnp.float32)
        return super().on_iteration(ctx, key=key)


class CopiesTrainingLog(ReturnTracker):
    """Copies the log before adding to it: the algorithm's log is untouched."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        log = dict(ctx.training_log)
        log["learning_rate"] = jnp.asarray(3e-4, jnp.float32)
        return Summary((log["loss"] * log["learning_rate"]).astype(jnp.float32))


class AppendsToLocals(ReturnTracker):
    """Keeps a history of rewards in a list inside `ctx.locals`."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        ctx.locals.setdefault("rewards", []).append(ctx.reward)
        return super().on_step(ctx, key=key)


class CopiesLocals(ReturnTracker):
    """Builds a new list from a copy of `ctx.locals` instead of appending in place."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        loc = dict(ctx.locals)
        loc["rewards"] = [*loc.get("rewards", []), ctx.reward.astype(jnp.float32)]
        total = ctx.state.ret + loc["rewards"][-1]
        return Returns(jnp.where(ctx.done, 0.0, total), ctx.state.steps + 1)


# --------------------------------------------------------------------- finite


class Counts(lc.AbstractCallbackStepState):
    total: Float[Array, ""]
    episodes: Int[Array, ""]


class Average(lc.AbstractCallbackState):
    mean: Float[Array, ""]
    best: Float[Array, ""]


class UnguardedMean(lc.AbstractCallback[Average, Counts]):
    """Divides by the number of finished episodes, which may be zero."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Average:
        return Average(jnp.zeros((), jnp.float32), jnp.full((), -jnp.inf, jnp.float32))

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Counts:
        return Counts(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Counts:
        total = ctx.state.total + ctx.reward.astype(jnp.float32)
        return Counts(total, ctx.state.episodes + ctx.done.astype(jnp.int32))

    def _mean(self, counts: Counts) -> Float[Array, ""]:
        return jnp.sum(counts.total) / jnp.sum(counts.episodes)

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Average:
        mean = self._mean(ctx.step_state).astype(jnp.float32)
        return Average(mean, jnp.maximum(ctx.state.best, mean))

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Average:
        return ctx.state

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Average:
        return ctx.state


class GuardedMean(UnguardedMean):
    """The same with a guard, and a `-inf` "best so far" start (infinite, no NaN)."""

    def _mean(self, counts: Counts) -> Float[Array, ""]:
        episodes = jnp.sum(counts.episodes)
        return jnp.where(
            episodes > 0, jnp.sum(counts.total) / jnp.maximum(episodes, 1), 0.0
        )


class MasksNanAway(GuardedMean):
    """Masks a mean that is NaN without episodes instead of guarding the
    division: NaN eagerly, while XLA compiles `nan * 0` away under `jit`."""

    def _mean(self, counts: Counts) -> Float[Array, ""]:
        finished = (counts.episodes > 0).astype(jnp.float32)
        per_env = counts.total / counts.episodes  # 0 / 0 where none finished
        return jnp.sum(per_env * finished) / jnp.maximum(jnp.sum(finished), 1.0)


class GuardsEachEnvironment(GuardedMean):
    """Masks as `MasksNanAway` does, each environment's division guarded."""

    def _mean(self, counts: Counts) -> Float[Array, ""]:
        finished = (counts.episodes > 0).astype(jnp.float32)
        per_env = counts.total / jnp.maximum(counts.episodes, 1)
        return jnp.sum(per_env * finished) / jnp.maximum(jnp.sum(finished), 1.0)


class SpreadOverEnvironments(GuardedMean):
    """Reports how the environments' returns spread, with an unbiased standard
    deviation: NaN with one environment (no spread to estimate from one)."""

    def _mean(self, counts: Counts) -> Float[Array, ""]:
        return jnp.std(counts.total, ddof=1)


class SpreadOverSeveralEnvironments(GuardedMean):
    def _mean(self, counts: Counts) -> Float[Array, ""]:
        if counts.total.size < 2:  # a static size: one environment, no spread
            return jnp.zeros((), jnp.float32)
        return jnp.std(counts.total, ddof=1)


# ------------------------------------------------------------------ typecheck


class Tally(lc.AbstractCallbackStepState):
    count: Int[Array, ""]


class WrongFieldDtype(lc.AbstractStepCallback[Tally]):
    """Stores a float where its state annotates an int."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Tally:
        return Tally(jnp.zeros((), jnp.int32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Tally:
        return Tally(ctx.state.count + ctx.reward)  # float32, annotated Int


class RightFieldDtype(WrongFieldDtype):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Tally:
        return Tally(ctx.state.count + ctx.done.astype(jnp.int32))


# ------------------------------------------------------------------------ x64


class UncastReturns(ReturnTracker):
    """Adds float64 rewards to a float32 return without casting back."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        total = ctx.state.ret + ctx.reward
        return Returns(jnp.where(ctx.done, 0.0, total), ctx.state.steps + 1)


class CastsReturns(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        total = (ctx.state.ret + ctx.reward).astype(jnp.float32)
        return Returns(jnp.where(ctx.done, 0.0, total), ctx.state.steps + 1)


class Progress(lc.AbstractCallbackState):
    """A mean return and an iteration counter."""

    mean: Float[Array, ""]
    iterations: Int[Array, ""]


class WeakScalarStarts(lc.AbstractCallback[Progress, Returns]):
    """Starts every leaf from `jnp.array(0.0)` or `jnp.array(0)`: weakly typed, so
    float64/int64 under x64, and updates them with float32/int32 values. `lax.scan`
    (and Lerax) promote such a start to the body's dtype, so this is correct."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Progress:
        return Progress(jnp.array(0.0), jnp.array(0))

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Returns:
        return Returns(jnp.array(0.0), jnp.array(0))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        total = (ctx.state.ret + ctx.reward).astype(jnp.float32)
        steps = (ctx.state.steps + 1).astype(jnp.int32)
        return Returns(jnp.where(ctx.done, jnp.float32(0.0), total), steps)

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Progress:
        mean = jnp.mean(ctx.step_state.ret).astype(jnp.float32)
        return Progress(mean, (ctx.state.iterations + 1).astype(jnp.int32))

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Progress:
        return ctx.state

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Progress:
        return ctx.state


class CountsInWeakFloat(WeakScalarStarts):
    """Starts a counter as `jnp.array(0.0)` and counts in int32: `lax.scan` never
    promotes a float to an integer, so the carry's dtype changes."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Progress:
        return Progress(jnp.array(0.0), jnp.array(0.0))  # type: ignore[arg-type]


class StrongStartDrift(WeakScalarStarts):
    """Starts from an explicit float32 and returns float64 rewards under x64: a
    strongly typed leaf that changes dtype, which `lax.scan` rejects."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Progress:
        return Progress(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Progress:
        mean = jnp.mean(ctx.step_state.ret) + ctx.training_log["loss"]
        return Progress(mean, (ctx.state.iterations + 1).astype(jnp.int32))


class CastsMean(StrongStartDrift):
    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Progress:
        mean = jnp.mean(ctx.step_state.ret) + ctx.training_log["loss"]
        iterations = (ctx.state.iterations + 1).astype(jnp.int32)
        return Progress(mean.astype(jnp.float32), iterations)


class StoresIterationCount(StrongStartDrift):
    """Keeps the algorithm's iteration count in an int32 leaf: Lerax counts in
    the default integer, int64 under x64, and the carry's dtype then changes."""

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Progress:
        mean = jnp.mean(ctx.step_state.ret).astype(jnp.float32)
        return Progress(mean, ctx.iteration_count)


class CastsIterationCount(StrongStartDrift):
    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Progress:
        mean = jnp.mean(ctx.step_state.ret).astype(jnp.float32)
        return Progress(mean, ctx.iteration_count.astype(jnp.int32))


# --------------------------------------------------------------- side_effects


class PrintsAtTraceTime(ReturnTracker):
    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        print("iteration", ctx.iteration_count)  # runs once, while tracing
        return super().on_iteration(ctx, key=key)


class PrintsThroughDebug(ReturnTracker):
    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        jax.debug.print("iteration {i}", i=ctx.iteration_count)
        return super().on_iteration(ctx, key=key)


class WritesFileAtTraceTime(ReturnTracker):
    path: str = eqx.field(static=True, default="trace-log.txt")

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        with open(self.path, "a") as file:  # once, while tracing
            file.write("iteration done\n")
        return super().on_iteration(ctx, key=key)


class WritesFileThroughHost(WritesFileAtTraceTime):
    """Writes the same line from a host callback, every iteration."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        summary = ReturnTracker.on_iteration(self, ctx, key=key)
        jax.debug.callback(self._write)
        return summary

    def _write(self) -> None:
        with open(self.path, "a") as file:
            file.write("iteration done\n")


class FormatsTheMeanForDebugPrint(ReturnTracker):
    """Hands `jax.debug.print` an f-string of a traced value: it prints
    `JitTracer(...)` every iteration, never the mean."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        summary = super().on_iteration(ctx, key=key)
        jax.debug.print(f"mean return {summary.mean}")
        return summary


class LeavesTheMeanToDebugPrint(ReturnTracker):
    """Leaves the formatting to `jax.debug.print`, which fills the braces with
    the value each time it runs."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        summary = super().on_iteration(ctx, key=key)
        jax.debug.print("mean return {m}", m=summary.mean)
        return summary


TRAINING_LOG = logging.getLogger("zoo.training")
TRAINING_LOG.setLevel(logging.INFO)


class LogsAtTraceTime(ReturnTracker):
    """Logs with `logging`, whose handler writes to a terminal it holds (plain
    text: a traced value in it is `LogsTheRewardFormatted`'s defect)."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        TRAINING_LOG.info("iteration over")  # once, while tracing
        return super().on_iteration(ctx, key=key)


class LogsEveryIteration(ReturnTracker):
    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        jax.debug.callback(
            lambda i: TRAINING_LOG.info("iteration %s", i), ctx.iteration_count
        )
        return super().on_iteration(ctx, key=key)


METRICS_FILE = open(os.devnull, "w")  # noqa: SIM115 - held open, as a logger does


class WritesHeldFileAtTraceTime(ReturnTracker):
    """Writes rows to a file it opened before training."""

    metrics: Any = eqx.field(static=True, default=METRICS_FILE)

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        self.metrics.write(f"{ctx.iteration_count}\n")  # once, while tracing
        return super().on_iteration(ctx, key=key)


class WritesHeldFileThroughHost(ReturnTracker):
    metrics: Any = eqx.field(static=True, default=METRICS_FILE)

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        jax.debug.callback(lambda i: self.metrics.write(f"{i}\n"), ctx.iteration_count)
        return super().on_iteration(ctx, key=key)


class LogsTheRewardFormatted(ReturnTracker):
    """Logs each reward with an f-string: formatted once, while tracing, the
    record shows the tracer, and no step after logs anything."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        TRAINING_LOG.info(f"reward {ctx.reward}")  # once, while tracing
        return super().on_step(ctx, key=key)


class LogsTheRewardFromHost(ReturnTracker):
    """Formats and logs each reward in a host function, on every step."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        jax.debug.callback(lambda r: TRAINING_LOG.info(f"reward {r}"), ctx.reward)
        return super().on_step(ctx, key=key)


class PrintsStrOfTheMean(ReturnTracker):
    """Prints `str()` of the traced mean: `JitTracer(float32[])`, once."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        summary = super().on_iteration(ctx, key=key)
        print("mean return " + str(summary.mean))  # once, while tracing
        return summary


class PrintsTheMeanFromHost(ReturnTracker):
    """Formats and prints the mean in a host function, every iteration."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        summary = super().on_iteration(ctx, key=key)
        jax.debug.callback(lambda m: print("mean return " + str(m)), summary.mean)
        return summary


class DisablesJit(ReturnTracker):
    """Switches `jax.jit` off for the whole program to debug a step."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        jax.config.update("jax_disable_jit", True)
        return super().on_step(ctx, key=key)


class DebugsNansInScope(ReturnTracker):
    """Checks for NaN in one computation only, through the flag's context manager:
    the flag is back to its value when the method returns."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        with jax.debug_nans(True):
            return super().on_step(ctx, key=key)


class TaggedReturns(lc.AbstractCallbackStepState):
    """A return, and a plain Python number carried along unchanged."""

    ret: Float[Array, ""]
    scale: Any


class PolicySnapshot(lc.AbstractCallbackState):
    best: Float[Array, ""]
    params: Any


class SnapshotsPolicyFromStart(
    lc.AbstractCallback[PolicySnapshot, lc.EmptyCallbackStepState]
):
    """A correct callback whose `reset`, which sees no policy, leaves a placeholder
    that `on_training_start` fills with the policy's arrays: the iteration loop
    starts from `on_training_start`'s state, so the two need not be alike."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> PolicySnapshot:
        return PolicySnapshot(jnp.full((), -jnp.inf, jnp.float32), None)

    def step_reset(
        self, ctx: lc.ResetContext, *, key: Key[Array, ""]
    ) -> lc.EmptyCallbackStepState:
        return lc.EmptyCallbackStepState()

    def on_step(
        self, ctx: lc.StepContext, *, key: Key[Array, ""]
    ) -> lc.EmptyCallbackStepState:
        return ctx.state

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> PolicySnapshot:
        params = eqx.filter(ctx.policy, eqx.is_inexact_array)
        return PolicySnapshot(ctx.state.best, params)

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> PolicySnapshot:
        score = -ctx.training_log["loss"].astype(jnp.float32)
        better = score > ctx.state.best
        current = eqx.filter(ctx.policy, eqx.is_inexact_array)
        params = jax.tree.map(
            lambda old, new: jnp.where(better, new, old).astype(old.dtype),
            ctx.state.params,
            current,
        )
        return PolicySnapshot(jnp.maximum(score, ctx.state.best), params)

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> PolicySnapshot:
        return ctx.state


class PlainNumberField(lc.AbstractCallback[Summary, TaggedReturns]):
    """A correct callback whose step state holds a plain Python `float` that no
    method changes: nothing to flag (a leaf that is not an array stays as it is
    under `jax.jit` and through `lax.scan`)."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.zeros((), jnp.float32))

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> TaggedReturns:
        return TaggedReturns(jnp.zeros((), jnp.float32), 1.0)

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> TaggedReturns:
        total = ctx.state.ret + ctx.reward.astype(jnp.float32) * ctx.state.scale
        return TaggedReturns(jnp.where(ctx.done, 0.0, total), ctx.state.scale)

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.mean(ctx.step_state.ret).astype(jnp.float32))

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        return ctx.state

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        return ctx.state

    def continue_training(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        return jnp.array(True)


# ------------------------------------------------------------------------ prng


class DitheredReturns(ReturnTracker):
    """Adds a little exploration-style noise to each reward before summing, and
    drops a random tenth of the steps (a dithered return, as some logging
    callbacks compute to break ties)."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        noise = 1e-3 * jr.normal(key, dtype=jnp.float32)
        keep = jr.uniform(key) > 0.1  # the same randomness as the noise
        reward = jnp.where(keep, ctx.reward.astype(jnp.float32) + noise, 0.0)
        total = ctx.state.ret + reward
        return Returns(jnp.where(ctx.done, 0.0, total), ctx.state.steps + 1)


class DitheredReturnsSplit(ReturnTracker):
    """`DitheredReturns` with one sub-key per draw."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        noise_key, keep_key = jr.split(key)
        noise = 1e-3 * jr.normal(noise_key, dtype=jnp.float32)
        keep = jr.uniform(keep_key) > 0.1
        reward = jnp.where(keep, ctx.reward.astype(jnp.float32) + noise, 0.0)
        total = ctx.state.ret + reward
        return Returns(jnp.where(ctx.done, 0.0, total), ctx.state.steps + 1)


class SampledEpisodes(lc.AbstractCallbackStepState):
    """A running return, and the return of the last finished episode picked for
    logging (zero until one is picked)."""

    ret: Float[Array, ""]
    logged: Float[Array, ""]


class EpisodeSampler(lc.AbstractCallback[Summary, SampledEpisodes]):
    """Logs the returns of a random fifth of the finished episodes."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.zeros((), jnp.float32))

    def step_reset(
        self, ctx: lc.ResetContext, *, key: Key[Array, ""]
    ) -> SampledEpisodes:
        return SampledEpisodes(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.float32))

    def pick(self, key: Key[Array, ""]) -> Bool[Array, ""]:
        return jr.bernoulli(key, 0.2)

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> SampledEpisodes:
        total = ctx.state.ret + ctx.reward.astype(jnp.float32)
        picked = jnp.logical_and(ctx.done, self.pick(key))
        logged = jnp.where(picked, total, ctx.state.logged)
        return SampledEpisodes(jnp.where(ctx.done, 0.0, total), logged)

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.mean(ctx.step_state.logged).astype(jnp.float32))

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        return ctx.state

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        return ctx.state


class PicksWithAFixedSeed(EpisodeSampler):
    """Seeds its pick in the method: every step of every environment makes the
    same pick, so it logs all episodes or none."""

    def pick(self, key: Key[Array, ""]) -> Bool[Array, ""]:
        return jr.bernoulli(jr.PRNGKey(0), 0.2)


class PicksWithTheKey(EpisodeSampler):
    """`PicksWithAFixedSeed` picking with the method's `key`."""

    def pick(self, key: Key[Array, ""]) -> Bool[Array, ""]:
        return jr.bernoulli(key, 0.2)


class Explores(lc.AbstractCallbackStepState):
    """A key carried from step to step, and how many steps took a random action
    under an epsilon-greedy schedule."""

    key: Key[Array, ""]
    random_steps: Int[Array, ""]


class EpsilonCounter(lc.AbstractCallback[Summary, Explores]):
    """Counts the steps an epsilon-greedy schedule (epsilon 0.1) would explore,
    drawing from a key kept in the step state."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.zeros((), jnp.float32))

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Explores:
        return Explores(key, jnp.zeros((), jnp.int32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Explores:
        explore = jr.bernoulli(ctx.state.key, 0.1)
        count = ctx.state.random_steps + explore.astype(jnp.int32)
        return Explores(ctx.state.key, count)  # the same key next step

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        return Summary(jnp.mean(ctx.step_state.random_steps).astype(jnp.float32))

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        return ctx.state

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        return ctx.state


class EpsilonCounterSplit(EpsilonCounter):
    """`EpsilonCounter` splitting its stored key: one half drawn, one stored."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Explores:
        carried, draw = jr.split(ctx.state.key)
        explore = jr.bernoulli(draw, 0.1)
        count = ctx.state.random_steps + explore.astype(jnp.int32)
        return Explores(carried, count)


# ----------------------------------------------------------------------- lerax


class ObservationAtIteration(ReturnTracker):
    """Reads `locals["observation"]` in `on_iteration`: Lerax's algorithms pass
    the observation in `on_step`'s locals only, so every one raises `KeyError`."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        summary = super().on_iteration(ctx, key=key)
        seen = jnp.mean(ctx.locals["observation"]).astype(jnp.float32)
        return Summary(summary.mean + 0.0 * seen)


class ObservationAtStep(ReturnTracker):
    """Reads the observation where the algorithms pass it: in `on_step`."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        returns = super().on_step(ctx, key=key)
        seen = jnp.mean(ctx.locals["observation"]).astype(jnp.float32)
        return Returns(returns.ret + 0.0 * seen, returns.steps)


# -------------------------------------------------------------------- the table


class Defect(NamedTuple):
    """A row of the table: `check` catches `defective`, naming `method` in a
    message that contains `words`, and passes `twin`, the same callback with the
    defect fixed."""

    check: str
    defective: Any
    twin: Any
    method: str | None
    words: str
    options: Mapping[str, Any] = MappingProxyType({})
    """More arguments of `check_callback` the row needs (the Lerax algorithms)."""


DEFECTS: list[Defect] = [
    Defect("api", NotAModule(), IsAModule(), None, "not an `equinox.Module`"),
    Defect("api", PositionalKey(), KeywordKey(), "on_step", "keyword-only"),
    Defect("api", Undeclared(), Declared(), None, "does not declare"),
    Defect("runs", MissingLogKey(), ReadsLogKey(), "on_iteration", "KeyError"),
    Defect(
        "types", ReturnsStepState(), ReturnsFreshState(), "on_training_end", "StateType"
    ),
    Defect(
        "types", StopsWithPythonBool(), StopsWithScalar(), "continue_training", "scalar"
    ),
    Defect(
        "types",
        StopsWithPythonTrue(),
        StopsWithArrayTrue(),
        "continue_training",
        "got bool",
    ),
    Defect("jit", PythonIf(), SelectsWithWhere(), "on_step", "Python `if`"),
    Defect("jit", FloatConversion(), MeanAsArray(), "on_iteration", "`float()`"),
    Defect(
        "jit", NumpyConversion(), JaxNumpyMean(), "on_iteration", "NumPy conversion"
    ),
    Defect("vmap", UnbatchableHostCall(), BatchableHostCall(), "on_step", "batched"),
    Defect(
        "vmap",
        AssumesBatched(),
        AveragesEnvironments(),
        "on_iteration",
        "one (unbatched)",
    ),
    Defect(
        "vmap",
        MixesEnvironments(),
        CentresEachEnvironment(),
        "on_step",
        "differs from calling it on each environment alone",
    ),
    Defect(
        "structure",
        DtypeDrift(),
        CountsInInt(),
        "on_step",
        "step_state.steps: int32[] -> float32[]",
    ),
    Defect(
        "structure",
        GrowingHistory(),
        RollingHistory(),
        "on_step",
        "step_state.rewards: float32[0] -> float32[1]",
    ),
    Defect(
        "structure",
        StaticCounter(),
        StaticConfig(),
        "on_step",
        "step_state.generation: 0 -> 1",
    ),
    Defect(
        "structure",
        NestedDrift(),
        NestedState(),
        "on_step",
        "step_state.extras['max']: float32[] -> float16[]",
    ),
    Defect("scan", DtypeDrift(), CountsInInt(), None, "reference training loop"),
    Defect("scan", StaticCounter(), StaticConfig(), None, "reference training loop"),
    Defect("purity", LeaksTracer(), SendsRewardToHost(), "on_step", "leaks a tracer"),
    Defect("purity", NumpyRandom(), KeyRandom(), "reset", "different results"),
    Defect(
        "purity",
        SamplesWithPythonRandom(),
        SamplesWithTheKey(),
        "on_iteration",
        "draws from Python's `random`",
    ),
    Defect(
        "purity",
        JittersWithNumpy(),
        JittersWithTheKey(),
        "on_step",
        "draws from NumPy's global `np.random`",
    ),
    Defect(
        "purity",
        SelfMutating(),
        LogsThroughHost(),
        "on_iteration",
        "changed the callback object",
    ),
    Defect(
        "purity",
        WritesTrainingLog(),
        CopiesTrainingLog(),
        "on_iteration",
        "adds the key 'learning_rate' to `ctx.training_log` at "
        '`log["learning_rate"] = jnp.asarray(3e-4, jnp.float32)`',
    ),
    Defect(
        "purity",
        AppendsToLocals(),
        CopiesLocals(),
        "on_step",
        "adds the key 'rewards' to `ctx.locals`",
    ),
    Defect("retrace", StaticCounter(), StaticConfig(), "on_step", "generation"),
    Defect(
        "purity",
        MasksNanAway(),
        GuardsEachEnvironment(),
        "on_iteration",
        "NaN eagerly, not under `jax.jit`",
    ),
    Defect(
        "finite", UnguardedMean(), GuardedMean(), "on_iteration", "NaN at `state.mean`"
    ),
    Defect(
        "finite",
        SpreadOverEnvironments(),
        SpreadOverSeveralEnvironments(),
        "on_iteration",
        "from inputs without NaN with one environment",
    ),
    Defect("typecheck", WrongFieldDtype(), RightFieldDtype(), "on_step", "count"),
    Defect(
        "structure",
        CountsInWeakFloat(),
        WeakScalarStarts(),
        "on_iteration",
        "state.iterations: float32[] (weak) -> int32[]",
    ),
    Defect(
        "scan", CountsInWeakFloat(), WeakScalarStarts(), None, "reference training loop"
    ),
    Defect(
        "x64",
        UncastReturns(),
        CastsReturns(),
        "on_step",
        "step_state.ret: float32[] -> float64[]",
    ),
    Defect(
        "x64",
        StrongStartDrift(),
        CastsMean(),
        "on_iteration",
        "state.mean: float32[] -> float64[]",
    ),
    Defect(
        "x64",
        StoresIterationCount(),
        CastsIterationCount(),
        "on_iteration",
        "state.iterations: int32[] -> int64[]",
    ),
    Defect(
        "side_effects",
        FormatsTheMeanForDebugPrint(),
        LeavesTheMeanToDebugPrint(),
        "on_iteration",
        "already formatted from a traced value",
    ),
    Defect(
        "side_effects",
        PrintsAtTraceTime(),
        PrintsThroughDebug(),
        "on_iteration",
        "iteration",
    ),
    Defect(
        "side_effects",
        WritesFileAtTraceTime(),
        WritesFileThroughHost(),
        "on_iteration",
        "wrote file",
    ),
    Defect(
        "side_effects",
        LogsAtTraceTime(),
        LogsEveryIteration(),
        "on_iteration",
        "logged INFO zoo.training: iteration over",
    ),
    Defect(
        "side_effects",
        WritesHeldFileAtTraceTime(),
        WritesHeldFileThroughHost(),
        "on_iteration",
        f"wrote to {os.devnull}",
    ),
    Defect(
        "side_effects",
        DisablesJit(),
        DebugsNansInScope(),
        "on_step",
        "`jax_disable_jit` from False to True at "
        '`jax.config.update("jax_disable_jit", True)`',
    ),
    Defect(
        "side_effects",
        LogsTheRewardFormatted(),
        LogsTheRewardFromHost(),
        "on_step",
        'logs text formatted from a traced value at `TRAINING_LOG.info(f"reward',
    ),
    Defect(
        "side_effects",
        PrintsStrOfTheMean(),
        PrintsTheMeanFromHost(),
        "on_iteration",
        'prints text formatted from a traced value at `print("mean return " + '
        "str(summary.mean))",
    ),
    Defect(
        "prng",
        DitheredReturns(),
        DitheredReturnsSplit(),
        "on_step",
        "draws from one key twice (a split counts as a draw): at line",
    ),
    Defect(
        "prng",
        PicksWithAFixedSeed(),
        PicksWithTheKey(),
        "on_step",
        "draws from a key made from constants at line",
    ),
    Defect(
        "prng",
        EpsilonCounter(),
        EpsilonCounterSplit(),
        "on_step",
        "draws from the stored key `step_state.key`",
    ),
    Defect(
        "lerax",
        ObservationAtIteration(),
        ObservationAtStep(),
        "on_iteration",
        "KeyError",
        {"algorithms": ("ppo",)},
    ),
]
