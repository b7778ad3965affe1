"""The text format's table of callbacks by checks, in at most `WIDTH` columns.

Thirteen checks under their full names and callbacks under their full paths made
a table of about 145 columns. Here check headers are at most four characters (a
legend names the abbreviated ones), the directory or module the callbacks share is
said once above the table, and a lone callback gets one row per check instead,
with each check's time.
"""

from __future__ import annotations

import os
import textwrap

from .._checks import REGISTRY
from ._results import Outcome, RunResult

WIDTH = 100
"""Columns the table fits in."""

SHORT = {check.id: check.short for check in REGISTRY.values() if check.short}
"""Headers of the checks whose ids are longer than a cell (four characters)."""

CELLS = {"passed": "ok", "failed": "FAIL", "skipped": "skip"}
"""The table's cell for each check status; `-` for a check that was not run."""

LEGEND = "ok = passed, FAIL = failed, skip = skipped, - = not run"


def seconds_text(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 100 else f"{seconds:.0f}s"


def cell(outcome: Outcome, check: str) -> str:
    """The status of `check` for `outcome`'s callback: passed, failed, skipped or
    `""` when it was not run."""
    if outcome.report is None:
        return ""
    for result in outcome.report.results:
        if result.check == check:
            return result.status
    return ""


def _fit(text: str, width: int) -> str:
    """`text` in `width` columns, cut at the start (names differ at their ends)."""
    return text if len(text) <= width else "…" + text[len(text) - width + 1 :]


def _shared_prefix(names: list[str]) -> str:
    """The directory or module all `names` are in, up to its last `/` or `:`."""
    if len(names) < 2:
        return ""
    prefix = os.path.commonprefix(names)
    cut = max(prefix.rfind("/"), prefix.rfind(":"), prefix.rfind(os.sep))
    return prefix[: cut + 1]


def _seconds(outcome: Outcome) -> float:
    return sum(r.seconds for r in outcome.report.results) if outcome.report else 0.0


def _problem_row(outcome: Outcome, name: str, width: int) -> str:
    label = "ERROR" if outcome.status == "error" else "skipped"
    room = max(WIDTH - width - len(label) - 4, 20)
    reason = " ".join((outcome.reason or "").split())
    reason = reason if len(reason) <= room else reason[: room - 1] + "…"
    return f"{name:<{width}}  {label}: {reason}"


def _one_callback(result: RunResult) -> list[str]:
    """A lone callback: one row per check, with its time."""
    outcome = result.outcomes[0]
    name = _fit(outcome.name, 40)
    if outcome.report is None:
        return [_problem_row(outcome, name, len(name))]
    lines = [_fit(outcome.name, WIDTH)]
    lines.append(f"  {'check':<13} {'result':<6}  time")
    for r in outcome.report.results:
        time = seconds_text(r.seconds)
        lines.append(f"  {r.check:<13} {CELLS[r.status]:<6}  {time}")
    lines.append(f"  {'total':<13} {'':<6}  {seconds_text(_seconds(outcome))}")
    return lines


def table(result: RunResult) -> list[str]:
    """The callbacks-by-checks table as lines, then its legend."""
    checks = result.checks
    if len(result.outcomes) == 1:
        return [*_one_callback(result), f"({LEGEND})"]  # fits: no abbreviations
    heads = [SHORT.get(c, c) for c in checks]
    prefix = _shared_prefix([o.name for o in result.outcomes])
    room = WIDTH - 5 * len(checks) - len("  time") - 1
    names = [_fit(o.name[len(prefix) :], max(room, 12)) for o in result.outcomes]
    first = max([len("callback"), *map(len, names)])
    lines = [f"callbacks in {prefix.rstrip('/:' + os.sep)}"] if prefix else []
    header = [f"{'callback':<{first}}", *(f"{h:<4}" for h in heads), " time"]
    lines.append(" ".join(header))
    for outcome, name in zip(result.outcomes, names, strict=True):
        if outcome.report is None:
            lines.append(_problem_row(outcome, name, first))
            continue
        cells = [f"{CELLS.get(cell(outcome, c), '-'):<4}" for c in checks]
        time = seconds_text(_seconds(outcome))
        lines.append(" ".join([f"{name:<{first}}", *cells, f"{time:>5}"]))
    abbreviated = [f"{SHORT[c]} = {c}" for c in checks if c in SHORT]
    legend = LEGEND + (f"; {', '.join(abbreviated)}" if abbreviated else "")
    return lines + textwrap.wrap(f"({legend})", WIDTH, break_on_hyphens=False)
