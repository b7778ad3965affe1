"""The `purity`, `retrace` and `side_effects` checks: methods as pure functions."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax

from .._engine._drive import (
    ARGUMENT_NAMES,
    Call,
    Invoker,
    MethodError,
    WrappedInvoker,
    drive,
)
from .._engine._scenario import Scenario
from .._engine._trace import jit_signature, signatures_equal
from .._explain._report import Failure
from .._explain._source import source_line
from .._globals import (
    ConfigUpdate,
    config_changes,
    config_snapshot,
    recording_config_updates,
    restore_config,
)
from .._search import find_failure, method_failure
from .._subject import Subject
from .._tree import comparable, diff, first_mismatch, has_nan
from ._capture import GlobalRandomWatcher, capture_effects, formatted_log_records
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
                        "purity", call.method,
                        f"calling `{call.method}` changed the callback object itself.",
                        advice="Never assign to `self` (or `object.__setattr__`) in "
                        "a method: return new values in the state instead.",
                    )
                )  # fmt: skip
            before = after

        return drive(callback, scenario, invoker, subject.context, on_call=watch).calls

    def test(scenario: Scenario) -> list[Failure]:
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
                    "purity", method,
                    f"`{method}` draws from {source}: under `jax.jit` it draws once, "
                    "while the method is traced, and every call after uses that "
                    "value; eagerly each call draws anew.",
                    advice="Draw randomness only from the `key` argument "
                    "(`jax.random.uniform(key) < p`), split for each use.",
                )
            ]  # fmt: skip
        comparisons = (
            (first_eager, second_eager, 0.0, 0.0,
             "gives different results for the same inputs and key when called "
             "eagerly twice"),
            (first_jit, second_jit, 0.0, 0.0,
             "gives different results for the same inputs and key when jitted "
             "and called twice"),
            (first_eager, first_jit, 1e-4, 1e-6,
             "gives different results eagerly and under `jax.jit`"),
        )  # fmt: skip
        for a_calls, b_calls, rtol, atol, what in comparisons:
            for a, b in zip(a_calls, b_calls, strict=True):
                where = first_mismatch(a.output, b.output, rtol=rtol, atol=atol,
                                       path="output")  # fmt: skip
                if where is None:
                    continue
                nan_eagerly = has_nan(a.output) and not has_nan(b.output)
                if a_calls is first_eager and nan_eagerly:
                    return [
                        Failure(
                            "purity", a.method,
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
                    ]  # fmt: skip
                return [
                    Failure(
                        "purity", a.method,
                        f"`{a.method}` {what}, at `{where}`.",
                        leaf=where,
                        advice="Draw randomness only from the `key` argument "
                        "(`jax.random`), never from Python `random`, NumPy or "
                        "the clock, and keep no hidden state between calls.",
                    )
                ]  # fmt: skip
        return []

    # Changes to the contexts' dicts and lists show only in eager calls, and only
    # in the containers, never in the outputs compared below: a pass of their own.
    mutations = mutation_failures(subject)
    if mutations:
        return mutations
    leaks = _leak_failures(subject)
    if leaks:
        return leaks
    return find_failure(subject, "purity", test, num_envs=1)


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


def check_retrace(subject: Subject) -> list[Failure]:
    """Whether `jax.jit` would trace a method again, read from the key it caches
    compilations under (`jit_signature`) rather than by counting traces: the
    jitted calls then share their compilations with every other check, and a
    compilation made by an earlier check cannot hide a retrace."""
    signatures: dict[str, list[tuple[Any, ...]]] = {}

    def new_signature(method: str, args: tuple[Any, ...]) -> bool:
        signature = jit_signature(args)
        known = signatures.setdefault(method, [])
        if any(signatures_equal(signature, k) for k in known):
            return False
        known.append(signature)
        return True

    batched = subject.num_envs > 1
    invoker = Invoker(jit=True, batched=batched)
    previous: dict[str, tuple[Any, ...]] = {}
    warmed: set[str] = set()

    def watch(call: Call, found: list[Failure]) -> None:
        traced = new_signature(call.method, (subject.callback, *call.args))
        last = previous.get(call.method)
        current = (*call.args, subject.callback)
        previous[call.method] = current
        if not traced or last is None:
            return
        names = (*ARGUMENT_NAMES[call.method], "callback")
        differences = [
            d
            for name, before, after in zip(names, last, current, strict=True)
            for d in diff(before, after, name, weak=True)
        ]
        # One retrace while a weakly typed initial state becomes strongly typed is
        # what `lax.scan` itself does on entry; anything else is a real retrace.
        if (
            differences
            and all(d.kind == "weak_type" for d in differences)
            and call.method not in warmed
        ):
            warmed.add(call.method)
            return
        if found:
            return
        if differences:
            d = differences[0]
            message = (
                f"`{call.method}` was traced and compiled again because its input "
                f"changed at `{d}` ({d.kind.replace('_', ' ')})."
            )
            leaf = d.path
        else:
            message = (
                f"`{call.method}` was traced and compiled again for inputs of the "
                "same shapes and dtypes."
            )
            leaf = None
        found.append(
            Failure(
                "retrace", call.method, message, leaf=leaf,
                advice="Return states whose static fields, dtypes and weak types "
                "match the input's (create leaves with explicit dtypes, e.g. "
                "`jnp.zeros((), jnp.float32)` rather than `jnp.array(0.0)`), and never "
                "change the callback's own fields.",
            )
        )  # fmt: skip

    def run(scenario: Scenario) -> list[Failure]:
        found: list[Failure] = []
        try:
            drive(subject.callback, scenario, invoker, subject.context,
                  on_call=lambda call: watch(call, found))  # fmt: skip
        except MethodError:
            return []  # reported by the `jit` check
        return found

    warm_up = run(subject.shape_scenario(subject.num_envs if batched else 1))
    if warm_up:
        return warm_up
    return find_failure(
        subject, "retrace", run, num_envs=subject.num_envs if batched else 1
    )


class _CapturingInvoker(Invoker):
    """Calls through `inner`, recording each method's output, files written and
    changes to JAX's configuration (undone at once, so that the next call runs
    under the configuration the harness chose)."""

    def __init__(self, inner: Invoker, callback: Any):
        self.inner = inner
        self.batched = inner.batched
        self.callback = callback
        self.effects: dict[str, str] = {}
        self.config: list[Failure] = []

    def bind(self, contexts: Any) -> None:
        self.inner.bind(contexts)

    def __call__(self, method: str, *args: Any) -> Any:
        written: list[str] = []
        updates: list[ConfigUpdate] = []
        before = config_snapshot()
        try:
            with (
                capture_effects(written) as buffer,
                recording_config_updates(self.callback, updates),
            ):
                out = self.inner(method, *args)
        finally:
            changed = config_changes(before, config_snapshot())
            restore_config(before)
            self.config.extend(_config_failure(method, c, updates) for c in changed)
        text = buffer.getvalue() + "".join(f"[wrote file {w}]\n" for w in written)
        self.effects[method] = self.effects.get(method, "") + text
        return out


def _config_failure(
    method: str, change: tuple[str, Any, Any], updates: list[ConfigUpdate]
) -> Failure:
    """A `side_effects` failure for a method that changed a JAX flag for good."""
    name, old, new = change
    location = next((u.location for u in updates if u.name == name), None)
    line = source_line(location)
    where = f" at `{line}`" if line else ""
    return Failure(
        "side_effects", method,
        f"`{method}` changes JAX's global configuration: `{name}` from {old!r} to "
        f"{new!r}{where}. The flag stays changed after the call, for every later "
        "computation of the program and every other callback, and under `jax.jit` "
        "the change happens only while the method is traced.",
        leaf=name, expected=repr(old), found=repr(new), location=location,
        advice="Do not change global JAX configuration in a callback: set flags "
        "once where the program starts, or scope a change with its context manager "
        "(e.g. `with jax.debug_nans(True):`) outside the jitted training code.",
    )  # fmt: skip


def check_side_effects(subject: Subject) -> list[Failure]:
    # What runs while tracing, per method: every call traced anew (nothing is
    # compiled), even if another check already compiled the same method.
    traced = Invoker(jit=True, batched=subject.num_envs > 1, trace=True, memo=False)
    scenario = subject.shape_scenario(subject.num_envs if subject.num_envs > 1 else 1)
    capturing = _CapturingInvoker(traced, subject.callback)
    try:
        drive(subject.callback, scenario, capturing, subject.context)
    except MethodError:
        return capturing.config  # the error itself is the `jit` check's
    if capturing.config:
        return capturing.config
    first = capturing.effects
    if not any(text.strip() for text in first.values()):
        return []
    # What runs when the compiled methods run: the second of two jitted drives
    # (the first may trace and compile, once for every check), whose output
    # cannot be told apart by method as one compiled program runs them all.
    jitted = Invoker(jit=True, batched=subject.num_envs > 1)
    later = ""
    for _ in range(2):
        written: list[str] = []
        before = config_snapshot()
        try:
            with capture_effects(written) as buffer:
                drive(subject.callback, scenario, jitted, subject.context)
        except MethodError:
            return []  # the `jit` check's finding
        finally:
            restore_config(before)
        later = buffer.getvalue() + "".join(f"[wrote file {w}]\n" for w in written)
    later_lines = {line.strip() for line in later.splitlines()}
    failures = []
    for method, text in first.items():
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines and not any(line in later_lines for line in lines):
            shown = " ".join(text.split())
            shown = shown if len(shown) <= 120 else shown[:117] + "..."
            failures.append(
                Failure(
                    "side_effects", method,
                    f"`{method}` has a Python side effect that runs only while it "
                    f"is traced (first jitted call), not when the compiled function "
                    f"runs: {shown!r}.",
                    advice="Use `jax.debug.print` to print, and "
                    "`jax.debug.callback` to write files or log, so that it happens "
                    "on every call.",
                )
            )  # fmt: skip
    return failures
