"""Finding the user's source line in an error, and explaining tracer errors."""

from __future__ import annotations

import os
import sysconfig
import traceback
from typing import Any

import jax

from ._locations import (
    class_location as class_location,
    method_location as method_location,
)

_LIBRARY_DIRS = tuple(
    os.path.realpath(p)
    for p in {
        sysconfig.get_paths().get("stdlib", ""),
        sysconfig.get_paths().get("platstdlib", ""),
        os.path.dirname(os.path.dirname(jax.__file__)),  # site-packages
    }
    if p
)
_OWN_DIR = os.path.realpath(os.path.dirname(__file__))


def _is_library(filename: str) -> bool:
    path = os.path.realpath(filename)
    if path.startswith(_OWN_DIR) or os.path.basename(path).startswith("_typecheck"):
        return True
    return any(path.startswith(d) for d in _LIBRARY_DIRS) or filename.startswith("<")


def _chain(error: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    while error is not None and error not in out:
        out.append(error)
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return out


def user_frame(
    frames: list[tuple[str, int]], callback: Any = None
) -> tuple[str, int] | None:
    """The innermost of `frames` (innermost first) in the user's code: in the file
    defining the callback's class if any, else outside libraries and this harness."""
    own_file = None
    if callback is not None:
        location = class_location(callback)
        own_file = os.path.realpath(location[0]) if location else None
    if own_file:
        for file, line in frames:
            if os.path.realpath(file) == own_file:
                return (file, line)
    for file, line in frames:
        if not _is_library(file):
            return (file, line)
    return None


def user_location(error: BaseException, callback: Any = None) -> tuple[str, int] | None:
    """The deepest frame of `error` in the user's code (see `user_frame`)."""
    frames: list[tuple[str, int]] = []
    for link in _chain(error):
        tb = traceback.extract_tb(link.__traceback__)
        frames.extend((f.filename, f.lineno or 0) for f in reversed(tb))
    return user_frame(frames, callback)


def source_line(location: tuple[str, int] | None) -> str | None:
    """The text of the line at `location`, stripped."""
    if location is None:
        return None
    import linecache

    text = linecache.getline(location[0], location[1]).strip()
    return text or None


_TRACER_ERRORS: tuple[tuple[type[BaseException], str, str], ...] = (
    (
        jax.errors.TracerBoolConversionError,
        "a Python `if`, `while`, `and`/`or`/`not` or `bool()` on a traced value",
        "Choose between values with `jnp.where(cond, a, b)` or `lax.select`, or "
        "between computations with `lax.cond`, instead of Python control flow.",
    ),
    (
        jax.errors.TracerIntegerConversionError,
        "`int()`, `range()` or indexing a Python sequence with a traced value",
        "Keep the value an array: index arrays with it (`x[i]`), use `lax.fori_loop` "
        "or `lax.dynamic_index_in_dim`, not Python `int()`.",
    ),
    (
        jax.errors.TracerArrayConversionError,
        "a NumPy conversion (`np.asarray`, `np.*` functions, `.tolist()`) of a "
        "traced value",
        "Use `jax.numpy` instead of NumPy inside callback methods; to hand values "
        "to host code, use `jax.debug.callback`.",
    ),
    (
        jax.errors.ConcretizationTypeError,
        "`float()`, `.item()` or another conversion of a traced value to a concrete "
        "Python value",
        "Keep it an array (`jnp` operations, `jnp.where`, `lax.cond`); to print or "
        "log it, use `jax.debug.print` or `jax.debug.callback`.",
    ),
    (
        jax.errors.UnexpectedTracerError,
        "a tracer leaked out of a transformation (stored on `self`, in a global or "
        "in a container outside the method)",
        "Return every value through the method's result instead of storing it; keep "
        "host-side state behind `jax.debug.callback`.",
    ),
)


def explain_tracer_error(error: BaseException) -> tuple[str, str] | None:
    """`(what went wrong, how to fix it)` for JAX's tracer errors, else None."""
    for link in _chain(error):
        for kind, what, fix in _TRACER_ERRORS:
            if isinstance(link, kind):
                return what, fix
    return None


def error_summary(error: BaseException, *, limit: int = 300) -> str:
    """`Type: first line of the message`, shortened."""
    for link in _chain(error):
        if type(link).__name__ != "MethodError":
            error = link
            break
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > limit:
        first = first[: limit - 3] + "..."
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def error_details(error: BaseException) -> str:
    return "".join(traceback.format_exception(error, chain=True, limit=None)[-12:])
