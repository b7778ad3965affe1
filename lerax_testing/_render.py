"""The text rendering of a conformance report."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._report import Failure, Report


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
