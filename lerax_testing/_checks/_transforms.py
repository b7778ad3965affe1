"""The `vmap` check: per-environment methods under `jax.vmap`, and batched or
unbatched step states everywhere else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
from jax import lax

from .._contexts import ContextBuilder
from .._drive import Call, Invoker, MethodError, drive, tables
from .._report import Failure
from .._subject import Subject, find_failure, method_failure
from .._tree import first_mismatch
from ..strategies import Scenario

# Which arguments of the batched step functions carry the environment axis.
_BATCHED_ARGS = {"step_reset": (1,), "on_step": (0, 3, 4, 6)}


def _each_alone(method: str, contexts: ContextBuilder) -> Callable[..., Any]:
    """A jitted function taking the batched call's arguments and calling the
    method on each environment alone, one after another (`lax.map`)."""
    axes = _BATCHED_ARGS[method]
    single = tables(contexts)[0][method]

    def run(callback: Any, *args: Any) -> Any:
        def one(batched: tuple[Any, ...]) -> Any:
            parts = iter(batched)
            full = [next(parts) if i in axes else a for i, a in enumerate(args)]
            return single(callback, *full)

        return lax.map(one, tuple(args[i] for i in axes))

    return eqx.filter_jit(run)


_ADVICE = (
    "Write per-environment methods for one environment and let the algorithm vmap "
    "them; call host code through `jax.debug.callback` or "
    '`jax.pure_callback(..., vmap_method="sequential")`; in `on_iteration` reduce '
    "step states with `jnp.sum`/`jnp.mean`, which work batched and unbatched, "
    "instead of indexing environments."
)


def check_vmap(subject: Subject) -> list[Failure]:
    num_envs = max(subject.num_envs, 2)
    batched = Invoker(jit=True, batched=True, share=True)
    single = Invoker(jit=True, batched=False, share=True)
    alone = {
        method: _each_alone(method, subject.context.contexts)
        for method in _BATCHED_ARGS
    }

    def compare(call: Call, found: list[Failure]) -> None:
        if call.method not in alone or found:
            return
        try:
            each = alone[call.method](subject.callback, *call.args)
        except Exception as error:
            found.append(
                method_failure("vmap", error, subject, method=call.method,
                               doing="called on each environment alone ",
                               advice=_ADVICE)
            )  # fmt: skip
            return
        where = first_mismatch(
            call.output, each, rtol=1e-5, atol=1e-6, path="step_state"
        )
        if where is not None:
            found.append(
                Failure(
                    "vmap", call.method,
                    f"`{call.method}` under `jax.vmap` over {num_envs} environments "
                    f"differs from calling it on each environment alone, at "
                    f"`{where}`.",
                    leaf=where,
                    advice="Make the method depend only on its own environment's "
                    "context and key; a host callback used under vmap must handle "
                    "a batch (`jax.pure_callback(..., vmap_method=...)`).",
                )
            )  # fmt: skip

    def test(scenario: Scenario) -> list[Failure]:
        found: list[Failure] = []
        try:
            drive(subject.callback, scenario, batched, subject.context,
                  on_call=lambda call: compare(call, found))  # fmt: skip
        except MethodError as error:
            doing = f"with step states batched over {num_envs} environments "
            return [method_failure("vmap", error, subject, doing=doing, advice=_ADVICE)]
        if found:
            return found
        try:
            drive(subject.callback, scenario, single, subject.context)
        except MethodError as error:
            doing = "with one (unbatched) environment "
            return [method_failure("vmap", error, subject, doing=doing, advice=_ADVICE)]
        return []

    return find_failure(subject, "vmap", test, num_envs=num_envs)
