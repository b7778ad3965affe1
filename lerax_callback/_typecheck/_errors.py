"""`TypeCheckError`, and the sectioned messages it carries."""

from __future__ import annotations

import contextlib
import io
import sys
import typing
from typing import Any

import jax
from jaxtyping import print_bindings


class TypeCheckError(TypeError):
    """A value did not match its annotation in a runtime type check.

    Raised by the checks that `lerax_callback.typechecked` and
    `lerax_callback.enable_typechecking` install, and by `lerax_callback.check_fields`
    and `lerax_callback.typecheck_call`. The message says where the
    value was (which class, method or context, which field or argument), what was
    expected (the annotation, with its shape and dtype) and what was found; the
    type checker's own error is chained as the cause.
    """


TypeCheckError.__module__ = "lerax_callback"


def _is_array_hint(hint: Any) -> bool:
    """Whether `hint` is a jaxtyping array annotation such as `Float[Array, " n"]`."""
    return isinstance(hint, type) and all(
        hasattr(hint, name) for name in ("dim_str", "dtypes", "array_type")
    )


def _shape_text(dims: list[str]) -> str:
    if len(dims) == 1:
        return f"({dims[0]},)"
    return "(" + ", ".join(dims) + ")"


def _dtype_text(hint: Any) -> str:
    dtypes = hint.dtypes
    if not isinstance(dtypes, tuple | list):
        return "any dtype"
    # jaxtyping lists `bool` and `bool_` for `Bool`: show each dtype once.
    names = sorted({name.rstrip("_") for name in dtypes})
    if len(names) <= 2:
        return "dtype " + " or ".join(names)
    return f"any `{getattr(hint.dtype, '__name__', 'matching')}` dtype"


def display_name(obj: Any) -> str:
    """`obj`'s qualified name, without the `<locals>` of enclosing functions."""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
    return name.rsplit("<locals>.", 1)[-1]


def qualified_name(cls: type) -> str:
    """`cls`'s name with its module, to tell apart classes of one name.

    The module is the one users import the class from: the defining module, or,
    when that is private (`lerax_callback._contexts`), the nearest public package
    that exports the class (`lerax_callback`).
    """
    parts = cls.__module__.split(".")
    if any(part.startswith("_") for part in parts):
        for end in range(1, len(parts)):
            if parts[end - 1].startswith("_"):
                break
            module = sys.modules.get(".".join(parts[:end]))
            if getattr(module, cls.__name__, None) is cls:
                parts = parts[:end]
                break
    return f"{'.'.join(parts)}.{display_name(cls)}"


def _clash(value: Any, hint: Any) -> bool:
    """Whether `value`'s class and the class `hint` have one name but differ, as
    `lerax_callback.ResetContext` and Lerax's `ResetContext` do."""
    cls = type(value)
    return (
        isinstance(hint, type)
        and not _is_array_hint(hint)
        and cls is not hint
        and display_name(cls) == display_name(hint)
    )


def describe_hint(hint: Any, *, qualify: bool = False) -> str:
    """A short reading of an annotation: its shape and dtype for arrays.

    With `qualify`, a class is named with its module (see `qualified_name`).
    """
    if _is_array_hint(hint):
        dims = hint.dim_str.split()
        return f"an array of shape {_shape_text(dims)} and {_dtype_text(hint)}"
    if isinstance(hint, type):
        name = qualified_name(hint) if qualify else display_name(hint)
        return f"an instance of `{name}`"
    return f"a value of type `{str(hint).replace('typing.', '')}`"


def annotation_text(annotation: Any, hint: Any) -> str:
    """What was expected: the annotation as written, and what it stands for."""
    if isinstance(annotation, str):
        written = annotation
    elif isinstance(annotation, typing.TypeVar):
        written = annotation.__name__
    elif _is_array_hint(annotation):
        array = annotation.array_type
        array_name = "Array" if array is jax.Array else array.__qualname__
        name = getattr(annotation.dtype, "__name__", "Shaped")
        written = f"{name}[{array_name}, {annotation.dim_str!r}]"
    elif isinstance(annotation, type):
        written = display_name(annotation)
    else:
        written = str(annotation).replace("typing.", "")
    if _is_array_hint(hint):
        return f"`{written}`: {describe_hint(hint)}"
    if isinstance(hint, type):
        if written.split(".")[-1] == hint.__name__:
            return describe_hint(hint)
        return f"{describe_hint(hint)} (what `{written}` stands for here)"
    resolved = str(hint).replace("typing.", "")
    if resolved.replace("'", "") == written.replace("'", ""):
        return f"`{written}`"
    return f"`{written}` (here `{resolved}`)"


def describe_value(value: Any, *, qualify: bool = False) -> str:
    """What was found: the type, and the shape and dtype of arrays.

    With `qualify`, the class is named with its module (see `qualified_name`).
    """
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    traced = isinstance(value, jax.core.Tracer)
    if isinstance(shape, tuple) and dtype is not None:
        if traced:
            kind = "a traced `jax.Array`"
        elif isinstance(value, jax.Array):
            kind = "a `jax.Array`"
        else:
            kind = f"an instance of `{_value_type(value)}`"
        found = f"{kind} of shape {shape} and dtype {dtype}"
        return found + (" (checked while tracing)" if traced else "")
    if value is None:
        return "`None`"
    if isinstance(value, bool | int | float | str):
        return f"`{value!r}`, an instance of `{_value_type(value)}`"
    if qualify:
        return f"an instance of `{qualified_name(type(value))}`"
    return f"an instance of `{_value_type(value)}`"


def _value_type(value: Any) -> str:
    cls = type(value)
    top = cls.__module__.split(".")[0]
    if top in ("numpy", "jax", "jaxlib"):
        return f"{top}.{cls.__qualname__}"
    return display_name(cls)


def _reason(value: Any, hint: Any) -> str:
    """jaxtyping's explanation of a shape mismatch, if it has one.

    A wrong dtype needs no more explaining than `expected` and `found` give.
    """
    explain = getattr(hint, "__instancecheck_str__", None)
    if explain is None:
        return ""
    try:
        reason = str(explain(value))
    except Exception:
        return ""
    return "" if reason.startswith("this array has dtype") else reason


def _bindings() -> str:
    """The dimension sizes bound so far in the current check (one line), if any."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        print_bindings()
    lines = buffer.getvalue().splitlines()[1:]
    return ", ".join(line for line in lines if "=" in line)


def mismatch(
    *,
    subject: str,
    what: str,
    expected: str,
    value: Any,
    hint: Any,
    note: str = "",
) -> TypeCheckError:
    """The error for `value`, found in `what` of `subject`, not matching `hint`."""
    qualify = _clash(value, hint)
    if qualify:
        # Two classes of one name: only their modules tell them apart.
        written = expected.partition(" (")[2]
        expected = describe_hint(hint, qualify=True)
        if written:
            expected += f" ({written}"
        note = note or (
            f"two classes are named `{display_name(hint)}`: a callback gets the "
            "contexts and states of the API it subclasses, `lerax_callback` or "
            "Lerax's `lerax.callback`; pass `lerax_callback` callbacks to Lerax's "
            "algorithms through `lerax_callback.to_lerax(callback)`."
        )
    lines = [
        f"{what} of {subject} does not match its annotation.",
        f"  expected: {expected}",
        f"  found:    {describe_value(value, qualify=qualify)}",
    ]
    reason = _reason(value, hint)
    if reason:
        lines.append(f"  reason:   {reason}")
    bound = _bindings()
    if bound:
        lines.append(f"  dimensions bound so far in this check: {bound}")
    if note:
        lines.append(f"  note:     {note}")
    return TypeCheckError("\n".join(lines))
