"""A whole generated episode as one jitted program: one compilation per family
and batch mode, shared by every example and every check of a callback.

Jitting each method alone costs a compilation per method and batch mode (about
fourteen for a callback). Here `reset`, `step_reset`, `on_training_start`, the
steps, `on_iteration`, `continue_training` and `on_training_end` run in one
`eqx.filter_jit` function, the steps as one `lax.scan` (traced once, where an
unrolled loop was traced and compiled once per padded step). Episodes of
different lengths share it: the steps are padded to a fixed length and a step
past the episode's end leaves the step state as it was (`jnp.where`), so that the
methods see exactly the episode's states.

That needs step states that keep their structure, shapes and dtypes from one
step to the next; for any other callback (the `structure` check's finding) the
episode raises `NotUniform` and `drive` calls the methods one by one instead.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ._calls import cached, tables
from ._contexts import ContextBuilder

MIN_PADDED_STEPS = 8
"""Steps are padded to this length, or to the next power of two above it."""


class NotUniform(Exception):
    """A step state changed structure, shape or dtype: no padded episode."""


def padded_length(num_steps: int) -> int:
    """The padded length of an episode of `num_steps` steps: few lengths, so few
    compilations, whatever lengths hypothesis draws."""
    length = MIN_PADDED_STEPS
    while length < num_steps:
        length *= 2
    return length


def _keep_until(live: Any, new: Any, old: Any) -> Any:
    """`new` while the episode is `live`, else `old`; both must be alike."""
    new_dynamic, new_static = eqx.partition(new, eqx.is_array)
    old_dynamic, old_static = eqx.partition(old, eqx.is_array)
    same = jax.tree.structure(new) == jax.tree.structure(old) and all(
        a.shape == b.shape and a.dtype == b.dtype
        for a, b in zip(
            jax.tree.leaves(new_dynamic), jax.tree.leaves(old_dynamic), strict=True
        )
    )
    if not same or not eqx.tree_equal(new_static, old_static):
        raise NotUniform
    kept = jax.tree.map(lambda a, b: jnp.where(live, a, b), new_dynamic, old_dynamic)
    return eqx.combine(kept, new_static)


def _dynamic(tree: Any) -> Any:
    return eqx.partition(tree, eqx.is_array)[0]


def _stack(rows: list[Any]) -> Any:
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *rows)


def _row(stacked: Any, t: int) -> Any:
    return jax.tree.map(lambda leaf: leaf[t], stacked)


def _episode(table: dict[str, Any]) -> Any:
    def run(
        callback: Any, env: Any, policy: Any, loc: Any, count: Any, opt: Any,
        log: Any, dones: Any, rewards: Any, num_steps: Any, keys: Any,
        reset_keys: Any, step_keys: Any,
    ) -> Any:  # fmt: skip
        state = table["reset"](callback, loc, keys[0])
        step_state = table["step_reset"](callback, loc, reset_keys)
        zero = jnp.zeros((), jnp.int32)
        started = table["on_training_start"](
            callback, state, step_state, env, policy, zero, opt, loc, keys[2]
        )
        # The steps as one `lax.scan` (traced and compiled once, not once per
        # padded step); the states' static parts stay out of the carry.
        dynamic, static = eqx.partition(step_state, eqx.is_array)

        def step(dynamic: Any, xs: Any) -> Any:
            t, done, reward, key = xs
            current = eqx.combine(dynamic, static)
            new = table["on_step"](
                callback, current, env, policy, done, reward, loc, key
            )  # fmt: skip
            kept = _keep_until(t < num_steps, new, current)
            return _dynamic(kept), (dynamic, _dynamic(new))

        xs = (jnp.arange(len(dones)), *map(_stack, (dones, rewards, step_keys)))
        last, (ins, outs) = jax.lax.scan(step, dynamic, xs)
        inputs = [step_state] + [
            eqx.combine(_row(ins, t), static) for t in range(1, len(dones))
        ]
        outputs = [eqx.combine(_row(outs, t), static) for t in range(len(dones))]
        current = eqx.combine(last, static)
        it = table["on_iteration"](
            callback, started, current, env, policy, count, opt, log, loc, keys[3]
        )
        go = table["continue_training"](
            callback, it, current, env, policy, count, opt, log, loc, keys[4]
        )
        end = table["on_training_end"](
            callback, it, current, env, policy, count, opt, loc, keys[5]
        )
        return state, step_state, started, inputs, outputs, current, it, go, end

    return eqx.filter_jit(run)


def episode_function(contexts: ContextBuilder, *, batched: bool) -> Any:
    """The jitted episode of `contexts`'s family, made once per (equal) builder
    and batch mode."""
    made = cached(contexts).setdefault("episodes", {})
    if batched not in made:
        made[batched] = _episode(tables(contexts)[1 if batched else 0])
    return made[batched]


def episode_calls(
    fn: Any,
    callback: Any,
    env: Any,
    policy: Any,
    arrays: dict[str, Any],
    keys: list[Any],
    env_keys: Any,
) -> list[tuple[str, tuple[Any, ...], Any]]:
    """Run the jitted episode `fn` on one example: `(method, args, output)` of each
    call, with the arguments `drive` would have passed, in its order.

    Raises whatever the episode raises (`NotUniform`, an error of a method).
    """
    dones, rewards = arrays["dones"], arrays["rewards"]
    num_steps = len(dones)
    length = padded_length(num_steps)
    step_keys = [env_keys(keys[6 + min(t, len(keys) - 7)]) for t in range(length)]
    pad = length - num_steps
    loc, count, opt, log = (
        arrays["locals"],
        arrays["count"],
        arrays["opt"],
        arrays["log"],
    )
    reset_keys = env_keys(keys[1])
    outputs = fn(
        callback, env, policy, loc, count, opt, log,
        [*dones, *[jnp.zeros_like(dones[0])] * pad],
        [*rewards, *[jnp.zeros_like(rewards[0])] * pad],
        jnp.asarray(num_steps, dtype=jnp.int32), tuple(keys[:6]), reset_keys,
        step_keys,
    )  # fmt: skip
    jax.block_until_ready(outputs)
    state, step_state, started, inputs, stepped, final, it, go, end = outputs
    zero = jnp.zeros((), jnp.int32)
    calls = [
        ("reset", (loc, keys[0]), state),
        ("step_reset", (loc, reset_keys), step_state),
        ("on_training_start",
         (state, step_state, env, policy, zero, opt, loc, keys[2]), started),
    ]  # fmt: skip
    for t in range(num_steps):
        args = (inputs[t], env, policy, dones[t], rewards[t], loc, step_keys[t])
        calls.append(("on_step", args, stepped[t]))
    tail = (env, policy, count, opt)
    calls += [
        ("on_iteration", (started, final, *tail, log, loc, keys[3]), it),
        ("continue_training", (it, final, *tail, log, loc, keys[4]), go),
        ("on_training_end", (it, final, *tail, loc, keys[5]), end),
    ]
    return calls
