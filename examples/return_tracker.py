"""Track each environment's episode return and report the mean every iteration.

The smallest useful callback with both kinds of state: a per-environment step
state (updated in `on_step`, vmapped over environments inside `lax.scan`) and an
iteration state (updated in `on_iteration`, once per iteration).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, Key

from lerax_callback import (
    AbstractCallback,
    AbstractCallbackState,
    AbstractCallbackStepState,
    IterationContext,
    ResetContext,
    StepContext,
    TrainingContext,
)


class ReturnStepState(AbstractCallbackStepState):
    """One environment's return so far in this episode, and its last full one."""

    running: Float[Array, ""]
    last: Float[Array, ""]
    episodes: Int[Array, ""]


class ReturnState(AbstractCallbackState):
    """The mean over environments of the last full episode's return."""

    mean_return: Float[Array, ""]


class ReturnTracker(AbstractCallback[ReturnState, ReturnStepState]):
    """Tracks episode returns and prints their mean after every iteration.

    **Arguments:**

    - `verbose`: print the mean from inside `jax.jit` (with `jax.debug.print`).
    """

    verbose: bool = False

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> ReturnState:
        return ReturnState(jnp.zeros((), jnp.float32))

    def step_reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> ReturnStepState:
        zero = jnp.zeros((), jnp.float32)
        return ReturnStepState(zero, zero, jnp.zeros((), jnp.int32))

    def on_step(self, ctx: StepContext, *, key: Key[Array, ""]) -> ReturnStepState:
        state = ctx.state
        # Cast the reward: with `jax_enable_x64` it is float64, and the state must
        # keep its float32 dtype from step to step.
        running = state.running + ctx.reward.astype(state.running.dtype)
        return ReturnStepState(
            running=jnp.where(ctx.done, 0.0, running),  # no Python `if` on arrays
            last=jnp.where(ctx.done, running, state.last),
            episodes=state.episodes + ctx.done.astype(jnp.int32),
        )

    def on_iteration(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> ReturnState:
        # `step_state` is batched over environments (or a single one): `jnp.mean`
        # works for both.
        mean = jnp.mean(ctx.step_state.last).astype(jnp.float32)
        if self.verbose:  # a Python bool field, fixed when the callback is built
            jax.debug.print(
                "iteration {i}: mean return {m:.3f}", i=ctx.iteration_count, m=mean
            )
        return ReturnState(mean)

    def on_training_start(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> ReturnState:
        return ctx.state

    def on_training_end(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> ReturnState:
        return ctx.state


tracker = ReturnTracker(verbose=False)
