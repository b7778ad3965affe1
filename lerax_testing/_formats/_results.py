"""What a run of `lerax-conformance` produces and the formats render: one `Outcome`
per callback, gathered in a `RunResult`. Plain data, so that outcomes cross
process boundaries (`to_dict`/`from_dict`)."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from .._checks import CHECKS
from .._explain._report import CheckResult, Failure, Report
from .._settings import Settings

Status = Literal["passed", "failed", "error", "skipped"]


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
        notes=tuple(data.get("notes", ())),
    )


@dataclasses.dataclass
class RunResult:
    """Everything a run found, for the output formats.

    - `bases`: `(name, why)` of the abstract callback classes passed over because
        they declare themselves bases (`why` is how), counted in the summary so
        that nothing is left out silently.
    - `interrupted`: the run was stopped (Ctrl-C) before every callback was
        checked; `outcomes` are those gathered so far.
    """

    outcomes: list[Outcome]
    options: Settings
    seconds: float = 0.0
    usage_errors: list[str] = dataclasses.field(default_factory=list)
    bases: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    interrupted: bool = False

    def count(self, status: Status) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def exit_status(self) -> int:
        """2 for a usage error or an interrupted run, 1 if any callback failed or
        errored, else 0."""
        if self.usage_errors or self.interrupted:
            return 2
        return int(any(o.status in ("failed", "error") for o in self.outcomes))

    @property
    def checks(self) -> list[str]:
        """The check ids that appear in any report, in `CHECKS` order."""
        seen = {r.check for o in self.outcomes if o.report for r in o.report.results}
        selected = self.options.checks
        return [c for c in CHECKS if c in seen or (selected and c in selected)]
