"""The `lerax` check's core: a callback in the real `learn()` of Lerax's algorithms.

`trace_learn` traces an algorithm's own `learn(env, policy, total_timesteps, key=,
callback=)` with `equinox.filter_eval_shape`: Lerax's `filter_jit`, its scans and
vmaps and every call of a callback method are traced exactly as in training, for
two iterations, but nothing is compiled and no host callback runs. `LearnCrash`
says what went wrong: the method being traced, the user's line, the error. A
state that changes structure between iterations fails in Lerax's scan, after the
method returned; `changed_states` then traces again with each state compared to
the one the method was given, to name the method.
"""

from __future__ import annotations

import dataclasses
import traceback
from typing import Any

import jax
import jax.random as jr

from .._tree import diff
from ._algorithms import SPECS

STATE_METHODS = (
    "reset",
    "step_reset",
    "on_step",
    "on_iteration",
    "apply_curriculum",
    "on_training_start",
    "on_training_end",
    "continue_training",
)
"""The callback methods an algorithm calls, as frames show them."""


@dataclasses.dataclass(frozen=True)
class LearnCrash:
    """Why tracing an algorithm's `learn()` with a callback failed.

    - `algorithm`: the algorithm (`ppo`, ...).
    - `method`: the callback method being traced, if a frame shows it.
    - `error`: the exception raised.
    - `changes`: states a method returned with another structure than it was
        given, as `(method, what changed)`, found by tracing again.
    """

    algorithm: str
    method: str | None
    error: BaseException
    changes: tuple[tuple[str, str], ...] = ()


def run_learn(callback: Any, name: str, env: Any = None, policy: Any = None) -> None:
    """Trace algorithm `name`'s real `learn()` with `callback` for two iterations,
    with `env` and `policy` (the algorithm's defaults when `None`, built inside the
    trace so that their parameters cost nothing); raises what tracing raises."""
    import equinox as eqx

    spec = SPECS[name]
    algorithm = spec.build()
    timesteps = spec.timesteps(algorithm)

    def learn(key: Any, env: Any, policy: Any, callback: Any) -> Any:
        policy_key, learn_key = jr.split(key)
        env = spec.default_env() if env is None else env
        if policy is None:
            policy = spec.default_policy(env)
        return algorithm.learn(env, policy, timesteps, key=learn_key, callback=callback)

    key = jax.eval_shape(lambda: jr.key(0))
    # Lerax's own code broadcasts implicitly: a stricter setting of the user's
    # would fail it, not the callback.
    with jax.numpy_rank_promotion("allow"):
        eqx.filter_eval_shape(learn, key, env, policy, callback)


def trace_learn(
    callback: Any, name: str, env: Any = None, policy: Any = None
) -> LearnCrash | None:
    """`run_learn`, with a failure returned as a `LearnCrash` (`None` when the
    callback traces through the whole of `learn()`)."""
    try:
        run_learn(callback, name, env, policy)
    except Exception as error:
        method = method_of(error)
        changes: tuple[tuple[str, str], ...] = ()
        if method is None:
            changes = changed_states(callback, name, env, policy)
            if changes:
                method = changes[0][0]
        return LearnCrash(name, method, error, changes)
    return None


def method_of(error: BaseException) -> str | None:
    """The innermost callback method (not a `CallbackList`'s) on `error`'s stack."""
    found = None
    link: BaseException | None = error
    seen: set[int] = set()
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        for frame, _ in traceback.walk_tb(link.__traceback__):
            owner = frame.f_locals.get("self")
            if frame.f_code.co_name in STATE_METHODS and _is_callback(owner):
                if type(owner).__name__ not in ("CallbackList", "_Watch"):
                    found = frame.f_code.co_name
        link = link.__cause__ or link.__context__
    return found


def _is_callback(obj: Any) -> bool:
    return any(c.__name__ == "AbstractCallback" for c in type(obj).__mro__)


def changed_states(
    callback: Any, name: str, env: Any = None, policy: Any = None
) -> tuple[tuple[str, str], ...]:
    """Trace `learn()` again with `callback` watched: each state a method returns
    is compared with the state its context held (for `apply_curriculum`, the
    algorithm state and the callback state it was given)."""
    from lerax.callback import AbstractCallback

    changes: list[tuple[str, str]] = []

    def note(method: str, before: Any, after: Any, path: str) -> None:
        # Compared as `lax.scan` compares a carry: a weakly typed start may take
        # the returned dtype, anything else must match.
        found = diff(before, after, path, carry=True)
        if found and (method, str(found[0])) not in changes:
            changes.append((method, str(found[0])))

    class _Watch(AbstractCallback):
        inner: Any

        def reset(self, ctx: Any, *, key: Any) -> Any:
            return self.inner.reset(ctx, key=key)

        def step_reset(self, ctx: Any, *, key: Any) -> Any:
            return self.inner.step_reset(ctx, key=key)

        def on_step(self, ctx: Any, *, key: Any) -> Any:
            out = self.inner.on_step(ctx, key=key)
            note("on_step", ctx.state, out, "step_state")
            return out

        def on_iteration(self, ctx: Any, *, key: Any) -> Any:
            out = self.inner.on_iteration(ctx, key=key)
            note("on_iteration", ctx.state, out, "state")
            return out

        def on_training_start(self, ctx: Any, *, key: Any) -> Any:
            out = self.inner.on_training_start(ctx, key=key)
            note("on_training_start", ctx.state, out, "state")
            return out

        def on_training_end(self, ctx: Any, *, key: Any) -> Any:
            return self.inner.on_training_end(ctx, key=key)

        def continue_training(self, ctx: Any, *, key: Any) -> Any:
            return self.inner.continue_training(ctx, key=key)

        def apply_curriculum(self, state: Any, callback_state: Any) -> Any:
            apply = getattr(self.inner, "apply_curriculum", None)
            if apply is None:
                return state, callback_state
            out = apply(state, callback_state)
            if not (isinstance(out, tuple) and len(out) == 2):
                changes.append(
                    (
                        "apply_curriculum",
                        f"it returned {type(out).__name__}, not the tuple "
                        "`(algorithm_state, callback_state)`",
                    )
                )
                return out
            note("apply_curriculum", state, out[0], "algorithm_state")
            note("apply_curriculum", callback_state, out[1], "callback_state")
            return out

    try:
        run_learn(_Watch(callback), name, env, policy)
    except Exception:  # the same failure as before: what was noted is the answer
        pass
    return tuple(changes)
