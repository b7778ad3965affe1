"""The `retrace` check: jitted methods are not traced again for new values of the
same shapes (a Python number or a weakly typed value where an array is meant)."""

from __future__ import annotations

from typing import Any

from .._engine._drive import ARGUMENT_NAMES, Call, Invoker, MethodError, drive
from .._engine._scenario import Scenario
from .._engine._trace import jit_signature, signatures_equal
from .._explain._report import Failure
from .._search import find_failure
from .._subject import Subject
from .._tree import diff


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
        """Add a `retrace` failure to `found` when `call` makes `jax.jit` trace its
        method again, naming the first input that changed; once per method, a weakly
        typed start that `lax.scan` would promote is forgiven."""
        traced = new_signature(call.method, (subject.callback, *call.args))
        last = previous.get(call.method)
        current = (*call.args, subject.callback)
        previous[call.method] = current
        if not traced or last is None:
            return
        names = (*ARGUMENT_NAMES[call.method], "callback")
        pairs = list(zip(names, last, current, strict=True))
        differences = [d for n, a, b in pairs for d in diff(a, b, n, weak=True)]
        # One retrace while a weakly typed initial state becomes strongly typed, or
        # takes the dtype the method returns (`jnp.array(0)` summing float
        # rewards), is what `lax.scan` itself does on entry; anything else, or
        # the same again later, is a real retrace.
        promoted = [
            d for n, a, b in pairs for d in diff(a, b, n, weak=True, carry=True)
        ]
        if (
            differences
            and all(d.kind == "weak_type" for d in promoted)
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
                "retrace",
                call.method,
                message,
                leaf=leaf,
                advice="Return states whose static fields, dtypes and weak types "
                "match the input's (create leaves with explicit dtypes, e.g. "
                "`jnp.zeros((), jnp.float32)` rather than `jnp.array(0.0)`), and never "
                "change the callback's own fields.",
            )
        )

    def run(scenario: Scenario) -> list[Failure]:
        found: list[Failure] = []
        try:
            drive(
                subject.callback,
                scenario,
                invoker,
                subject.context,
                on_call=lambda call: watch(call, found),
            )
        except MethodError:
            return []  # reported by the `jit` check
        return found

    warm_up = run(subject.shape_scenario(subject.num_envs if batched else 1))
    if warm_up:
        return warm_up
    return find_failure(
        subject,
        "retrace",
        run,
        num_envs=subject.num_envs if batched else 1,
    )
