"""The call tables: one function per callback method and batch mode that builds
the method's context and calls it, shared by every check (and so compiled once).
"""

from __future__ import annotations

from typing import Any

import jax

from ._contexts import ContextBuilder

TOTAL_TIMESTEPS = 1024
"""The static `total_timesteps` of generated training contexts (kept fixed)."""


def call_table(contexts: ContextBuilder, *, batched: bool) -> dict[str, Any]:
    """One function per method, `(callback, *arrays, key) -> output`, that builds
    the method's context with `contexts` and calls it; step methods vmapped over a
    leading environment axis when `batched`."""
    make = contexts.make

    def reset(callback: Any, loc: Any, key: Any) -> Any:
        return callback.reset(make("reset", "reset", locals=loc), key=key)

    def step_reset(callback: Any, loc: Any, key: Any) -> Any:
        return callback.step_reset(make("reset", "step_reset", locals=loc), key=key)

    def on_step(
        callback: Any,
        state: Any,
        env: Any,
        policy: Any,
        done: Any,
        reward: Any,
        loc: Any,
        key: Any,
    ) -> Any:
        ctx = make(
            "step",
            "on_step",
            state=state,
            env=env,
            policy=policy,
            done=done,
            reward=reward,
            locals=loc,
        )
        return callback.on_step(ctx, key=key)

    def iteration(method: str) -> Any:
        def call(
            callback: Any,
            state: Any,
            step_state: Any,
            env: Any,
            policy: Any,
            count: Any,
            opt: Any,
            log: Any,
            loc: Any,
            key: Any,
        ) -> Any:
            ctx = make(
                "iteration",
                method,
                state=state,
                step_state=step_state,
                env=env,
                policy=policy,
                iteration_count=count,
                opt_state=opt,
                training_log=log,
                locals=loc,
            )
            return getattr(callback, method)(ctx, key=key)

        call.__name__ = call.__qualname__ = method
        return call

    def training(method: str) -> Any:
        def call(
            callback: Any,
            state: Any,
            step_state: Any,
            env: Any,
            policy: Any,
            count: Any,
            opt: Any,
            loc: Any,
            key: Any,
        ) -> Any:
            ctx = make(
                "training",
                method,
                state=state,
                step_state=step_state,
                env=env,
                policy=policy,
                total_timesteps=TOTAL_TIMESTEPS,
                iteration_count=count,
                opt_state=opt,
                locals=loc,
            )
            return getattr(callback, method)(ctx, key=key)

        call.__name__ = call.__qualname__ = method
        return call

    def batched_step_reset(callback: Any, loc: Any, keys: Any) -> Any:
        return jax.vmap(lambda k: step_reset(callback, loc, k))(keys)

    def batched_on_step(
        callback: Any,
        state: Any,
        env: Any,
        policy: Any,
        done: Any,
        reward: Any,
        loc: Any,
        keys: Any,
    ) -> Any:
        def one(s: Any, d: Any, r: Any, k: Any) -> Any:
            return on_step(callback, s, env, policy, d, r, loc, k)

        return jax.vmap(one)(state, done, reward, keys)

    batched_step_reset.__name__ = "step_reset"
    batched_on_step.__name__ = "on_step"
    return {
        "reset": reset,
        "step_reset": batched_step_reset if batched else step_reset,
        "on_step": batched_on_step if batched else on_step,
        "on_iteration": iteration("on_iteration"),
        "continue_training": iteration("continue_training"),
        "on_training_start": training("on_training_start"),
        "on_training_end": training("on_training_end"),
    }


def tables(contexts: ContextBuilder) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unbatched and batched call tables of `contexts`, made once per builder
    (and for builders equal to it) so that every check of one callback shares
    their compilations: JAX caches compilations per function object."""
    return _cached(contexts)["tables"]


def cached(contexts: ContextBuilder) -> dict[str, Any]:
    """A dict kept as long as the process for `contexts` and every builder equal
    to it (what else is made once per family and values: the jitted episodes).

    Held strongly, with the builder, rather than in a weak dictionary: a weak
    entry would go with the first builder, and the next check, with an equal
    builder of its own, would make and compile everything again. Builders differ
    by family and `context_values` only, so there are few.
    """
    return _cached(contexts)


def _cached(contexts: ContextBuilder) -> dict[str, Any]:
    entry = _CACHE.get(contexts)
    if entry is None:
        entry = {
            "tables": (
                call_table(contexts, batched=False),
                call_table(contexts, batched=True),
            ),
        }
        _CACHE[contexts] = entry
    return entry


_CACHE: dict[ContextBuilder, dict[str, Any]] = {}


DEFAULT_CONTEXTS = ContextBuilder()
PLAIN, BATCHED = tables(DEFAULT_CONTEXTS)
"""The call tables of `lerax_callback`'s own family."""
