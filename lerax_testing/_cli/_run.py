"""Checking the callbacks of `lerax-conformance`'s targets in this process, one
`Outcome` each, and the progress display."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .._formats._results import Outcome, Status
from .._settings import Settings
from ._entries import is_callback_method, running_method, traceback_frames
from ._targets import Entry, Target, UsageError, discover_each

if TYPE_CHECKING:
    from .._harness import ProgressHook


class Progress:
    """Which callback and check are running, on the terminal (standard error).

    On a terminal one line is rewritten; elsewhere (a CI log) each callback gets a
    line when it starts.
    """

    def __init__(self, stream: TextIO | None, total: int = 0):
        self.stream = stream
        self.total = total
        self.index = 0
        self.name = ""
        self.tty = bool(stream is not None and stream.isatty())

    def start(self, name: str) -> None:
        self.index += 1
        self.name = name
        if self.stream is not None and not self.tty:
            self._write(f"[{self.index}/{self.total or '?'}] checking {name}\n")
        self.check("")

    def check(self, check: str) -> None:
        if self.tty:
            what = f": {check}" if check else ""
            self._write(f"\r\x1b[K[{self.index}/{self.total or '?'}] {self.name}{what}")

    def note(self, text: str) -> None:
        """A line that stays, e.g. that a callback timed out, and in what."""
        if self.stream is not None:
            self._write(("\r\x1b[K" if self.tty else "") + text + "\n")

    def finish(self) -> None:
        if self.tty:
            self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        assert self.stream is not None
        self.stream.write(text)
        self.stream.flush()


def check_entry(
    entry: Entry,
    settings: Settings,
    progress: ProgressHook | None = None,
    *,
    interruptible: bool = True,
) -> Outcome:
    """Check one discovered callback; `UsageError` for options `check_callback`
    rejects.

    Whatever else the callback raises or exits with (`SystemExit`, `sys.exit(0)`,
    and `KeyboardInterrupt` too unless `interruptible`) is that callback's error,
    and the run goes on with the others. A worker process, which Ctrl-C never
    reaches, is not `interruptible`: a `KeyboardInterrupt` there comes from the
    callback.
    """
    if entry.callback is None:
        status: Status = "skipped" if entry.skipped else "error"
        return Outcome(
            entry.name,
            entry.target,
            status,
            reason=entry.skipped or entry.error,
            details=entry.details,
            location=entry.location,
        )
    from .._harness import run_checks

    running: list[str] = []

    def hook(description: str, check: str) -> None:
        running[:] = [check]
        if progress is not None:
            progress(description, check)

    try:
        report = run_checks(entry.callback, settings, progress=hook, target=entry.name)
    except (TypeError, ValueError) as error:  # only for invalid options
        raise UsageError(str(error).splitlines()[0]) from error
    except BaseException as error:  # noqa: BLE001 (the user's code may raise anything)
        if isinstance(error, KeyboardInterrupt) and interruptible:
            raise
        return _raised(entry, error, running[0] if running else None)
    return Outcome(
        entry.name,
        entry.target,
        "passed" if report.ok else "failed",
        report=report,
        location=report.location or entry.location,
    )


def check_inputs(entries: Sequence[Entry], settings: Settings) -> None:
    """`UsageError` when an option cannot be used with one of `entries`' callbacks
    (a context value no context of its family has a field for), before any of
    them is checked: a mistake in the options costs no check."""
    from .._harness import check_context_values

    for entry in entries:
        if entry.callback is None:
            continue
        try:
            check_context_values(entry.callback, settings)
        except (TypeError, ValueError) as error:  # `InvalidArgument`
            raise UsageError(f"{entry.name}: {error}") from error


def _raised(entry: Entry, error: BaseException, check: str | None) -> Outcome:
    """The error outcome of a callback whose check raised past the harness."""
    what = type(error).__name__
    if isinstance(error, SystemExit):
        what = f"SystemExit({error.code!r}) (`sys.exit`)"
    elif str(error):
        what += f": {str(error).splitlines()[0]}"
    during = f" during the `{check}` check" if check else ""
    method = running_method(traceback_frames(error))
    where = f", in {method}" if method else ""
    return Outcome(
        entry.name,
        entry.target,
        "error",
        reason=f"it raised {what}{during}{where}; a callback must return its state, "
        "never exit or interrupt the interpreter",
        details=_from_user_code(error),
        location=entry.location,
        check=check,
    )


def run_in_process(
    targets: Sequence[Target],
    settings: Settings,
    progress: Progress,
    outcomes: list[Outcome],
    bases: list[tuple[str, str]],
) -> None:
    """Import every target first (so usage errors come before any check), then
    check each callback in turn, appending to `outcomes` as they come (so that
    an interrupted run still reports what it found) and the abstract bases passed
    over to `bases`."""
    from .._globals import config_snapshot, restore_config

    # A module that changes JAX's configuration when imported (say
    # `jax_disable_jit`) has its callbacks checked under that change, and no other
    # module's: each target's callbacks run under the configuration its import left.
    baseline = config_snapshot()
    found: list[tuple[Entry, Any]] = []

    def imported(entries: list[Entry]) -> None:
        found.extend((entry, config_snapshot()) for entry in entries)
        restore_config(baseline)

    for target in targets:
        discover_each(target, imported)
    bases += [(e.name, e.base) for e, _ in found if e.base is not None]
    found = [(e, config) for e, config in found if e.base is None]
    check_inputs([entry for entry, _ in found], settings)
    progress.total = sum(entry.callback is not None for entry, _ in found)
    try:
        for entry, config in found:
            hook: Callable[[str, str], None] | None = None
            if entry.callback is not None:
                progress.start(entry.name)
                hook = lambda _, check: progress.check(check)  # noqa: E731
            restore_config(config)
            outcomes.append(check_entry(entry, settings, hook))
    finally:
        restore_config(baseline)
        progress.finish()


def stderr_if_wanted(wanted: bool | None, human_stdout: bool) -> TextIO | None:
    """The progress stream: standard error when asked, or by default when standard
    output carries only human formats."""
    show = human_stdout if wanted is None else wanted
    return sys.stderr if show else None


def _from_user_code(error: BaseException) -> str:
    """The traceback of `error` from the callback's own method on (the harness's
    frames above it say nothing to the user), without hypothesis's notes."""
    frames = traceback.extract_tb(error.__traceback__)
    from_method = [
        i for i, f in enumerate(frames) if is_callback_method(f.name, f.filename)
    ]
    frames = frames[from_method[0] :] if from_method else frames[-10:]
    message = str(error)
    last = type(error).__name__ + (f": {message}" if message else "")
    return (
        "Traceback (most recent call last):\n"
        + "".join(traceback.format_list(frames))
        + last
    )
