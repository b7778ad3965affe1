"""Checking the callbacks of `lerax-conformance`'s targets in this process, one
`Outcome` each, and the progress display."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from .._formats._results import Outcome, Status
from .._settings import Settings
from ._targets import Entry, Target, UsageError, discover

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

    def finish(self) -> None:
        if self.tty:
            self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        assert self.stream is not None
        self.stream.write(text)
        self.stream.flush()


def check_entry(
    entry: Entry, settings: Settings, progress: ProgressHook | None = None
) -> Outcome:
    """Check one discovered callback; `UsageError` for options `check_callback`
    rejects."""
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

    try:
        report = run_checks(entry.callback, settings, progress=progress)
    except (TypeError, ValueError) as error:  # only for invalid options
        raise UsageError(str(error).splitlines()[0]) from error
    return Outcome(
        entry.name,
        entry.target,
        "passed" if report.ok else "failed",
        report=report,
        location=report.location or entry.location,
    )


def run_in_process(
    targets: Sequence[Target], settings: Settings, progress: Progress
) -> list[Outcome]:
    """Import every target first (so usage errors come before any check), then
    check each callback in turn."""
    found = [entry for target in targets for entry in discover(target)]
    progress.total = sum(entry.callback is not None for entry in found)
    outcomes = []
    for entry in found:
        hook: Callable[[str, str], None] | None = None
        if entry.callback is not None:
            progress.start(entry.name)
            hook = lambda _, check: progress.check(check)  # noqa: E731
        outcomes.append(check_entry(entry, settings, hook))
    progress.finish()
    return outcomes


def timed(run: Callable[[], list[Outcome]]) -> tuple[list[Outcome], float]:
    start = time.perf_counter()
    outcomes = run()
    return outcomes, time.perf_counter() - start


def stderr_if_wanted(wanted: bool | None, human_stdout: bool) -> TextIO | None:
    """The progress stream: standard error when asked, or by default when standard
    output carries only human formats."""
    show = human_stdout if wanted is None else wanted
    return sys.stderr if show else None
