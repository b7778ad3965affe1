"""`EmptyCallback`: the callback that does nothing."""

from __future__ import annotations

from typing import final

from jaxtyping import Array, Key

from .._contexts import IterationContext, StepContext, TrainingContext
from .._partial import AbstractStatelessCallback
from .._states import EmptyCallbackState, EmptyCallbackStepState


@final
class EmptyCallback(AbstractStatelessCallback):
    """A callback that does nothing, for algorithms run without one.

    Every method returns an empty state, so XLA removes it from a jitted loop.
    """

    def on_step(
        self, ctx: StepContext, *, key: Key[Array, ""]
    ) -> EmptyCallbackStepState:
        del key
        return ctx.state

    def on_iteration(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> EmptyCallbackState:
        del key
        return ctx.state

    def on_training_start(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> EmptyCallbackState:
        del key
        return ctx.state

    def on_training_end(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> EmptyCallbackState:
        del key
        return ctx.state
