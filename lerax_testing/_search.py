"""The search for a check's failing example among the examples hypothesis drew
(`Subject.stream`) and its simplification, and `method_failure`, which turns a
method's exception into a `Failure` naming the user's line."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

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
from ._subject import Subject

SHRINK_BUDGET = 80
"""The most runs of a check spent simplifying one failing example. Hypothesis's
own shrinker, run on the bytes that encode eight examples at a time, tried
hundreds of candidates and spent seconds in its own bookkeeping for a failure
that needs one reward; the simplifier here works on the example's fields and
stops at this budget."""


def find_failure(
    subject: Subject,
    check: str,
    test: Callable[[Scenario], list[Failure]],
    *,
    num_envs: int,
) -> list[Failure]:
    """Run `test` on `check`'s generated scenarios (`Subject.examples`); return the
    failures of the simplified failing example.

    `test` returns the failures it finds in one scenario (empty when it passes).
    The examples are the stream hypothesis draws from the run's seed, shared by
    every check; the first failing one is simplified (`simplify`) and the
    returned failures carry its description and a reproducer.

    A failure is searched for and simplified once per run, not once per check:
    when the first example fails, the simplest hypothesis makes, there is
    nothing to simplify (a failure that does not depend on the input, such as a
    method returning the wrong class, fails there); when an example another
    check simplified fails this check too, it is the one reported.
    """

    count = subject.examples(check)
    stream = subject.stream(num_envs, count)
    found = next(((i, s, f) for i, s in enumerate(stream) if (f := test(s))), None)
    if found is None:
        return []
    index, scenario, failures = found
    shrunk: list[Scenario] = subject.shared.setdefault(("shrunk", num_envs), [])
    if index > 0:
        again = next(((s, f) for s in shrunk if (f := test(s))), None)
        if again is not None:  # the example an earlier check simplified
            scenario, failures = again
        elif not test(scenario):  # it failed once, and passes on a second run
            failures = [
                dataclasses.replace(
                    f,
                    message=f.message + " (Running the same example again did not "
                    "fail: the callback changes from one call to the next.)",
                )
                for f in failures
            ]
        else:
            scenario, failures = simplify(
                test, scenario, failures, subject.reward_options
            )
    if scenario not in shrunk:
        shrunk.append(scenario)
    reproducer = subject.reproducer(check)
    return [
        dataclasses.replace(
            f,
            example=f.example or scenario.describe(),
            reproducer=f.reproducer or reproducer,
        )
        for f in failures
    ]


def simplify(
    test: Callable[[Scenario], list[Failure]],
    scenario: Scenario,
    failures: list[Failure],
    reward_options: dict[str, Any] | None = None,
    budget: int = SHRINK_BUDGET,
) -> tuple[Scenario, list[Failure]]:
    """`scenario` made as simple as its failure allows, with its failures: the
    steps it does not need dropped, then each field set to its simplest value
    (seed, counts and the training log's values zero, no `done`, rewards zero
    or the smallest in `reward_options`' range), and each reward that must stay
    brought as near that as bisection finds. At most `budget` runs of `test`."""
    low = float((reward_options or {}).get("min_value", -math.inf))
    high = float((reward_options or {}).get("max_value", math.inf))
    simplest = min(max(0.0, low), high)
    runs = [0]

    def fails(candidate: Scenario) -> list[Failure] | None:
        if candidate == scenario or runs[0] >= budget:
            return None
        runs[0] += 1
        return test(candidate) or None

    scenario, failures = _fewer_steps(test, scenario, failures)

    def attempt(**changes: Any) -> bool:
        nonlocal scenario, failures
        candidate = dataclasses.replace(scenario, **changes)
        found = fails(candidate)
        if found is None:
            return False
        scenario, failures = candidate, found
        return True

    log = scenario.training_log
    attempt(
        seed=0,
        iteration_count=0,
        opt_step=0,
        locals_value=0.0,
        dones=tuple(tuple(False for _ in row) for row in scenario.dones),
    )
    for name, value in (
        ("seed", 0),
        ("iteration_count", 0),
        ("opt_step", 0),
        ("locals_value", 0.0),
    ):
        attempt(**{name: value})
    for t, row in enumerate(scenario.dones):
        for e, done in enumerate(row):
            if done:
                attempt(dones=_replaced(scenario.dones, t, e, False))
    if isinstance(log, dict) and all(isinstance(v, float) for v in log.values()):
        # Only generated logs: a user's strategy may not allow zeros.
        if not attempt(training_log=dict.fromkeys(log, 0.0)):
            for name in log:
                attempt(training_log={**scenario.training_log, name: 0.0})
    for t, row in enumerate(scenario.rewards):
        for e, reward in enumerate(row):
            if reward == simplest or not math.isfinite(reward):
                continue
            if attempt(rewards=_replaced(scenario.rewards, t, e, simplest)):
                continue
            # Bisect between the simplest value (passes) and the reward (fails),
            # on whole numbers once they are big enough to read as such.
            passing, failing = simplest, reward
            while runs[0] < budget and abs(failing - passing) > 0.5:
                middle = (passing + failing) / 2
                middle = float(round(middle)) if abs(middle) >= 1 else middle
                if middle in (passing, failing):
                    break
                if attempt(rewards=_replaced(scenario.rewards, t, e, middle)):
                    failing = middle
                else:
                    passing = middle
    return scenario, failures


def _replaced(
    rows: tuple[tuple[Any, ...], ...], t: int, e: int, value: Any
) -> tuple[tuple[Any, ...], ...]:
    """`rows` with the entry at step `t`, environment `e` replaced by `value`."""
    row = rows[t][:e] + (value,) + rows[t][e + 1 :]
    return rows[:t] + (row,) + rows[t + 1 :]


def _fewer_steps(
    test: Callable[[Scenario], list[Failure]],
    scenario: Scenario,
    failures: list[Failure],
) -> tuple[Scenario, list[Failure]]:
    """`scenario` without the steps its failure does not need, each dropped in
    turn and kept out while `test` still fails: a failure at the sixth step is
    reported with that step alone."""
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
