"""`check_fields`: one module instance's fields against their annotations."""

from __future__ import annotations

import dataclasses
import inspect
import sys
import weakref
from typing import Any

from jaxtyping import jaxtyped

from .._contexts import StepContext
from ._errors import display_name, mismatch
from ._hints import Check, bindings_for, make_check, resolve, violation

_FIELD_CHECKS: weakref.WeakKeyDictionary[type, tuple[Check, ...]] = (
    weakref.WeakKeyDictionary()
)

_MISSING: Any = object()

_STEP_NOTE = (
    "`StepContext` holds one environment's values: algorithms build it inside "
    "`vmap`, where `done` and `reward` are scalars."
)


def module_globals(obj: Any) -> dict[str, Any]:
    """The namespace annotations written in `obj`'s module are evaluated in."""
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    return vars(module) if module is not None else {}


def _annotation(cls: type, name: str) -> tuple[type, Any] | None:
    """The class that annotates field `name` last in `cls`'s MRO, and its annotation."""
    for klass in cls.__mro__:
        annotations = inspect.get_annotations(klass)
        if name in annotations:
            return klass, annotations[name]
    return None


def field_checks(cls: type) -> tuple[Check, ...]:
    """The checks for `cls`'s fields (computed once per class)."""
    try:
        return _FIELD_CHECKS[cls]
    except KeyError:
        pass
    checks = []
    for field in dataclasses.fields(cls):
        found = _annotation(cls, field.name)
        if found is None:
            continue
        klass, annotation = found
        globalns = module_globals(klass)
        # A class defined in a function may name itself; the module's names first.
        localns = {k.__name__: k for k in (klass, cls) if k.__name__ not in globalns}
        check = make_check(
            field.name,
            resolve(annotation, globalns, localns),
            written=annotation,
            bindings=bindings_for(cls, klass),
        )
        if check is not None:
            checks.append(check)
    _FIELD_CHECKS[cls] = result = tuple(checks)
    return result


def _note(module: Any, name: str, value: Any) -> str:
    if isinstance(module, StepContext) and name in ("done", "reward"):
        if getattr(value, "shape", ()) != ():
            return _STEP_NOTE
    return ""


def check_module_fields(module: Any, *, origin: str = "") -> None:
    """`check_fields`, saying in messages where `module` was found."""
    cls = type(module)
    checks = field_checks(cls)
    if not checks:
        return
    # One jaxtyping memo per instance: a dimension name means one size across the
    # fields of one instance, as in a jaxtyping-checked dataclass `__init__`.
    with jaxtyped("context"):
        for check in checks:
            value = getattr(module, check.name, _MISSING)
            if value is _MISSING:
                continue
            error = violation(value, check.hint)
            if error is not None:
                where = f" ({origin})" if origin else ""
                failure = mismatch(
                    subject=f"`{display_name(cls)}`{where}",
                    what=f"Field `{check.name}`",
                    expected=check.expected,
                    value=value,
                    hint=check.hint,
                    note=_note(module, check.name, value),
                )
                # Which field of which class, for tools that must tell the
                # callback's own values from those an algorithm supplied.
                failure.field_owner, failure.field_name = cls, check.name
                raise failure from error


def check_fields(module: Any) -> None:
    """Check one module instance's fields against their annotations.

    This is the check that runs when a state, a callback or a context is built
    while checking is on, or when its class is `typechecked`; call it directly to
    check a value built another way (e.g. by `jax.tree.map`, which skips
    `__init__`). Array annotations are checked for shape and dtype, with one set of
    dimension names per instance. String annotations (`from __future__ import
    annotations`) are evaluated in the module that wrote them; annotations that
    cannot be evaluated there, `Any`, and type variables the class leaves open
    are skipped. A generic parameter the class binds (e.g. `inner: T` in a
    subclass of `Wrapper[MyState]`) is checked as the class it is bound to.

    Under `jax.jit` and `vmap` the check runs on tracers' shapes and dtypes, at
    trace time, and inside `vmap` those shapes are per batch element.

    **Arguments:**

    - `module`: an instance of an `equinox.Module` (or any dataclass).

    **Raises:**

    `TypeCheckError` naming the class, the field, the expected annotation and the
    value found; `TypeError` if `module` is not a dataclass instance.
    """
    if isinstance(module, type) or not dataclasses.is_dataclass(module):
        raise TypeError(
            f"`check_fields` takes an `equinox.Module` instance, got "
            f"{module!r}; pass an instance, e.g. `check_fields(MyState(...))`."
        )
    check_module_fields(module)
