"""The `api` check: is it a complete callback whose state types can be read?"""

from __future__ import annotations

import inspect
import typing
from typing import Any

import equinox as eqx

from lerax_callback import callback_state_types
from lerax_callback._callback import CALLBACK_METHODS
from lerax_callback._family import callback_api

from .._explain._report import Failure
from .._subject import Subject


def _signature_problem(fn: Any) -> str | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    key = sig.parameters.get("key")
    if key is not None and key.kind in (key.POSITIONAL_ONLY, key.POSITIONAL_OR_KEYWORD):
        return (
            "takes `key` as a positional argument; algorithms pass it by keyword, "
            "so declare it keyword-only: `(self, ctx, *, key)`"
        )
    positional = [
        p
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        and p.default is p.empty
    ]
    if not any(p.kind == p.VAR_POSITIONAL for p in params) and len(positional) != 1:
        return (
            f"takes {len(positional)} required positional arguments besides `self`; "
            "it must take exactly the context, e.g. `(self, ctx, *, key)`"
        )
    has_var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
    if key is None and not has_var_kw:
        return "takes no `key` argument; declare it keyword-only: `(self, ctx, *, key)`"
    return None


def check_api(subject: Subject) -> list[Failure]:
    """The callback's `api` failures, read from its class and signatures without calling
    a method: not an `equinox.Module`, no `AbstractCallback` base, abstract methods
    left, a method missing or not `(self, ctx, *, key)`, or state types left
    undeclared (the `types` check needs them)."""
    callback = subject.callback
    cls = type(callback)
    api = callback_api(callback)
    base = (
        "lerax_callback.AbstractCallback"
        if api is None
        else f"{api.name}.AbstractCallback"
    )
    failures: list[Failure] = []
    if not isinstance(callback, eqx.Module):
        failures.append(
            Failure(
                "api",
                None,
                f"{cls.__qualname__} is not an `equinox.Module`; algorithms pass "
                "callbacks through `jax.jit` as pytrees.",
                advice="Subclass `lerax_callback.AbstractCallback[MyState, "
                "MyStepState]` (an `equinox.Module`).",
            )
        )
    if api is None:
        failures.append(
            Failure(
                "api",
                None,
                f"{cls.__qualname__} does not subclass `AbstractCallback` (neither "
                "`lerax_callback`'s nor Lerax's `lerax.callback`'s).",
                advice="Subclass `lerax_callback.AbstractCallback[MyState, "
                "MyStepState]` (or `lerax.callback.AbstractCallback`) or one of the "
                "partial bases such as `AbstractStepCallback[MyStepState]`.",
            )
        )
    abstract = sorted(getattr(cls, "__abstractmethods__", ()))
    if abstract:
        failures.append(
            Failure(
                "api",
                None,
                f"{cls.__qualname__} leaves abstract methods unimplemented: "
                f"{', '.join(abstract)}.",
                advice="Implement them, or derive from a partial base that "
                "provides defaults (e.g. `AbstractIterationCallback`)"
                + (
                    "; Lerax's `AbstractCallback` leaves `continue_training` "
                    "abstract too: return `jnp.array(True)` to always continue."
                    if api is not None
                    and not api.ours
                    and "continue_training" in abstract
                    else "."
                ),
            )
        )
    for name in CALLBACK_METHODS:
        fn = getattr(callback, name, None)
        if fn is None or not callable(fn):
            failures.append(
                Failure(
                    "api",
                    name,
                    f"`{name}` is missing or not callable.",
                    advice=f"Define `def {name}(self, ctx, *, key): ...`.",
                )
            )
            continue
        problem = _signature_problem(fn)
        if problem:
            failures.append(
                Failure(
                    "api",
                    name,
                    f"`{name}` {problem}.",
                    advice=f"Define `def {name}(self, ctx, *, key): ...`.",
                )
            )
    if api is not None:
        open_params = [
            label
            for label, t in zip(
                ("StateType", "StepStateType"),
                callback_state_types(callback),
                strict=True,
            )
            if isinstance(t, typing.TypeVar)
        ]
        if open_params:
            failures.append(
                Failure(
                    "api",
                    None,
                    f"{cls.__qualname__} does not declare its "
                    f"{' and '.join(open_params)}; the harness cannot tell which "
                    "state classes its methods must return.",
                    advice=f"Declare them: `class {cls.__qualname__}("
                    f"{base}[MyState, MyStepState])`.",
                )
            )
    return failures
