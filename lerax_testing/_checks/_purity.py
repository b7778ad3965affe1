"""The `purity`, `retrace` and `side_effects` checks: methods as pure functions."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax

from .._engine._drive import (
    Call,
    Invoker,
    MethodError,
    WrappedInvoker,
    drive,
)
from .._engine._scenario import Scenario
from .._explain._report import Failure
from .._search import find_failure, method_failure
from .._subject import Subject
from .._tree import comparable, first_mismatch, has_nan
from ._capture import GlobalRandomWatcher, formatted_log_records
from ._mutation import mutation_failures


def _snapshot(callback: Any) -> tuple[Any, list[Any]]:
    """The callback's structure and leaves; Python objects by identity, so host-side
    objects it holds (progress bars, writers) may change inside without counting."""
    leaves, treedef = jax.tree_util.tree_flatten(callback)
    return treedef, [
        comparable(x) if isinstance(x, jax.Array) else id(x) for x in leaves
    ]


def _snapshots_differ(a: tuple[Any, list[Any]], b: tuple[Any, list[Any]]) -> bool:
    if a[0] != b[0] or len(a[1]) != len(b[1]):
        return True
    for x, y in zip(a[1], b[1], strict=True):
        if hasattr(x, "shape"):
            if not (getattr(y, "shape", None) == x.shape and (x == y).all()):
                return True
        elif x != y:
            return True
    return False


def check_purity(subject: Subject) -> list[Failure]:
    """`purity` failures: a method that changes the callback object, changes its
    contexts, leaks a tracer, draws from global randomness, or gives different
    results for the same inputs and key. The one-pass findings (changed contexts,
    leaks) come first; the comparisons run on generated examples, one environment."""
    callback = subject.callback
    eager = GlobalRandomWatcher(Invoker(jit=False, batched=False))
    jitted = Invoker(jit=True, batched=False)

    def run(invoker: Invoker, scenario: Scenario, found: list[Failure]) -> list[Call]:
        before = _snapshot(callback)

        def watch(call: Call) -> None:
            nonlocal before
            after = _snapshot(callback)
            if _snapshots_differ(before, after) and not found:
                found.append(
                    Failure(
                        "purity",
                        call.method,
                        f"calling `{call.method}` changed the callback object itself.",
                        advice="Never assign to `self` (or `object.__setattr__`) in "
                        "a method: return new values in the state instead.",
                    )
                )
            before = after

        return drive(callback, scenario, invoker, subject.context, on_call=watch).calls

    def test(scenario: Scenario) -> list[Failure]:
        """Drive one example twice eagerly and twice jitted, and report the first change
        to the callback, draw from global randomness, or mismatch between the runs; a
        NaN made only eagerly gets its own advice, as `jax.jit` may simplify it away."""
        found: list[Failure] = []
        try:
            first_eager = run(eager, scenario, found)
            second_eager = run(eager, scenario, found)
            first_jit = run(jitted, scenario, found)
            second_jit = run(jitted, scenario, found)
        except MethodError:
            return []  # a method that raises is the `runs` and `jit` checks' finding
        if found:
            return found
        if eager.drew:
            method, source = eager.drew[0]
            return [
                Failure(
                    "purity",
                    method,
                    f"`{method}` draws from {source}: under `jax.jit` it draws once, "
                    "while the method is traced, and every call after uses that "
                    "value; eagerly each call draws anew.",
                    advice="Draw randomness only from the `key` argument "
                    "(`jax.random.uniform(key) < p`), split for each use.",
                )
            ]
        comparisons = (
            (
                first_eager,
                second_eager,
                0.0,
                0.0,
                "gives different results for the same inputs and key when called "
                "eagerly twice",
            ),
            (
                first_jit,
                second_jit,
                0.0,
                0.0,
                "gives different results for the same inputs and key when jitted "
                "and called twice",
            ),
            (
                first_eager,
                first_jit,
                1e-4,
                1e-6,
                "gives different results eagerly and under `jax.jit`",
            ),
        )
        for a_calls, b_calls, rtol, atol, what in comparisons:
            for a, b in zip(a_calls, b_calls, strict=True):
                where = first_mismatch(
                    a.output, b.output, rtol=rtol, atol=atol, path="output"
                )
                if where is None:
                    continue
                nan_eagerly = has_nan(a.output) and not has_nan(b.output)
                if a_calls is first_eager and nan_eagerly:
                    return [
                        Failure(
                            "purity",
                            a.method,
                            f"`{a.method}` {what}, at `{where}`: NaN eagerly, not "
                            "under `jax.jit`, whose compiler simplified the NaN "
                            "away (`nan * 0` from masking, say).",
                            leaf=where,
                            advice="Make the value without NaN on every path: guard "
                            "the division or log itself (`jnp.where(n > 0, s / "
                            "jnp.maximum(n, 1), 0.0)`) rather than masking its "
                            "result; another compiler or a change nearby may keep "
                            "the NaN.",
                        )
                    ]
                return [
                    Failure(
                        "purity",
                        a.method,
                        f"`{a.method}` {what}, at `{where}`.",
                        leaf=where,
                        advice="Draw randomness only from the `key` argument "
                        "(`jax.random`), never from Python `random`, NumPy or "
                        "the clock, and keep no hidden state between calls.",
                    )
                ]
        return []

    # Changes to the contexts' dicts and lists show only in eager calls, and only
    # in the containers, never in the outputs compared below: a pass of their own.
    mutations = mutation_failures(subject)
    if mutations:
        return mutations
    leaks = _leak_failures(subject)
    if leaks:
        return leaks
    return find_failure(
        subject,
        "purity",
        test,
        num_envs=1,
    )


class _LeakCheckingInvoker(WrappedInvoker):
    """Traces each call with `jax.checking_leaks`, which turns JAX's caches off:
    only around the traced method, so that the arrays and keys `drive` makes
    outside it are not compiled again."""

    def __call__(self, method: str, *args: Any) -> Any:
        with jax.checking_leaks(), formatted_log_records():
            return self.inner(method, *args)


def _leak_failures(subject: Subject) -> list[Failure]:
    """Trace every method once with `jax.checking_leaks` (on one example: tracing
    shows a leak, and nothing needs compiling)."""
    invoker = _LeakCheckingInvoker(
        Invoker(jit=True, batched=subject.num_envs > 1, trace=True, memo=False)
    )
    scenario = subject.shape_scenario(subject.num_envs if subject.num_envs > 1 else 1)
    try:
        drive(subject.callback, scenario, invoker, subject.context)
    except MethodError as error:
        if isinstance(error.error, jax.errors.UnexpectedTracerError) or (
            "Leaked trace" in str(error.error) or "leaked" in str(error.error)
        ):
            failure = method_failure("purity", error, subject)
            return [
                dataclasses.replace(
                    failure,
                    message=f"`{error.method}` leaks a tracer: it stores a traced "
                    "value outside its result (on `self`, in a global or a "
                    "container).",
                    advice="Return every value through the method's result; keep "
                    "host-side state behind `jax.debug.callback`.",
                )
            ]
    return []
