"""`EarlyStoppingCallback`: stops training once a metric stops improving."""

from __future__ import annotations

import dataclasses
import math
from typing import Literal, final

import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, Key

from .._callback import AbstractCallback
from .._contexts import IterationContext, ResetContext, StepContext, TrainingContext
from .._states import AbstractCallbackState
from ._episode_stats import (
    EpisodeStatsCallback,
    EpisodeStatsState,
    EpisodeStatsStepState,
)

# Metrics computed from the episodes themselves, by `EpisodeStatsState` field.
_EPISODE_METRICS = {"episode_return": "mean_return", "episode_length": "mean_length"}


@final
class EarlyStoppingState(AbstractCallbackState):
    """What `EarlyStoppingCallback` remembers between iterations.

    **Attributes:**

    - `best`: the best value of the metric so far; starts at `-inf` (mode `"max"`)
        or `+inf` (mode `"min"`), so that the first value is an improvement.
    - `wait`: iterations since the metric last improved.
    - `value`: the metric's latest value (`0.0` before the first iteration).
    - `episode_stats`: the episode statistics, aggregated as
        `EpisodeStatsCallback` does.
    """

    best: Float[Array, ""]
    wait: Int[Array, ""]
    value: Float[Array, ""]
    episode_stats: EpisodeStatsState


@final
class EarlyStoppingCallback(
    AbstractCallback[EarlyStoppingState, EpisodeStatsStepState]
):
    """Stops training when a metric has not improved for `patience` iterations.

    After each iteration the metric is compared with the best value so far: it
    improves when it beats the best by more than `min_delta`. Once `patience`
    iterations in a row bring no improvement, `continue_training` returns false.

    The metric is either an entry of the algorithm's training log, or a statistic
    of the episodes, which the callback then tracks itself with the step logic of
    `EpisodeStatsCallback` (its step state is an `EpisodeStatsStepState`):

    - `"episode_return"`: the mean moving-average return of finished episodes;
    - `"episode_length"`: the same for episode lengths.

    Iterations before the first episode has finished neither improve an episode
    metric nor count against `patience`. A NaN metric never improves.

    **Arguments:**

    - `metric`: `"episode_return"`, `"episode_length"`, or the name of a scalar in
        `IterationContext.training_log`, such as `"loss"`.
    - `patience`: how many iterations without improvement to allow.
    - `min_delta`: how much the metric must beat the best value by to improve.
    - `mode`: `"max"` if larger values are better, `"min"` if smaller ones are.
    - `smoothing`: the moving averages' weight of each new episode, as in
        `EpisodeStatsCallback`.

    **Raises:**

    `KeyError` at trace time when `metric` is neither an episode metric nor in the
    training log, listing the keys the log has.
    """

    metric: str
    patience: int
    min_delta: float
    mode: Literal["max", "min"]
    episode_stats: EpisodeStatsCallback

    def __init__(
        self,
        metric: str,
        *,
        patience: int = 5,
        min_delta: float = 0.0,
        mode: Literal["max", "min"] = "max",
        smoothing: float = 0.1,
    ):
        """Validate the options here, with messages that name the argument and what it
        must be, rather than fail later inside a traced method; the episode metrics
        come from an `EpisodeStatsCallback` held as a field."""
        if not isinstance(metric, str) or not metric:
            raise TypeError(
                f"`EarlyStoppingCallback(metric=...)` must be a non-empty str, got "
                f"{metric!r}; e.g. `'episode_return'` or a training-log key such as "
                "`'loss'`."
            )
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(
                f"`EarlyStoppingCallback(patience=...)` must be a positive int, got "
                f"{patience!r}."
            )
        if not (math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(
                f"`EarlyStoppingCallback(min_delta=...)` must be finite and at least "
                f"0, got {min_delta!r}."
            )
        if mode not in ("max", "min"):
            raise ValueError(
                f"`EarlyStoppingCallback(mode=...)` must be 'max' or 'min', got "
                f"{mode!r}; use 'max' for returns, 'min' for losses."
            )
        self.metric = metric
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = mode
        self.episode_stats = EpisodeStatsCallback(writer=None, smoothing=smoothing)

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> EarlyStoppingState:
        worst = -jnp.inf if self.mode == "max" else jnp.inf
        return EarlyStoppingState(
            best=jnp.asarray(worst, jnp.float32),
            wait=jnp.zeros((), jnp.int32),
            value=jnp.zeros((), jnp.float32),
            episode_stats=self.episode_stats.reset(ctx, key=key),
        )

    def step_reset(
        self, ctx: ResetContext, *, key: Key[Array, ""]
    ) -> EpisodeStatsStepState:
        return self.episode_stats.step_reset(ctx, key=key)

    def on_step(
        self, ctx: StepContext, *, key: Key[Array, ""]
    ) -> EpisodeStatsStepState:
        return self.episode_stats.on_step(ctx, key=key)

    def _metric(
        self, ctx: IterationContext, episode_stats: EpisodeStatsState
    ) -> tuple[Array, Bool[Array, ""]]:
        """The metric's value this iteration, and whether it has one."""
        if self.metric in _EPISODE_METRICS:
            value = getattr(episode_stats, _EPISODE_METRICS[self.metric])
            return value, episode_stats.episodes > 0
        try:
            value = ctx.training_log[self.metric]
        except KeyError as error:
            raise KeyError(
                f"`EarlyStoppingCallback(metric={self.metric!r})`: the training log "
                f"has no {self.metric!r}; its keys are {sorted(ctx.training_log)}. "
                "Pass one of those as `metric`, or 'episode_return' or "
                "'episode_length' to track episodes."
            ) from error
        if jnp.shape(value) != ():
            raise ValueError(
                f"`EarlyStoppingCallback(metric={self.metric!r})` needs a scalar, but "
                f"the training log's {self.metric!r} has shape {jnp.shape(value)}; "
                "log a scalar summary of it instead."
            )
        return jnp.asarray(value), jnp.array(True)

    def on_iteration(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> EarlyStoppingState:
        state = ctx.state
        episode_ctx = dataclasses.replace(ctx, state=state.episode_stats)
        episode_stats = self.episode_stats.on_iteration(episode_ctx, key=key)
        value, valid = self._metric(ctx, episode_stats)
        value = value.astype(state.value.dtype)
        # Comparing with an infinite `best` is fine: `inf + min_delta` is `inf`.
        if self.mode == "max":
            improved = value > state.best + self.min_delta
        else:
            improved = value < state.best - self.min_delta
        improved = jnp.logical_and(valid, improved)
        wait = jnp.where(improved, 0, jnp.where(valid, state.wait + 1, state.wait))
        return EarlyStoppingState(
            best=jnp.where(improved, value, state.best).astype(state.best.dtype),
            wait=wait.astype(state.wait.dtype),
            value=jnp.where(valid, value, state.value).astype(state.value.dtype),
            episode_stats=episode_stats,
        )

    def on_training_start(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> EarlyStoppingState:
        del key
        return ctx.state

    def on_training_end(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> EarlyStoppingState:
        del key
        return ctx.state

    def continue_training(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        del key
        return jnp.asarray(ctx.state.wait < self.patience)
