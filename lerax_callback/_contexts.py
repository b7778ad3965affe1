"""The contexts an algorithm hands to each callback method."""

from __future__ import annotations

from typing import Any, Generic, TypeAlias, TypeVar, final

import equinox as eqx
from jaxtyping import Array, Bool, Float, Int, PyTree

from . import _switch
from ._states import AbstractCallbackState, AbstractCallbackStepState

StateType = TypeVar("StateType", bound=AbstractCallbackState)
StepStateType = TypeVar("StepStateType", bound=AbstractCallbackStepState)

# Contexts carry the algorithm's own environment and policy, whatever their classes
# (`AbstractEnvLike` and `AbstractPolicy` are there to subclass, not to restrict).
EnvLike: TypeAlias = Any
PolicyLike: TypeAlias = Any


@final
class ResetContext(eqx.Module):
    """Context passed to `reset` and `step_reset`.

    **Attributes:**

    - `locals`: the algorithm's local variables where it resets, for callbacks that
        need more than the other contexts offer.
    """

    locals: dict

    def __check_init__(self) -> None:
        # Runtime type checks, while switched on (see `enable_typechecking`).
        if _switch.enabled:
            _switch.check_module(self)


@final
class StepContext(eqx.Module, Generic[StepStateType]):
    """Values passed to `on_step`, once per environment step.

    Inside an algorithm `on_step` is `vmap`ped over environments, so every array
    here is one environment's value: `done` and `reward` are scalars.

    **Attributes:**

    - `state`: the callback's step state for this environment.
    - `env`: the environment being interacted with.
    - `policy`: the policy interacting with it.
    - `done`: whether the episode terminated or was truncated at this step.
    - `reward`: the reward received at this step.
    - `locals`: the algorithm's local variables at this step.
    """

    state: StepStateType
    env: EnvLike
    policy: PolicyLike
    done: Bool[Array, ""]
    reward: Float[Array, ""]
    locals: dict

    def __check_init__(self) -> None:
        # Runtime type checks, while switched on (see `enable_typechecking`).
        if _switch.enabled:
            _switch.check_module(self)


@final
class IterationContext(eqx.Module, Generic[StateType, StepStateType]):
    """Values passed to `on_iteration` and `continue_training`.

    `step_state` holds every environment's step state, batched along axis 0 when
    the algorithm runs several environments and unbatched when it runs one.

    **Attributes:**

    - `state`: the callback's iteration state.
    - `step_state`: the callback's step states after this iteration's steps.
    - `env`: the environment being interacted with.
    - `policy`: the policy being trained.
    - `iteration_count`: the number of the current training iteration.
    - `opt_state`: the optimiser state.
    - `training_log`: the training metrics of this iteration, by name.
    - `locals`: the algorithm's local variables at the end of the iteration.
    """

    state: StateType
    step_state: StepStateType
    env: EnvLike
    policy: PolicyLike
    iteration_count: Int[Array, ""]
    opt_state: PyTree
    training_log: dict[str, Array]
    locals: dict

    def __check_init__(self) -> None:
        # Runtime type checks, while switched on (see `enable_typechecking`).
        if _switch.enabled:
            _switch.check_module(self)


@final
class TrainingContext(eqx.Module, Generic[StateType, StepStateType]):
    """Values passed to `on_training_start` and `on_training_end`.

    **Attributes:**

    - `state`: the callback's iteration state.
    - `step_state`: the callback's step states (batched as in `IterationContext`).
    - `env`: the environment being interacted with.
    - `policy`: the policy being trained.
    - `total_timesteps`: the number of environment steps the training asks for.
    - `iteration_count`: the current training iteration count.
    - `opt_state`: the optimiser state.
    - `locals`: the algorithm's local variables.
    """

    state: StateType
    step_state: StepStateType
    env: EnvLike
    policy: PolicyLike
    total_timesteps: int
    iteration_count: Int[Array, ""]
    opt_state: PyTree
    locals: dict

    def __check_init__(self) -> None:
        # Runtime type checks, while switched on (see `enable_typechecking`).
        if _switch.enabled:
            _switch.check_module(self)
