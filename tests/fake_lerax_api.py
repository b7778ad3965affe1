"""A stand-in for a newer Lerax `lerax.callback`, for tests that run without Lerax.

Shaped like Lerax's main branch: the same class names as `lerax_callback` (distinct
classes), an `algorithm` field in `IterationContext` and `TrainingContext`, an
`apply_curriculum` hook, and `continue_training` left abstract. Lerax writes its
generics with PEP 695 syntax, which needs Python 3.12; this module uses classic
`Generic` so that it imports on 3.11 too. The callbacks at the end are examples
for tests of `callback_api`, `callback_state_types` and the type checker.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Generic, TypeVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, Key


class AbstractCallbackState(eqx.Module):
    """Base of iteration states."""


class AbstractCallbackStepState(eqx.Module):
    """Base of per-environment step states."""


class EmptyCallbackState(AbstractCallbackState):
    pass


class EmptyCallbackStepState(AbstractCallbackStepState):
    pass


StateType = TypeVar("StateType", bound=AbstractCallbackState)
StepStateType = TypeVar("StepStateType", bound=AbstractCallbackStepState)


class ResetContext(eqx.Module):
    locals: dict


class StepContext(eqx.Module, Generic[StepStateType]):
    state: StepStateType
    env: Any
    policy: Any
    done: Bool[Array, ""]
    reward: Float[Array, ""]
    locals: dict


class IterationContext(eqx.Module, Generic[StateType, StepStateType]):
    state: StateType
    step_state: StepStateType
    env: Any
    policy: Any
    iteration_count: Int[Array, ""]
    opt_state: Any
    training_log: dict[str, Array]
    algorithm: Any
    locals: dict


class TrainingContext(eqx.Module, Generic[StateType, StepStateType]):
    state: StateType
    step_state: StepStateType
    env: Any
    policy: Any
    total_timesteps: int
    iteration_count: Int[Array, ""]
    opt_state: Any
    algorithm: Any
    locals: dict


class AbstractCallback(eqx.Module, Generic[StateType, StepStateType]):
    """Every hook abstract, `continue_training` included, as in Lerax."""

    @abstractmethod
    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> StateType: ...

    @abstractmethod
    def step_reset(
        self, ctx: ResetContext, *, key: Key[Array, ""]
    ) -> StepStateType: ...

    @abstractmethod
    def on_step(self, ctx: StepContext, *, key: Key[Array, ""]) -> StepStateType: ...

    @abstractmethod
    def on_iteration(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> StateType: ...

    @abstractmethod
    def on_training_start(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> StateType: ...

    @abstractmethod
    def on_training_end(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> StateType: ...

    @abstractmethod
    def continue_training(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]: ...

    def apply_curriculum(
        self, state: Any, callback_state: StateType
    ) -> tuple[Any, StateType]:
        return state, callback_state


class AbstractStepCallback(
    AbstractCallback[EmptyCallbackState, StepStateType], Generic[StepStateType]
):
    """Fills in everything but `step_reset` and `on_step`."""

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> EmptyCallbackState:
        return EmptyCallbackState()

    def on_iteration(self, ctx: IterationContext, *, key: Key[Array, ""]) -> Any:
        return ctx.state

    def on_training_start(self, ctx: TrainingContext, *, key: Key[Array, ""]) -> Any:
        return ctx.state

    def on_training_end(self, ctx: TrainingContext, *, key: Key[Array, ""]) -> Any:
        return ctx.state

    def continue_training(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        return jnp.array(True)


# Examples written against this API.


class Count(AbstractCallbackState):
    count: Int[Array, ""]


class Steps(AbstractCallbackStepState):
    steps: Int[Array, ""]


class Counter(AbstractCallback[Count, Steps]):
    """Counts iterations and each environment's steps; its methods are unannotated,
    so a type checker holds them to the API's annotations."""

    def reset(self, ctx, *, key):
        return Count(jnp.zeros((), jnp.int32))

    def step_reset(self, ctx, *, key):
        return Steps(jnp.zeros((), jnp.int32))

    def on_step(self, ctx, *, key):
        return Steps(ctx.state.steps + 1)

    def on_iteration(self, ctx, *, key):
        return Count(ctx.state.count + 1)

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state

    def continue_training(self, ctx, *, key):
        return jnp.array(True)


class StepCounter(AbstractStepCallback[Steps]):
    """State types through a partial base: `(EmptyCallbackState, Steps)`."""

    def step_reset(self, ctx, *, key):
        return Steps(jnp.zeros((), jnp.int32))

    def on_step(self, ctx, *, key):
        return Steps(ctx.state.steps + 1)


class SubCounter(Counter):
    """A subclass without generic parameters of its own."""
