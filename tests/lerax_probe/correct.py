"""Probe corpus: callbacks that are *meant* to be correct for Lerax 0.0.6.

Each class is written the way an RL practitioner would write it against
``lerax.callback`` / ``lerax.curriculum``.  The intended algorithms for each
case are listed in ``CASES``; the ground-truth label is whatever the real
``learn()`` does with it (see ``label.py`` / ``labels.json``).

Environments used by the labeller: CartPole for ppo/a2c/reinforce/dqn/
sac_discrete, Pendulum for sac/ddpg/td3.  Curricula that touch an env field
therefore list only the algorithms that run on the env owning that field.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jax import lax
from lerax.callback import (
    AbstractCallback,
    AbstractCallbackState,
    AbstractCallbackStepState,
    AbstractIterationCallback,
    AbstractStatelessCallback,
    AbstractStepCallback,
    CallbackList,
    ConsoleBackend,
    EmptyCallback,
    LoggingCallback,
    ProgressBarCallback,
)
from lerax.curriculum import (
    ScheduledCurriculum,
    cosine_schedule,
    linear_schedule,
    step_schedule,
)

ALL = ("ppo", "a2c", "reinforce", "dqn", "sac", "sac_discrete", "ddpg", "td3")
ON_POLICY = ("ppo", "a2c", "reinforce")
CHAINED_OPT = ("ppo", "a2c", "reinforce", "dqn")  # optax.chain(clip, inject(adam))
OFF_POLICY_Q = ("sac", "sac_discrete", "ddpg", "td3")  # bare inject(adam), q_loss
REPLAY = ("dqn", "sac", "sac_discrete", "ddpg", "td3")
CARTPOLE = ("ppo", "a2c", "reinforce", "dqn", "sac_discrete")
PENDULUM = ("sac", "ddpg", "td3")

F32 = jnp.float32
I32 = jnp.int32


# ---------------------------------------------------------------------------
# 1. Episode return tracker (step-only callback)
# ---------------------------------------------------------------------------
class EpisodeReturnStepState(AbstractCallbackStepState):
    episode_return: jax.Array
    last_return: jax.Array
    episodes: jax.Array


class EpisodeReturnTracker(AbstractStepCallback[EpisodeReturnStepState]):
    """Accumulates the per-env episode return, remembers the last finished
    episode's return and counts finished episodes.  Uses ``jnp.where`` on
    ``ctx.done`` and keeps every leaf float32/int32 scalar per env."""

    def step_reset(self, ctx, *, key):
        return EpisodeReturnStepState(
            jnp.array(0.0, F32), jnp.array(0.0, F32), jnp.array(0, I32)
        )

    def on_step(self, ctx, *, key):
        ret = ctx.state.episode_return + ctx.reward
        return EpisodeReturnStepState(
            episode_return=jnp.where(ctx.done, 0.0, ret).astype(F32),
            last_return=jnp.where(ctx.done, ret, ctx.state.last_return).astype(F32),
            episodes=ctx.state.episodes + ctx.done.astype(I32),
        )


# ---------------------------------------------------------------------------
# 2. Reward EMA, full AbstractCallback, env-mean reduction in on_iteration
# ---------------------------------------------------------------------------
class RewardEMAStepState(AbstractCallbackStepState):
    reward_ema: jax.Array


class RewardEMAState(AbstractCallbackState):
    mean_reward_ema: jax.Array
    iterations: jax.Array


class RewardEMACallback(AbstractCallback[RewardEMAState, RewardEMAStepState]):
    """Per-env exponential moving average of the step reward; on_iteration
    reduces the (possibly [num_envs]-batched) step state with ``jnp.mean`` so
    the iteration-level metric stays a float32 scalar for any num_envs."""

    decay: float = 0.99

    def reset(self, ctx, *, key):
        return RewardEMAState(jnp.array(0.0, F32), jnp.array(0, I32))

    def step_reset(self, ctx, *, key):
        return RewardEMAStepState(jnp.array(0.0, F32))

    def on_step(self, ctx, *, key):
        ema = self.decay * ctx.state.reward_ema + (1.0 - self.decay) * ctx.reward
        return RewardEMAStepState(ema.astype(F32))

    def on_iteration(self, ctx, *, key):
        return RewardEMAState(
            jnp.mean(ctx.step_state.reward_ema).astype(F32), ctx.state.iterations + 1
        )

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)


# ---------------------------------------------------------------------------
# 3. Early stopping on training loss (continue_training)
# ---------------------------------------------------------------------------
class EarlyStopState(AbstractCallbackState):
    best_loss: jax.Array
    bad_iterations: jax.Array


class EarlyStopOnLoss(AbstractIterationCallback[EarlyStopState]):
    """Tracks the best ``training_log['loss']`` and the number of iterations
    without improvement; ``continue_training`` returns False once patience is
    exhausted.  Only for algorithms whose log has a ``loss`` key."""

    patience: int = 3
    min_delta: float = 1e-4

    def reset(self, ctx, *, key):
        return EarlyStopState(jnp.array(jnp.inf, F32), jnp.array(0, I32))

    def on_iteration(self, ctx, *, key):
        loss = ctx.training_log["loss"]
        improved = loss < ctx.state.best_loss - self.min_delta
        return EarlyStopState(
            best_loss=jnp.where(improved, loss, ctx.state.best_loss).astype(F32),
            bad_iterations=jnp.where(improved, 0, ctx.state.bad_iterations + 1).astype(
                I32
            ),
        )

    def continue_training(self, ctx, *, key):
        return ctx.state.bad_iterations < self.patience


# ---------------------------------------------------------------------------
# 4. Learning-rate logger via optax.tree_utils.tree_get (works for every opt)
# ---------------------------------------------------------------------------
class LRState(AbstractCallbackState):
    learning_rate: jax.Array


class LearningRateLogger(AbstractIterationCallback[LRState]):
    """Reads the injected ``learning_rate`` hyperparameter anywhere in
    ``ctx.opt_state`` with ``optax.tree_utils.tree_get`` (same approach as
    Lerax's LoggingCallback), so it works for chained and bare optimizers."""

    def reset(self, ctx, *, key):
        return LRState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        lr = optax.tree_utils.tree_get(
            ctx.opt_state,
            "learning_rate",
            jnp.nan,
            filtering=lambda _, v: isinstance(v, jnp.ndarray),
        )
        return LRState(jnp.asarray(lr, F32))


# ---------------------------------------------------------------------------
# 5. LR logger for optax.chain(clip, inject_hyperparams(adam))
# ---------------------------------------------------------------------------
class ChainedAdamLRLogger(AbstractIterationCallback[LRState]):
    """On-policy algorithms and DQN build ``optax.chain(clip_by_global_norm,
    inject_hyperparams(adam))``; the injected state is element 1 of the
    tuple.  Reads ``ctx.opt_state[1].hyperparams['learning_rate']``."""

    def reset(self, ctx, *, key):
        return LRState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        lr = ctx.opt_state[1].hyperparams["learning_rate"]
        jax.debug.print("iteration {i}: lr={lr}", i=ctx.iteration_count, lr=lr)
        return LRState(jnp.asarray(lr, F32))


# ---------------------------------------------------------------------------
# 6. LR logger for bare inject_hyperparams(adam) (SAC family, DDPG, TD3)
# ---------------------------------------------------------------------------
class InjectedActorLRLogger(AbstractIterationCallback[LRState]):
    """SAC/SACDiscrete/DDPG/TD3 use a bare ``inject_hyperparams(adam)`` actor
    optimizer, so ``ctx.opt_state`` *is* the InjectStatefulHyperparamsState:
    reads ``ctx.opt_state.hyperparams['learning_rate']``."""

    def reset(self, ctx, *, key):
        return LRState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return LRState(jnp.asarray(ctx.opt_state.hyperparams["learning_rate"], F32))


# ---------------------------------------------------------------------------
# 7. Q-loss EMA (off-policy actor-critic algorithms log "q_loss")
# ---------------------------------------------------------------------------
class QLossState(AbstractCallbackState):
    q_loss_ema: jax.Array
    seen: jax.Array


class QLossEMA(AbstractIterationCallback[QLossState]):
    """EMA of ``training_log['q_loss']``; first observation initialises the
    EMA via ``jnp.where`` on a boolean leaf (no Python branching)."""

    decay: float = 0.9

    def reset(self, ctx, *, key):
        return QLossState(jnp.array(0.0, F32), jnp.array(False))

    def on_iteration(self, ctx, *, key):
        q = ctx.training_log["q_loss"]
        ema = jnp.where(
            ctx.state.seen, self.decay * ctx.state.q_loss_ema + (1 - self.decay) * q, q
        )
        return QLossState(ema.astype(F32), jnp.array(True))


# ---------------------------------------------------------------------------
# 8. Value-estimate tracker reading ctx.locals["value"] (actor-critic rollouts)
# ---------------------------------------------------------------------------
class ValueStepState(AbstractCallbackStepState):
    value_ema: jax.Array


class ValueEstimateTracker(AbstractStepCallback[ValueStepState]):
    """EMA of the critic's value estimate for the visited state, read from
    ``ctx.locals['value']`` which PPO/A2C/REINFORCE's ``step`` defines."""

    def step_reset(self, ctx, *, key):
        return ValueStepState(jnp.array(0.0, F32))

    def on_step(self, ctx, *, key):
        v = ctx.locals["value"]
        return ValueStepState((0.95 * ctx.state.value_ema + 0.05 * v).astype(F32))


# ---------------------------------------------------------------------------
# 9. Next-observation norm tracker (replay-buffer algorithms)
# ---------------------------------------------------------------------------
class ObsNormStepState(AbstractCallbackStepState):
    max_next_obs_norm: jax.Array


class NextObservationNormTracker(AbstractStepCallback[ObsNormStepState]):
    """Tracks the largest L2 norm of ``ctx.locals['next_observation']`` seen,
    a local that exists in the DQN/SAC/SACDiscrete/DDPG/TD3 step."""

    def step_reset(self, ctx, *, key):
        return ObsNormStepState(jnp.array(0.0, F32))

    def on_step(self, ctx, *, key):
        norm = jnp.linalg.norm(ctx.locals["next_observation"])
        return ObsNormStepState(
            jnp.maximum(ctx.state.max_next_obs_norm, norm).astype(F32)
        )


# ---------------------------------------------------------------------------
# 10. Hyperparameter snapshot from ctx.algorithm in on_training_start
# ---------------------------------------------------------------------------
class HyperparamState(AbstractCallbackState):
    gamma: jax.Array
    num_envs: jax.Array
    total_timesteps: jax.Array
    iterations: jax.Array


class HyperparamSnapshot(AbstractIterationCallback[HyperparamState]):
    """Copies ``ctx.algorithm.gamma``/``num_envs`` and ``ctx.total_timesteps``
    into array leaves at training start (same dtypes as reset), then counts
    iterations."""

    def reset(self, ctx, *, key):
        return HyperparamState(
            jnp.array(0.0, F32), jnp.array(0, I32), jnp.array(0, I32), jnp.array(0, I32)
        )

    def on_training_start(self, ctx, *, key):
        return HyperparamState(
            gamma=jnp.asarray(ctx.algorithm.gamma, F32),
            num_envs=jnp.asarray(ctx.algorithm.num_envs, I32),
            total_timesteps=jnp.asarray(ctx.total_timesteps, I32),
            iterations=ctx.state.iterations,
        )

    def on_iteration(self, ctx, *, key):
        return eqx.tree_at(lambda s: s.iterations, ctx.state, ctx.state.iterations + 1)


# ---------------------------------------------------------------------------
# 11. jax.debug.print with placeholders (stateless)
# ---------------------------------------------------------------------------
class DebugPrintProgress(AbstractStatelessCallback):
    """Prints the iteration number and the whole training log every iteration
    with ``jax.debug.print`` placeholders (values are formatted at runtime)."""

    def on_step(self, ctx, *, key):
        return ctx.state

    def on_iteration(self, ctx, *, key):
        jax.debug.print(
            "[iter {it}] log={log}", it=ctx.iteration_count, log=ctx.training_log
        )
        return ctx.state

    def on_training_start(self, ctx, *, key):
        jax.debug.print("training for {t} timesteps", t=ctx.total_timesteps)
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)


# ---------------------------------------------------------------------------
# 12. Host-callback sink (jax.debug.callback into a Python recorder)
# ---------------------------------------------------------------------------
class MetricsRecorder:
    """Plain Python object collecting (iteration, mean_return) rows on host."""

    def __init__(self):
        self.rows: list[tuple[int, float]] = []

    def __call__(self, iteration, mean_return):
        self.rows.append((int(iteration), float(mean_return)))


class HostMetricsSink(AbstractCallback[AbstractCallbackState, EpisodeReturnStepState]):
    """Tracks episode returns per env and ships (iteration, mean last return)
    to a Python recorder through ``jax.debug.callback`` each iteration.  The
    recorder is a static field (hashable by identity)."""

    sink: Callable = eqx.field(static=True)

    def reset(self, ctx, *, key):
        return _EmptyIterState()

    def step_reset(self, ctx, *, key):
        return EpisodeReturnTracker().step_reset(ctx, key=key)

    def on_step(self, ctx, *, key):
        return EpisodeReturnTracker().on_step(ctx, key=key)

    def on_iteration(self, ctx, *, key):
        jax.debug.callback(
            self.sink, ctx.iteration_count, jnp.mean(ctx.step_state.last_return)
        )
        return ctx.state

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)


class _EmptyIterState(AbstractCallbackState):
    pass


# ---------------------------------------------------------------------------
# 13/14. Lerax built-in scheduled curricula
# ---------------------------------------------------------------------------
def builtin_scheduled_gravity():
    """Built-in ``ScheduledCurriculum`` ramping CartPole ``gravity`` with
    ``linear_schedule`` (float32 output into a float32 env leaf)."""
    return ScheduledCurriculum(
        where=lambda env: env.gravity,
        schedule_fn=linear_schedule(start=9.8, end=12.0, total=4),
    )


def builtin_docs_multifield_curriculum():
    """The docs' multi-field example: ``CallbackList`` of two
    ``ScheduledCurriculum`` on Pendulum ``m`` (cosine) and ``g`` (step)."""
    return CallbackList(
        callbacks=[
            ScheduledCurriculum(
                where=lambda env: env.m,
                schedule_fn=cosine_schedule(start=0.5, end=2.0, total=4),
            ),
            ScheduledCurriculum(
                where=lambda env: env.g,
                schedule_fn=step_schedule(values=[5.0, 7.0, 9.8], boundaries=[1, 2]),
            ),
        ]
    )


# ---------------------------------------------------------------------------
# 15. Custom adaptive curriculum on CartPole force_mag
# ---------------------------------------------------------------------------
class ForceCurriculumState(AbstractCallbackState):
    running_return: jax.Array
    level: jax.Array


class ForceMagCurriculum(
    AbstractCallback[ForceCurriculumState, EpisodeReturnStepState]
):
    """Tracks episode returns, keeps an EMA of the env-mean last return and,
    in ``apply_curriculum``, weakens ``force_mag`` by 5% when the EMA is above
    threshold.  Uses ``jnp.where`` + ``eqx.tree_at`` and casts the new value
    to the env leaf's dtype."""

    threshold: float = 1.0

    def reset(self, ctx, *, key):
        return ForceCurriculumState(jnp.array(0.0, F32), jnp.array(0, I32))

    def step_reset(self, ctx, *, key):
        return EpisodeReturnTracker().step_reset(ctx, key=key)

    def on_step(self, ctx, *, key):
        return EpisodeReturnTracker().on_step(ctx, key=key)

    def on_iteration(self, ctx, *, key):
        mean_last = jnp.mean(ctx.step_state.last_return)
        running = 0.9 * ctx.state.running_return + 0.1 * mean_last
        return ForceCurriculumState(running.astype(F32), ctx.state.level)

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)

    def apply_curriculum(self, state, callback_state):
        harder = callback_state.running_return > self.threshold
        old = state.env.force_mag
        new = jnp.where(harder, old * 0.95, old).astype(old.dtype)
        state = eqx.tree_at(lambda s: s.env.force_mag, state, new)
        callback_state = eqx.tree_at(
            lambda c: c.level, callback_state, callback_state.level + harder.astype(I32)
        )
        return state, callback_state


# ---------------------------------------------------------------------------
# 16. Iteration-count driven Pendulum gravity ramp
# ---------------------------------------------------------------------------
class GravityState(AbstractCallbackState):
    current_g: jax.Array


class PendulumGravityRamp(AbstractIterationCallback[GravityState]):
    """Sets Pendulum ``g = g0 + dg * iteration_count`` in ``apply_curriculum``
    (int32 * Python float promoted, then cast to the env leaf dtype) and
    records the value in its own state."""

    g0: float = 8.0
    dg: float = 0.5

    def reset(self, ctx, *, key):
        return GravityState(jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        return ctx.state

    def apply_curriculum(self, state, callback_state):
        g = (self.g0 + self.dg * state.iteration_count).astype(state.env.g.dtype)
        state = eqx.tree_at(lambda s: s.env.g, state, g)
        return state, GravityState(g.astype(F32))


# ---------------------------------------------------------------------------
# 17/18. Built-ins: CallbackList composition, python list, EmptyCallback
# ---------------------------------------------------------------------------
def callback_list_combo():
    """Explicit ``CallbackList`` of a step tracker, an LR logger and the
    built-in ``EmptyCallback``."""
    return CallbackList(
        callbacks=[EpisodeReturnTracker(), LearningRateLogger(), EmptyCallback()]
    )


def python_list_of_callbacks():
    """A plain Python list passed as ``callback=`` (Lerax wraps it in a
    CallbackList): reward EMA + debug printer."""
    return [RewardEMACallback(), DebugPrintProgress()]


def builtin_empty():
    """Lerax's no-op ``EmptyCallback``."""
    return EmptyCallback()


# ---------------------------------------------------------------------------
# 19/20. Built-in progress bar and logging callback
# ---------------------------------------------------------------------------
def builtin_progress_bar():
    """Lerax's ``ProgressBarCallback`` (Rich bar driven by debug callbacks)."""
    return ProgressBarCallback(total_timesteps=None, name="probe")


def builtin_logging_console():
    """Lerax's ``LoggingCallback`` with a ``ConsoleBackend``."""
    return LoggingCallback(ConsoleBackend(), name="probe")


# ---------------------------------------------------------------------------
# 21. Guarded mean of completed-episode returns (no 0/0)
# ---------------------------------------------------------------------------
class CompletedStepState(AbstractCallbackStepState):
    episode_return: jax.Array
    completed_sum: jax.Array
    completed_count: jax.Array


class CompletedReturnState(AbstractCallbackState):
    mean_completed_return: jax.Array


class SafeMeanCompletedReturn(
    AbstractCallback[CompletedReturnState, CompletedStepState]
):
    """Sums returns of completed episodes per env; on_iteration divides the
    env-total by ``jnp.maximum(count, 1)`` so no episode yet gives 0, not NaN."""

    def reset(self, ctx, *, key):
        return CompletedReturnState(jnp.array(0.0, F32))

    def step_reset(self, ctx, *, key):
        return CompletedStepState(
            jnp.array(0.0, F32), jnp.array(0.0, F32), jnp.array(0, I32)
        )

    def on_step(self, ctx, *, key):
        ret = ctx.state.episode_return + ctx.reward
        return CompletedStepState(
            episode_return=jnp.where(ctx.done, 0.0, ret).astype(F32),
            completed_sum=(
                ctx.state.completed_sum + jnp.where(ctx.done, ret, 0.0)
            ).astype(F32),
            completed_count=ctx.state.completed_count + ctx.done.astype(I32),
        )

    def on_iteration(self, ctx, *, key):
        total = jnp.sum(ctx.step_state.completed_sum)
        count = jnp.sum(ctx.step_state.completed_count)
        return CompletedReturnState((total / jnp.maximum(count, 1)).astype(F32))

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)


# ---------------------------------------------------------------------------
# 22. PRNG carried in state and split properly
# ---------------------------------------------------------------------------
class RngState(AbstractCallbackState):
    rng: jax.Array
    last_sample: jax.Array


class RandomProbeSplitKey(AbstractIterationCallback[RngState]):
    """Keeps its own PRNG key in state (seeded from the reset ``key``) and
    splits it every iteration before sampling, so each draw is fresh."""

    def reset(self, ctx, *, key):
        return RngState(key, jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        rng, sub = jr.split(ctx.state.rng)
        return RngState(rng, jr.normal(sub, (), F32))


# ---------------------------------------------------------------------------
# 23. Python int kept static in state, progress fraction as array
# ---------------------------------------------------------------------------
class ProgressState(AbstractCallbackState):
    total_timesteps: int = eqx.field(static=True)
    fraction: jax.Array


class StaticTotalTimestepsProgress(AbstractIterationCallback[ProgressState]):
    """Stores the Python-int ``ctx.total_timesteps`` as a *static* field at
    training start (before the iteration scan) and keeps it unchanged in
    on_iteration, computing the completed fraction from
    ``ctx.algorithm.num_envs * num_steps``."""

    def reset(self, ctx, *, key):
        return ProgressState(0, jnp.array(0.0, F32))

    def on_training_start(self, ctx, *, key):
        return ProgressState(ctx.total_timesteps, jnp.array(0.0, F32))

    def on_iteration(self, ctx, *, key):
        done_steps = (
            ctx.iteration_count * ctx.algorithm.num_envs * ctx.algorithm.num_steps
        )
        frac = done_steps / ctx.state.total_timesteps
        return ProgressState(ctx.state.total_timesteps, frac.astype(F32))


# ---------------------------------------------------------------------------
# 24. lax.cond for conditional printing (instead of Python if)
# ---------------------------------------------------------------------------
class MilestoneState(AbstractCallbackState):
    milestones: jax.Array


class LaxCondMilestone(AbstractIterationCallback[MilestoneState]):
    """Every ``every`` iterations prints a milestone using ``lax.cond`` (both
    branches return None) and counts milestones with ``jnp.where``."""

    every: int = 2

    def reset(self, ctx, *, key):
        return MilestoneState(jnp.array(0, I32))

    def on_iteration(self, ctx, *, key):
        hit = ctx.iteration_count % self.every == 0
        lax.cond(
            hit,
            lambda: jax.debug.print(
                "milestone at iteration {i}", i=ctx.iteration_count
            ),
            lambda: None,
        )
        return MilestoneState(ctx.state.milestones + hit.astype(I32))


# ---------------------------------------------------------------------------
# 25. Summary printed at training end + fold_in PRNG
# ---------------------------------------------------------------------------
class SummaryState(AbstractCallbackState):
    best_mean_reward: jax.Array
    jitter: jax.Array


class TrainingEndSummary(AbstractCallback[SummaryState, RewardEMAStepState]):
    """Tracks the best env-mean reward EMA across iterations, derives a
    per-iteration key with ``jr.fold_in(key, iteration_count)`` for a jitter
    sample, and prints a summary with placeholders in on_training_end."""

    def reset(self, ctx, *, key):
        return SummaryState(jnp.array(-jnp.inf, F32), jnp.array(0.0, F32))

    def step_reset(self, ctx, *, key):
        return RewardEMACallback().step_reset(ctx, key=key)

    def on_step(self, ctx, *, key):
        return RewardEMACallback().on_step(ctx, key=key)

    def on_iteration(self, ctx, *, key):
        k = jr.fold_in(key, ctx.iteration_count)
        best = jnp.maximum(
            ctx.state.best_mean_reward, jnp.mean(ctx.step_state.reward_ema)
        )
        return SummaryState(best.astype(F32), jr.uniform(k, (), F32))

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        jax.debug.print(
            "done after {n} iterations; best mean reward EMA {b:.3f}",
            n=ctx.iteration_count,
            b=ctx.state.best_mean_reward,
        )
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)


CASES = [
    ("EpisodeReturnTracker", EpisodeReturnTracker, ALL),
    ("RewardEMACallback", RewardEMACallback, ALL),
    ("EarlyStopOnLoss", EarlyStopOnLoss, CHAINED_OPT),
    ("LearningRateLogger", LearningRateLogger, ALL),
    ("ChainedAdamLRLogger", ChainedAdamLRLogger, CHAINED_OPT),
    ("InjectedActorLRLogger", InjectedActorLRLogger, OFF_POLICY_Q),
    ("QLossEMA", QLossEMA, OFF_POLICY_Q),
    ("ValueEstimateTracker", ValueEstimateTracker, ON_POLICY),
    ("NextObservationNormTracker", NextObservationNormTracker, REPLAY),
    ("HyperparamSnapshot", HyperparamSnapshot, ALL),
    ("DebugPrintProgress", DebugPrintProgress, ALL),
    ("HostMetricsSink", lambda: HostMetricsSink(MetricsRecorder()), ALL),
    ("BuiltinScheduledGravity", builtin_scheduled_gravity, CARTPOLE),
    ("BuiltinDocsMultiFieldCurriculum", builtin_docs_multifield_curriculum, PENDULUM),
    ("ForceMagCurriculum", ForceMagCurriculum, CARTPOLE),
    ("PendulumGravityRamp", PendulumGravityRamp, PENDULUM),
    ("CallbackListCombo", callback_list_combo, ALL),
    ("PythonListOfCallbacks", python_list_of_callbacks, ALL),
    ("BuiltinEmptyCallback", builtin_empty, ALL),
    ("BuiltinProgressBar", builtin_progress_bar, ALL),
    ("BuiltinLoggingConsole", builtin_logging_console, ALL),
    ("SafeMeanCompletedReturn", SafeMeanCompletedReturn, ALL),
    ("RandomProbeSplitKey", RandomProbeSplitKey, ALL),
    ("StaticTotalTimestepsProgress", StaticTotalTimestepsProgress, ALL),
    ("LaxCondMilestone", LaxCondMilestone, ALL),
    ("TrainingEndSummary", TrainingEndSummary, ALL),
]
