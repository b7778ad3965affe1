"""A callback written against Lerax's own API (`lerax.callback`), as Lerax users
write them; `lerax-conformance` checks it with Lerax's context classes.

Needs Lerax (`pip install "lerax-callback-toolkit[lerax]"`, Python 3.13 or newer):

    lerax-conformance examples/lerax/
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Key
from lerax.callback import (
    AbstractCallback,
    AbstractCallbackState,
    AbstractCallbackStepState,
    IterationContext,
    ResetContext,
    StepContext,
    TrainingContext,
)


class ReturnStepState(AbstractCallbackStepState):
    """One environment's return so far and the return of its last episode."""

    running: Float[Array, ""]
    last: Float[Array, ""]


class BestReturnState(AbstractCallbackState):
    """The best mean last-episode return seen at the end of an iteration."""

    best: Float[Array, ""]


class BestEpisodeReturn(AbstractCallback[BestReturnState, ReturnStepState]):
    """Tracks episode returns per environment and the best iteration mean.

    Trace-safe the way Lerax needs: `on_step` works on one environment (Lerax
    vmaps it), chooses with `jnp.where` instead of a Python `if` on `ctx.done`,
    and casts the reward to the state's dtype so the scan carry never changes;
    `on_iteration` reduces the batched step states with `jnp.mean`.
    """

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> BestReturnState:
        return BestReturnState(jnp.array(-jnp.inf, jnp.float32))

    def step_reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> ReturnStepState:
        zero = jnp.zeros((), jnp.float32)
        return ReturnStepState(zero, zero)

    def on_step(self, ctx: StepContext, *, key: Key[Array, ""]) -> ReturnStepState:
        running = ctx.state.running + ctx.reward.astype(jnp.float32)
        return ReturnStepState(
            running=jnp.where(ctx.done, 0.0, running),
            last=jnp.where(ctx.done, running, ctx.state.last),
        )

    def on_iteration(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> BestReturnState:
        mean = jnp.mean(ctx.step_state.last)
        jax.debug.print(
            "iteration {i}: mean return {m:.1f}", i=ctx.iteration_count, m=mean
        )
        return BestReturnState(jnp.maximum(ctx.state.best, mean))

    def on_training_start(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> BestReturnState:
        return ctx.state

    def on_training_end(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> BestReturnState:
        return ctx.state

    def continue_training(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        # Abstract in Lerax's base; Lerax 0.0.5's algorithms never call it.
        return jnp.array(True)
