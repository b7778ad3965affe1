"""The hypothesis loop that finds a check's failing example and shrinks it, and
`method_failure`, which turns a method's exception into a `Failure` naming the
user's line."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from hypothesis import Phase, given, seed as hypothesis_seed

from ._engine._drive import MethodError
from ._engine._scenario import Scenario
from ._explain._report import Failure
from ._explain._source import (
    error_details,
    error_summary,
    explain_tracer_error,
    source_line,
    user_location,
)
from ._subject import Subject, draws, hypothesis_settings


class FoundFailure(Exception):
    """Raised inside a hypothesis example to make hypothesis shrink it."""

    def __init__(self, failures: list[Failure]):
        super().__init__("; ".join(f.message for f in failures))
        self.failures = failures
        self.flaky = False  # failed once, passed on replay (`_found_in`)


def find_failure(
    subject: Subject,
    check: str,
    test: Callable[[Scenario], list[Failure]],
    *,
    num_envs: int,
) -> list[Failure]:
    """Run `test` on `check`'s generated scenarios (`Subject.examples`); return the
    failures of the shrunk example.

    `test` returns the failures it finds in one scenario (empty when it passes).
    Hypothesis shrinks the first failing scenario to the shortest one that still
    fails, and the returned failures carry its description and a reproducer.
    """

    count = subject.examples(check)
    # The examples pass through the shared stream first (drawn once for every
    # check); only a check that fails one runs hypothesis, to find and shrink it.
    stream = subject.stream(num_envs, count)
    found = next(((i, s, f) for i, s in enumerate(stream) if (f := test(s))), None)
    if found is None:
        return []
    index, scenario, first = found
    first = [
        dataclasses.replace(
            f,
            example=f.example or scenario.describe(),
            reproducer=f.reproducer or subject.reproducer(check),
        )
        for f in first
    ]

    last: dict[str, Scenario] = {}
    # Hypothesis draws the stream's examples again before the failing one, and
    # shrinking leaves the examples beside it at the simplest: what passed once
    # is not run again.
    passed = {repr(s) for s in stream[:index]}  # by `repr`, as `Subject._draw`

    @hypothesis_settings(draws(count), (Phase.explicit, Phase.generate, Phase.shrink))
    @hypothesis_seed(subject.seed)
    @given(subject.groups(num_envs))
    def run(group: tuple[Scenario, ...]) -> None:
        for scenario in group:
            if repr(scenario) in passed:
                continue
            failures = test(scenario)
            if failures:
                last["scenario"] = scenario
                raise FoundFailure(failures)
            passed.add(repr(scenario))

    try:
        try:
            run()
        except BaseExceptionGroup as group:  # hypothesis's FlakyFailure
            found = _found_in(group)
            if found is None:
                raise
            raise found from group
    except FoundFailure as found:
        scenario = last.get("scenario")
        failures = found.failures
        if scenario is not None and not found.flaky:
            scenario, failures = _fewer_steps(test, scenario, failures)
        reproducer = subject.reproducer(check)
        return [
            dataclasses.replace(
                failure,
                example=failure.example
                or (scenario.describe() if scenario is not None else None),
                reproducer=failure.reproducer or reproducer,
            )
            for failure in failures
        ]
    return first  # hypothesis did not fail it again: the failure as first found


def _fewer_steps(
    test: Callable[[Scenario], list[Failure]],
    scenario: Scenario,
    failures: list[Failure],
) -> tuple[Scenario, list[Failure]]:
    """`scenario` without the steps its failure does not need, each dropped in
    turn and kept out while `test` still fails. Hypothesis shrinks an example's
    bytes towards zero, but cannot move a failing step earlier: a failure at the
    sixth step was reported with five zero steps before it."""
    t = 0
    while scenario.num_steps > 1 and t < scenario.num_steps:
        fewer = dataclasses.replace(
            scenario,
            rewards=scenario.rewards[:t] + scenario.rewards[t + 1 :],
            dones=scenario.dones[:t] + scenario.dones[t + 1 :],
        )
        found = test(fewer)
        if found:
            scenario, failures = fewer, found
        else:
            t += 1
    return scenario, failures


def _found_in(group: BaseExceptionGroup) -> FoundFailure | None:
    """The `FoundFailure` inside a flaky-failure group: the example failed once and
    passed on replay, which for a callback means it keeps state between calls."""
    for error in group.exceptions:
        if isinstance(error, FoundFailure):
            error.flaky = True
            error.failures = [
                dataclasses.replace(
                    f,
                    message=f.message + " (Replaying the same example did not fail "
                    "again: the callback changes from one call to the next.)",
                )
                for f in error.failures
            ]
            return error
        if isinstance(error, BaseExceptionGroup):
            found = _found_in(error)
            if found is not None:
                return found
    return None


def method_failure(
    check: str,
    error: BaseException,
    subject: Subject,
    *,
    method: str | None = None,
    doing: str = "",
    advice: str | None = None,
) -> Failure:
    """A failure for a method that raised, with the user's line and advice."""
    if isinstance(error, MethodError):
        method = method or error.method
        error = error.error
    location = user_location(error, subject.callback)
    line = source_line(location)
    explained = explain_tracer_error(error)
    where = f" at `{line}`" if line else ""
    if explained is not None:
        what, fix = explained
        message = f"`{method}` {doing}fails{where}: {what}."
        advice = fix
    else:
        message = f"`{method}` {doing}raised {error_summary(error)}{where}."
    return Failure(
        check=check,
        method=method,
        message=message,
        location=location,
        advice=advice,
        details=error_details(error),
    )
