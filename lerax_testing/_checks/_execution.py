"""The `runs`, `types` and `jit` checks: do the methods run, and return what they
declare, eagerly and under `jax.jit`?"""

from __future__ import annotations

import typing
from typing import Any

import jax
import jax.numpy as jnp

from .._engine._drive import Call, Invoker, MethodError, drive, drive_jit_first
from .._engine._scenario import Scenario
from .._explain._report import Failure
from .._search import find_failure, method_failure
from .._subject import Subject

ITERATION_METHODS = ("reset", "on_iteration", "on_training_start", "on_training_end")
STEP_METHODS = ("step_reset", "on_step")


def _modes(subject: Subject) -> tuple[bool, ...]:
    """Unbatched (one environment), then batched when there are several."""
    return (False, True) if subject.num_envs > 1 else (False,)


def _skips(subject: Subject, check: str, batched: bool) -> set[int]:
    """The examples a mode skips: with several environments, one unbatched
    environment runs the first few only. What differs between the modes, the
    shapes the methods see, shows on any example, and the batched run sees
    every value the unbatched one would (its first environment's)."""
    if batched or subject.num_envs == 1:
        return set()
    return subject.beyond_few(check, subject.num_envs)


def check_runs(subject: Subject) -> list[Failure]:
    invoker = Invoker(jit=False, batched=False)

    def test(scenario: Scenario) -> list[Failure]:
        try:
            drive(subject.callback, scenario, invoker, subject.context)
        except MethodError as error:
            return [method_failure("runs", error, subject)]
        return []

    return find_failure(subject, "runs", test, num_envs=1)


def check_jit(subject: Subject) -> list[Failure]:
    # Both modes on each example: one generated example serves two drives.
    invokers = [Invoker(jit=True, batched=b, share=True) for b in _modes(subject)]
    skips = {b: _skips(subject, "jit", b) for b in _modes(subject)}

    def test(scenario: Scenario) -> list[Failure]:
        for invoker in invokers:
            if id(scenario) in skips[invoker.batched]:
                continue
            try:
                drive(subject.callback, scenario, invoker, subject.context)
            except MethodError as error:
                return [method_failure("jit", error, subject, doing="under `jax.jit` ")]
        return []

    return find_failure(subject, "jit", test, num_envs=subject.num_envs)


def _expected(declared: Any) -> type | None:
    if isinstance(declared, typing.TypeVar):
        return declared.__bound__
    return declared if isinstance(declared, type) else None


def type_problem(call: Call, state_types: tuple[Any, Any]) -> Failure | None:
    """A `types` failure if `call.output` is not what the method must return."""
    if call.method == "continue_training":
        output = call.output
        if (
            not isinstance(output, jax.Array)
            or output.shape != ()
            or (output.dtype != jnp.bool_)
        ):
            found = (
                f"{output.dtype}{list(output.shape)}"
                if isinstance(output, jax.Array)
                else type(output).__name__
            )
            return Failure(
                "types",
                call.method,
                f"`continue_training` must return a scalar boolean array, got {found}.",
                expected="bool[] (a scalar boolean array)",
                found=found,
                advice="Return e.g. `jnp.asarray(flag, dtype=bool)` of shape `()`; "
                "reduce per-environment values with `jnp.all`/`jnp.any`.",
            )
        return None
    declared = state_types[0] if call.method in ITERATION_METHODS else state_types[1]
    expected = _expected(declared)
    if expected is None or issubclass(call.output_type, expected):
        return None
    label = "StateType" if call.method in ITERATION_METHODS else "StepStateType"
    want, got = _names(expected, call.output_type)
    return Failure(
        "types",
        call.method,
        f"`{call.method}` returned a {got}, but the callback declares {label} = "
        f"{want}.",
        expected=want,
        found=got,
        advice=f"Return a `{want}` from `{call.method}`, or declare the class it "
        "returns as the callback's generic parameter.",
    )


def _names(a: type, b: type) -> tuple[str, str]:
    """The two classes' names, with their modules when the names alone are equal
    (`lerax_callback.EmptyCallbackState` against Lerax's own)."""
    if a.__qualname__ != b.__qualname__:
        return a.__qualname__, b.__qualname__
    return f"{a.__module__}.{a.__qualname__}", f"{b.__module__}.{b.__qualname__}"


def check_types(subject: Subject) -> list[Failure]:
    """`types` failures: a method returning another class than its declared state type,
    or a `continue_training` that is not a scalar boolean array; one per method. Each
    mode runs jitted, with eager calls where a method cannot be jitted, so that a
    callback the `jit` check fails is still type-checked."""
    invokers = [
        (Invoker(jit=True, batched=b, share=True), Invoker(jit=False, batched=b))
        for b in _modes(subject)
    ]
    skips = {b: _skips(subject, "types", b) for b in _modes(subject)}

    def test(scenario: Scenario) -> list[Failure]:
        """The type failures of one example, from the first mode that has any; an
        unbatched method error is reported as unchecked (a batched one is the `vmap`
        check's)."""
        found: list[Failure] = []

        def inspect_call(call: Call) -> None:
            if call.method == "on_training_end" and not subject.keeps_final_state:
                return
            problem = type_problem(call, subject.state_types)
            if problem is not None and all(f.method != call.method for f in found):
                found.append(problem)

        for jitted, eager in invokers:
            if id(scenario) in skips[jitted.batched]:
                continue
            try:
                drive_jit_first(
                    subject.callback,
                    scenario,
                    jitted,
                    eager,
                    subject.context,
                    on_call=inspect_call,
                )
            except MethodError as error:
                if not eager.batched:  # batched errors are the `vmap` check's
                    found.append(
                        method_failure(
                            "types",
                            error,
                            subject,
                            doing="could not be type-checked: it ",
                        )
                    )
            if found:
                break
        return found

    return find_failure(subject, "types", test, num_envs=subject.num_envs)
