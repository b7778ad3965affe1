"""The text table and JSON formats, the helpers the other formats share, and
`render`, which picks a format by name."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable

from ._results import Outcome, RunResult
from ._table import cell as cell, seconds_text, table

FORMATS = ("text", "json", "junit", "github", "markdown")
"""Every format `--format` accepts."""

HUMAN = frozenset({"text", "github"})
"""Formats that read well on a terminal: with only these on standard output, the
progress display is on and several may share it."""


def render(fmt: str, result: RunResult, *, verbose: bool = False) -> str:
    """`result` in format `fmt` (one of `FORMATS`), ending with a newline."""
    renderers: dict[str, Callable[[RunResult], str]] = {
        "text": lambda r: render_text(r, verbose=verbose),
        "json": render_json,
        "junit": _lazy("._junit", "render_junit"),
        "github": _lazy("._github", "render_github"),
        "markdown": _lazy("._markdown", "render_markdown"),
    }
    text = renderers[fmt](result)
    return text if text.endswith("\n") or not text else text + "\n"


def _lazy(module: str, function: str) -> Callable[[RunResult], str]:
    def call(result: RunResult) -> str:
        import importlib

        return getattr(importlib.import_module(module, __package__), function)(result)

    return call


def failed_checks(outcome: Outcome) -> list[str]:
    if outcome.report is None:
        return []
    return [r.check for r in outcome.report.results if r.status == "failed"]


def summary_line(result: RunResult) -> str:
    """One line: how many callbacks passed, which failed, what was passed over and
    why, the seed."""
    total = len(result.outcomes)
    seed = f"seed {result.options.seed}"
    if result.usage_errors:
        return f"Usage error: {result.usage_errors[0]}"
    bases = _bases_text(result)
    if result.interrupted:
        done = f"{total} callback{'s' if total != 1 else ''} checked before that"
        return f"INTERRUPTED: the run was stopped; {done}{bases} ({seed})."
    if total == 0:
        return f"No callback was checked{bases} ({seed})."
    failed = [o for o in result.outcomes if o.status == "failed"]
    errors = [o for o in result.outcomes if o.status == "error"]
    skipped = result.count("skipped")
    plural = "s" if total != 1 else ""
    extra = f", {skipped} skipped" if skipped else ""
    if not failed and not errors:
        passed = result.count("passed")
        return (
            f"PASSED: {passed} of {total} callback{plural} passed{extra}{bases} "
            f"({seed})."
        )
    parts = []
    if failed:
        names = "; ".join(f"{o.name}: {', '.join(failed_checks(o))}" for o in failed)
        parts.append(f"{len(failed)} of {total} callback{plural} failed ({names})")
    if errors:
        names = ", ".join(o.name for o in errors)
        parts.append(f"{len(errors)} could not be checked ({names})")
    return f"FAILED: {', '.join(parts)}{extra}{bases} ({seed})."


def _bases_text(result: RunResult) -> str:
    """ "; skipped 2 abstract bases (names start with Abstract)", or "": the classes
    passed over, so that none is left out silently."""
    counts: dict[str, int] = {}
    for _, why in result.bases:
        counts[why] = counts.get(why, 0) + 1
    if not counts:
        return ""
    total = sum(counts.values())
    whys = (
        next(iter(counts))
        if len(counts) == 1
        else "; ".join(f"{why}: {n}" for why, n in counts.items())
    )
    return f"; skipped {total} abstract base{'s' if total != 1 else ''} ({whys})"


def render_text(result: RunResult, *, verbose: bool = False) -> str:
    """The human report: the table, each failure in full, then a summary line."""
    out = [
        f"lerax-conformance: {len(result.outcomes)} callback(s), "
        f"seed {result.options.seed} (reproduce with --seed {result.options.seed})",
        "",
    ]
    if result.outcomes:
        out += table(result)
        out.append(f"Checked in {seconds_text(result.seconds)}.")
    skipped = [o for o in result.outcomes if o.status == "skipped"]
    if skipped:
        out += ["", "Not checked:"]
        out += [f"  {o.name}: {o.reason}" for o in skipped]
    for outcome in result.outcomes:
        if outcome.status == "failed" and outcome.report is not None:
            out += ["", f"== {outcome.name} ==", outcome.report.render(verbose=verbose)]
        elif outcome.status == "error":
            out += ["", f"== {outcome.name} ==", f"ERROR: {outcome.reason}"]
            if outcome.location is not None:
                out.append(f"  at {outcome.location[0]}:{outcome.location[1]}")
            if outcome.details:  # the traceback, or the crashed process's stderr
                out.append(textwrap.indent(outcome.details.rstrip(), "  | "))
    out += ["", summary_line(result)]
    return "\n".join(out)


def render_json(result: RunResult) -> str:
    """Machine-readable: every `Report.to_dict()` within its callback's outcome."""
    data = {
        "tool": "lerax-conformance",
        "format_version": 1,
        "exit_status": result.exit_status,
        "seed": result.options.seed,
        "seconds": round(result.seconds, 3),
        "options": result.options.to_dict(),
        "summary": {
            "callbacks": len(result.outcomes),
            "passed": result.count("passed"),
            "failed": result.count("failed"),
            "errors": result.count("error"),
            "skipped": result.count("skipped"),
        },
        "callbacks": [o.to_dict() for o in result.outcomes],
        "abstract_bases": [{"name": n, "why": why} for n, why in result.bases],
        "interrupted": result.interrupted,
        "usage_errors": list(result.usage_errors),
    }
    return json.dumps(data, indent=2)
