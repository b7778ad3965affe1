"""Hypothesis strategies for the inputs an algorithm hands to callbacks.

The harness draws its examples with the same numbers; they are public so that
callback authors can compose their own property tests:

```python
from hypothesis import given
from lerax_testing import strategies as lst

@given(lst.step_contexts(MyStepState(...)), lst.keys())
def test_on_step_keeps_returns_finite(ctx, key):
    assert jnp.isfinite(MyCallback().on_step(ctx, key=key).episode_return)
```

Values are drawn as plain Python numbers and turned into arrays at the end, so
examples shrink well and print readably. Rewards avoid subnormal numbers (the CPU
flushes them to zero under `jit`, so eager and jitted results would legitimately
differ) and, by default, magnitudes above `1e6`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import jax.random as jr
from hypothesis import strategies as st
from jaxtyping import Array, Bool, Float, Int, Key

from lerax_callback._family import OURS, callback_api

from ._engine._contexts import ContextBuilder, count_dtype
from ._engine._encoding import as_float32
from ._engine._scenario import (
    BOUNDARY_COUNTS as BOUNDARY_COUNTS,
    LERAX_PPO_LOG_KEYS as LERAX_PPO_LOG_KEYS,
    LOGGING_PERIODS as LOGGING_PERIODS,
    POWERS_OF_TEN as POWERS_OF_TEN,
    REWARD_BOUND as REWARD_BOUND,
    SPECIAL_REWARDS as SPECIAL_REWARDS,
    TRAINING_LOG_KEYS as TRAINING_LOG_KEYS,
    Scenario as Scenario,
    decoders,
    scenario_from,
)
from .toy import ToyEnv, ToyPolicy


def reward_values(
    *,
    min_value: float = -REWARD_BOUND,
    max_value: float = REWARD_BOUND,
    allow_nonfinite: bool = False,
) -> st.SearchStrategy[float]:
    """Rewards as Python floats representable in float32.

    Zero, negative, large and tiny finite values; infinities and NaN only with
    `allow_nonfinite=True`, to test robustness to a broken environment.
    """
    # Drawn as float64 (about twice as fast to generate as `width=32`), then
    # rounded to float32, with float32's subnormal range flushed to zero.
    finite = st.floats(
        min_value=min_value,
        max_value=max_value,
        allow_nan=False,
        allow_infinity=False,
        allow_subnormal=False,
    ).map(as_float32)
    special = [as_float32(v) for v in SPECIAL_REWARDS if min_value <= v <= max_value]
    options = [finite, st.sampled_from(special)] if special else [finite]
    if allow_nonfinite:
        options.append(st.sampled_from([float("inf"), float("-inf"), float("nan")]))
    return st.one_of(*options)


def rewards(**kwargs: Any) -> st.SearchStrategy[Float[Array, ""]]:
    """Scalar reward arrays; takes the options of `reward_values`."""
    return reward_values(**kwargs).map(lambda r: jnp.asarray(r, dtype=float))


def dones() -> st.SearchStrategy[Bool[Array, ""]]:
    """Scalar boolean `done` flags."""
    return st.booleans().map(jnp.asarray)


def seeds() -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=2**32 - 1)


def keys() -> st.SearchStrategy[Key[Array, ""]]:
    """New-style PRNG keys (`jax.random.key`), as `Key[Array, ""]` requires."""
    return seeds().map(jr.key)


def iteration_count_values() -> st.SearchStrategy[int]:
    """Iteration counts: 0 and 1, powers of ten (a branch of their own, so that a
    defect that shows only at `iteration_count == 1000` is found by default),
    other boundaries, and any value up to a million."""
    return st.one_of(
        st.sampled_from([0, 1]),
        st.sampled_from(POWERS_OF_TEN),
        st.sampled_from(BOUNDARY_COUNTS),
        st.integers(0, 1_000_000),
    )


def iteration_counts() -> st.SearchStrategy[Int[Array, ""]]:
    """Scalar iteration counts in JAX's default integer dtype, as Lerax counts
    (int32; int64 with `jax_enable_x64`)."""
    return iteration_count_values().map(lambda i: jnp.asarray(i, dtype=count_dtype()))


def training_log_values(
    names: tuple[str, ...] = TRAINING_LOG_KEYS,
) -> st.SearchStrategy[dict[str, float]]:
    """Training logs as `{name: float}` with a fixed set of names."""
    value = st.floats(
        -1e6, 1e6, allow_nan=False, allow_subnormal=False, width=32
    ) | st.sampled_from([0.0, 1.0])
    return st.fixed_dictionaries({name: value for name in names})


def training_logs(
    names: tuple[str, ...] = TRAINING_LOG_KEYS,
) -> st.SearchStrategy[dict[str, Array]]:
    """Training logs as `{name: scalar float array}`."""
    return training_log_values(names).map(
        lambda log: {k: jnp.asarray(v, dtype=float) for k, v in log.items()}
    )


def opt_states() -> st.SearchStrategy[dict[str, Array]]:
    """Optimiser states shaped like the reference loop's (`{"step": int32}`)."""
    return st.integers(0, 1_000_000).map(
        lambda s: {"step": jnp.asarray(s, dtype=jnp.int32)}
    )


def locals_dicts() -> st.SearchStrategy[dict[str, Any]]:
    """The algorithm's `locals()` as a small dict of arrays with fixed keys."""
    return st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False, width=32).map(
        lambda v: {"value": jnp.asarray(v, dtype=float)}
    )


def scenarios(
    *,
    num_envs: int = 1,
    max_steps: int = 8,
    reward_options: dict[str, Any] | None = None,
    training_log_names: tuple[str, ...] = TRAINING_LOG_KEYS,
    training_log_strategy: st.SearchStrategy[dict[str, float]] | None = None,
) -> st.SearchStrategy[Scenario]:
    """Training episodes for `num_envs` environments of 1 to `max_steps` steps.

    Each step is a choice of bytes of its own (see `_encoding`), so that
    shrinking deletes the steps a failure does not need and reports it on the
    shortest sequence that shows it.
    """
    row, tail = decoders(
        num_envs, reward_options, training_log_names, training_log_strategy
    )

    def build(data: bytes, rows: list[bytes], log: dict[str, float] | None) -> Scenario:
        steps = [row(r) for r in rows]
        numbers = {
            **tail(data),
            "rewards": tuple(r for r, _ in steps),
            "dones": tuple(d for _, d in steps),
        }
        return scenario_from(numbers, log)

    return st.builds(
        build,
        st.binary(min_size=tail.size, max_size=tail.size),
        st.lists(
            st.binary(min_size=row.size, max_size=row.size),
            min_size=1,
            max_size=max_steps,
        ),
        st.none() if training_log_strategy is None else training_log_strategy,
    )


def _strategy(value: Any) -> st.SearchStrategy[Any]:
    """`value` itself if it is a strategy, else a strategy that always gives it."""
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


def _env_and_policy(env: Any, policy: Any) -> tuple[Any, Any]:
    """The given environment and policy, the toy ones where None."""
    return (ToyEnv() if env is None else env, ToyPolicy() if policy is None else policy)


def _builder(callback: Any, context_values: dict[str, Any] | None) -> ContextBuilder:
    """Contexts of `callback`'s API family (ours when `None`), with `context_values`
    for fields the strategies do not generate."""
    api = OURS if callback is None else callback_api(callback)
    if api is None:
        raise TypeError(
            f"`callback` must be a callback or callback class of `lerax_callback` or "
            f"`lerax.callback`, to pick its context classes; got {callback!r}."
        )
    return ContextBuilder(api, dict(context_values or {}))


def reset_contexts(
    *, callback: Any = None, context_values: dict[str, Any] | None = None
) -> st.SearchStrategy[Any]:
    """Reset contexts with generated `locals`.

    Every context strategy takes `callback=`, a callback or its class, to make
    contexts of its API family (`lerax.callback`'s classes for a Lerax callback;
    `lerax_callback`'s by default), and `context_values=` for fields it does not
    generate (such as a newer Lerax's `algorithm`).
    """
    make = _builder(callback, context_values).make
    return locals_dicts().map(lambda loc: make("reset", "reset", locals=loc))


def step_contexts(
    state: Any,
    *,
    env: Any = None,
    policy: Any = None,
    callback: Any = None,
    context_values: dict[str, Any] | None = None,
    **reward_options: Any,
) -> st.SearchStrategy[Any]:
    """Single-environment step contexts around `state` (a step state, or a strategy
    of them), with generated `done` and `reward`."""
    env, policy = _env_and_policy(env, policy)
    make = _builder(callback, context_values).make
    return st.builds(
        lambda s, d, r, loc: make(
            "step",
            "on_step",
            state=s,
            env=env,
            policy=policy,
            done=d,
            reward=r,
            locals=loc,
        ),
        _strategy(state),
        dones(),
        rewards(**reward_options),
        locals_dicts(),
    )


def iteration_contexts(
    state: Any,
    step_state: Any,
    *,
    env: Any = None,
    policy: Any = None,
    callback: Any = None,
    context_values: dict[str, Any] | None = None,
) -> st.SearchStrategy[Any]:
    """Iteration contexts around `state` and `step_state` (values or strategies)."""
    env, policy = _env_and_policy(env, policy)
    make = _builder(callback, context_values).make
    return st.builds(
        lambda s, ss, i, o, log, loc: make(
            "iteration",
            "on_iteration",
            state=s,
            step_state=ss,
            env=env,
            policy=policy,
            iteration_count=i,
            opt_state=o,
            training_log=log,
            locals=loc,
        ),
        _strategy(state),
        _strategy(step_state),
        iteration_counts(),
        opt_states(),
        training_logs(),
        locals_dicts(),
    )


def training_contexts(
    state: Any,
    step_state: Any,
    *,
    total_timesteps: int = 1024,
    env: Any = None,
    policy: Any = None,
    callback: Any = None,
    context_values: dict[str, Any] | None = None,
) -> st.SearchStrategy[Any]:
    """Training contexts around `state` and `step_state` (values or strategies).

    `total_timesteps` is a Python int, a static field: it stays fixed so that jitted
    callbacks are not retraced for it.
    """
    env, policy = _env_and_policy(env, policy)
    make = _builder(callback, context_values).make
    return st.builds(
        lambda s, ss, i, o, loc: make(
            "training",
            "on_training_start",
            state=s,
            step_state=ss,
            env=env,
            policy=policy,
            total_timesteps=total_timesteps,
            iteration_count=i,
            opt_state=o,
            locals=loc,
        ),
        _strategy(state),
        _strategy(step_state),
        iteration_counts(),
        opt_states(),
        locals_dicts(),
    )
