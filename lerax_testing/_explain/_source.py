"""Finding the user's source line in an error, and explaining tracer errors."""

from __future__ import annotations

import os
import re
import sysconfig
import traceback
from typing import Any

import jax

import lerax_callback

from ._advice import TRACER_ERRORS
from ._locations import (
    class_location as class_location,
    method_location as method_location,
)
from ._sentences import shorten

_LIBRARY_DIRS = tuple(
    os.path.realpath(p)
    for p in {
        sysconfig.get_paths().get("stdlib", ""),
        sysconfig.get_paths().get("platstdlib", ""),
        os.path.dirname(os.path.dirname(jax.__file__)),  # site-packages
    }
    if p
)
_OWN_DIR = os.path.realpath(os.path.dirname(os.path.dirname(__file__)))
"""The `lerax_testing` package: its frames are never the user's line."""
_API_DIR = os.path.realpath(os.path.dirname(lerax_callback.__file__))


def _is_library(filename: str) -> bool:
    path = os.path.realpath(filename)
    # The runtime type checker (`lerax_callback/_typecheck/`, `_typecheck*.py`)
    # raises on the user's behalf: its frames are never the user's line.
    parts = path.split(os.sep)
    if path.startswith(_OWN_DIR) or any(p.startswith("_typecheck") for p in parts):
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
    if own_file and (own_file.startswith(_API_DIR) or _is_library(own_file)):
        # A built-in that calls the user's callbacks (a `CallbackList`): the
        # user's line is the innermost one outside the libraries.
        own_file = None
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


_TRACER_ERRORS: tuple[tuple[type[BaseException], str, str], ...] = tuple(
    (getattr(jax.errors, name), what, fix)
    for name, (what, fix) in TRACER_ERRORS.items()
)


def explain_tracer_error(error: BaseException) -> tuple[str, str] | None:
    """`(what went wrong, how to fix it)` for JAX's tracer errors, else None."""
    for link in _chain(error):
        for kind, what, fix in _TRACER_ERRORS:
            if isinstance(link, kind):
                return what, fix
    return None


# JAX's carry and branch type errors: "...but they differ:", then one paragraph per
# difference, each in one of these forms; shown compactly as `path`: before -> after.
_CARRY_TYPE = re.compile(
    r"[Tt]he input carry component (?P<path>\S+) has type (?P<before>\S+) but the "
    r"corresponding output carry component has type (?P<after>\S+?),? so the "
    r"(?P<what>\w+) do not match"
)
_CARRY_META = re.compile(
    r"[Tt]he input carry component (?P<path>\S+) is a <class '(?P<cls>[^']+)'> with "
    r"pytree metadata (?P<before>.+?) but the corresponding component of the carry "
    r"output is a <class '[^']+'> with pytree metadata (?P<after>.+?), so"
)
_BRANCH_TYPE = re.compile(
    r"The output of true_fun at path (?P<path>\S+) has type (?P<before>\S+) but the "
    r"corresponding output of false_fun has type (?P<after>\S+?),? so the "
    r"(?P<what>\w+) do not match"
)
_KEY_SETS = re.compile(r"symmetric difference on key sets is\s*\n\s*(.+)")
_NOISE = ("true_fun is ", "false_fun is ", "at loc(", "at ")
_END = ("Revise ", "See ", "This might", "The module", "For simplicity")
MAX_DIFFERENCES = 3
"""Differences of a carry-type error shown at most; the details hold the rest."""


def _difference(text: str) -> str:
    """One difference of a JAX type error, compactly when its form is known."""
    text = " ".join(text.lstrip("* ").rstrip(";.").split())
    for pattern in (_CARRY_TYPE, _BRANCH_TYPE):
        match = pattern.search(text)
        if match:
            path, before, after = match.group("path", "before", "after")
            return f"`{path}` {before} -> {after} ({match.group('what')} differ)"
    match = _CARRY_META.search(text)
    if match:
        path, cls, before, after = match.group("path", "cls", "before", "after")
        return f"`{path}` ({cls}) static fields {before} -> {after}"
    return text


def message_summary(text: str) -> str:
    """The gist of an error message on one line, complete: its first line, and
    when that announces more (ends with `:`, as JAX's "...but they differ:" and
    "Cannot lower jaxpr with verifier errors:" do) the lines it announces, up to
    `MAX_DIFFERENCES` of them."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if not lines:
        return ""
    head, rest = lines[0], lines[1:]
    keys = _KEY_SETS.search(text)
    if keys:
        return f"{head.rstrip(':')}; the keys that differ: {keys.group(1).strip()}."
    announces = head.endswith(":") or head.endswith("but they differ.")
    if not announces:
        return head
    found: list[str] = []
    for line in rest:
        if line.startswith(_END) or len(found) == MAX_DIFFERENCES:
            break
        if line and not line.startswith(_NOISE):
            found.append(_difference(line))
    head = head.rstrip(":.")
    return f"{head}: {'; '.join(found)}." if found else f"{head}."


def error_summary(error: BaseException, *, limit: int = 300) -> str:
    """`Type: the message's gist` (see `message_summary`), cut only after whole
    sentences (`shorten`)."""
    for link in _chain(error):
        if type(link).__name__ != "MethodError":
            error = link
            break
    gist = shorten(message_summary(str(error)), limit)
    return f"{type(error).__name__}: {gist}" if gist else type(error).__name__


def error_details(error: BaseException) -> str:
    return "".join(traceback.format_exception(error, chain=True, limit=None)[-12:])
