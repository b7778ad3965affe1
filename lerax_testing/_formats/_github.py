"""GitHub Actions workflow commands: `::error file=…,line=…,title=…::message`
annotations on the callbacks' source lines, and a `::notice` with the summary.

One annotation per cause (`group_failures`): a defect that fails several checks is
one annotation, naming the checks it also breaks. GitHub shows at most 10 error
annotations per step, so beyond 10 causes they are merged, one per callback, and
beyond 10 callbacks the last one sums up the rest.
"""

from __future__ import annotations

import dataclasses
import os

from .._explain._causes import group_failures
from ._results import Outcome, RunResult
from ._text import failed_checks, summary_line

MAX_ANNOTATIONS = 10
"""Error annotations GitHub displays per step."""


def escape_data(text: str) -> str:
    """Escape a workflow command's message (after `::`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (`file=`, `title=`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclasses.dataclass(frozen=True)
class Annotation:
    title: str
    message: str
    location: tuple[str, int] | None = None

    def command(self) -> str:
        properties = []
        path = _workspace_path(self.location[0]) if self.location else None
        if path is not None and self.location is not None:
            properties += [f"file={escape_property(path)}", f"line={self.location[1]}"]
        properties.append(f"title={escape_property(self.title)}")
        return f"::error {','.join(properties)}::{escape_data(self.message)}"


def _workspace_path(file: str) -> str | None:
    """`file` relative to the repository, or None outside it (GitHub links only
    files of the repository)."""
    root = os.path.realpath(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())
    path = os.path.realpath(file)
    if os.path.commonpath([root, path]) != root:
        return None
    return os.path.relpath(path, root).replace(os.sep, "/")


def _per_failure(outcome: Outcome) -> list[Annotation]:
    if outcome.report is None:
        return [_error(outcome)]
    out = []
    for cause in group_failures(outcome.report.failures):
        failure = cause.failure
        message = failure.message
        if failure.advice:
            message += f"\nFix: {failure.advice}"
        if cause.also_breaks:
            message += f"\nAlso breaks: {', '.join(cause.also_breaks)}"
        out.append(
            Annotation(
                f"{outcome.name} fails the `{failure.check}` check",
                message,
                failure.location or outcome.location,
            )
        )
    return out


def _per_callback(outcome: Outcome) -> Annotation:
    if outcome.report is None:
        return _error(outcome)
    checks = failed_checks(outcome)
    lines = [
        f"[{c.failure.check}] {c.failure.message}"
        for c in group_failures(outcome.report.failures)
    ]
    return Annotation(
        f"{outcome.name} fails {len(checks)} check(s): {', '.join(checks)}",
        "\n".join(lines),
        outcome.location,
    )


def _error(outcome: Outcome) -> Annotation:
    return Annotation(
        f"{outcome.name} could not be checked",
        outcome.reason or "error",
        outcome.location,
    )


def annotations(result: RunResult) -> list[Annotation]:
    """At most `MAX_ANNOTATIONS`, as detailed as that allows."""
    usage = [
        Annotation("lerax-conformance: usage error", e) for e in result.usage_errors
    ][:MAX_ANNOTATIONS]
    room = MAX_ANNOTATIONS - len(usage)
    bad = [o for o in result.outcomes if o.status in ("failed", "error")]
    detailed = [a for o in bad for a in _per_failure(o)]
    if len(detailed) <= room:
        return usage + detailed
    merged = [_per_callback(o) for o in bad]
    if len(merged) <= room:
        return usage + merged
    if room == 0:
        return usage
    rest = bad[room - 1 :]
    summary = Annotation(
        f"{len(rest)} more callbacks fail",
        "\n".join(f"{o.name}: {', '.join(failed_checks(o)) or o.reason}" for o in rest)
        + "\nSee the job's log, summary or JUnit report for all of them.",
    )
    return [*usage, *merged[: room - 1], summary]


def render_github(result: RunResult) -> str:
    """The error annotations, then the summary as a notice."""
    lines = [a.command() for a in annotations(result)]
    lines.append(
        f"::notice title=lerax-conformance::{escape_data(summary_line(result))}"
    )
    return "\n".join(lines)
