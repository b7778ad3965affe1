"""Partial callback bases that fill in the methods a kind of callback does not use."""

from __future__ import annotations

from typing import Generic

from jaxtyping import Array, Key

from ._callback import AbstractCallback
from ._contexts import (
    IterationContext,
    ResetContext,
    StateType,
    StepContext,
    StepStateType,
    TrainingContext,
)
from ._states import EmptyCallbackState, EmptyCallbackStepState


class AbstractStatelessCallback(
    AbstractCallback[EmptyCallbackState, EmptyCallbackStepState]
):
    """A callback that keeps no state: `reset` and `step_reset` return empty states.

    The four event methods are left abstract; each returns `ctx.state` when it has
    nothing to update.
    """

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> EmptyCallbackState:
        del ctx, key
        return EmptyCallbackState()

    def step_reset(
        self, ctx: ResetContext, *, key: Key[Array, ""]
    ) -> EmptyCallbackStepState:
        del ctx, key
        return EmptyCallbackStepState()


class AbstractStepCallback(
    AbstractCallback[EmptyCallbackState, StepStateType], Generic[StepStateType]
):
    """A callback that acts only on environment steps.

    Implement `step_reset` and `on_step`; the iteration state is empty and the
    iteration and training methods pass it through.
    """

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> EmptyCallbackState:
        del ctx, key
        return EmptyCallbackState()

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


class _EmptyStepMethods(AbstractCallback[StateType, EmptyCallbackStepState]):
    """Step methods of a callback whose step state is empty."""

    def step_reset(
        self, ctx: ResetContext, *, key: Key[Array, ""]
    ) -> EmptyCallbackStepState:
        del ctx, key
        return EmptyCallbackStepState()

    def on_step(
        self, ctx: StepContext, *, key: Key[Array, ""]
    ) -> EmptyCallbackStepState:
        del key
        return ctx.state


class AbstractIterationCallback(_EmptyStepMethods[StateType], Generic[StateType]):
    """A callback that acts only at the end of iterations.

    Implement `reset` and `on_iteration`; the step state is empty, and the training
    methods return `ctx.state` unchanged.
    """

    def on_training_start(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> StateType:
        del key
        return ctx.state

    def on_training_end(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> StateType:
        del key
        return ctx.state


class AbstractTrainingCallback(_EmptyStepMethods[StateType], Generic[StateType]):
    """A callback that acts only when training starts and ends.

    Implement `reset`, `on_training_start` and `on_training_end`; the step state is
    empty, and `on_iteration` returns `ctx.state` unchanged.
    """

    def on_iteration(self, ctx: IterationContext, *, key: Key[Array, ""]) -> StateType:
        del key
        return ctx.state
