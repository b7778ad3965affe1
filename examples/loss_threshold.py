"""Stop training once the loss falls below a threshold.

An iteration-only callback (`AbstractIterationCallback` fills in the step
methods) that overrides `continue_training`, the method algorithms ask after each
iteration whether to go on.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Key

from lerax_callback import (
    AbstractCallbackState,
    AbstractIterationCallback,
    IterationContext,
    ResetContext,
)


class LossState(AbstractCallbackState):
    """The lowest loss seen so far (starts at +inf, on purpose)."""

    best_loss: Float[Array, ""]


class LossThreshold(AbstractIterationCallback[LossState]):
    """Stops training when the training log's `loss` drops below `threshold`.

    **Arguments:**

    - `threshold`: the loss below which training stops.
    """

    threshold: float = 0.05

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> LossState:
        return LossState(jnp.full((), jnp.inf, jnp.float32))

    def on_iteration(self, ctx: IterationContext, *, key: Key[Array, ""]) -> LossState:
        loss = ctx.training_log["loss"].astype(jnp.float32)
        return LossState(jnp.minimum(ctx.state.best_loss, loss))

    def continue_training(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        return ctx.state.best_loss >= self.threshold
