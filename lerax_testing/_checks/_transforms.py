"""The `vmap` check: per-environment methods under `jax.vmap`, and batched or
unbatched step states everywhere else."""

from __future__ import annotations

from typing import Any

import jax

from .._drive import Call, Invoker, MethodError, drive
from .._report import Failure
from .._subject import Subject, find_failure, method_failure
from .._tree import first_mismatch
from ..strategies import Scenario


def _slice(tree: Any, index: int) -> Any:
    return jax.tree.map(lambda x: x[index] if isinstance(x, jax.Array) else x, tree)


# Which arguments of the batched step functions carry the environment axis.
_BATCHED_ARGS = {"step_reset": (1,), "on_step": (0, 3, 4, 6)}


def _one_env(method: str, args: tuple[Any, ...], index: int) -> tuple[Any, ...]:
    axes = _BATCHED_ARGS[method]
    return tuple(_slice(a, index) if i in axes else a for i, a in enumerate(args))


_ADVICE = (
    "Write per-environment methods for one environment and let the algorithm vmap "
    "them; call host code through `jax.debug.callback` or "
    '`jax.pure_callback(..., vmap_method="sequential")`; in `on_iteration` reduce '
    "step states with `jnp.sum`/`jnp.mean`, which work batched and unbatched, "
    "instead of indexing environments."
)


def check_vmap(subject: Subject) -> list[Failure]:
    num_envs = max(subject.num_envs, 2)
    batched = Invoker(jit=True, batched=True)
    single = Invoker(jit=True, batched=False)

    def compare(call: Call, found: list[Failure]) -> None:
        if call.method not in ("step_reset", "on_step") or found:
            return
        for index in range(num_envs):
            args = _one_env(call.method, call.args, index)
            alone = single(call.method, subject.callback, *args)
            where = first_mismatch(
                _slice(call.output, index), alone, rtol=1e-5, atol=1e-6,
                path="step_state",
            )  # fmt: skip
            if where is not None:
                found.append(
                    Failure(
                        "vmap", call.method,
                        f"`{call.method}` under `jax.vmap` over {num_envs} "
                        f"environments differs from calling it on environment "
                        f"{index} alone, at `{where}`.",
                        leaf=where,
                        advice="Make the method depend only on its own environment's "
                        "context and key; a host callback used under vmap must handle "
                        "a batch (`jax.pure_callback(..., vmap_method=...)`).",
                    )
                )  # fmt: skip
                return

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
