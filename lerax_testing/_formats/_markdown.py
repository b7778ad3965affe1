"""Markdown for a CI job summary (`$GITHUB_STEP_SUMMARY`): the table, then each
failing callback's report in a collapsed section.

GitHub accepts at most 1 MiB of summary per step, so the reports that do not fit
are left out, with a note saying so.
"""

from __future__ import annotations

import html
import re

from .._explain._sentences import shorten
from ._results import Outcome, RunResult
from ._text import cell, failed_checks, summary_line

LIMIT = 1024 * 1024 - 16 * 1024
"""Bytes we write at most: GitHub's 1 MiB per step, less room for a heading the
user's own job adds."""

MAX_REPORT = 64 * 1024
"""Characters of one callback's report at most, so one cannot crowd out the rest."""

ICONS = {"passed": "✅", "failed": "❌", "skipped": "⏭️", "": "–"}


def _code(text: str) -> str:
    """Inline code that survives any text inside a table cell."""
    return f"<code>{html.escape(text).replace('|', '&#124;')}</code>"


def _cell_text(text: str, limit: int = 200) -> str:
    text = shorten(text, limit)
    return html.escape(text).replace("|", "&#124;")


def _fence(text: str) -> str:
    """A fenced block longer than any run of backticks in `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _row(outcome: Outcome, checks: list[str]) -> str:
    cells = [_code(outcome.name)]
    if outcome.report is None:
        icon = "💥 error" if outcome.status == "error" else "⏭️ skipped"
        cells.append(f"{icon}: {_cell_text(outcome.reason or '')}")
        cells += [""] * (len(checks) - 1)
    else:
        cells += [ICONS[cell(outcome, check)] for check in checks]
    return "| " + " | ".join(cells) + " |"


def _details(outcome: Outcome) -> str:
    if outcome.report is not None:
        summary = f"{_code(outcome.name)} fails {', '.join(failed_checks(outcome))}"
        text = outcome.report.render()
    else:
        summary = f"{_code(outcome.name)} could not be checked"
        text = "\n\n".join(filter(None, [outcome.reason, outcome.details]))
    if len(text) > MAX_REPORT:
        text = text[:MAX_REPORT] + "\n... (cut; the text and JSON outputs have it all)"
    return f"<details><summary>{summary}</summary>\n\n{_fence(text)}\n\n</details>"


def render_markdown(result: RunResult) -> str:
    """The run as Markdown, at most `LIMIT` bytes long."""
    failing = result.count("failed") + result.count("error")
    stopped = result.usage_errors or result.interrupted
    verdict = "❌ failed" if failing or stopped else "✅ passed"
    checks = result.checks or ["result"]
    head = [
        f"## Callback conformance: {verdict}",
        "",
        html.escape(summary_line(result)),
        "",
    ]
    if result.outcomes:
        head += [
            "| callback | " + " | ".join(checks) + " |",
            "|" + "---|" * (len(checks) + 1),
        ]
    size = len("\n".join(head).encode())
    out = head
    rows = [_row(o, checks) for o in result.outcomes]
    for index, row in enumerate(rows):
        size += len(row.encode()) + 1
        if size > LIMIT // 2:  # keep half of the room for the reports
            out.append(f"\n*{len(rows) - index} more callbacks left out of the table.*")
            break
        out.append(row)
    bad = [o for o in result.outcomes if o.status in ("failed", "error")]
    for index, outcome in enumerate(bad):
        section = "\n" + _details(outcome)
        size += len(section.encode()) + 1
        if size > LIMIT - 1024:
            out.append(
                f"\n*{len(bad) - index} more failure reports left out, to stay within "
                "GitHub's 1 MiB step-summary limit; the text, JSON and JUnit outputs "
                "have them all.*"
            )
            break
        out.append(section)
    return "\n".join(out)
