"""The PRNG keys of one generated example, made by one compiled program.

Every way of driving an example (eagerly, method by method under `jit`, or as one
jitted episode) passes the same keys to the same calls, so that the `purity`
check can compare them and a reproducer replays them: the example's seed is split
into `MAX_KEYS` keys; `reset`, `on_training_start`, `on_iteration`,
`continue_training` and `on_training_end` take keys 0, 2, 3, 4 and 5;
`step_reset` takes key 1 and step `t` key `6 + t`, each split once more over the
environments when the step methods are batched.

Splitting and indexing eagerly cost one dispatched operation per key (some sixty
per example); here one jitted function makes them, as raw key data, for a whole
stream of examples at a time (`prefetch_key_data`, `KEY_BATCH` examples to a
dispatch; `example_key_data` for one). The jitted episode takes the data and
wraps it into keys inside the program: made one example at a time, as arrays of
keys, they cost more than running the example. The calls made one by one take
keys (`example_keys`), wrapped from the same data by one more dispatch.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from . import MAX_STEPS

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


@functools.partial(jax.jit, static_argnames=("impl",))
def _typed(calls: Any, chosen: Any, *, impl: str) -> Any:
    """`(calls, reset, steps, stacked)` of `ExampleKeys` from an example's key
    data (`ExampleKeyData`): one dispatch, compiled once per shape."""
    keys = wrap(chosen, impl)
    steps = keys[1:]
    return (
        wrap_calls(calls, impl),
        keys[0],
        tuple(steps[t] for t in range(steps.shape[0])),
        steps,
    )


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
    del partitionable  # part of the cache key: `example_key_data` reads it
    data = example_key_data(seed, length, num_envs)
    return ExampleKeys(*_typed(data.calls, data.chosen, impl=impl))


@dataclasses.dataclass(frozen=True)
class ExampleKeyData:
    """The keys of `ExampleKeys` as their raw data (NumPy `uint32`), for a jitted
    program to wrap (`wrap`): `calls` holds the iteration-level methods' keys in
    the order of `CALL_KEYS`, `chosen` `step_reset`'s then every step's."""

    calls: np.ndarray
    chosen: np.ndarray
    impl: str

    @property
    def reset(self) -> np.ndarray:
        return self.chosen[0]

    @property
    def stacked(self) -> np.ndarray:
        return self.chosen[1:]


def wrap(data: Any, impl: str) -> Any:
    """Key data (from `ExampleKeyData`) as keys of `impl`, inside a traced program."""
    return jr.wrap_key_data(data, impl=impl)


def wrap_calls(data: Any, impl: str) -> dict[str, Any]:
    """`ExampleKeyData.calls` as `ExampleKeys.calls`, inside a traced program."""
    keys = wrap(data, impl)
    return {method: keys[i] for i, method in enumerate(CALL_KEYS)}


@functools.partial(
    jax.jit, static_argnames=("length", "num_envs", "impl", "partitionable")
)
def _key_data(
    seeds: Any, *, length: int, num_envs: int | None, impl: str, partitionable: bool
) -> Any:
    """The raw key data of the example of every seed of `seeds` (`KEY_BATCH` of
    them): each seed split into `MAX_KEYS` keys, then `step_reset`'s and every
    step's key split over `num_envs` environments by one vectorised hash (none
    when `num_envs` is `None`). Compiled once per padded length and number of
    environments for the process: a threefry hash takes about 0.2 s to compile on
    a CPU, per shape and per place it is used."""
    del partitionable  # part of the cache key: it changes what `split` gives
    indices = jnp.asarray([1] + [6 + min(t, MAX_KEYS - 7) for t in range(length)])
    calls = jnp.asarray(list(CALL_KEYS.values()))

    def one(seed: Any) -> Any:
        keys = jr.split(jr.key(seed, impl=impl), MAX_KEYS)
        chosen = keys[indices]
        if num_envs is not None:
            chosen = jax.vmap(lambda key: jr.split(key, num_envs))(chosen)
        return jr.key_data(keys[calls]), jr.key_data(chosen)

    return jax.vmap(one)(seeds)


KEY_BATCH = 64
"""The examples whose keys one dispatch makes (`prefetch_key_data`)."""

MAX_KEPT = 16384
"""The most examples' key data kept for the process."""

_KEY_DATA: dict[tuple[Any, ...], ExampleKeyData] = {}


def example_key_data(seed: int, length: int, num_envs: int | None) -> ExampleKeyData:
    """`example_keys` as host data: the same keys, kept for the process like them;
    made with those of other examples when `prefetch_key_data` was told of them."""
    config = (
        str(jax.config.jax_default_prng_impl),
        bool(jax.config.jax_threefry_partitionable),
    )
    kept = _KEY_DATA.get((seed, length, num_envs, *config))
    if kept is None:
        prefetch_key_data([seed], length, num_envs)
        kept = _KEY_DATA[(seed, length, num_envs, *config)]
    return kept


def prefetch_key_data(seeds: list[int], length: int, num_envs: int | None) -> None:
    """Make the key data of the examples of `seeds` (for `length` steps, split
    over `num_envs`) not made yet, `KEY_BATCH` to a dispatch: one dispatch and
    one transfer per example cost more than running it."""
    impl = str(jax.config.jax_default_prng_impl)
    partitionable = bool(jax.config.jax_threefry_partitionable)
    config = (impl, partitionable)
    missing = list(
        dict.fromkeys(
            s for s in seeds if (s, length, num_envs, *config) not in _KEY_DATA
        )
    )
    for start in range(0, len(missing), KEY_BATCH):
        batch = missing[start : start + KEY_BATCH]
        padded = np.zeros(KEY_BATCH, np.uint32)
        padded[: len(batch)] = batch
        calls, chosen = jax.device_get(
            _key_data(
                padded,
                length=length,
                num_envs=num_envs,
                impl=impl,
                partitionable=partitionable,
            )
        )
        while len(_KEY_DATA) + len(batch) > MAX_KEPT:
            _KEY_DATA.pop(next(iter(_KEY_DATA)))
        for i, seed in enumerate(batch):
            data = ExampleKeyData(calls[i], chosen[i], impl)
            _KEY_DATA[(seed, length, num_envs, *config)] = data
