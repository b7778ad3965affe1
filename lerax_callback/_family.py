"""API families: the callback API a callback class is written against.

Users write callbacks against `lerax_callback` or against Lerax's own
`lerax.callback`. Both define the same names (`AbstractCallback`, the four context
classes, the state bases), as distinct classes. `callback_api` reads the family from
a class's hierarchy, never by importing `lerax`: a class derived from Lerax's
`AbstractCallback` can only exist once Lerax is imported, so its module is found in
`sys.modules`. A family is recognised by shape rather than by name, so a newer
release, or a fork, with the same names works too.

Imports only the API modules of this package.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from types import ModuleType
from typing import Any

from ._callback import AbstractCallback, callback_base
from ._contexts import IterationContext, ResetContext, StepContext, TrainingContext
from ._states import (
    AbstractCallbackState,
    AbstractCallbackStepState,
    EmptyCallbackState,
    EmptyCallbackStepState,
)

CONTEXT_NAMES = ("ResetContext", "StepContext", "IterationContext", "TrainingContext")


@dataclasses.dataclass(frozen=True, eq=False)
class CallbackApi:
    """The classes of one callback API family.

    - `name`: where the family lives, e.g. `lerax_callback` or `lerax.callback`.
    - `callback`: its `AbstractCallback`.
    - `contexts`: `{"reset" | "step" | "iteration" | "training": context class}`.
    - `state`, `step_state`: the bases of iteration and step states.
    - `empty_state`, `empty_step_state`: the empty states, or `None` when the
        family has none.
    """

    name: str
    callback: type
    contexts: dict[str, type]
    state: type
    step_state: type
    empty_state: type | None
    empty_step_state: type | None

    @property
    def ours(self) -> bool:
        """Whether this is `lerax_callback`'s own family."""
        return self.callback is AbstractCallback

    def __repr__(self) -> str:
        return f"CallbackApi({self.name!r})"


OURS = CallbackApi(
    name="lerax_callback",
    callback=AbstractCallback,
    contexts={
        "reset": ResetContext,
        "step": StepContext,
        "iteration": IterationContext,
        "training": TrainingContext,
    },
    state=AbstractCallbackState,
    step_state=AbstractCallbackStepState,
    empty_state=EmptyCallbackState,
    empty_step_state=EmptyCallbackStepState,
)


def _modules_around(module_name: str) -> list[ModuleType]:
    """The module that defines a class, then its parent packages, innermost first."""
    parts = module_name.split(".")
    found = []
    for end in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:end]))
        if module is not None:
            found.append(module)
    return found


def _lookup(modules: list[ModuleType], name: str) -> Any:
    for module in modules:
        value = getattr(module, name, None)
        if isinstance(value, type):
            return value
    return None


@functools.cache
def _api_of_base(base: type) -> CallbackApi | None:
    """The family whose `AbstractCallback` is `base`, if `base` is one."""
    if base is AbstractCallback:
        return OURS
    if base.__name__ != "AbstractCallback" or not all(
        callable(getattr(base, m, None)) for m in ("reset", "step_reset", "on_step")
    ):
        return None
    modules = _modules_around(base.__module__)
    contexts = {
        kind: _lookup(modules, name)
        for kind, name in zip(
            ("reset", "step", "iteration", "training"), CONTEXT_NAMES, strict=True
        )
    }
    state = _lookup(modules, "AbstractCallbackState")
    step_state = _lookup(modules, "AbstractCallbackStepState")
    if state is None or step_state is None or None in contexts.values():
        return None
    name = base.__module__
    # Report the public module users import from, e.g. `lerax.callback`, when the
    # defining module is a private or submodule of it that re-exports the class.
    for module in reversed(modules):
        if getattr(module, "AbstractCallback", None) is base:
            name = module.__name__
            break
    return CallbackApi(
        name=name,
        callback=base,
        contexts=contexts,  # type: ignore[arg-type]
        state=state,
        step_state=step_state,
        empty_state=_lookup(modules, "EmptyCallbackState"),
        empty_step_state=_lookup(modules, "EmptyCallbackStepState"),
    )


def callback_api(callback: Any) -> CallbackApi | None:
    """The API family of a callback instance or class, or `None` when it derives
    from no known `AbstractCallback`."""
    base = callback_base(callback if isinstance(callback, type) else type(callback))
    return None if base is None else _api_of_base(base)


def is_callback_class(obj: Any) -> bool:
    """Whether `obj` is a callback class of any family (abstract ones included)."""
    return isinstance(obj, type) and callback_api(obj) is not None


def is_callback(obj: Any) -> bool:
    """Whether `obj` is a callback instance of any family."""
    return not isinstance(obj, type) and callback_api(obj) is not None


def class_family(cls: type) -> CallbackApi | None:
    """The family a callback, callback state or context class belongs to, or
    `None` for any other class: to say what a class given where a callback belongs
    is (a state class is no callback, whichever family it is of)."""
    api = callback_api(cls)
    if api is not None:
        return api
    for klass in cls.__mro__:
        base = _lookup(_modules_around(klass.__module__), "AbstractCallback")
        family = None if base is None else _api_of_base(base)
        if family is None:
            continue
        if cls in family.contexts.values() or issubclass(
            cls, (family.state, family.step_state)
        ):
            return family
    return None
