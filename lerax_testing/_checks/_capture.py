"""What a method does to the world while it runs: as text the `side_effects`
check compares between tracing and running, what it prints, the files it opens
for writing, what it writes to files and streams it holds open, and what it logs;
for `purity`, whether it draws from a global random generator.

Printing is caught by swapping `sys.stdout`/`sys.stderr` for streams that keep
what the calling thread writes (and the runtime's threads, which run host
callbacks), while a thread of the callback's own (a progress bar refreshing
itself) writes where it wrote before: its output is no effect of the call. Opening
files is caught by
wrapping `open`. A file or stream opened before the call (a CSV writer's handle
kept on the callback, the terminal a `logging` handler was given when it was
made) is out of reach of both, so writes to any file object are caught with a
profile hook on the calling thread, and log records where `logging` hands them
to its handlers.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import io
import logging
import random
import re
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Any, NamedTuple

import jax
import numpy as np

from .._engine._drive import Invoker, WrappedInvoker

_FILES = (io.FileIO, io.BufferedWriter, io.BufferedRandom, io.TextIOWrapper)
"""File objects whose writes leave the process (unlike a `StringIO`'s)."""

_WRITES = frozenset({"write", "writelines"})

_OWN_LOGGERS = frozenset({"jax", "jaxlib", "equinox", "absl", "hypothesis"})
"""Loggers of the libraries the checks run, whose records are not the callback's."""

TRACER_TEXT = re.compile(r"Tracer|Traced<")
"""A traced value formatted as text: `JitTracer(float32[])`, `Traced<...>`."""


class TracerText(NamedTuple):
    """Text made from a traced value that a method printed (`kind` "print") or
    logged ("log"), and the frames it was printed or logged from, innermost
    first."""

    kind: str
    text: str
    frames: list[tuple[str, int]]


class _CallersStream(io.TextIOBase):
    """Writes from the calling thread and from threads Python did not start (the
    runtime's, running host callbacks) go to `buffer`; writes from other Python
    threads go to `other`, the stream they would have reached."""

    def __init__(
        self,
        buffer: io.StringIO,
        other: Any,
        owner: int,
        shown: list[TracerText] | None = None,
    ):
        self.buffer, self.other, self.owner = buffer, other, owner
        self.shown = shown

    def _ours(self) -> bool:
        thread = threading.current_thread()
        return thread.ident == self.owner or type(thread).__name__ == "_DummyThread"

    def write(self, text: str) -> int:
        if self._ours():
            if self.shown is not None and TRACER_TEXT.search(text):
                stack = traceback.extract_stack()[::-1]
                frames = [(f.filename, f.lineno or 0) for f in stack]
                self.shown.append(TracerText("print", text, frames))
            return self.buffer.write(text)
        return self.other.write(text) if self.other is not None else len(text)

    def flush(self) -> None:
        if not self._ours() and self.other is not None:
            self.other.flush()

    def writable(self) -> bool:
        return True


def _file_name(file: Any) -> str:
    name = getattr(file, "name", None)
    return str(name) if name is not None else type(file).__name__


@contextlib.contextmanager
def capture_effects(
    written: list[str], shown: list[TracerText] | None = None
) -> Iterator[io.StringIO]:
    """Capture printed output, log records and writes to open files as text in
    the yielded buffer, and record in `written` the files opened for writing;
    with `shown`, also each print and log record whose text shows a tracer, and
    where it was made, log records below their logger's level included (a
    project may configure logging in its training script only)."""
    buffer = io.StringIO()
    real_open = builtins.open
    real_handle = logging.Logger.handle

    @functools.wraps(real_open)
    def recording_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(flag in mode for flag in "wax+"):
            written.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    owner = threading.get_ident()

    def recording_handle(logger: logging.Logger, record: logging.LogRecord) -> None:
        below_level = not logger.isEnabledFor(record.levelno)  # made for its text
        if record.name.split(".")[0] not in _OWN_LOGGERS and (
            record.thread == owner
            or record.threadName == "Dummy"
            or record.threadName.startswith("Dummy-")
        ):
            message = _message(record)
            if shown is not None and TRACER_TEXT.search(message):
                frames = [(record.pathname, record.lineno)]
                shown.append(TracerText("log", message, frames))
            if not below_level:
                buffer.write(f"[logged {record.levelname} {record.name}: {message}]\n")
        if not below_level:
            real_handle(logger, record)

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and getattr(arg, "__name__", None) in _WRITES:
            target = getattr(arg, "__self__", None)
            if isinstance(target, _FILES):
                buffer.write(f"[wrote to {_file_name(target)}]\n")

    previous = sys.getprofile()
    builtins.open = io.open = recording_open  # type: ignore[assignment]
    logging.Logger.handle = recording_handle  # type: ignore[method-assign]
    sys.setprofile(profile)
    try:
        out = _CallersStream(buffer, sys.stdout, owner, shown)
        err = _CallersStream(buffer, sys.stderr, owner, shown)
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            _records_below_level() if shown is not None else contextlib.nullcontext(),
        ):
            yield buffer
            jax.effects_barrier()
    finally:
        sys.setprofile(previous)
        logging.Logger.handle = real_handle  # type: ignore[method-assign]
        builtins.open = io.open = real_open  # type: ignore[assignment]


_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
"""`logging.Logger`'s methods that log at a fixed level (`exception` and `warn`
call two of them)."""


@contextlib.contextmanager
def _records_below_level() -> Iterator[None]:
    """Make the records that `Logger.info` and its siblings would skip for being
    below their logger's level, so that their text is read for a tracer: logging
    is often configured in a training script only, and a logger at `WARNING`
    where the checks run may log at `INFO` in training. The records reach
    `Logger.handle` (where `capture_effects` reads and drops them); the level
    each logger reports (`isEnabledFor`) is unchanged, so that code which asks
    before logging runs as it would."""
    real = {name: getattr(logging.Logger, name) for name in (*_LEVELS, "log")}

    def making(name: str) -> Any:
        real_method = real[name]

        @functools.wraps(real_method)
        def method(logger: logging.Logger, *args: Any, **kwargs: Any) -> None:
            level, rest = (
                (args[0], args[1:]) if name == "log" else (_LEVELS[name], args)
            )
            # This frame is one more between the user's line and `logging`'s.
            kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
            if (
                not rest
                or not isinstance(level, int)
                or logger.isEnabledFor(level)
                or logger.name.split(".")[0] in _OWN_LOGGERS
            ):
                return real_method(logger, *args, **kwargs)
            logger._log(level, rest[0], tuple(rest[1:]), **kwargs)

        return method

    for name in real:
        setattr(logging.Logger, name, making(name))
    try:
        yield
    finally:
        for name, method in real.items():
            setattr(logging.Logger, name, method)


def _message(record: logging.LogRecord) -> str:
    """A record's text; its format string alone when its arguments do not fit it
    (`logging` reports that when a handler formats the record, not here)."""
    try:
        return record.getMessage()
    except Exception:
        return str(record.msg)


@contextlib.contextmanager
def formatted_log_records() -> Iterator[None]:
    """Hand `logging`'s handlers records whose message is already formatted and
    whose arguments are gone. A method that logs a traced value while traced is
    the `side_effects` check's finding; a handler that keeps its records (pytest's
    log capture, a `MemoryHandler`) would otherwise keep the tracer alive too, and
    the same call would also count as a leaked tracer."""
    real_handle = logging.Logger.handle

    def handle(logger: logging.Logger, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None
        real_handle(logger, record)

    logging.Logger.handle = handle  # type: ignore[method-assign]
    try:
        yield
    finally:
        logging.Logger.handle = real_handle  # type: ignore[method-assign]


class GlobalRandomWatcher(WrappedInvoker):
    """Notes the methods that draw from Python's `random` or NumPy's global
    generator (their state changes during the call): under `jax.jit` such a draw
    happens once, while tracing, and every later call reuses it."""

    def __init__(self, inner: Invoker):
        super().__init__(inner)
        self.drew: list[tuple[str, str]] = []

    def __call__(self, method: str, *args: Any) -> Any:
        python, numpy = random.getstate(), np.random.get_state()
        try:
            return self.inner(method, *args)
        finally:
            if random.getstate() != python:
                self.drew.append((method, "Python's `random`"))
            elif not _same_numpy_state(np.random.get_state(), numpy):
                self.drew.append((method, "NumPy's global `np.random`"))


def _same_numpy_state(a: Any, b: Any) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and tuple(a[2:]) == tuple(b[2:])
