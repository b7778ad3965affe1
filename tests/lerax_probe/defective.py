"""Probe corpus: callbacks that are *meant* to be defective for Lerax 0.0.6.

Each docstring states the intended defect.  The ground-truth label is what
the real ``learn()`` does (see ``label.py`` / ``labels.json``): a callback
written as defective that every intended algorithm nevertheless accepts is
relabelled ``correct`` there (those are listed in README.md).

Environments used by the labeller: CartPole for ppo/a2c/reinforce/dqn/
sac_discrete, Pendulum for sac/ddpg/td3.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from lerax.callback import (
    AbstractCallback,
    AbstractCallbackState,
    AbstractCallbackStepState,
    AbstractIterationCallback,
    AbstractStatelessCallback,
    AbstractStepCallback,
)
from lerax.curriculum import AbstractAdaptiveCurriculum, LevelCurriculum

ALL = ("ppo", "a2c", "reinforce", "dqn", "sac", "sac_discrete", "ddpg", "td3")
CHAINED_OPT = ("ppo", "a2c", "reinforce", "dqn")
CARTPOLE = ("ppo", "a2c", "reinforce", "dqn", "sac_discrete")
PENDULUM = ("sac", "ddpg", "td3")

F32 = jnp.float32
I32 = jnp.int32


# Shared, correct step-state tracker used by several iteration callbacks below.
class ReturnStepState(AbstractCallbackStepState):
    episode_return: jax.Array
    last_return: jax.Array
    just_finished: jax.Array


def _track_return(ctx) -> ReturnStepState:
    ret = ctx.state.episode_return + ctx.reward
    return ReturnStepState(
        episode_return=jnp.where(ctx.done, 0.0, ret).astype(F32),
        last_return=jnp.where(ctx.done, ret, ctx.state.last_return).astype(F32),
        just_finished=ctx.done,
    )


def _initial_return_state() -> ReturnStepState:
    return ReturnStepState(jnp.array(0.0, F32), jnp.array(0.0, F32), jnp.array(False))


class _ReturnTrackingCallback[S: AbstractCallbackState](
    AbstractCallback[S, ReturnStepState]
):
    """Helper base: correct step tracking; subclasses add the iteration logic."""

    def step_reset(self, ctx, *, key):
        return _initial_return_state()

    def on_step(self, ctx, *, key):
        return _track_return(ctx)

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)


class ScalarMetricState(AbstractCallbackState):
    value: jax.Array


class RunningMetricState(AbstractCallbackState):
    running_metric: jax.Array


# ---------------------------------------------------------------------------
# D1. Python `if` on a traced value in on_step
# ---------------------------------------------------------------------------
class EpisodeCounterStepState(AbstractCallbackStepState):
    episodes: jax.Array


class PythonIfOnDone(AbstractStepCallback[EpisodeCounterStepState]):
    """Counts episodes with ``if ctx.done:`` -- Python branching on a traced
    bool (TracerBoolConversionError under jit/scan)."""

    def step_reset(self, ctx, *, key):
        return EpisodeCounterStepState(jnp.array(0, I32))

    def on_step(self, ctx, *, key):
        if ctx.done:
            return EpisodeCounterStepState(ctx.state.episodes + 1)
        return ctx.state


# ---------------------------------------------------------------------------
# D2. dtype drift: int accumulator + float reward
# ---------------------------------------------------------------------------
class TotalRewardStepState(AbstractCallbackStepState):
    total_reward: jax.Array


class IntAccumulatorFloatReward(AbstractStepCallback[TotalRewardStepState]):
    """Initialises ``total_reward = jnp.array(0)`` (int32) and adds the float
    reward each step: the scan carry changes int32 -> float32."""

    def step_reset(self, ctx, *, key):
        return TotalRewardStepState(jnp.array(0))

    def on_step(self, ctx, *, key):
        return TotalRewardStepState(ctx.state.total_reward + ctx.reward)


# ---------------------------------------------------------------------------
# D3. shape drift: scalar running metric fed the [num_envs] step state
# ---------------------------------------------------------------------------
class RunningMetricShapeDrift(_ReturnTrackingCallback[RunningMetricState]):
    """EMA ``running_metric`` (float32[]) updated with
    ``ctx.step_state.last_return`` directly; with num_envs > 1 the step state
    is batched so the metric becomes float32[num_envs] (carry shape drift)."""

    def reset(self, ctx, *, key):
        return RunningMetricState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        running = 0.95 * ctx.state.running_metric + 0.05 * ctx.step_state.last_return
        return RunningMetricState(running)


# ---------------------------------------------------------------------------
# D4. wrong state class returned from on_iteration
# ---------------------------------------------------------------------------
class MetricSummary(AbstractCallbackState):
    value: jax.Array


class WrongStateClassOnIteration(_ReturnTrackingCallback[ScalarMetricState]):
    """reset returns ``ScalarMetricState`` but on_iteration returns a
    look-alike ``MetricSummary`` (same fields, different class): the scan
    carry pytree structure changes."""

    def reset(self, ctx, *, key):
        return ScalarMetricState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return MetricSummary(jnp.mean(ctx.step_state.last_return).astype(F32))


# ---------------------------------------------------------------------------
# D5. Python float in state, array afterwards
# ---------------------------------------------------------------------------
class BestState(AbstractCallbackState):
    best_return: float | jax.Array


class PythonFloatBestReturn(_ReturnTrackingCallback[BestState]):
    """reset stores ``best_return=-float('inf')`` (a Python float, i.e. a
    static leaf); on_iteration replaces it with a jnp array, so the
    non-array part of the filter_scan carry changes."""

    def reset(self, ctx, *, key):
        return BestState(best_return=-float("inf"))

    def on_iteration(self, ctx, *, key):
        return BestState(
            jnp.maximum(ctx.state.best_return, jnp.mean(ctx.step_state.last_return))
        )


# ---------------------------------------------------------------------------
# D6. NaN: mean over an empty selection (0/0) in on_iteration
# ---------------------------------------------------------------------------
class MeanOfFinishedEpisodesNaN(_ReturnTrackingCallback[ScalarMetricState]):
    """Mean return of the envs whose episode just finished, computed as
    ``sum(where(finished, ret, 0)) / sum(finished)``: 0/0 = NaN whenever no
    env finished on the last step of the rollout."""

    def reset(self, ctx, *, key):
        return ScalarMetricState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        finished = ctx.step_state.just_finished
        total = jnp.sum(jnp.where(finished, ctx.step_state.last_return, 0.0))
        return ScalarMetricState((total / jnp.sum(finished)).astype(F32))


# ---------------------------------------------------------------------------
# D7. NaN: average episode length divided by an episode count of zero
# ---------------------------------------------------------------------------
class LengthStepState(AbstractCallbackStepState):
    current_length: jax.Array
    finished_length_total: jax.Array
    episodes: jax.Array
    average_length: jax.Array


class AvgEpisodeLengthDivZero(AbstractStepCallback[LengthStepState]):
    """Average episode length = finished_length_total / episodes, recomputed
    every step with no guard: 0/0 = NaN until the first episode ends (and
    forever on Pendulum's 200-step episodes)."""

    def step_reset(self, ctx, *, key):
        return LengthStepState(
            jnp.array(0, I32), jnp.array(0, I32), jnp.array(0, I32), jnp.array(0.0, F32)
        )

    def on_step(self, ctx, *, key):
        length = ctx.state.current_length + 1
        total = ctx.state.finished_length_total + jnp.where(ctx.done, length, 0)
        episodes = ctx.state.episodes + ctx.done.astype(I32)
        return LengthStepState(
            current_length=jnp.where(ctx.done, 0, length),
            finished_length_total=total,
            episodes=episodes,
            average_length=(total / episodes).astype(F32),
        )


# ---------------------------------------------------------------------------
# D8. Python print of an f-string with traced values
# ---------------------------------------------------------------------------
class PrintFStringLoss(AbstractStatelessCallback):
    """``print(f'... loss={ctx.training_log["loss"]}')`` inside on_iteration:
    runs once at trace time and prints the tracer repr, never the values."""

    def on_step(self, ctx, *, key):
        return ctx.state

    def on_iteration(self, ctx, *, key):
        print(f"[iter {ctx.iteration_count}] loss={ctx.training_log['loss']}")
        return ctx.state

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)


# ---------------------------------------------------------------------------
# D9. jax.debug.print given an f-string (tracer repr baked into the format)
# ---------------------------------------------------------------------------
class DebugPrintFString(_ReturnTrackingCallback[ScalarMetricState]):
    """``jax.debug.print(f'mean return {x}')``: the f-string is evaluated at
    trace time, so every runtime print shows the tracer repr."""

    def reset(self, ctx, *, key):
        return ScalarMetricState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        mean_return = jnp.mean(ctx.step_state.last_return).astype(F32)
        jax.debug.print(f"iteration {ctx.iteration_count}: mean return {mean_return}")
        return ScalarMetricState(mean_return)


# ---------------------------------------------------------------------------
# D10. ctx.locals key that the algorithm's step does not define
# ---------------------------------------------------------------------------
class EntropyStepState(AbstractCallbackStepState):
    neg_log_prob_ema: jax.Array


class SACEntropyFromLogProb(AbstractStepCallback[EntropyStepState]):
    """Meant to track policy entropy for SAC by reading
    ``ctx.locals['log_prob']`` in on_step -- but only PPO/A2C/REINFORCE's step
    defines ``log_prob``; SAC/SACDiscrete steps do not (KeyError)."""

    def step_reset(self, ctx, *, key):
        return EntropyStepState(jnp.array(0.0, F32))

    def on_step(self, ctx, *, key):
        lp = ctx.locals["log_prob"]
        return EntropyStepState(
            (0.99 * ctx.state.neg_log_prob_ema - 0.01 * lp).astype(F32)
        )


# ---------------------------------------------------------------------------
# D11. training_log key missing for some algorithms
# ---------------------------------------------------------------------------
class LossState(AbstractCallbackState):
    last_loss: jax.Array


class GenericLossLogger(AbstractIterationCallback[LossState]):
    """Logs ``ctx.training_log['loss']`` for every algorithm; SAC,
    SACDiscrete, DDPG and TD3 only log ``q_loss`` (KeyError)."""

    def reset(self, ctx, *, key):
        return LossState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return LossState(jnp.asarray(ctx.training_log["loss"], F32))


class PolicyLossTracker(AbstractIterationCallback[LossState]):
    """Tracks ``training_log['policy_loss']`` for the 'standard' optimizers
    (PPO/A2C/REINFORCE/DQN); DQN's log only has ``loss`` (KeyError, subtle)."""

    def reset(self, ctx, *, key):
        return LossState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return LossState(jnp.asarray(ctx.training_log["policy_loss"], F32))


# ---------------------------------------------------------------------------
# D13/D14. learning-rate loggers with wrong assumptions about opt_state
# ---------------------------------------------------------------------------
class LRState(AbstractCallbackState):
    learning_rate: jax.Array


class ChainIndexLRLogger(AbstractIterationCallback[LRState]):
    """Assumes every algorithm uses ``optax.chain(clip, inject(adam))`` and
    reads ``ctx.opt_state[1].hyperparams``; SAC/SACDiscrete/DDPG/TD3 use a
    bare InjectStatefulHyperparamsState (a namedtuple whose [1] is the
    hyperparams dict) -> AttributeError."""

    def reset(self, ctx, *, key):
        return LRState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return LRState(jnp.asarray(ctx.opt_state[1].hyperparams["learning_rate"], F32))


def _find_injected_lr(opt_state):
    for s in jax.tree.leaves(
        opt_state, is_leaf=lambda x: isinstance(x, optax.InjectHyperparamsState)
    ):
        if isinstance(s, optax.InjectHyperparamsState):
            return s.hyperparams["learning_rate"]
    return jnp.nan


class IsinstanceInjectHyperparamsLR(AbstractIterationCallback[LRState]):
    """Looks for ``optax.InjectHyperparamsState`` by isinstance; with the
    installed optax, ``inject_hyperparams`` produces
    ``InjectStatefulHyperparamsState`` (not a subclass), so the search falls
    through to the NaN default and NaN is stored every iteration."""

    def reset(self, ctx, *, key):
        return LRState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return LRState(jnp.asarray(_find_injected_lr(ctx.opt_state), F32))


# ---------------------------------------------------------------------------
# D15-D19. curricula via apply_curriculum
# ---------------------------------------------------------------------------
class PythonFloatCurriculum(AbstractStatelessCallback):
    """Sets CartPole ``gravity`` to a Python float (``self.target_gravity``)
    with ``eqx.tree_at`` -- the env leaf goes from array to static float, so
    the non-array carry of the iteration scan changes."""

    target_gravity: float = 11.0

    def on_step(self, ctx, *, key):
        return ctx.state

    def on_iteration(self, ctx, *, key):
        return ctx.state

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)

    def apply_curriculum(self, state, callback_state):
        state = eqx.tree_at(lambda s: s.env.gravity, state, self.target_gravity)
        return state, callback_state


class DtState(AbstractCallbackState):
    dt: jax.Array


class CurriculumSwappedReturn(AbstractIterationCallback[DtState]):
    """Shrinks ``env.dt`` (present on both CartPole and Pendulum) each
    iteration but returns ``(callback_state, state)`` -- swapped tuple --
    from apply_curriculum."""

    def reset(self, ctx, *, key):
        return DtState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return ctx.state

    def apply_curriculum(self, state, callback_state):
        new_dt = (state.env.dt * 0.99).astype(state.env.dt.dtype)
        state = eqx.tree_at(lambda s: s.env.dt, state, new_dt)
        return DtState(new_dt), state


class CurriculumPythonIf(_ReturnTrackingCallback[RunningMetricState]):
    """Adaptive CartPole curriculum that decides with
    ``if callback_state.running_metric > threshold:`` in apply_curriculum
    (Python branching on a traced value)."""

    threshold: float = 5.0

    def reset(self, ctx, *, key):
        return RunningMetricState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        m = 0.9 * ctx.state.running_metric + 0.1 * jnp.mean(ctx.step_state.last_return)
        return RunningMetricState(m.astype(F32))

    def apply_curriculum(self, state, callback_state):
        if callback_state.running_metric > self.threshold:
            state = eqx.tree_at(
                lambda s: s.env.force_mag, state, state.env.force_mag * 0.9
            )
        return state, callback_state


class LevelState(AbstractCallbackState):
    level: jax.Array


class CurriculumIntLeaf(AbstractIterationCallback[LevelState]):
    """Level curriculum on Pendulum ``max_speed`` with the levels written as
    integers ``jnp.array([4, 6, 8])``: the float32 env leaf becomes int32
    (dtype drift in the iteration carry)."""

    def reset(self, ctx, *, key):
        return LevelState(jnp.array(0, I32))

    def on_iteration(self, ctx, *, key):
        return LevelState(jnp.minimum(ctx.state.level + 1, 2))

    def apply_curriculum(self, state, callback_state):
        levels = jnp.array([4, 6, 8])
        state = eqx.tree_at(
            lambda s: s.env.max_speed, state, levels[callback_state.level]
        )
        return state, callback_state


class CurriculumFromBatchedStepState(_ReturnTrackingCallback[RunningMetricState]):
    """Sets CartPole ``gravity = 9.8 + 0.01 * last_return`` reading
    ``state.step_state.callback_state`` in apply_curriculum; with num_envs > 1
    that step state is [num_envs]-batched so the env leaf changes shape."""

    def reset(self, ctx, *, key):
        return RunningMetricState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return ctx.state

    def apply_curriculum(self, state, callback_state):
        last = state.step_state.callback_state.last_return
        gravity = (9.8 + 0.01 * last).astype(F32)
        state = eqx.tree_at(lambda s: s.env.gravity, state, gravity)
        return state, callback_state


# ---------------------------------------------------------------------------
# D20. forgot to return the step state
# ---------------------------------------------------------------------------
class ForgotReturnOnStep(AbstractStepCallback[TotalRewardStepState]):
    """on_step computes the new state but has no ``return`` (returns None)."""

    def step_reset(self, ctx, *, key):
        return TotalRewardStepState(jnp.array(0.0, F32))

    def on_step(self, ctx, *, key):
        new_state = TotalRewardStepState(ctx.state.total_reward + ctx.reward)  # noqa: F841


# ---------------------------------------------------------------------------
# D21. boolean-mask selection on traced arrays
# ---------------------------------------------------------------------------
class BooleanMaskSelection(_ReturnTrackingCallback[ScalarMetricState]):
    """Mean return of finished envs via boolean indexing
    ``last_return[just_finished]`` -- data-dependent shape under jit."""

    def reset(self, ctx, *, key):
        return ScalarMetricState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        finished = ctx.step_state.last_return[ctx.step_state.just_finished]
        return ScalarMetricState(jnp.mean(finished).astype(F32))


# ---------------------------------------------------------------------------
# D22. iteration callback reading a step state it never created
# ---------------------------------------------------------------------------
class IterationReadsEmptyStepState(AbstractIterationCallback[ScalarMetricState]):
    """Subclasses AbstractIterationCallback (whose step state is
    EmptyCallbackStepState) but reads ``ctx.step_state.episode_return`` as if
    a return tracker were running (AttributeError)."""

    def reset(self, ctx, *, key):
        return ScalarMetricState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return ScalarMetricState(jnp.mean(ctx.step_state.episode_return).astype(F32))


# ---------------------------------------------------------------------------
# D23. Python if on iteration_count
# ---------------------------------------------------------------------------
class PythonIfOnIterationCount(AbstractStatelessCallback):
    """Logs every 2nd iteration with ``if ctx.iteration_count % 2 == 0:``
    (Python branching on a traced int)."""

    def on_step(self, ctx, *, key):
        return ctx.state

    def on_iteration(self, ctx, *, key):
        if ctx.iteration_count % 2 == 0:
            jax.debug.print("iteration {i}", i=ctx.iteration_count)
        return ctx.state

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)


# ---------------------------------------------------------------------------
# D24. float() of a traced loss
# ---------------------------------------------------------------------------
class BestLossState(AbstractCallbackState):
    best_loss: jax.Array


class FloatOfLoss(AbstractIterationCallback[BestLossState]):
    """``min(best, float(ctx.training_log['loss']))`` -- concretising a
    tracer (ConcretizationTypeError)."""

    def reset(self, ctx, *, key):
        return BestLossState(jnp.array(jnp.inf, F32))

    def on_iteration(self, ctx, *, key):
        best = min(float(ctx.state.best_loss), float(ctx.training_log["loss"]))
        return BestLossState(jnp.array(best, F32))


# ---------------------------------------------------------------------------
# D25. NumPy on traced arrays
# ---------------------------------------------------------------------------
class NumpyOnTracer(_ReturnTrackingCallback[ScalarMetricState]):
    """Uses ``np.mean`` on ``ctx.step_state.last_return`` inside on_iteration
    (TracerArrayConversionError)."""

    def reset(self, ctx, *, key):
        return ScalarMetricState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return ScalarMetricState(jnp.asarray(np.mean(ctx.step_state.last_return), F32))


# ---------------------------------------------------------------------------
# D26. missing abstract method
# ---------------------------------------------------------------------------
class MissingContinueTraining(AbstractCallback[ScalarMetricState, ReturnStepState]):
    """Full AbstractCallback subclass that forgets ``continue_training``
    (abstract) -- cannot be instantiated."""

    def reset(self, ctx, *, key):
        return ScalarMetricState(jnp.array(0.0, F32))

    def step_reset(self, ctx, *, key):
        return _initial_return_state()

    def on_step(self, ctx, *, key):
        return _track_return(ctx)

    def on_iteration(self, ctx, *, key):
        return ScalarMetricState(jnp.mean(ctx.step_state.last_return).astype(F32))

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state


# ---------------------------------------------------------------------------
# D27. PRNG key reused without splitting (semantic defect)
# ---------------------------------------------------------------------------
class RngState(AbstractCallbackState):
    rng: jax.Array
    noise: jax.Array


class KeyReuseNoSplit(AbstractIterationCallback[RngState]):
    """Draws evaluation noise from ``ctx.state.rng`` every iteration but
    never advances/splits it, so every draw is identical (statistical bug;
    nothing in JAX flags it)."""

    def reset(self, ctx, *, key):
        return RngState(key, jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return RngState(ctx.state.rng, jr.normal(ctx.state.rng, (), F32))


# ---------------------------------------------------------------------------
# D28/D29. Lerax's adaptive curricula as documented
# ---------------------------------------------------------------------------
def builtin_level_curriculum():
    """Docs example: ``LevelCurriculum`` on Pendulum ``max_speed``.  Lerax's
    AbstractAdaptiveCurriculum.on_iteration mixes the [num_envs]-batched
    ``episode_metric`` into the scalar ``running_metric`` (shape drift for
    num_envs > 1)."""
    return LevelCurriculum(
        where=lambda env: env.max_speed,
        levels=jnp.array([4.0, 6.0, 8.0]),
        metric_fn=lambda done, reward, locals: reward,
        threshold=100.0,
        smoothing=0.05,
    )


class DocsStyleForceCurriculum(AbstractAdaptiveCurriculum):
    """Custom adaptive curriculum following the docs (subclass
    AbstractAdaptiveCurriculum, implement only apply_curriculum) that eases
    CartPole ``force_mag``.  Inherits the base on_iteration's shape drift for
    num_envs > 1."""

    threshold: float

    def __init__(self, threshold: float = 10.0, smoothing: float = 0.1):
        self.metric_fn = lambda done, reward, locals: reward
        self.smoothing = smoothing
        self.threshold = threshold

    def apply_curriculum(self, state, callback_state):
        advance = callback_state.running_metric > self.threshold
        new_force = jnp.where(
            advance, state.env.force_mag * 0.9, state.env.force_mag
        ).astype(state.env.force_mag.dtype)
        state = eqx.tree_at(lambda s: s.env.force_mag, state, new_force)
        return state, callback_state


# ---------------------------------------------------------------------------
# D30. on_training_end returns a different state class
# ---------------------------------------------------------------------------
class FinalReport(AbstractCallbackState):
    final_mean_return: jax.Array
    iterations: jax.Array


class OnTrainingEndWrongClass(_ReturnTrackingCallback[ScalarMetricState]):
    """Tracks a scalar metric, but on_training_end returns a ``FinalReport``
    (different class, extra field) instead of the declared state type."""

    def reset(self, ctx, *, key):
        return ScalarMetricState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return ScalarMetricState(jnp.mean(ctx.step_state.last_return).astype(F32))

    def on_training_end(self, ctx, *, key):
        return FinalReport(ctx.state.value, ctx.iteration_count)


# ---------------------------------------------------------------------------
# D31. host callback that assumes a batch axis
# ---------------------------------------------------------------------------
def _host_log_mean(returns):
    # Host-side: treats `returns` as a sized sequence of per-env returns.
    mean = sum(returns) / len(returns)
    print(f"host mean return over {len(returns)} envs: {mean:.3f}")


class HostCallbackAssumesBatch(_ReturnTrackingCallback[ScalarMetricState]):
    """Sends ``ctx.step_state.last_return`` to a host function that does
    ``sum(x) / len(x)``; with num_envs == 1 the array is 0-d and ``len()``
    raises inside the host callback."""

    def reset(self, ctx, *, key):
        return ScalarMetricState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        jax.debug.callback(_host_log_mean, ctx.step_state.last_return)
        return ctx.state


# ---------------------------------------------------------------------------
# D32. iteration-level dtype drift (int literal init)
# ---------------------------------------------------------------------------
class LRSumState(AbstractCallbackState):
    lr_sum: jax.Array


class LRSumIntInit(AbstractIterationCallback[LRSumState]):
    """Accumulates the learning rate (for an average LR) but initialises
    ``lr_sum = jnp.array(0)`` -- int32 -> float32 drift in the iteration carry."""

    def reset(self, ctx, *, key):
        return LRSumState(jnp.array(0))

    def on_iteration(self, ctx, *, key):
        lr = optax.tree_utils.tree_get(
            ctx.opt_state,
            "learning_rate",
            filtering=lambda _, v: isinstance(v, jnp.ndarray),
        )
        return LRSumState(ctx.state.lr_sum + lr)


CASES = [
    ("PythonIfOnDone", PythonIfOnDone, ALL),
    ("IntAccumulatorFloatReward", IntAccumulatorFloatReward, ALL),
    ("RunningMetricShapeDrift", RunningMetricShapeDrift, ALL),
    ("WrongStateClassOnIteration", WrongStateClassOnIteration, ALL),
    ("PythonFloatBestReturn", PythonFloatBestReturn, ALL),
    ("MeanOfFinishedEpisodesNaN", MeanOfFinishedEpisodesNaN, ALL),
    ("AvgEpisodeLengthDivZero", AvgEpisodeLengthDivZero, ALL),
    ("PrintFStringLoss", PrintFStringLoss, CHAINED_OPT),
    ("DebugPrintFString", DebugPrintFString, ALL),
    ("SACEntropyFromLogProb", SACEntropyFromLogProb, ("sac", "sac_discrete")),
    ("GenericLossLogger", GenericLossLogger, ALL),
    ("PolicyLossTracker", PolicyLossTracker, CHAINED_OPT),
    ("ChainIndexLRLogger", ChainIndexLRLogger, ALL),
    ("IsinstanceInjectHyperparamsLR", IsinstanceInjectHyperparamsLR, ALL),
    ("PythonFloatCurriculum", PythonFloatCurriculum, CARTPOLE),
    ("CurriculumSwappedReturn", CurriculumSwappedReturn, ALL),
    ("CurriculumPythonIf", CurriculumPythonIf, CARTPOLE),
    ("CurriculumIntLeaf", CurriculumIntLeaf, PENDULUM),
    ("CurriculumFromBatchedStepState", CurriculumFromBatchedStepState, CARTPOLE),
    ("ForgotReturnOnStep", ForgotReturnOnStep, ALL),
    ("BooleanMaskSelection", BooleanMaskSelection, ALL),
    ("IterationReadsEmptyStepState", IterationReadsEmptyStepState, ALL),
    ("PythonIfOnIterationCount", PythonIfOnIterationCount, ALL),
    ("FloatOfLoss", FloatOfLoss, CHAINED_OPT),
    ("NumpyOnTracer", NumpyOnTracer, ALL),
    ("MissingContinueTraining", MissingContinueTraining, ALL),
    ("KeyReuseNoSplit", KeyReuseNoSplit, ALL),
    ("BuiltinLevelCurriculum", builtin_level_curriculum, PENDULUM),
    ("DocsStyleForceCurriculum", DocsStyleForceCurriculum, CARTPOLE),
    ("OnTrainingEndWrongClass", OnTrainingEndWrongClass, ALL),
    ("HostCallbackAssumesBatch", HostCallbackAssumesBatch, ALL),
    ("LRSumIntInit", LRSumIntInit, ALL),
]
