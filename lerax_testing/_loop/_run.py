"""`run_training`: a callback through the reference training loop, the way Lerax's
algorithms call it, with its arguments checked first."""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Key

from lerax_callback._family import callback_api

from .._engine._contexts import ContextBuilder
from ..toy import ToyEnv, ToyPolicy
from ._protocol import require_protocol
from ._training import TrainingResult, train


def run_training(
    callback: Any,
    *,
    num_envs: int = 2,
    num_steps: int = 16,
    num_iterations: int = 4,
    key: Key[Array, ""] | int = 0,
    env: Any = None,
    policy: Any = None,
    context_values: dict[str, Any] | None = None,
    trace_only: bool = False,
) -> TrainingResult:
    """Run `callback` through a jitted training loop, the way Lerax algorithms do.

    Calls `reset`, then `step_reset` (vmapped over `num_envs` environments, unbatched
    when `num_envs == 1`), `on_training_start`, then a `lax.scan` over iterations of:
    a `lax.scan` of `on_step` over `num_steps` steps (vmapped over environments),
    `on_iteration` with the batched step states, and `continue_training`. Once
    `continue_training` returns false the remaining iterations do nothing. Finally
    `on_training_end`. Everything runs under one `eqx.filter_jit`.

    **Arguments:**

    - `callback`: the callback to run, a list of callbacks (combined in their
        family's `CallbackList`, as Lerax's `learn` does), or `None` for a loop
        with no callback calls.
    - `num_envs`: parallel environments.
    - `num_steps`: steps per environment per iteration.
    - `num_iterations`: the most iterations to run.
    - `key`: a PRNG key (new-style `jax.random.key`) or an int seed.
    - `env`, `policy`: the environment and policy; default `ToyEnv()` and
        `ToyPolicy()`. Any environment with `initial`, `observation` and `step`, and
        any policy with `action`, shaped like the toy ones, will do.
    - `context_values`: values of context fields the loop does not make, such as
        the `algorithm` of a newer Lerax's contexts.
    - `trace_only`: only trace the loop (`eqx.filter_eval_shape`), without
        compiling or running it; the result then holds `jax.ShapeDtypeStruct`s.
        Tracing finds every error `lax.scan` and `jax.jit` raise on the callback's
        states and traced values (the conformance checks use it where only those
        matter, as compiling the loop takes most of its time).

    Callbacks of `lerax_callback` and of Lerax's `lerax.callback` are both run,
    each with contexts of its own family's classes. Like Lerax's algorithms, the
    loop never resets step states between iterations, and `locals` holds the
    loop's own variables (`observation`, `action`, `reward`, `done` at a step).
    Unlike Lerax 0.0.5's algorithms, which never call `continue_training`, the
    loop honours it, so that early stopping can be tested.

    **Returns:**

    A `TrainingResult` with the final states, the iterations run and the
    `continue_training` flags.
    """
    for name, value in (
        ("num_envs", num_envs),
        ("num_steps", num_steps),
        ("num_iterations", num_iterations),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
    if isinstance(callback, list | tuple):
        callback = callback_list(list(callback))
    api = None if callback is None else callback_api(callback)
    if isinstance(callback, type):
        raise TypeError(
            f"`run_training` takes a callback instance or None, got the class "
            f"{callback.__qualname__}; instantiate it first, e.g. "
            f"`{callback.__qualname__}()`."
        )
    if callback is not None and api is None:
        raise TypeError(
            f"`run_training` takes a callback (a subclass of `lerax_callback`'s or "
            f"`lerax.callback`'s `AbstractCallback`) or None, got "
            f"{type(callback).__module__}.{type(callback).__qualname__}."
        )
    require_protocol(env, policy)  # a missing `initial` named, not a trace error
    contexts = ContextBuilder() if api is None else ContextBuilder(api)
    if context_values:
        contexts = dataclasses.replace(contexts, values=dict(context_values))
    arguments = (
        callback,
        contexts,
        ToyEnv() if env is None else env,
        ToyPolicy() if policy is None else policy,
        num_envs,
        num_steps,
        num_iterations,
        as_key(key),
    )
    if trace_only:
        return eqx.filter_eval_shape(train, *arguments)
    return train(*arguments)


def callback_list(callbacks: list[Any]) -> Any:
    """A sequence of callbacks as one `CallbackList` of their family, as Lerax's
    `learn(callback=[...])` does."""
    import sys

    families = {callback_api(c) for c in callbacks}
    if len(families) != 1 or None in families:
        raise TypeError(
            "`run_training` takes a sequence of callbacks of one API family "
            "(all `lerax_callback` or all `lerax.callback`); wrap callbacks of "
            "`lerax_callback` for Lerax with `lerax_callback.to_lerax`."
        )
    (api,) = families
    if api.ours:
        from lerax_callback import CallbackList
    else:
        CallbackList = getattr(sys.modules.get(api.name), "CallbackList", None)  # noqa: N806
        if CallbackList is None:
            raise TypeError(f"`{api.name}` has no `CallbackList` to combine callbacks.")
    return CallbackList(callbacks)


def as_key(key: Any) -> Key[Array, ""]:
    """A new-style PRNG key from an int seed, a new-style key or a legacy `uint32[2]`.

    Raises `TypeError` for anything else, saying what to pass instead.
    """
    if isinstance(key, int) and not isinstance(key, bool):
        return jr.key(key)
    if isinstance(key, jax.Array):
        if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) and key.shape == ():
            return key
        if key.dtype == jnp.uint32 and key.shape == (2,):
            return jr.wrap_key_data(key)
    raise TypeError(
        f"expected a PRNG key or an int seed, got {key!r}; pass e.g. "
        "`jax.random.key(0)` or `0`."
    )
