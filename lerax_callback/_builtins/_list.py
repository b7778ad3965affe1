"""`CallbackList`: several callbacks run as one."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, final

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Key

from .._callback import AbstractCallback
from .._contexts import IterationContext, ResetContext, StepContext, TrainingContext
from .._states import AbstractCallbackState, AbstractCallbackStepState


@final
class CallbackListStepState(AbstractCallbackStepState):
    """The step states of a `CallbackList`'s children, in the children's order."""

    states: list[Any]


@final
class CallbackListState(AbstractCallbackState):
    """The iteration states of a `CallbackList`'s children, in the children's order."""

    states: list[Any]


@final
class CallbackList(AbstractCallback[CallbackListState, CallbackListStepState]):
    """Runs several callbacks as one.

    Each child keeps its own states (the list states hold them in order) and gets
    its own key, split from the one the list receives. Training continues only while
    every child's `continue_training` agrees.

    **Arguments:**

    - `callbacks`: the callbacks to run, in order.
    """

    callbacks: list[AbstractCallback]

    def __init__(self, callbacks: Sequence[AbstractCallback]):
        callbacks = list(callbacks)
        for index, child in enumerate(callbacks):
            if isinstance(child, type) and issubclass(child, AbstractCallback):
                raise TypeError(
                    f"`CallbackList` child {index} is the class {child.__qualname__}; "
                    f"pass an instance instead, e.g. `{child.__qualname__}()`."
                )
            if not isinstance(child, AbstractCallback):
                raise TypeError(
                    f"`CallbackList` child {index} is a {type(child).__qualname__}, "
                    "not a callback; pass instances of `AbstractCallback` subclasses."
                )
        self.callbacks = callbacks

    def _call(self, method: str, contexts: Sequence[Any], key: Key[Array, ""]) -> list:
        """Call `method` on each child with its own context and its own key."""
        keys = jr.split(key, len(self.callbacks))
        return [
            getattr(child, method)(ctx, key=keys[index])
            for index, (child, ctx) in enumerate(
                zip(self.callbacks, contexts, strict=True)
            )
        ]

    def _per_child(self, ctx: Any) -> list[Any]:
        """One context per child, holding that child's iteration and step states."""
        return [
            dataclasses.replace(ctx, state=s, step_state=ss)
            for s, ss in zip(ctx.state.states, ctx.step_state.states, strict=True)
        ]

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> CallbackListState:
        return CallbackListState(self._call("reset", [ctx] * len(self.callbacks), key))

    def step_reset(
        self, ctx: ResetContext, *, key: Key[Array, ""]
    ) -> CallbackListStepState:
        contexts = [ctx] * len(self.callbacks)
        return CallbackListStepState(self._call("step_reset", contexts, key))

    def on_step(
        self, ctx: StepContext, *, key: Key[Array, ""]
    ) -> CallbackListStepState:
        contexts = [dataclasses.replace(ctx, state=s) for s in ctx.state.states]
        return CallbackListStepState(self._call("on_step", contexts, key))

    def on_iteration(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> CallbackListState:
        return CallbackListState(self._call("on_iteration", self._per_child(ctx), key))

    def on_training_start(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> CallbackListState:
        contexts = self._per_child(ctx)
        return CallbackListState(self._call("on_training_start", contexts, key))

    def on_training_end(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> CallbackListState:
        contexts = self._per_child(ctx)
        return CallbackListState(self._call("on_training_end", contexts, key))

    def continue_training(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        flag = jnp.array(True)
        for child_flag in self._call("continue_training", self._per_child(ctx), key):
            flag = jnp.logical_and(flag, child_flag)
        return flag
