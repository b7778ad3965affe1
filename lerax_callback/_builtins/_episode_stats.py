"""`EpisodeStatsCallback`: episode returns and lengths, tracked inside `jax.jit`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, final

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike
from jaxtyping import Array, Bool, Float, Int, Key

from .._callback import AbstractCallback
from .._checking import is_checking
from .._contexts import IterationContext, ResetContext, StepContext, TrainingContext
from .._states import AbstractCallbackState, AbstractCallbackStepState


@final
class EpisodeStatsStepState(AbstractCallbackStepState):
    """One environment's episode statistics.

    Batched along axis 0 when an algorithm runs several environments.

    **Attributes:**

    - `episode_return`: the return of the episode in progress so far.
    - `episode_length`: the steps of the episode in progress so far.
    - `average_return`: an exponential moving average of the returns of finished
        episodes (the first finished episode's return until a second one ends).
    - `average_length`: the same average of finished episodes' lengths.
    - `episodes`: how many episodes have finished.
    """

    episode_return: Float[Array, ""]
    episode_length: Int[Array, ""]
    average_return: Float[Array, ""]
    average_length: Float[Array, ""]
    episodes: Int[Array, ""]


@final
class EpisodeStatsState(AbstractCallbackState):
    """Episode statistics aggregated over environments at the end of an iteration.

    **Attributes:**

    - `mean_return`: the mean, over environments that have finished at least one
        episode, of their moving-average returns; `0.0` while none has.
    - `mean_length`: the same mean of their moving-average lengths.
    - `episodes`: the number of finished episodes, summed over environments.
    """

    mean_return: Float[Array, ""]
    mean_length: Float[Array, ""]
    episodes: Int[Array, ""]


def _print_line(
    *, iteration: int, episodes: int, mean_return: float, mean_length: float
) -> None:
    """The default writer of `EpisodeStatsCallback`: prints one line to stdout."""
    if episodes == 0:
        summary = "no finished episode yet"
    else:
        summary = f"mean return {mean_return:.4g}, mean length {mean_length:.4g}"
    print(f"iteration {iteration}: {episodes} episodes, {summary}", flush=True)


def _pack(iteration: Int[Array, ""], state: EpisodeStatsState) -> Int[Array, " 4"]:
    """The numbers a writer gets, as one `int32` array, the floats bit-cast.

    One operand rather than four: each operand of a host callback costs a transfer
    of its own (about 0.1 ms on CPU).
    """
    means = jnp.stack([state.mean_return, state.mean_length]).astype(jnp.float32)
    counts = jnp.stack([iteration, state.episodes]).astype(jnp.int32)
    return jnp.concatenate([counts, lax.bitcast_convert_type(means, jnp.int32)])


def _write(writer: Callable[..., Any], packed: ArrayLike) -> None:
    """Host side of `jax.debug.callback`: hands the writer Python numbers (not
    while a conformance check feeds it generated data)."""
    if is_checking():
        return
    numbers = np.asarray(packed, np.int32)
    mean_return, mean_length = numbers[2:].view(np.float32)
    writer(
        iteration=int(numbers[0]),
        episodes=int(numbers[1]),
        mean_return=float(mean_return),
        mean_length=float(mean_length),
    )


def _aggregate(
    step_state: EpisodeStatsStepState, like: EpisodeStatsState
) -> EpisodeStatsState:
    """Combine per-environment statistics, batched or not, into one state.

    **Arguments:**

    - `step_state`: every environment's step state, batched along any axes.
    - `like`: a state whose dtypes the result keeps.

    **Returns:**

    The mean moving averages over environments with a finished episode (`0.0`
    where none has, never NaN) and the total number of finished episodes.
    """
    finished = step_state.episodes > 0
    # The sum is zero while no episode has ended, and dividing it by at least one
    # keeps the mean at zero rather than NaN.
    divisor = jnp.maximum(jnp.sum(finished), 1)

    def mean(values: Float[Array, "*envs"], dtype: Any) -> Float[Array, ""]:
        total = jnp.sum(jnp.where(finished, values, 0))
        return (total / divisor.astype(total.dtype)).astype(dtype)

    return EpisodeStatsState(
        mean_return=mean(step_state.average_return, like.mean_return.dtype),
        mean_length=mean(step_state.average_length, like.mean_length.dtype),
        episodes=jnp.sum(step_state.episodes).astype(like.episodes.dtype),
    )


@final
class EpisodeStatsCallback(AbstractCallback[EpisodeStatsState, EpisodeStatsStepState]):
    """Tracks episode returns and lengths per environment, and reports them.

    Each environment's step state keeps the return and length of the episode in
    progress, moving averages of finished episodes and how many have finished. At the
    end of each iteration the averages are combined over the environments that have
    finished an episode (see `EpisodeStatsState`), and the result is handed to
    `writer` on the host through `jax.debug.callback`, once per iteration.

    All arithmetic stays in `float32`/`int32` whatever the reward's dtype, so the
    states keep their dtypes with `jax_enable_x64` on.

    **Arguments:**

    - `writer`: called on the host after every iteration with the keyword arguments
        `iteration` (int), `episodes` (int), `mean_return` and `mean_length`
        (floats). The default prints one line to stdout; `None` reports nothing and
        only keeps the statistics in the state. It must be hashable (functions and
        most objects are), as it is part of the compiled program.
    - `smoothing`: the weight, in `(0, 1]`, of each newly finished episode in the
        moving averages; `1.0` keeps only the latest episode.
    """

    writer: Callable[..., Any] | None
    smoothing: float

    def __init__(
        self,
        *,
        writer: Callable[..., Any] | None = _print_line,
        smoothing: float = 0.1,
    ):
        if writer is not None and not callable(writer):
            raise TypeError(
                f"`EpisodeStatsCallback(writer=...)` must be callable or None, got "
                f"{type(writer).__qualname__}; pass e.g. `writer=print_stats` where "
                "`def print_stats(*, iteration, episodes, mean_return, mean_length)`."
            )
        if not 0.0 < smoothing <= 1.0:
            raise ValueError(
                f"`EpisodeStatsCallback(smoothing=...)` must be in (0, 1], got "
                f"{smoothing!r}; e.g. `smoothing=0.1` weighs each new episode 10%."
            )
        self.writer = writer
        self.smoothing = float(smoothing)

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> EpisodeStatsState:
        del ctx, key
        zero = jnp.zeros((), jnp.float32)
        return EpisodeStatsState(zero, zero, jnp.zeros((), jnp.int32))

    def step_reset(
        self, ctx: ResetContext, *, key: Key[Array, ""]
    ) -> EpisodeStatsStepState:
        del ctx, key
        zero_float = jnp.zeros((), jnp.float32)
        zero_int = jnp.zeros((), jnp.int32)
        return EpisodeStatsStepState(
            zero_float, zero_int, zero_float, zero_float, zero_int
        )

    def on_step(
        self, ctx: StepContext, *, key: Key[Array, ""]
    ) -> EpisodeStatsStepState:
        del key
        state = ctx.state
        episode_return = (state.episode_return + ctx.reward).astype(
            state.episode_return.dtype
        )
        episode_length = state.episode_length + 1
        done: Bool[Array, ""] = jnp.asarray(ctx.done, bool)

        def average(old: Float[Array, ""], new: Array) -> Float[Array, ""]:
            new = new.astype(old.dtype)
            moved = old + self.smoothing * (new - old)
            first = state.episodes == 0
            return jnp.where(done, jnp.where(first, new, moved), old).astype(old.dtype)

        return EpisodeStatsStepState(
            episode_return=jnp.where(done, 0, episode_return).astype(
                episode_return.dtype
            ),
            episode_length=jnp.where(done, 0, episode_length).astype(
                state.episode_length.dtype
            ),
            average_return=average(state.average_return, episode_return),
            average_length=average(state.average_length, episode_length),
            episodes=(state.episodes + done).astype(state.episodes.dtype),
        )

    def on_iteration(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> EpisodeStatsState:
        del key
        state = _aggregate(ctx.step_state, ctx.state)
        if self.writer is not None:
            jax.debug.callback(
                functools.partial(_write, self.writer),
                _pack(ctx.iteration_count, state),
            )
        return state

    def on_training_start(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> EpisodeStatsState:
        del key
        return ctx.state

    def on_training_end(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> EpisodeStatsState:
        del key
        return ctx.state
