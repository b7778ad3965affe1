"""From annotations to checks: strings, generic parameters, and the type checker.

Annotations are usually strings (`from __future__ import annotations`), so each one
is evaluated in its defining module. Type variables are replaced by what the
concrete class binds them to, because beartype would only check their bound.
"""

from __future__ import annotations

import dataclasses
import typing
import weakref
from typing import Any, TypeVar

from .._callback import callback_state_types
from .._contexts import StateType, StepStateType
from .._family import callback_api
from ._errors import annotation_text

UNRESOLVED: Any = object()
"""What `resolve` returns for an annotation it cannot evaluate: left unchecked."""


@dataclasses.dataclass(frozen=True)
class Check:
    """One value to check: where it is, the hint, and how to show what was expected.

    **Attributes:**

    - `name`: the field or argument name (`"return"` for a return value).
    - `hint`: the resolved annotation, with type variables replaced.
    - `expected`: the annotation as written, and what it means, for messages.
    """

    name: str
    hint: Any
    expected: str


def resolve(annotation: Any, globalns: dict[str, Any], localns: dict[str, Any]) -> Any:
    """The object an annotation stands for, or `UNRESOLVED`."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, globalns, localns)
    except Exception:
        return UNRESOLVED


def substitute(hint: Any, bindings: dict[Any, Any]) -> Any:
    """`hint` with the type variables that `bindings` knows replaced."""
    if not bindings:
        return hint
    if isinstance(hint, TypeVar):
        return bindings.get(hint, hint)
    parameters = getattr(hint, "__parameters__", ())
    if parameters and typing.get_origin(hint) is not None:
        try:
            return hint[tuple(bindings.get(p, p) for p in parameters)]
        except Exception:
            return hint
    return hint


_LEVELS: weakref.WeakKeyDictionary[type, dict[type, dict[Any, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _walk(cls: type, bindings: dict[Any, Any], levels: dict[type, dict]) -> None:
    levels.setdefault(cls, bindings)
    for base in cls.__dict__.get("__orig_bases__", cls.__bases__):
        origin = typing.get_origin(base) or base
        if not isinstance(origin, type) or origin in (typing.Generic, object):
            continue
        args = tuple(substitute(arg, bindings) for arg in typing.get_args(base))
        parameters = getattr(origin, "__parameters__", ())
        _walk(origin, dict(zip(parameters, args, strict=False)), levels)


def _levels(cls: type) -> dict[type, dict[Any, Any]]:
    """For each class in `cls`'s hierarchy, what `cls` binds its type variables to."""
    try:
        return _LEVELS[cls]
    except KeyError:
        levels: dict[type, dict] = {}
        _walk(cls, {}, levels)
        _LEVELS[cls] = levels
        return levels


def bindings_for(owner: type, defining: type) -> dict[Any, Any]:
    """What the type variables in annotations written in `defining` mean in `owner`.

    A callback's `StateType` and `StepStateType` (ours, or the type parameters of
    Lerax's `AbstractCallback`) are the classes `callback_state_types` reads (so a
    method of `C(AbstractCallback[S, T])` annotated `-> StateType` must return an
    `S`); the type parameters of `defining` itself are what `owner`'s generic bases
    bind them to.
    """
    bindings: dict[Any, Any] = {}
    api = callback_api(owner)
    if api is not None:
        state_type, step_state_type = callback_state_types(owner)
        bindings[StateType] = state_type
        bindings[StepStateType] = step_state_type
        # Another family's `AbstractCallback` (Lerax's, with PEP 695 generics)
        # annotates its methods with type parameters of its own.
        params = getattr(api.callback, "__parameters__", ())
        if not api.ours and len(params) == 2:
            bindings[params[0]] = state_type
            bindings[params[1]] = step_state_type
    bindings.update(_levels(owner).get(defining, {}))
    return {k: v for k, v in bindings.items() if not isinstance(v, TypeVar)}


def make_check(
    name: str, hint: Any, *, written: Any, bindings: dict[Any, Any]
) -> Check | None:
    """The check for one resolved annotation, or `None` when there is nothing to check.

    `written` is the annotation as written, for messages. Annotations that could
    not be evaluated (`UNRESOLVED`: e.g. names local to a function), `Any`, and
    type variables the class leaves open are not checked.
    """
    if hint is UNRESOLVED or hint is Any or hint is object:
        return None
    origin = typing.get_origin(hint)
    if origin is typing.ClassVar:
        return None
    if getattr(origin, "__name__", None) in ("AbstractVar", "AbstractClassVar"):
        (hint,) = typing.get_args(hint)
    hint = substitute(hint, bindings)
    if isinstance(hint, TypeVar):
        return None
    return Check(name, hint, annotation_text(written, hint))


_UNSUPPORTED: set[Any] = set()


def _is_unsupported(hint: Any) -> bool:
    try:
        return hint in _UNSUPPORTED
    except TypeError:
        return False


_DOOR: list[Any] = []


def _door() -> tuple[Any, type, type]:
    """beartype's checker and its exceptions, imported on the first check."""
    if not _DOOR:
        from beartype.door import die_if_unbearable
        from beartype.roar import BeartypeException, BeartypeHintViolation

        _DOOR.extend((die_if_unbearable, BeartypeException, BeartypeHintViolation))
    return _DOOR[0], _DOOR[1], _DOOR[2]


def violation(value: Any, hint: Any) -> Exception | None:
    """The type checker's error if `value` does not satisfy `hint`, else `None`.

    beartype is imported here, on the first check, not when `lerax_callback` is.
    A hint beartype cannot check is remembered and treated as satisfied.
    """
    die_if_unbearable, unsupported, hint_violation = _door()
    if _is_unsupported(hint):
        return None
    try:
        die_if_unbearable(value, hint)
    except hint_violation as error:
        return error
    except unsupported:
        try:
            _UNSUPPORTED.add(hint)
        except TypeError:
            pass
    return None
