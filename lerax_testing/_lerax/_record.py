"""What a real Lerax algorithm passes to a callback, recorded from its `learn()`.

`recording(name, env, policy)` traces the algorithm's real `learn()` with
`equinox.filter_eval_shape` (nothing is compiled) and a callback that keeps,
method by method, what its context holds: the `locals` dict, the training log,
the optimiser state, the algorithm object, as shapes and dtypes where they are
arrays. `Recording.context_values(method)` turns that back into values (arrays of
the recorded shapes and dtypes; the concrete environment, policy and algorithm
where the context held them), which the checks put in the contexts they make.
The recording is made once per algorithm, environment and policy in a process.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ._algorithms import SPECS

CONTEXT_FIELDS = ("env", "policy", "opt_state", "algorithm", "locals")
"""The context fields a recording supplies: the rest (states, reward, done,
iteration count, training log values) the checks generate."""


@dataclasses.dataclass(eq=False)
class Recording:
    """What one algorithm passed to a callback's methods in one traced `learn()`.

    - `name`: the algorithm (`ppo`, ...).
    - `calls`: the methods in the order they were traced.
    - `fields`: `{method: {context field: value as recorded}}`, arrays as
        `jax.ShapeDtypeStruct`s.
    - `env`, `policy`, `algorithm`: the concrete objects the run was given.
    """

    name: str
    calls: list[str]
    fields: dict[str, dict[str, Any]]
    env: Any
    policy: Any
    algorithm: Any

    @property
    def _recorded_log(self) -> dict[str, Any]:
        """The training log `on_iteration` got, as recorded (shapes and dtypes)."""
        return self.fields.get("on_iteration", {}).get("training_log", {})

    @property
    def training_log_keys(self) -> tuple[str, ...]:
        """The keys of the training log `on_iteration` gets."""
        return tuple(self._recorded_log)

    def training_log(self) -> dict[str, Any]:
        """The training log `on_iteration` gets, as arrays of its recorded shapes
        and dtypes."""
        return self._concrete(dict(self._recorded_log))

    def locals_keys(self, method: str) -> tuple[str, ...]:
        """The keys of `ctx.locals` in `method`."""
        return tuple(self.fields.get(method, {}).get("locals", {}))

    def algorithm_state(self, *, concrete: bool) -> Any:
        """The algorithm state `apply_curriculum` was given (arrays when
        `concrete`, else shapes and dtypes), or `None` when the algorithm never
        called it (Lerax 0.0.5)."""
        recorded = self.fields.get("apply_curriculum", {}).get("state")
        if recorded is None or not concrete:
            return recorded
        return self._concrete_state()

    @functools.cache  # noqa: B019 (one recording per algorithm in a process)
    def _concrete_state(self) -> Any:
        return self._concrete(self.fields["apply_curriculum"]["state"])

    def context_values(self, method: str) -> dict[str, Any]:
        """`{field: value}` for `method`'s context: the recorded structures made
        concrete, in dicts and lists of their own for every context, so that a
        callback that changes `ctx.locals` in place (the `purity` check's
        finding) changes nothing another context or callback gets."""
        return _fresh(self._concrete_values(method))

    @functools.cache  # noqa: B019 (one recording per algorithm in a process)
    def _concrete_values(self, method: str) -> dict[str, Any]:
        recorded = self.fields.get(method, {})
        return {
            name: self._concrete(value)
            for name, value in recorded.items()
            if name in CONTEXT_FIELDS
        }

    def _concrete(self, value: Any) -> Any:
        """`value` with arrays for its recorded shapes, made eagerly even when
        first asked for inside a trace (the values are cached: a tracer kept
        here would leak into every later check)."""
        known = (self.env, self.policy, self.algorithm)
        for obj in known:
            if value is obj or _same_structure(value, obj):
                return obj
        if isinstance(value, dict):
            return {k: self._concrete(v) for k, v in value.items()}
        with jax.ensure_compile_time_eval():
            return jax.tree.map(array_of, value)


def _fresh(value: Any) -> Any:
    """`value` with its dicts and lists copied, all the way down; arrays and
    modules, which cannot be changed in place, shared."""
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    return value


def _same_structure(a: Any, b: Any) -> bool:
    """Whether `a` (recorded) has `b`'s pytree structure and its leaves' shapes."""
    if type(a) is not type(b) or isinstance(a, (dict, list, tuple)):
        return False
    try:
        la, ta = jax.tree.flatten(a)
        lb, tb = jax.tree.flatten(b)
    except Exception:
        return False
    return ta == tb and all(
        getattr(x, "shape", None) == getattr(y, "shape", None)
        for x, y in zip(la, lb, strict=True)
    )


def _struct(x: Any) -> Any:
    """An array or tracer as a `jax.ShapeDtypeStruct`; anything else as it is."""
    if isinstance(x, (jax.Array, np.ndarray)) or isinstance(x, jax.core.Tracer):
        return jax.ShapeDtypeStruct(
            x.shape, x.dtype, weak_type=bool(getattr(x, "weak_type", False))
        )
    return x


def array_of(x: Any) -> Any:
    """A concrete array for a recorded `ShapeDtypeStruct`: ones for numbers (a
    learning rate, a count, a buffer's contents), `False` for flags, keys made from
    seed 0; anything else as it is."""
    if not isinstance(x, jax.ShapeDtypeStruct):
        return x
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        size = int(np.prod(x.shape)) if x.shape else 1
        keys = jr.split(jr.key(0), size)
        return keys.reshape(x.shape) if x.shape else keys[0]
    if x.dtype == jnp.bool_:
        return jnp.zeros(x.shape, bool)
    return jnp.ones(x.shape, x.dtype)


def _recorder(log: dict[str, Any], calls: list[str]) -> Any:
    """A `lerax.callback` callback that keeps what each method's context holds."""
    from lerax.callback import (
        AbstractCallback,
        AbstractCallbackState,
        AbstractCallbackStepState,
    )

    class Nothing(AbstractCallbackState):
        pass

    class StepNothing(AbstractCallbackStepState):
        pass

    def keep(method: str, ctx: Any) -> None:
        calls.append(method)
        if method in log:
            return
        fields = {}
        for field in dataclasses.fields(ctx):
            if field.name in ("state", "step_state"):
                continue
            value = getattr(ctx, field.name)
            fields[field.name] = jax.tree.map(_struct, value)
        log[method] = fields

    class Recorder(AbstractCallback):
        def reset(self, ctx: Any, *, key: Any) -> Any:
            keep("reset", ctx)
            return Nothing()

        def step_reset(self, ctx: Any, *, key: Any) -> Any:
            keep("step_reset", ctx)
            return StepNothing()

        def on_step(self, ctx: Any, *, key: Any) -> Any:
            keep("on_step", ctx)
            return ctx.state

        def on_iteration(self, ctx: Any, *, key: Any) -> Any:
            keep("on_iteration", ctx)
            return ctx.state

        def on_training_start(self, ctx: Any, *, key: Any) -> Any:
            keep("on_training_start", ctx)
            return ctx.state

        def on_training_end(self, ctx: Any, *, key: Any) -> Any:
            keep("on_training_end", ctx)
            return ctx.state

        def continue_training(self, ctx: Any, *, key: Any) -> Any:
            keep("continue_training", ctx)
            return jnp.array(True)

        def apply_curriculum(self, state: Any, callback_state: Any) -> Any:
            calls.append("apply_curriculum")
            log.setdefault("apply_curriculum", {"state": jax.tree.map(_struct, state)})
            return state, callback_state

    return Recorder()


_RECORDINGS: dict[tuple[str, int, int], Recording] = {}


def recording(name: str, env: Any = None, policy: Any = None) -> Recording:
    """The recording of algorithm `name` with `env` and `policy` (its defaults when
    `None`), made once per process."""
    cache_key = (name, id(env), id(policy))
    if cache_key not in _RECORDINGS:
        _RECORDINGS[cache_key] = _record(name, env, policy)
    return _RECORDINGS[cache_key]


def _record(name: str, env: Any, policy: Any) -> Recording:
    import equinox as eqx

    spec = SPECS[name]
    algorithm = spec.build()
    env = spec.default_env() if env is None else env
    policy = spec.default_policy(env) if policy is None else policy
    log: dict[str, Any] = {}
    calls: list[str] = []
    with jax.numpy_rank_promotion("allow"):  # as in `_learn.run_learn`
        eqx.filter_eval_shape(
            algorithm.learn,
            env,
            policy,
            spec.timesteps(algorithm),
            key=jr.key(0),
            callback=_recorder(log, calls),
        )
    return Recording(name, calls, log, env, policy, algorithm)
