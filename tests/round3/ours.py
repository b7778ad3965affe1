"""Callbacks against `lerax_callback`, written as RL practitioners write them:
loggers, samplers, exploration counters and evaluation seeds, each defective one
next to a correct one doing the same job the way training needs it done.

`CASES` labels each by what a jitted training loop does with it:

- `crash`: tracing or running the training loop raises;
- `wrong numbers`: training runs, but what the callback computes or reports is
  wrong (the same randomness twice, NaN, values lost);
- `trace-time only`: training runs, but what the callback prints or logs
  happens once, while tracing, and shows a tracer instead of a value;
- `correct`: does what its author meant on every call.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jax import lax
from jaxtyping import Array, Bool, Float, Int, Key

import lerax_callback as lc

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)  # as `logging.basicConfig(level=logging.INFO)` would
LOG.addHandler(logging.NullHandler())
LOG.propagate = False  # the suite's own log capture stays out of it

HOST_LINES: list[str] = []
"""Where the host functions below put their lines (a dashboard's feed)."""

# ---------------------------------------------------------------------- states


class EpisodeStep(lc.AbstractCallbackStepState):
    """One environment's running return, steps into the episode, and the return
    and count of the episodes it finished."""

    ret: Float[Array, ""]
    length: Int[Array, ""]
    finished_return: Float[Array, ""]
    finished: Int[Array, ""]


class MeanReturn(lc.AbstractCallbackState):
    """The mean return of finished episodes, and iterations seen."""

    mean: Float[Array, ""]
    iterations: Int[Array, ""]


def _first_step() -> EpisodeStep:
    return EpisodeStep(
        jnp.zeros((), jnp.float32),
        jnp.zeros((), jnp.int32),
        jnp.zeros((), jnp.float32),
        jnp.zeros((), jnp.int32),
    )


def _track(ctx: lc.StepContext, reward: Float[Array, ""]) -> EpisodeStep:
    """The episode bookkeeping every tracker below shares, reset on `done`."""
    ret = ctx.state.ret + reward
    return EpisodeStep(
        jnp.where(ctx.done, 0.0, ret).astype(jnp.float32),
        jnp.where(ctx.done, 0, ctx.state.length + 1).astype(jnp.int32),
        ctx.state.finished_return + jnp.where(ctx.done, ret, 0.0).astype(jnp.float32),
        ctx.state.finished + ctx.done.astype(jnp.int32),
    )


class EpisodeTracker(lc.AbstractCallback[MeanReturn, EpisodeStep]):
    """Tracks finished episodes per environment; reports their mean return each
    iteration, guarded for iterations in which no episode finished yet."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> MeanReturn:
        return MeanReturn(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> EpisodeStep:
        return _first_step()

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> EpisodeStep:
        return _track(ctx, ctx.reward.astype(jnp.float32))

    def mean_return(self, ctx: lc.IterationContext) -> Float[Array, ""]:
        total = jnp.sum(ctx.step_state.finished_return)
        count = jnp.sum(ctx.step_state.finished)
        return (total / jnp.maximum(count, 1)).astype(jnp.float32)

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> MeanReturn:
        return MeanReturn(self.mean_return(ctx), ctx.state.iterations + 1)

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> MeanReturn:
        return ctx.state

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> MeanReturn:
        return ctx.state


# ------------------------------------------------------------ printing, logging


class DebugPrintsStepFString(EpisodeTracker):
    """Prints each step's reward and done flag for debugging, with an f-string
    handed to `jax.debug.print`: the text is made while tracing, so every step
    prints `JitTracer(...)`."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> EpisodeStep:
        jax.debug.print(f"reward={ctx.reward} done={ctx.done}")
        return super().on_step(ctx, key=key)


class DebugPrintsStepValues(EpisodeTracker):
    """`DebugPrintsStepFString` leaving the formatting to `jax.debug.print`."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> EpisodeStep:
        jax.debug.print("reward={r} done={d}", r=ctx.reward, d=ctx.done)
        return super().on_step(ctx, key=key)


class LogsFinishedEpisodes(EpisodeTracker):
    """Logs each finished episode's return from a helper that `on_step` calls,
    with a `%` format: the record is made once, while tracing, and reads
    `JitTracer(...)`."""

    def report(self, ret: Float[Array, ""]) -> None:
        LOG.info("episode return %s" % ret)  # noqa: UP031 - as written

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> EpisodeStep:
        state = super().on_step(ctx, key=key)
        self.report(ctx.state.ret + ctx.reward.astype(jnp.float32))
        return state


class LogsRoundedReturn(LogsFinishedEpisodes):
    """The same log with two decimals, `"%.2f" % ret`: `%f` needs a concrete
    float, and tracing raises `ConcretizationTypeError`."""

    def report(self, ret: Float[Array, ""]) -> None:
        LOG.info("episode return %.2f" % ret)  # noqa: UP031 - as written


class LogsFromHost(LogsFinishedEpisodes):
    """The helper hands the value to a host function, which formats and logs it
    on every step."""

    def report(self, ret: Float[Array, ""]) -> None:
        jax.debug.callback(lambda r: LOG.info("episode return %.2f", r), ret)


class PrintsStrOfReward(EpisodeTracker):
    """`print(str(...))` of the reward on every step: once, while tracing."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> EpisodeStep:
        print("step reward: " + str(ctx.reward))
        return super().on_step(ctx, key=key)


UNCONFIGURED = logging.getLogger("round3_training.returns")
"""A module's logger in a project that configures logging in its training script
only: where the checks run, its `info` records are below the root's `WARNING`."""


class LogsWithUnconfiguredLogger(EpisodeTracker):
    """Logs each reward through an f-string to a logger that the training script
    sets to `INFO`: the record is made once, while tracing, and reads
    `JitTracer(...)` (and where logging is not configured, nothing is logged at
    all)."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> EpisodeStep:
        UNCONFIGURED.info(f"reward {ctx.reward} done {ctx.done}")
        return super().on_step(ctx, key=key)


class DebugPrintsStrArgument(EpisodeTracker):
    """Hands `jax.debug.print` the reward as text, `str(ctx.reward)`: the text is
    made while tracing, so every step prints `JitTracer(...)`."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> EpisodeStep:
        jax.debug.print("reward {}", str(ctx.reward))
        return super().on_step(ctx, key=key)


class TaggedDebugPrint(EpisodeTracker):
    """Prints a header once, at the start of training, and each step's reward
    under a tag formatted from the callback's own static field: an f-string whose
    only traced value is left to `jax.debug.print`'s braces."""

    tag: str = eqx.field(static=True, default="cartpole-ppo")

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> MeanReturn:
        print(f"[{self.tag}] training starts")
        return ctx.state

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> EpisodeStep:
        jax.debug.print(f"[{self.tag}] reward {{r:.3f}}", r=ctx.reward)
        return super().on_step(ctx, key=key)


def _log_scale(mean: Any) -> None:
    """A dashboard's host function: the mean return on a log scale."""
    HOST_LINES.append(f"log10 mean return {math.log10(float(mean)):.2f}")


def _log_scale_guarded(mean: Any) -> None:
    """`_log_scale` for returns of any sign: the magnitude, signed."""
    value = float(mean)
    HOST_LINES.append(
        f"log10 mean return {math.copysign(math.log10(1.0 + abs(value)), value):.2f}"
    )


class ReportsLogScale(EpisodeTracker):
    """Hands the mean return to a host function that takes its `log10`: fine for
    positive returns, `ValueError: math domain error` for zero or negative ones,
    which a host callback raises into training."""

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> MeanReturn:
        state = super().on_iteration(ctx, key=key)
        jax.debug.callback(_log_scale, state.mean)
        return state


class ReportsLogScaleGuarded(EpisodeTracker):
    """`ReportsLogScale` with a host function defined for every return."""

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> MeanReturn:
        state = super().on_iteration(ctx, key=key)
        jax.debug.callback(_log_scale_guarded, state.mean)
        return state


# ------------------------------------------------------------------ randomness


class Perturbation(lc.AbstractCallbackState):
    """A parameter-noise probe: the last perturbation scale tried, and how many
    of its entries a dropout-style mask kept."""

    scale: Float[Array, ""]
    kept: Int[Array, ""]


class PerturbationProbe(lc.AbstractIterationCallback[Perturbation]):
    """Draws a noise vector and a dropout mask each iteration, as a
    parameter-space-noise probe does: the noise from one sub-key, the mask from
    the other."""

    width: int = eqx.field(static=True, default=16)

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Perturbation:
        return Perturbation(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def draws(
        self, key: Key[Array, ""]
    ) -> tuple[Float[Array, " w"], Bool[Array, " w"]]:
        k_noise, k_mask = jr.split(key)
        noise = jr.normal(k_noise, (self.width,), jnp.float32)
        mask = jr.bernoulli(k_mask, 0.9, (self.width,))
        return noise, mask

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Perturbation:
        noise, mask = self.draws(key)
        scale = jnp.sqrt(jnp.mean(jnp.where(mask, noise, 0.0) ** 2))
        return Perturbation(scale.astype(jnp.float32), jnp.sum(mask, dtype=jnp.int32))


class PerturbationOneKey(PerturbationProbe):
    """The noise and the mask drawn from the same key: the mask is a function of
    the noise, not independent of it."""

    def draws(
        self, key: Key[Array, ""]
    ) -> tuple[Float[Array, " w"], Bool[Array, " w"]]:
        noise = jr.normal(key, (self.width,), jnp.float32)
        mask = jr.bernoulli(key, 0.9, (self.width,))
        return noise, mask


class PerturbationSplitInline(PerturbationProbe):
    """Splits inline at each draw, `jr.split(key)[0]` and `jr.split(key)[1]`:
    the two splits are the same computation, so the noise and the mask get the
    two halves of one split, as with `k_noise, k_mask = jr.split(key)`."""

    def draws(
        self, key: Key[Array, ""]
    ) -> tuple[Float[Array, " w"], Bool[Array, " w"]]:
        noise = jr.normal(jr.split(key)[0], (self.width,), jnp.float32)
        mask = jr.bernoulli(jr.split(key)[1], 0.9, (self.width,))
        return noise, mask


class PerturbationLoopSplit(PerturbationProbe):
    """Draws the noise in three parts, `key, sub = jr.split(key)` before each,
    and the mask from the key carried out of the loop."""

    def draws(
        self, key: Key[Array, ""]
    ) -> tuple[Float[Array, " w"], Bool[Array, " w"]]:
        parts = []
        for _ in range(3):
            key, sub = jr.split(key)
            parts.append(jr.normal(sub, (self.width,), jnp.float32))
        mask = jr.bernoulli(key, 0.9, (self.width,))
        return sum(parts) / 3.0, mask


class EvalSeed(lc.AbstractCallbackState):
    """The seed of the next evaluation episode, and the iteration it was drawn."""

    seed: Int[Array, ""]
    iteration: Int[Array, ""]


class EvalSeeder(lc.AbstractIterationCallback[EvalSeed]):
    """Picks a random seed for each iteration's evaluation episode, from the
    method's key folded with the iteration count."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> EvalSeed:
        return EvalSeed(jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))

    def eval_key(self, ctx: lc.IterationContext, key: Key[Array, ""]) -> Any:
        return jr.fold_in(key, ctx.iteration_count)

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> EvalSeed:
        seed = jr.randint(self.eval_key(ctx, key), (), 0, 2**31 - 1, jnp.int32)
        return EvalSeed(seed, jnp.asarray(ctx.iteration_count, jnp.int32))


class EvalSeederFixedKey(EvalSeeder):
    """Seeds the evaluation from `jr.key(0)` inside the method: every iteration
    evaluates on the same episode."""

    def eval_key(self, ctx: lc.IterationContext, key: Key[Array, ""]) -> Any:
        return jr.key(0)


class EvalSeederSplitThenDraw(EvalSeeder):
    """Splits the key for the evaluation, then draws the seed from the key it
    split: the seed repeats randomness the sub-key also carries."""

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> EvalSeed:
        eval_key, _ = jr.split(key)
        seed = jr.randint(key, (), 0, 2**31 - 1, jnp.int32)
        offset = jr.randint(eval_key, (), 0, 7, jnp.int32)
        return EvalSeed(seed + offset, jnp.asarray(ctx.iteration_count, jnp.int32))


class Sampled(lc.AbstractCallbackStepState):
    """A running return, and the steps picked for a replay-inspection log."""

    ret: Float[Array, ""]
    picked: Int[Array, ""]


class TransitionSampler(lc.AbstractStepCallback[Sampled]):
    """Picks about one transition in twenty for inspection, with the method's
    key."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Sampled:
        return Sampled(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def coin(self, key: Key[Array, ""]) -> Float[Array, ""]:
        return jr.uniform(key)

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Sampled:
        pick = self.coin(key) < 0.05
        ret = ctx.state.ret + ctx.reward.astype(jnp.float32)
        return Sampled(
            jnp.where(ctx.done, 0.0, ret), ctx.state.picked + pick.astype(jnp.int32)
        )


class TransitionSamplerSeeded(TransitionSampler):
    """Picks with `jr.PRNGKey(42)` for "reproducibility": every step of every
    environment makes the same pick, so it inspects all transitions or none."""

    def coin(self, key: Key[Array, ""]) -> Float[Array, ""]:
        return jr.uniform(jr.PRNGKey(42))


class Probe(lc.AbstractCallbackState):
    """A key kept across iterations, and the environment picked to watch."""

    rng: Key[Array, ""]
    watched: Int[Array, ""]


class WatchesRandomEnv(lc.AbstractIterationCallback[Probe]):
    """Watches a random one of four environments each iteration, drawing from a
    key kept in its state: split on every call, one half drawn, one kept."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Probe:
        return Probe(key, jnp.zeros((), jnp.int32))

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Probe:
        rng, draw = jr.split(ctx.state.rng)
        return Probe(rng, jr.randint(draw, (), 0, 4, jnp.int32))


class WatchesRandomEnvStale(WatchesRandomEnv):
    """Draws from `state.rng` and returns it as it was: every iteration watches
    the same environment."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Probe:
        watched = jr.randint(ctx.state.rng, (), 0, 4, jnp.int32)
        return Probe(ctx.state.rng, watched)


class WatchesRandomEnvStoresDrawn(WatchesRandomEnv):
    """Splits the stored key but keeps the half it drew from: the next
    iteration splits a key this one already consumed."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Probe:
        rng, draw = jr.split(ctx.state.rng)
        return Probe(draw, jr.randint(draw, (), 0, 4, jnp.int32))


class Exploration(lc.AbstractCallbackStepState):
    """Steps taken, and how many an epsilon-greedy schedule made random."""

    steps: Int[Array, ""]
    explored: Int[Array, ""]


class EpsilonSchedule(lc.AbstractStepCallback[Exploration]):
    """Counts the steps a linearly decaying epsilon-greedy schedule explores
    (from 1.0 to 0.05 over 1000 steps), one `jr.bernoulli(key, eps)` per step."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Exploration:
        return Exploration(jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Exploration:
        frac = ctx.state.steps.astype(jnp.float32) / 1000.0
        eps = jnp.maximum(0.05, 1.0 - frac)
        explore = jr.bernoulli(key, eps)
        return Exploration(
            ctx.state.steps + 1, ctx.state.explored + explore.astype(jnp.int32)
        )


class BootstrapState(lc.AbstractCallbackState):
    """A bootstrap estimate of the spread of the environments' returns."""

    spread: Float[Array, ""]


class BootstrapsReturns(lc.AbstractCallback[BootstrapState, EpisodeStep]):
    """Resamples the environments' running returns once per environment, with
    `jr.split(key, n)` and one sub-key each, and keeps the spread of the
    resampled means; every fifth iteration also perturbs it, with a `lax.cond`
    drawing once in each branch."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> BootstrapState:
        return BootstrapState(jnp.zeros((), jnp.float32))

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> EpisodeStep:
        return _first_step()

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> EpisodeStep:
        return _track(ctx, ctx.reward.astype(jnp.float32))

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> BootstrapState:
        returns = jnp.atleast_1d(ctx.step_state.ret)
        n = returns.shape[0]
        k_boot, k_jitter = jr.split(key)
        keys = jr.split(k_boot, n)
        means = jax.vmap(lambda k: jr.choice(k, returns, (n,)).mean())(keys)
        jitter = lax.cond(
            ctx.iteration_count % 5 == 0,
            lambda k: 1e-3 * jr.normal(k, dtype=jnp.float32),
            lambda k: jr.uniform(k, dtype=jnp.float32) * 0.0,
            k_jitter,
        )
        return BootstrapState((jnp.std(means) + jitter).astype(jnp.float32))

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> BootstrapState:
        return ctx.state

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> BootstrapState:
        return ctx.state


# ---------------------------------------------------------------- control flow


class LogsEveryTenth(EpisodeTracker):
    """Prints the mean return every tenth iteration with a Python `if`: the count
    is traced, and `bool()` of it raises `TracerBoolConversionError`."""

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> MeanReturn:
        state = super().on_iteration(ctx, key=key)
        if ctx.iteration_count % 10 == 0:
            jax.debug.print(
                "iteration {i}: mean return {m}", i=state.iterations, m=state.mean
            )
        return state


class LogsEveryTenthWithCond(EpisodeTracker):
    """`LogsEveryTenth` with `lax.cond`: the choice is made on every call."""

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> MeanReturn:
        state = super().on_iteration(ctx, key=key)
        lax.cond(
            ctx.iteration_count % 10 == 0,
            lambda i, m: jax.debug.print("iteration {i}: mean return {m}", i=i, m=m),
            lambda i, m: None,
            state.iterations,
            state.mean,
        )
        return state


# ---------------------------------------------------------- state shape, dtype


class RewardSum(lc.AbstractCallbackStepState):
    """A per-environment sum of rewards."""

    total: jax.Array


class IntRewardSum(lc.AbstractStepCallback[RewardSum]):
    """Starts the sum as an `int32` zero and adds float rewards to it: the
    `lax.scan` carry turns from `int32` into `float32`."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> RewardSum:
        return RewardSum(jnp.zeros((), dtype=jnp.int32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> RewardSum:
        return RewardSum(ctx.state.total + ctx.reward)


class Episodes(lc.AbstractCallbackState):
    """A summary of the environments' episodes."""

    value: jax.Array


class EpisodeSummary(lc.AbstractCallback[Episodes, EpisodeStep]):
    """Tracks episodes per environment, summarised each iteration by
    `summary`."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Episodes:
        return Episodes(jnp.zeros((), jnp.float32))

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> EpisodeStep:
        return _first_step()

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> EpisodeStep:
        return _track(ctx, ctx.reward.astype(jnp.float32))

    def summary(self, ctx: lc.IterationContext) -> jax.Array:
        return jnp.mean(ctx.step_state.ret).astype(jnp.float32)

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Episodes:
        return Episodes(self.summary(ctx))

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Episodes:
        return ctx.state

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Episodes:
        return ctx.state


class AveragesIntoIntField(EpisodeSummary):
    """Stores the mean count of finished episodes in a field started as `int32`:
    `jnp.mean` of it is `float32`, so the state's dtype drifts."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Episodes:
        return Episodes(jnp.zeros((), jnp.int32))

    def summary(self, ctx: lc.IterationContext) -> jax.Array:
        return jnp.mean(ctx.step_state.finished)


class KeepsLastReturns(EpisodeSummary):
    """Keeps the running returns at the end of the iteration, started as a
    scalar: with several environments the state becomes one per environment."""

    def summary(self, ctx: lc.IterationContext) -> jax.Array:
        return ctx.step_state.ret.astype(jnp.float32)


class Window(lc.AbstractCallbackState):
    """The last eight iterations' mean returns, in a ring, and where the next
    goes."""

    returns: Float[Array, " 8"]
    index: Int[Array, ""]


class ReturnWindow(lc.AbstractCallback[Window, EpisodeStep]):
    """A moving window of mean returns in a fixed-size ring written with
    `.at[i].set`, averaged over the environments."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Window:
        return Window(jnp.zeros((8,), jnp.float32), jnp.zeros((), jnp.int32))

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> EpisodeStep:
        return _first_step()

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> EpisodeStep:
        return _track(ctx, ctx.reward.astype(jnp.float32))

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Window:
        mean = jnp.mean(ctx.step_state.ret).astype(jnp.float32)
        returns = ctx.state.returns.at[ctx.state.index % 8].set(mean)
        return Window(returns, ctx.state.index + 1)

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Window:
        return ctx.state

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Window:
        return ctx.state


class ReturnsStateAndMetrics(EpisodeTracker):
    """Returns `(state, metrics)` from `on_iteration`, as a training step of its
    author's own does: the loop's carry is a `MeanReturn`, not a tuple."""

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Any:
        state = super().on_iteration(ctx, key=key)
        return state, {"mean_return": state.mean}


class KeepsHistory(EpisodeTracker):
    """Appends each iteration's mean return to a list on the callback, to plot
    after training: under `jax.jit` the method runs once, while tracing, so the
    list gets one tracer, or nothing, never the values."""

    history: list[Any] = eqx.field(default_factory=list)

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> MeanReturn:
        state = super().on_iteration(ctx, key=key)
        self.history.append(state.mean)
        return state


class KeepsHistoryOnHost(EpisodeTracker):
    """`KeepsHistory` sending each mean to a host-side list through
    `jax.debug.callback`, once per iteration."""

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> MeanReturn:
        state = super().on_iteration(ctx, key=key)
        jax.debug.callback(
            lambda m: HOST_LINES.append(f"mean {float(m):.3f}"), state.mean
        )
        return state


class MeanBeforeFirstEpisode(EpisodeTracker):
    """The mean return of finished episodes per environment, then over
    environments: an environment that finished no episode yet gives `0/0`, NaN,
    and so does the mean."""

    def mean_return(self, ctx: lc.IterationContext) -> Float[Array, ""]:
        per_env = ctx.step_state.finished_return / ctx.step_state.finished
        return jnp.mean(per_env).astype(jnp.float32)


# ------------------------------------------------------------------- the table

CRASH = "crash"
WRONG = "wrong numbers"
TRACE_ONLY = "trace-time only"
CORRECT = "correct"

CASES: list[tuple[str, Any, str, str | None, str]] = [
    # defective
    (
        "DebugPrintsStepFString",
        DebugPrintsStepFString,
        TRACE_ONLY,
        "side_effects",
        "every step prints the tracer's text, never a reward",
    ),
    (
        "LogsFinishedEpisodes",
        LogsFinishedEpisodes,
        TRACE_ONLY,
        "side_effects",
        "one log record, while tracing, reading `JitTracer(float32[])`",
    ),
    (
        "LogsRoundedReturn",
        LogsRoundedReturn,
        CRASH,
        "jit",
        "`%.2f` of a tracer raises `ConcretizationTypeError` while tracing",
    ),
    (
        "PrintsStrOfReward",
        PrintsStrOfReward,
        TRACE_ONLY,
        "side_effects",
        "prints `JitTracer(float32[])` once, while tracing",
    ),
    (
        "LogsWithUnconfiguredLogger",
        LogsWithUnconfiguredLogger,
        TRACE_ONLY,
        "side_effects",
        "one record, while tracing, reading `JitTracer(float32[])`",
    ),
    (
        "DebugPrintsStrArgument",
        DebugPrintsStrArgument,
        TRACE_ONLY,
        "side_effects",
        "every step prints the tracer's text, never a reward",
    ),
    (
        "PerturbationOneKey",
        PerturbationOneKey,
        WRONG,
        "prng",
        "the mask is drawn from the noise's key: not independent of it",
    ),
    (
        "EvalSeederFixedKey",
        EvalSeederFixedKey,
        WRONG,
        "prng",
        "every iteration evaluates on the same seed",
    ),
    (
        "EvalSeederSplitThenDraw",
        EvalSeederSplitThenDraw,
        WRONG,
        "prng",
        "a split key drawn again: the seed shares randomness with its sub-key",
    ),
    (
        "TransitionSamplerSeeded",
        TransitionSamplerSeeded,
        WRONG,
        "prng",
        "every step of every environment makes the same pick",
    ),
    (
        "WatchesRandomEnvStale",
        WatchesRandomEnvStale,
        WRONG,
        "prng",
        "the stored key never changes: the same environment every iteration",
    ),
    (
        "WatchesRandomEnvStoresDrawn",
        WatchesRandomEnvStoresDrawn,
        WRONG,
        "prng",
        "the stored key was drawn from: the next split repeats its randomness",
    ),
    (
        "ReportsLogScale",
        ReportsLogScale,
        CRASH,
        "runs",
        "the host function raises `ValueError` for a mean return of zero or less",
    ),
    (
        "LogsEveryTenth",
        LogsEveryTenth,
        CRASH,
        "jit",
        "a Python `if` on the traced iteration count",
    ),
    (
        "IntRewardSum",
        IntRewardSum,
        CRASH,
        "structure",
        "the carry's dtype turns from int32 into float32 in `lax.scan`",
    ),
    (
        "AveragesIntoIntField",
        AveragesIntoIntField,
        CRASH,
        "structure",
        "the iteration state's dtype turns from int32 into float32",
    ),
    (
        "KeepsLastReturns",
        KeepsLastReturns,
        CRASH,
        "structure",
        "the iteration state's shape turns from a scalar into one per environment",
    ),
    (
        "ReturnsStateAndMetrics",
        ReturnsStateAndMetrics,
        CRASH,
        "types",
        "`on_iteration` returns a tuple where the loop carries a `MeanReturn`",
    ),
    (
        "KeepsHistory",
        KeepsHistory,
        WRONG,
        "purity",
        "the list on the callback gets a tracer at most, never the means",
    ),
    (
        "MeanBeforeFirstEpisode",
        MeanBeforeFirstEpisode,
        WRONG,
        "finite",
        "NaN mean return until every environment has finished an episode",
    ),
    # correct
    ("EpisodeTracker", EpisodeTracker, CORRECT, None, "guarded mean"),
    ("DebugPrintsStepValues", DebugPrintsStepValues, CORRECT, None, "values printed"),
    ("LogsFromHost", LogsFromHost, CORRECT, None, "formats and logs on the host"),
    (
        "ReportsLogScaleGuarded",
        ReportsLogScaleGuarded,
        CORRECT,
        None,
        "a host function defined for every value",
    ),
    ("PerturbationProbe", PerturbationProbe, CORRECT, None, "one sub-key per draw"),
    ("EvalSeeder", EvalSeeder, CORRECT, None, "`jr.fold_in(key, iteration_count)`"),
    ("TransitionSampler", TransitionSampler, CORRECT, None, "picks with its key"),
    ("WatchesRandomEnv", WatchesRandomEnv, CORRECT, None, "stored key split each call"),
    ("EpsilonSchedule", EpsilonSchedule, CORRECT, None, "`jr.bernoulli(key, eps)`"),
    (
        "BootstrapsReturns",
        BootstrapsReturns,
        CORRECT,
        None,
        "`jr.split(key, n)` under `vmap`, a `lax.cond` drawing once per branch",
    ),
    ("LogsEveryTenthWithCond", LogsEveryTenthWithCond, CORRECT, None, "`lax.cond`"),
    ("ReturnWindow", ReturnWindow, CORRECT, None, "a ring buffer with `.at[i].set`"),
    ("TaggedDebugPrint", TaggedDebugPrint, CORRECT, None, "static text formatted"),
    (
        "PerturbationSplitInline",
        PerturbationSplitInline,
        CORRECT,
        None,
        "two identical splits, each half drawn once",
    ),
    (
        "PerturbationLoopSplit",
        PerturbationLoopSplit,
        CORRECT,
        None,
        "`key, sub = jr.split(key)` in a Python loop",
    ),
    (
        "KeepsHistoryOnHost",
        KeepsHistoryOnHost,
        CORRECT,
        None,
        "history kept on the host",
    ),
]
