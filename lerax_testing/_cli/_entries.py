"""What `lerax-conformance` finds in a target: `Entry`s, and the helpers that make
them (building a callback, describing an error in the user's code)."""

from __future__ import annotations

import dataclasses
import os
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any

from .._explain._classes import required_arguments as required_arguments
from .._explain._locations import class_location as location

_OWN_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class UsageError(Exception):
    """A TARGET or an option that cannot be used; the message is one line."""


@dataclasses.dataclass(frozen=True)
class Target:
    """A parsed TARGET: a module name or a file, and maybe an attribute in it."""

    text: str
    module: str | None = None
    path: Path | None = None
    attribute: str | None = None
    folder: str | None = None  # the folder TARGET this file was found in

    def child(self, attribute: str) -> str:
        """The TARGET that names only `attribute` of this module or file."""
        base = self.text if self.attribute is None else self.text.rpartition(":")[0]
        return f"{base}:{attribute}"


@dataclasses.dataclass
class Entry:
    """One callback found in a target, ready to check or saying why it is not.

    `name` is itself a TARGET naming just this callback, e.g. `pkg.callbacks:Mine`.
    """

    name: str
    target: str
    callback: Any = None
    error: str | None = None  # it could not be made: the target's failure
    details: str | None = None  # the traceback of `error`
    skipped: str | None = None  # it is not checked, and why
    location: tuple[str, int] | None = None
    base: str | None = None  # a deliberate abstract base, passed over: why it is one


def build_entry(name: str, target: Target, factory: Any) -> Entry:
    call = f"{getattr(factory, '__qualname__', name)}()"
    try:
        callback = factory()
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        return error_entry(name, target, error, f"calling `{call}`")
    return Entry(name, target.text, callback, location=location(callback))


def error_entry(name: str, target: Target, error: BaseException, doing: str) -> Entry:
    first = str(error).strip().splitlines()
    summary = type(error).__name__ + (f": {first[0]}" if first else "")
    return Entry(
        name,
        target.text,
        error=f"{doing} raised {summary}",
        details=_user_traceback(error),
        location=_error_location(error, target),
    )


def _user_traceback(error: BaseException) -> str:
    """The traceback from the first frame outside this toolkit and importlib."""
    own = os.path.dirname(os.path.abspath(__file__))
    tb = error.__traceback__
    while tb is not None and (
        tb.tb_frame.f_code.co_filename.startswith(("<frozen", own))
    ):
        tb = tb.tb_next
    lines = traceback.format_exception(type(error), error, tb or error.__traceback__)
    return "".join(lines[-20:])


def _error_location(error: BaseException, target: Target) -> tuple[str, int] | None:
    """The innermost line of the user's code in `error`'s traceback."""
    if isinstance(error, SyntaxError) and error.filename and error.lineno:
        return error.filename, error.lineno
    frames = traceback.extract_tb(error.__traceback__)
    own = str(target.path) if target.path is not None else None
    site = os.path.dirname(os.path.dirname(os.__file__))
    best = None
    for frame in frames:
        if frame.filename == own:
            best = (frame.filename, frame.lineno or 0)
        elif own is None and not frame.filename.startswith(("<", site)):
            best = (frame.filename, frame.lineno or 0)
    return best


def is_callback_method(function: str, file: str) -> bool:
    """Whether `function` in `file` is a callback's method: named like one and
    outside this toolkit's harness (whose own helpers may share the names)."""
    from lerax_callback._callback import CALLBACK_METHODS  # imports JAX: not at start

    return function in CALLBACK_METHODS and not file.startswith(_OWN_PACKAGE)


def running_method(frames: Iterable[FrameType]) -> str | None:
    """Which callback method `frames` (innermost first) are in, e.g.
    "`on_step` at cb.py:12", or None when no callback method is running; to name
    what was running when a callback exits, hangs or crashes."""
    for frame in frames:
        code = frame.f_code
        if is_callback_method(code.co_name, code.co_filename):
            return f"`{code.co_name}` at {code.co_filename}:{frame.f_lineno}"
    return None


def stack(frame: FrameType | None) -> Iterable[FrameType]:
    """`frame` and its callers, innermost first."""
    while frame is not None:
        yield frame
        frame = frame.f_back


def traceback_frames(error: BaseException) -> list[FrameType]:
    """The frames `error` passed through, innermost first."""
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames[::-1]
