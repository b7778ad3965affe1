"""A small callback API shaped like a newer Lerax release, for tests.

Same names as `lerax.callback` (so the harness recognises the family by shape),
classic `Generic` type variables so that it runs on Python 3.11, and what that
release adds: an `algorithm` field on `IterationContext` and `TrainingContext`,
and a non-abstract `apply_curriculum(state, callback_state)`.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Generic, TypeVar

import equinox as eqx
import jax.numpy as jnp


class AbstractCallbackState(eqx.Module):
    pass


class AbstractCallbackStepState(eqx.Module):
    pass


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
    done: Any
    reward: Any
    locals: dict


class IterationContext(eqx.Module, Generic[StateType, StepStateType]):
    state: StateType
    step_state: StepStateType
    env: Any
    policy: Any
    iteration_count: Any
    opt_state: Any
    training_log: dict
    algorithm: Any
    locals: dict


class TrainingContext(eqx.Module, Generic[StateType, StepStateType]):
    state: StateType
    step_state: StepStateType
    env: Any
    policy: Any
    total_timesteps: int
    iteration_count: Any
    opt_state: Any
    algorithm: Any
    locals: dict


class AbstractCallback(eqx.Module, Generic[StateType, StepStateType]):
    @abstractmethod
    def reset(self, ctx: ResetContext, *, key: Any) -> StateType: ...

    @abstractmethod
    def step_reset(self, ctx: ResetContext, *, key: Any) -> StepStateType: ...

    @abstractmethod
    def on_step(self, ctx: StepContext, *, key: Any) -> StepStateType: ...

    @abstractmethod
    def on_iteration(self, ctx: IterationContext, *, key: Any) -> StateType: ...

    @abstractmethod
    def on_training_start(self, ctx: TrainingContext, *, key: Any) -> StateType: ...

    @abstractmethod
    def on_training_end(self, ctx: TrainingContext, *, key: Any) -> StateType: ...

    @abstractmethod
    def continue_training(self, ctx: IterationContext, *, key: Any) -> Any: ...

    def apply_curriculum(self, state: Any, callback_state: Any) -> tuple[Any, Any]:
        return state, callback_state


class AbstractStatelessCallback(
    AbstractCallback[EmptyCallbackState, EmptyCallbackStepState]
):
    def reset(self, ctx: ResetContext, *, key: Any) -> EmptyCallbackState:
        return EmptyCallbackState()

    def step_reset(self, ctx: ResetContext, *, key: Any) -> EmptyCallbackStepState:
        return EmptyCallbackStepState()

    def continue_training(self, ctx: IterationContext, *, key: Any) -> Any:
        return jnp.array(True)
