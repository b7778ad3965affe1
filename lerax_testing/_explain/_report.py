"""What `check_callback` returns: failures, per-check results and the report, and
the report's text rendering."""

from __future__ import annotations

import dataclasses
import re
import textwrap
from collections.abc import Sequence
from typing import Any, Literal

from ._causes import Cause, group_failures
from ._failure import Failure as Failure

Status = Literal["passed", "failed", "skipped"]


class SkipCheck(Exception):
    """Raised by a check that cannot apply here (the `lerax` check without Lerax);
    the check is reported as skipped, with the exception's message as the reason."""


class ConformanceError(AssertionError):
    """Raised by `Report.raise_for_failures` when a callback fails a check.

    It is an `AssertionError`, so pytest shows it as a test failure; the full
    report is its message and its `report` attribute.
    """

    def __init__(self, report: Report):
        super().__init__(report.render())
        self.report = report


ConformanceError.__module__ = "lerax_testing"


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one callback.

    **Attributes:**

    - `check`: the check id.
    - `status`: `"passed"`, `"failed"` or `"skipped"`.
    - `failures`: what it found, empty unless `status == "failed"`.
    - `reason`: why it was skipped.
    - `seconds`: how long it took.
    """

    check: str
    status: Status
    failures: tuple[Failure, ...] = ()
    reason: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "reason": self.reason,
            "seconds": round(self.seconds, 4),
            "failures": [f.to_dict() for f in self.failures],
        }


@dataclasses.dataclass(frozen=True)
class Report:
    """The conformance report of one callback.

    **Attributes:**

    - `callback`: a short description of the callback checked, e.g. `MyCallback()`.
    - `callback_type`: the callback's class, as `module.QualName`.
    - `location`: `(file, line)` where the callback's class is defined, if known.
    - `results`: one `CheckResult` per check, in the order of `CHECKS`.
    - `seed`: the seed the examples were generated from; pass it back as
        `check_callback(..., seed=...)` to reproduce the run.
    - `settings`: the options the run used (examples, environments, ...).
    - `notes`: what the author should know beside the verdicts (a method the
        chosen Lerax algorithms never call, say).
    """

    callback: str
    callback_type: str
    location: tuple[str, int] | None
    results: tuple[CheckResult, ...]
    seed: int
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no check failed (skipped checks do not count as failures)."""
        return all(r.status != "failed" for r in self.results)

    @property
    def failures(self) -> tuple[Failure, ...]:
        """Every failure of every check, in check order."""
        return tuple(f for r in self.results for f in r.failures)

    @property
    def passed(self) -> tuple[str, ...]:
        return tuple(r.check for r in self.results if r.status == "passed")

    @property
    def skipped(self) -> dict[str, str]:
        """The skipped checks with their reasons."""
        return {r.check: r.reason or "" for r in self.results if r.status == "skipped"}

    def result(self, check: str) -> CheckResult:
        """The result of `check`; `KeyError` if that check was not run."""
        for r in self.results:
            if r.check == check:
                return r
        raise KeyError(
            f"check {check!r} was not run; ran {[r.check for r in self.results]}"
        )

    def raise_for_failures(self) -> None:
        """Raise `ConformanceError` (an `AssertionError`) listing every failure."""
        if not self.ok:
            raise ConformanceError(self)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (JSON-serialisable)."""
        return {
            "callback": self.callback,
            "callback_type": self.callback_type,
            "location": (
                None
                if self.location is None
                else {"file": self.location[0], "line": self.location[1]}
            ),
            "ok": self.ok,
            "seed": self.seed,
            "settings": dict(self.settings),
            "results": [r.to_dict() for r in self.results],
            "notes": list(self.notes),
        }

    def render(self, *, verbose: bool = False) -> str:
        """The report as text: a summary line per check, then failures by method."""
        return render_text(self, verbose=verbose)

    def __str__(self) -> str:
        return self.render()


def merge_failures(failures: Sequence[Failure]) -> tuple[Failure, ...]:
    """Drop repeated failures (same check, method, leaf and message)."""
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for f in failures:
        key = (f.check, f.method, f.leaf, f.message)
        if key not in seen:
            seen.add(key)
            kept.append(f)
    return tuple(kept)


WIDTH = 100
"""Columns the text report's summary lines fit in."""

_KEY_SEED = re.compile(r"^seed=(\d+)$", re.MULTILINE)


def _indent(text: str, prefix: str) -> str:
    return textwrap.indent(text, prefix, lambda line: True)


def _example(example: str) -> str:
    """The failing example, its key as `jax.random.key(n)`: the report's seed (in
    the header and the reproducer) is the only number called a seed."""
    return _KEY_SEED.sub(r"keys from jax.random.key(\1)", example)


def cause_text(cause: Cause, *, verbose: bool = False) -> str:
    """One cause: the primary failure, its fix, the checks it also breaks, its
    example and reproducer."""
    failure = cause.failure
    lines = [f"[{failure.check}] {failure.message}"]
    if failure.leaf is not None and failure.leaf not in failure.message:
        lines.append(f"  leaf: {failure.leaf}")
    if failure.expected is not None or failure.found is not None:
        lines.append(f"  expected: {failure.expected}")
        lines.append(f"  found:    {failure.found}")
    if failure.location is not None:
        lines.append(f"  at {failure.location[0]}:{failure.location[1]}")
    if failure.advice:
        lines.append(f"  fix: {failure.advice}")
    if cause.also_breaks:
        lines.append(f"  also breaks: {', '.join(cause.also_breaks)}")
    if failure.example:
        lines.append("  failing example:")
        lines.append(_indent(_example(failure.example), "    "))
    if failure.reproducer:
        lines.append("  reproduce with:")
        lines.append(_indent(failure.reproducer, "    "))
    if verbose and failure.details:
        lines.append("  details:")
        lines.append(_indent(failure.details, "    "))
    return "\n".join(lines)


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 100 else f"{seconds:.0f}s"


def _status_lines(report: Report) -> list[str]:
    """The checks by status with their times, wrapped to `WIDTH` columns; a
    skipped check on a line of its own, with its reason."""
    out: list[str] = []
    for status, label in (("failed", "FAILED"), ("passed", "passed")):
        done = [r for r in report.results if r.status == status]
        if done:
            # A no-break space keeps each check with its time when wrapping.
            items = ", ".join(
                f"{r.check}\N{NO-BREAK SPACE}{_seconds(r.seconds)}" for r in done
            )
            wrapped = textwrap.wrap(
                items,
                WIDTH,
                initial_indent=f"  {label}: ",
                subsequent_indent=" " * (len(label) + 4),
                break_on_hyphens=False,
            )
            out += [line.replace("\N{NO-BREAK SPACE}", " ") for line in wrapped]
    for r in report.results:
        if r.status == "skipped":
            out.append(f"  {r.check} skipped: {r.reason or 'no reason given'}")
    return out


def render_text(report: Report, *, verbose: bool = False) -> str:
    """A header, the checks by status with their times, then one entry per cause
    (`group_failures`), grouped by method."""
    failed = [r for r in report.results if r.status == "failed"]
    where = report.callback_type
    if report.location is not None:
        where += f", {report.location[0]}:{report.location[1]}"
    total = _seconds(sum(r.seconds for r in report.results))
    verdict = (
        "passed every check run"
        if not failed
        else f"failed {len(failed)} of {len(report.results)} checks"
    )
    out = [f"{report.callback} ({where}): {verdict} in {total} (seed {report.seed})"]
    out += _status_lines(report)
    for note in report.notes:
        out += textwrap.wrap(
            note, WIDTH, initial_indent="  note: ", subsequent_indent="        "
        )
    by_method: dict[str, list[Cause]] = {}
    for cause in group_failures(report.failures):
        by_method.setdefault(cause.failure.method or "(callback)", []).append(cause)
    for method, causes in by_method.items():
        out.append("")
        out.append(f"{method}:")
        for cause in causes:
            out.append(_indent(cause_text(cause, verbose=verbose), "  "))
    return "\n".join(out)
