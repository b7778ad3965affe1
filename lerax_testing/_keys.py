"""The PRNG keys of one generated example, made by one compiled program.

Every way of driving an example (eagerly, method by method under `jit`, or as one
jitted episode) passes the same keys to the same calls, so that the `purity`
check can compare them and a reproducer replays them: the example's seed is split
into `MAX_KEYS` keys; `reset`, `on_training_start`, `on_iteration`,
`continue_training` and `on_training_end` take keys 0, 2, 3, 4 and 5;
`step_reset` takes key 1 and step `t` key `6 + t`, each split once more over the
environments when the step methods are batched.

Splitting and indexing eagerly cost one dispatched operation per key (some sixty
per example); here one function returns them all, traced inside the jitted
episode or jitted alone (compiled once per padded length and number of
environments for the whole process).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ._settings import MAX_STEPS

MAX_KEYS = MAX_STEPS + 6
"""Keys split per example, whatever its length (one shape, one compilation)."""

CALL_KEYS = {
    "reset": 0,
    "on_training_start": 2,
    "on_iteration": 3,
    "continue_training": 4,
    "on_training_end": 5,
}
"""The index of the key each iteration-level method takes."""


@dataclasses.dataclass(frozen=True)
class ExampleKeys:
    """The keys of one example: `calls[method]` for the iteration-level methods,
    `reset` for `step_reset`, `steps[t]` for step `t` (`padded_length` of them),
    and `stacked`, the same stacked along a leading axis (a `lax.scan`'s input)."""

    calls: dict[str, Any]
    reset: Any
    steps: tuple[Any, ...]
    stacked: Any


@functools.partial(jax.jit, static_argnames=("impl", "partitionable"))
def _root(seed: Any, *, impl: str, partitionable: bool) -> Any:
    """The example's `MAX_KEYS` keys: the only hash every example needs, of one
    shape, so compiled once per process (a threefry hash takes about 0.2 s to
    compile on a CPU, per shape and per place it is used)."""
    del partitionable  # part of the cache key: it changes what `split` gives
    return jr.split(jr.key(seed, impl=impl), MAX_KEYS)


@functools.partial(jax.jit, static_argnames=("length", "num_envs"))
def _arrange(keys: Any, *, length: int, num_envs: int | None) -> Any:
    """`(calls, reset, steps, stacked)` from the example's keys, for `length`
    steps; `step_reset`'s and every step's key split over `num_envs`
    environments by one vectorised hash (none when `num_envs` is `None`)."""
    indices = jnp.asarray([1] + [6 + min(t, MAX_KEYS - 7) for t in range(length)])
    chosen = keys[indices]
    if num_envs is not None:
        chosen = jax.vmap(lambda key: jr.split(key, num_envs))(chosen)
    calls = {method: keys[index] for method, index in CALL_KEYS.items()}
    steps = chosen[1:]
    return calls, chosen[0], tuple(steps[t] for t in range(length)), steps


def example_keys(seed: int, length: int, num_envs: int | None) -> ExampleKeys:
    """The keys of the example of `seed` for `length` steps; step keys split over
    `num_envs` environments, or not split when it is `None` (unbatched), with
    the PRNG implementation JAX is configured with (`jax.random.key(seed)`).

    Kept for the process (keys are immutable): every check and every callback
    driving the same example takes the same keys."""
    impl = str(jax.config.jax_default_prng_impl)
    partitionable = bool(jax.config.jax_threefry_partitionable)
    return _example_keys(seed, length, num_envs, impl, partitionable)


@functools.lru_cache(maxsize=4096)
def _example_keys(
    seed: int, length: int, num_envs: int | None, impl: str, partitionable: bool
) -> ExampleKeys:
    root = _root(np.uint32(seed), impl=impl, partitionable=partitionable)
    calls, reset, steps, stacked = _arrange(root, length=length, num_envs=num_envs)
    return ExampleKeys(calls, reset, steps, stacked)
