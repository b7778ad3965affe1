"""A generated example's numbers as JAX arrays, made without running JAX
operations.

An eager `jnp.asarray(value, dtype)` dispatches a conversion (tens of
microseconds, and a compilation the first time a shape is seen); thousands of
examples' worth of them cost more than the checks themselves. Here arrays are
built in NumPy and transferred with `jax.device_put`, and stacked results are
split into rows the same way.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax._src.lax import lax as lax_internal
from jax.dtypes import canonicalize_dtype

from ._contexts import count_dtype
from ._scenario import Scenario


def host_locals(value: float) -> dict[str, Any]:
    """An algorithm's `locals()` as far as callbacks read them, as NumPy arrays:
    the arrays Lerax's on-policy algorithms (PPO) have in `on_step`'s `locals()`,
    one environment's values, with the shapes and dtypes PPO on CartPole gives
    them (a test holds them to it): `observation`, `action`, `clipped_action`,
    `value`, `log_prob`, `reward`, `bootstrapped_reward` (the reward the callback
    gets, with the value of a truncated episode's next state added),
    `termination`, `truncation` and `done` (`termination | truncation`)."""
    floating = canonicalize_dtype(float)
    termination, truncation = value > 0, value < -500
    return {
        "value": np.asarray(value, floating),
        "observation": np.full((4,), value, floating),
        # A discrete action as Lerax's categorical policies sample it (int8).
        "action": np.zeros((), np.int8),
        "clipped_action": np.zeros((), np.int8),
        "log_prob": np.asarray(-abs(value), floating),
        "reward": np.asarray(value / 1e3, floating),
        "bootstrapped_reward": np.asarray(value / 1e3, floating),
        "termination": np.asarray(termination),
        "truncation": np.asarray(truncation),
        "done": np.asarray(termination or truncation),
    }


def host_numbers(scenario: Scenario, num_envs: int, length: int) -> dict[str, Any]:
    """The scenario's numbers as NumPy arrays of JAX's dtypes (rewards in JAX's
    default float dtype: float64 when `jax_enable_x64` is on, as a JAX
    environment would produce), for a jitted episode (`jax.jit` transfers them):
    rewards and dones padded with zeros to `length` steps, unbatched when there
    is one environment."""
    floating = canonicalize_dtype(float)
    integer = canonicalize_dtype(jnp.int32)  # optimisers count steps in int32

    def padded(rows: tuple[tuple[Any, ...], ...], dtype: Any) -> Any:
        array = np.zeros((length, len(rows[0]) if rows else num_envs), dtype=dtype)
        if rows:
            array[: len(rows)] = rows
        return array if num_envs > 1 else array[:, 0]

    return {
        "loc": host_locals(scenario.locals_value),
        "count": np.asarray(scenario.iteration_count, count_dtype()),
        "opt": {"step": np.asarray(scenario.opt_step, integer)},
        "log": {k: np.asarray(v, floating) for k, v in scenario.training_log.items()},
        "dones": padded(scenario.dones, bool),
        "rewards": padded(scenario.rewards, floating),
    }


def scenario_arrays(scenario: Scenario, num_envs: int) -> dict[str, Any]:
    """`host_numbers` as JAX arrays, rewards and dones one per step, for driving
    the methods one call at a time (`locals` also under that name). The same
    `locals` dict is passed to every context of a drive, so that the `purity`
    check sees a callback change it in place."""
    numbers = host_numbers(scenario, num_envs, scenario.num_steps)
    return {
        "rewards": [jax.device_put(row) for row in numbers["rewards"]],
        "dones": [jax.device_put(row) for row in numbers["dones"]],
        "count": jax.device_put(numbers["count"]),
        # Dicts rebuilt in their own order (`device_put` of a dict sorts keys).
        "log": {k: jax.device_put(v) for k, v in numbers["log"].items()},
        "opt": {k: jax.device_put(v) for k, v in numbers["opt"].items()},
        "locals": {k: jax.device_put(v) for k, v in numbers["loc"].items()},
    }


def unstack(stacked: Any, count: int) -> list[Any]:
    """The first `count` rows of `stacked`'s leaves, read through NumPy and put
    back one by one: no eager JAX operation (so no compilation) per shape, except
    for typed keys (NumPy cannot hold them) and weakly typed leaves (a transfer
    makes strongly typed arrays; the `retrace` check tells the two apart)."""
    leaves, treedef = jax.tree.flatten(stacked)
    rows: list[list[Any]] = [[] for _ in range(count)]
    for leaf in leaves:
        if jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            for t in range(count):
                rows[t].append(leaf[t])
            continue
        array = np.asarray(leaf)
        weak = bool(getattr(leaf, "weak_type", False))
        for t in range(count):
            row = jax.device_put(array[t])
            rows[t].append(_weakly_typed(row) if weak else row)
    return [jax.tree.unflatten(treedef, row) for row in rows]


def _weakly_typed(array: Any) -> Any:
    """`array` weakly typed. JAX has no public way to make an array weakly typed
    but through an operation with a Python scalar, which would not keep the
    dtype; should its internal conversion go, rows stay strongly typed."""
    convert = getattr(lax_internal, "_convert_element_type", None)
    if convert is None:
        return array
    return convert(array, weak_type=True)
