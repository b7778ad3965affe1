"""`AbstractCallback`, and how to read a callback's state types back."""

from __future__ import annotations

import typing
from abc import abstractmethod
from typing import Any, Generic

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Key

from . import _switch
from ._contexts import (
    IterationContext,
    ResetContext,
    StateType,
    StepContext,
    StepStateType,
    TrainingContext,
)

CALLBACK_METHODS = (
    "reset",
    "step_reset",
    "on_step",
    "on_iteration",
    "on_training_start",
    "on_training_end",
    "continue_training",
)
"""The methods algorithms call on a callback, each as `method(ctx, *, key)`."""


class AbstractCallback(eqx.Module, Generic[StateType, StepStateType]):
    """Base class for callbacks of reinforcement-learning algorithms.

    A callback is an immutable `equinox.Module`: each method takes a context and a
    PRNG `key` (keyword-only) and returns a new state instead of changing anything.
    Algorithms call the methods inside `jax.jit`; `step_reset` and `on_step` are
    also `vmap`ped over parallel environments and `on_step` runs in a `lax.scan`.
    So every concrete method must be trace-safe: no Python control flow on array
    values, and states whose structure, shapes and dtypes stay fixed.

    Subclass it with the state types as generic parameters, e.g.
    `class MyCallback(AbstractCallback[MyState, MyStepState])`;
    `callback_state_types` reads them back.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Runtime type checks: wrap the methods of a class defined while checking
        # is on, or derived from a `typechecked` one (see `enable_typechecking`).
        if _switch.enabled or getattr(cls, _switch.OPT_IN, False):
            _switch.new_callback_class(cls)

    def __check_init__(self) -> None:
        if _switch.enabled:
            _switch.check_module(self)

    @abstractmethod
    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> StateType:
        """Initialise the iteration state."""

    @abstractmethod
    def step_reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> StepStateType:
        """Initialise the step state of one environment."""

    @abstractmethod
    def on_step(self, ctx: StepContext, *, key: Key[Array, ""]) -> StepStateType:
        """Called after each environment step; returns the new step state."""

    @abstractmethod
    def on_iteration(self, ctx: IterationContext, *, key: Key[Array, ""]) -> StateType:
        """Called at the end of each training iteration; returns the new state."""

    @abstractmethod
    def on_training_start(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> StateType:
        """Called once before the first iteration; returns the new state."""

    @abstractmethod
    def on_training_end(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> StateType:
        """Called once after the last iteration; returns the final state."""

    def continue_training(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        """Whether training should go on after this iteration.

        Called after `on_iteration` with the updated state. Returns a scalar boolean
        array; the default always continues. Override it for early stopping.
        """
        del ctx, key
        return jnp.array(True)


def _substitute(arg: Any, bindings: dict[Any, Any]) -> Any:
    return bindings.get(arg, arg) if isinstance(arg, typing.TypeVar) else arg


def _resolve(cls: type, target: type, bindings: dict[Any, Any]) -> tuple | None:
    """Walk `cls`'s generic bases up to `target`, binding type variables on the way."""
    for base in cls.__dict__.get("__orig_bases__", cls.__bases__):
        origin = typing.get_origin(base) or base
        if not isinstance(origin, type) or origin is Generic:
            continue
        args = tuple(_substitute(a, bindings) for a in typing.get_args(base))
        params = getattr(origin, "__parameters__", ())
        if origin is target:
            return args if args else params
        if issubclass(origin, target):
            found = _resolve(origin, target, dict(zip(params, args, strict=False)))
            if found is not None:
                return found
    return None


def callback_state_types(callback: Any) -> tuple[Any, Any]:
    """The `(StateType, StepStateType)` a callback class declares.

    **Arguments:**

    - `callback`: a callback instance or class.

    **Returns:**

    The two generic parameters of `AbstractCallback`, followed through partial bases
    such as `AbstractStepCallback[MyStepState]`. A parameter the class leaves open is
    returned as its `TypeVar`.

    **Raises:**

    `TypeError` if `callback` is not an `AbstractCallback` class or instance.

    Works for callbacks of Lerax's own `lerax.callback` too (PEP 695 generics); a
    parameter such a class leaves open is returned as its type parameter.
    """
    cls = callback if isinstance(callback, type) else type(callback)
    base = callback_base(cls)
    if base is None:
        raise TypeError(
            f"`callback_state_types` takes an `AbstractCallback` subclass or instance, "
            f"got {getattr(cls, '__qualname__', cls)!r}; subclass "
            "`AbstractCallback[MyState, MyStepState]` to declare the state types."
        )
    found = None if cls is base else _resolve(cls, base, {})
    if found is None or len(found) != 2:
        params = getattr(base, "__parameters__", ())
        return tuple(params) if len(params) == 2 else (StateType, StepStateType)
    state_type, step_state_type = found
    return state_type, step_state_type


def callback_base(cls: Any) -> type | None:
    """The `AbstractCallback` of `cls`'s family: ours, or one of the same name and
    shape such as Lerax's `lerax.callback.AbstractCallback`."""
    if not isinstance(cls, type):
        return None
    if issubclass(cls, AbstractCallback):
        return AbstractCallback
    for klass in cls.__mro__:
        if klass.__name__ == "AbstractCallback" and callable(
            getattr(klass, "on_step", None)
        ):
            return klass
    return None
