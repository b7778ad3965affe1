"""Checking the callbacks of `lerax-conformance`'s targets, in this process, and
what the run produces: one `Outcome` per callback, gathered in a `RunResult`."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TextIO

from ._report import CheckResult, Failure, Report
from ._targets import Entry, Target, UsageError, discover

if TYPE_CHECKING:
    from ._harness import ProgressHook

Status = Literal["passed", "failed", "error", "skipped"]


@dataclasses.dataclass(frozen=True)
class Options:
    """The `check_callback` options of a run, as plain data for subprocesses."""

    seed: int
    checks: tuple[str, ...] | None = None
    skip: dict[str, str] = dataclasses.field(default_factory=dict)
    max_examples: int | None = None
    num_envs: int | None = None
    max_steps: int | None = None
    typecheck: bool = False

    def check_kwargs(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "checks": None if self.checks is None else list(self.checks),
            "skip": self.skip,
            "max_examples": self.max_examples,
            "num_envs": self.num_envs,
            "max_steps": self.max_steps,
        }

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Options:
        checks = data.get("checks")
        return cls(**{**data, "checks": None if checks is None else tuple(checks)})


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What became of one callback: its report, or why there is none.

    - `status`: `passed` and `failed` come with a `report`; `error` means it could
        not be checked (its module raised, its constructor raised, it crashed or
        hung the interpreter) and counts as a failure; `skipped` says why not.
    - `reason`: the error or the reason for skipping, one line.
    - `check`: for an error under `--isolate`, the check that was running.
    """

    name: str
    target: str
    status: Status
    report: Report | None = None
    reason: str | None = None
    details: str | None = None
    location: tuple[str, int] | None = None
    check: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["report"] = None if self.report is None else self.report.to_dict()
        if self.location is not None:
            data["location"] = {"file": self.location[0], "line": self.location[1]}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        report = data.get("report")
        return cls(
            **{
                **data,
                "report": None if report is None else report_from_dict(report),
                "location": _location(data.get("location")),
            }
        )


def _location(data: dict[str, Any] | None) -> tuple[str, int] | None:
    return None if data is None else (data["file"], int(data["line"]))


def report_from_dict(data: dict[str, Any]) -> Report:
    """The `Report` whose `to_dict()` is `data` (reports cross process boundaries)."""
    results = tuple(
        CheckResult(
            check=r["check"],
            status=r["status"],
            failures=tuple(
                Failure(**{**f, "location": _location(f.get("location"))})
                for f in r["failures"]
            ),
            reason=r.get("reason"),
            seconds=r.get("seconds", 0.0),
        )
        for r in data["results"]
    )
    return Report(
        callback=data["callback"],
        callback_type=data["callback_type"],
        location=_location(data.get("location")),
        results=results,
        seed=data["seed"],
        settings=dict(data.get("settings", {})),
    )


@dataclasses.dataclass
class RunResult:
    """Everything a run found, for the output formats."""

    outcomes: list[Outcome]
    options: Options
    seconds: float = 0.0
    usage_errors: list[str] = dataclasses.field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def exit_status(self) -> int:
        """2 for a usage error, 1 if any callback failed or errored, else 0."""
        if self.usage_errors:
            return 2
        return int(any(o.status in ("failed", "error") for o in self.outcomes))

    @property
    def checks(self) -> list[str]:
        """The check ids that appear in any report, in `CHECKS` order."""
        from ._report import CHECKS

        seen = {r.check for o in self.outcomes if o.report for r in o.report.results}
        selected = self.options.checks
        return [c for c in CHECKS if c in seen or (selected and c in selected)]


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
    entry: Entry, options: Options, progress: ProgressHook | None = None
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
    from ._harness import check_callback

    try:
        report = check_callback(
            entry.callback, **options.check_kwargs(), progress=progress
        )
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
    targets: Sequence[Target], options: Options, progress: Progress
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
        outcomes.append(check_entry(entry, options, hook))
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
