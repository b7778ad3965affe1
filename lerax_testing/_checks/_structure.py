"""The `structure`, `scan` and `x64` checks: states as `lax.scan` carries.

`structure` only traces (`eqx.filter_eval_shape`): no compilation, so it is cheap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax

from .._engine._drive import Call, Invoker, MethodError, drive, tables
from .._engine._scan import run_scan_loop
from .._explain._drift import drift_location
from .._explain._report import Failure
from .._explain._source import error_summary, user_location
from .._search import method_failure
from .._subject import Subject
from .._tree import diff
from ._curriculum import curriculum_structure_failures
from ._registry import REGISTRY

LOOP_STATE_METHODS = ("on_iteration", "on_training_end")
"""The methods that return the state `on_training_start` began the loop with."""

_ADVICE = REGISTRY["structure"].fallback_advice
_LOOP_ADVICE = REGISTRY["scan"].fallback_advice


def _structure_failures(
    calls: list[Call],
    check: str,
    note: str,
    locate: Callable[[Call, Any], tuple[str, int] | None] = lambda call, start: None,
) -> list[Failure]:
    """Compare each state a method returns with the state it received and with the
    first one, as `lax.scan` compares a body's carry with its initial carry (a
    weakly typed start that promotes to the body's dtype passes, as in a scan).
    `locate(call, start)` finds the user's line that made the first drift."""
    failures: list[Failure] = []
    # `on_training_start`'s state is the iteration loop's first carry; `reset`'s
    # only reaches `on_training_start`, which may fill in what `reset` could not
    # know (from the policy, say), so it need not be alike.
    first_state = next(
        (c.output for c in calls if c.method == "on_training_start"), None
    )
    first_step = next((c.output for c in calls if c.method == "step_reset"), None)

    reported: set[tuple[str, str]] = set()

    def report(call: Call, start: Any, path: str, what: str) -> None:
        method, output = call.method, call.output
        for d in diff(start, output, path, carry=True):
            if (method, d.path) in reported:
                continue  # one message per leaf and method is enough
            reported.add((method, d.path))
            location = locate(call, start) if d.kind in ("dtype", "shape") else None
            failures.append(
                Failure(
                    check,
                    method,
                    f"{note}`{method}` {what}: `{d}`.",
                    leaf=d.path,
                    expected=d.before,
                    found=d.after,
                    advice=_ADVICE,
                    location=location,
                )
            )

    for call in calls:
        if call.method == "on_step":
            report(
                call,
                call.args[0],
                "step_state",
                "returns a step state unlike the one it received (a scan carry)",
            )
            if first_step is not None:
                report(
                    call,
                    first_step,
                    "step_state",
                    "returns a step state unlike `step_reset`'s",
                )
        elif call.method == "on_iteration":
            report(
                call,
                call.args[0],
                "state",
                "returns a state unlike the one it received (a scan carry)",
            )
        if call.method in LOOP_STATE_METHODS and first_state is not None:
            report(
                call,
                first_state,
                "state",
                "returns a state unlike `on_training_start`'s",
            )
    return failures


def structure_failures(subject: Subject, check: str, note: str = "") -> list[Failure]:
    """Trace every method once, batched and unbatched, and compare the states.

    Without a note (the `structure` check, and `x64` before it turns x64 on) the
    findings are kept on the subject and traced only once, under either flag."""
    key = ("structure", bool(jax.config.jax_enable_x64))
    if not note and key in subject.shared:
        return [dataclasses.replace(f, check=check) for f in subject.shared[key]]
    failures = _traced_structure_failures(subject, check, note)
    if not note:
        subject.shared[key] = failures
    return failures


def _traced_structure_failures(
    subject: Subject, check: str, note: str
) -> list[Failure]:
    """Trace every method on one example, unbatched then batched, and compare each state
    with the method's input (`_structure_failures`); a method that cannot be traced
    is reported, and the first mode with failures ends the search."""
    failures: list[Failure] = []
    for batched in (False, True) if subject.num_envs > 1 else (False,):
        invoker = Invoker(jit=False, batched=batched, trace=True)
        scenario = subject.shape_scenario(subject.num_envs if batched else 1)
        calls: list[Call] = []
        try:
            drive(
                subject.callback,
                scenario,
                invoker,
                subject.context,
                on_call=calls.append,
            )
        except MethodError as error:
            failures.append(
                method_failure(
                    check,
                    error,
                    subject,
                    doing=f"{note}could not be checked: tracing it ",
                )
            )
        table = tables(subject.context.contexts)[1 if batched else 0]

        def locate(
            call: Call, start: Any, table: dict[str, Any] = table
        ) -> tuple[str, int] | None:
            return drift_location(
                table[call.method], call.args, subject.callback, start
            )

        if not subject.keeps_final_state:
            calls = [c for c in calls if c.method != "on_training_end"]
        failures.extend(_structure_failures(calls, check, note, locate))
        if not batched:  # the iteration state is one, however many environments
            failures.extend(curriculum_structure_failures(subject, calls, check, note))
        if failures:
            break
    return failures


def check_structure(subject: Subject) -> list[Failure]:
    return structure_failures(subject, "structure")


def scan_failures(
    subject: Subject,
    check: str,
    note: str = "",
    *,
    single: bool = True,
) -> list[Failure]:
    """Trace the `scan` check's loop (`_scan`: the callback's methods in nested
    `lax.scan`s, on a generated example) with several environments and, when
    `single`, with one.

    Tracing, not running: the errors a `lax.scan` raises on states (structure,
    dtypes, weak types, static fields) and tracer errors all show while tracing,
    and what shows only when a method runs is the `jit` check's. A failure's
    reproducer is a `run_training` call, where the same errors show.
    """
    failures: list[Failure] = []
    for num_envs in sorted({1, subject.num_envs} if single else {subject.num_envs}):
        try:
            run_scan_loop(subject, num_envs, trace_only=True)
        except Exception as error:
            envs = "one environment" if num_envs == 1 else f"{num_envs} environments"
            summary = error_summary(error, limit=400)
            failures.append(
                Failure(
                    check,
                    None,
                    f"{note}the reference training loop with {envs} fails: {summary}",
                    location=user_location(error, subject.callback),
                    advice=_LOOP_ADVICE,
                    reproducer=_loop_reproducer(subject, num_envs),
                )
            )
    return failures


def _loop_reproducer(subject: Subject, num_envs: int) -> str:
    """Code that runs the reference loop as the failing check did."""
    made = subject.callback_code()
    return "\n".join(
        [
            *made.script(),
            "from lerax_testing import run_training",
            f"run_training({made.expression}, num_envs={num_envs}, "
            f"num_steps={subject.max_steps}, num_iterations=3, key={subject.seed})",
        ]
    )


def check_scan(subject: Subject) -> list[Failure]:
    return scan_failures(subject, "scan")


def check_x64(subject: Subject) -> list[Failure]:
    """`structure` and `scan` again with `jax_enable_x64` on (restored afterwards by
    the harness): contexts then carry float64 rewards. Only problems that x64 mode
    adds are reported; the others are the `structure` and `scan` checks' findings."""

    def key(failure: Failure) -> tuple[Any, ...]:
        return (failure.method, failure.leaf)

    without = structure_failures(subject, "x64")
    note = "with `jax_enable_x64` on, "
    jax.config.update("jax_enable_x64", True)
    known = {key(f) for f in without}
    added = [f for f in structure_failures(subject, "x64", note) if key(f) not in known]
    if added or without:
        return added
    # The traced structure above covers one environment and several; one traced
    # loop (several environments) is enough to confirm its carries in x64 mode.
    failures = scan_failures(subject, "x64", note, single=False)
    if failures:
        jax.config.update("jax_enable_x64", False)
        if scan_failures(subject, "x64", single=False):
            return []  # the loop fails without x64 too: the `scan` check reports it
    return failures
