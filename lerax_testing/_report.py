"""What `check_callback` returns: failures, per-check results and the report, and
the report's text rendering."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Sequence
from typing import Any, Literal

CHECKS: tuple[str, ...] = (
    "api",
    "runs",
    "types",
    "jit",
    "vmap",
    "structure",
    "scan",
    "purity",
    "retrace",
    "finite",
    "typecheck",
    "x64",
    "side_effects",
)
"""Every check id, in the order the harness runs and reports them."""

CHECK_SUMMARIES: dict[str, str] = {
    "api": "is a complete `AbstractCallback` with recoverable state types",
    "runs": "every method runs eagerly on generated contexts",
    "types": "methods return the declared state types",
    "jit": "every method traces and runs under `jax.jit`",
    "vmap": "step methods vmap over environments; others take batched states",
    "structure": "states keep their pytree structure, shapes and dtypes",
    "scan": "completes the reference training loop",
    "purity": "deterministic, eager agrees with jit, no leaks, no in-place changes",
    "retrace": "jitted methods do not retrace on new values",
    "finite": "no NaN from NaN-free inputs",
    "typecheck": "jaxtyping annotations hold at run time",
    "x64": "structure and scan also hold with `jax_enable_x64`",
    "side_effects": "no trace-time-only side effect, no global JAX config change",
}

Status = Literal["passed", "failed", "skipped"]


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
class Failure:
    """One way a callback is not trace-safe.

    **Attributes:**

    - `check`: the check id that found it (one of `CHECKS`).
    - `method`: the callback method concerned, or `None` for the whole callback.
    - `message`: what is wrong, where, and how to fix it, in one paragraph.
    - `leaf`: the path of the state leaf concerned, e.g. `state.episode_return`.
    - `expected`, `found`: what the check expected and what it found.
    - `location`: `(file, line)` of the user's source where the problem arose.
    - `advice`: one sentence on how to fix it.
    - `example`: the shrunk failing example, described in words.
    - `reproducer`: code that reproduces the failure.
    - `details`: the underlying error's text, for the curious.
    """

    check: str
    method: str | None
    message: str
    leaf: str | None = None
    expected: str | None = None
    found: str | None = None
    location: tuple[str, int] | None = None
    advice: str | None = None
    example: str | None = None
    reproducer: str | None = None
    details: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if self.location is not None:
            data["location"] = {"file": self.location[0], "line": self.location[1]}
        return data


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
    """

    callback: str
    callback_type: str
    location: tuple[str, int] | None
    results: tuple[CheckResult, ...]
    seed: int
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)

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


def _indent(text: str, prefix: str) -> str:
    return textwrap.indent(text, prefix, lambda line: True)


def _failure_text(failure: Failure, *, verbose: bool) -> str:
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
    if failure.example:
        lines.append("  failing example:")
        lines.append(_indent(failure.example, "    "))
    if failure.reproducer:
        lines.append("  reproduce with:")
        lines.append(_indent(failure.reproducer, "    "))
    if verbose and failure.details:
        lines.append("  details:")
        lines.append(_indent(failure.details, "    "))
    return "\n".join(lines)


def render_text(report: Report, *, verbose: bool = False) -> str:
    """A summary line per check, then every failure grouped by method."""
    failed = [r for r in report.results if r.status == "failed"]
    where = report.callback_type
    if report.location is not None:
        where += f", {report.location[0]}:{report.location[1]}"
    verdict = (
        "passed every check run"
        if not failed
        else f"failed {len(failed)} of {len(report.results)} checks"
    )
    out = [f"{report.callback} ({where}): {verdict} (seed {report.seed})"]
    for r in report.results:
        status = {"passed": "passed", "failed": "FAILED", "skipped": "skipped"}[
            r.status
        ]
        line = f"  {r.check:<13}{status}"
        if r.status == "skipped" and r.reason:
            line += f": {r.reason}"
        elif r.status == "failed":
            count = len(r.failures)
            line += f" ({count} problem{'s' if count != 1 else ''})"
        out.append(line)
    by_method: dict[str, list[Failure]] = {}
    for failure in report.failures:
        by_method.setdefault(failure.method or "(callback)", []).append(failure)
    for method, failures in by_method.items():
        out.append("")
        out.append(f"{method}:")
        for failure in failures:
            out.append(_indent(_failure_text(failure, verbose=verbose), "  "))
    return "\n".join(out)
