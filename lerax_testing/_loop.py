"""The reference training loop: calls a callback exactly as Lerax's algorithms do."""

from __future__ import annotations

import dataclasses
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jax import lax
from jaxtyping import Array, Bool, Float, Int, Key, PyTree

from lerax_callback._family import callback_api

from ._contexts import ContextBuilder, zero_count
from ._protocol import require_protocol
from ._tree import is_weak, pformat_values, scan_promotes
from .toy import ToyEnv, ToyPolicy, toy_training_log


@final
class TrainingResult(eqx.Module):
    """What `run_training` returns.

    **Attributes:**

    - `state`: the callback's final iteration state (after `on_training_end`).
    - `step_state`: the callback's final step states, batched along axis 0 when
        `num_envs > 1`.
    - `iterations_run`: how many iterations ran before `continue_training` stopped
        the loop (all of them when it never did).
    - `continue_flags`: what `continue_training` returned after each iteration;
        `False` for the iterations skipped after training stopped.
    - `policy`: the policy after training.
    - `training_log`: the last iteration's training metrics, named as Lerax's PPO
        names them (`toy_training_log`), which depend on every reward of the
        rollout.
    """

    state: Any
    step_state: Any
    iterations_run: Int[Array, ""]
    continue_flags: Bool[Array, " iterations"]
    policy: Any
    training_log: dict[str, Array]

    def __repr__(self) -> str:  # values, not only shapes: `iterations_run=Array(2)`
        return pformat_values(self)


class _Carry(eqx.Module):
    state: Any
    step_state: Any
    env_state: Any
    policy: Any
    opt_state: PyTree
    iteration_count: Int[Array, ""]
    running: Bool[Array, ""]
    training_log: dict[str, Array]


def _batched(num_envs: int, fn: Any, key: Key[Array, ""]) -> Any:
    """`fn(key)` for one environment, or vmapped over `num_envs` keys."""
    if num_envs == 1:
        return fn(key)
    return eqx.filter_vmap(fn)(jr.split(key, num_envs))


def _rollout(
    callback: Any,
    contexts: ContextBuilder,
    env: Any,
    policy: Any,
    step_state: Any,
    env_state: Any,
    num_steps: int,
    key: Key[Array, ""],
) -> tuple[Any, Any, Float[Array, " steps"]]:
    """One environment's steps of one iteration, as a `lax.scan` over `on_step`."""

    def one_step(carry: tuple[Any, Any], key: Key[Array, ""]) -> tuple[Any, Any]:
        callback_state, env_state = carry
        action_key, env_key, callback_key = jr.split(key, 3)
        observation = env.observation(env_state)
        action = policy.action(observation, key=action_key)
        env_state, reward, done = env.step(env_state, action, key=env_key)
        if callback is not None:
            # The loop's own variables under the names Lerax's PPO gives them
            # (`termination`, `truncation`; no value function: `value` and
            # `log_prob` are zero), so a callback reading them runs here too.
            zero = jnp.zeros_like(reward)
            loc = {"observation": observation, "action": action,
                   "clipped_action": action, "reward": reward,
                   "bootstrapped_reward": reward, "done": done,
                   "termination": done, "truncation": jnp.zeros_like(done),
                   "value": zero, "log_prob": zero}  # fmt: skip
            ctx = contexts.make(
                "step", state=callback_state, env=env, policy=policy, done=done,
                reward=reward, locals=loc,
            )  # fmt: skip
            callback_state = callback.on_step(ctx, key=callback_key)
        return (callback_state, env_state), reward

    (step_state, env_state), rewards = lax.scan(
        one_step, (step_state, env_state), jr.split(key, num_steps)
    )
    return step_state, env_state, rewards


def _train_policy(
    policy: ToyPolicy | Any, opt_state: PyTree, rewards: Array
) -> tuple[Any, PyTree, dict[str, Array]]:
    """A stand-in for an optimiser step: nudges the toy policy, logs PPO's
    metrics (`toy_training_log`)."""
    step = opt_state["step"] + 1
    if isinstance(policy, ToyPolicy):
        gain = policy.gain + 0.01 * (1.0 - policy.gain)
        policy = eqx.tree_at(lambda p: p.gain, policy, gain.astype(policy.gain.dtype))
    return policy, {"step": step}, toy_training_log(rewards)


@eqx.filter_jit
def _train(
    callback: Any,
    contexts: ContextBuilder,
    env: Any,
    policy: Any,
    num_envs: int,
    num_steps: int,
    num_iterations: int,
    key: Key[Array, ""],
) -> TrainingResult:
    start_key, reset_key, learn_key, end_key = jr.split(key, 4)
    total_timesteps = num_envs * num_steps * num_iterations
    env_key, step_key, callback_key = jr.split(reset_key, 3)
    env_state = _batched(num_envs, lambda k: env.initial(key=k), env_key)
    step_state = state = None
    if callback is not None:
        reset_ctx = contexts.make("reset", locals={"num_envs": num_envs})
        step_state = _batched(
            num_envs, lambda k: callback.step_reset(reset_ctx, key=k), step_key
        )
        state = callback.reset(reset_ctx, key=callback_key)
    opt_state = {"step": jnp.zeros((), jnp.int32)}
    iteration_count = zero_count()
    training_locals = {"num_envs": num_envs, "num_steps": num_steps}
    if callback is not None:
        state = callback.on_training_start(
            contexts.make(
                "training", state=state, step_state=step_state, env=env,
                policy=policy, total_timesteps=total_timesteps,
                iteration_count=iteration_count, opt_state=opt_state,
                locals=training_locals,
            ),
            key=start_key,
        )  # fmt: skip

    def iteration(carry: _Carry, key: Key[Array, ""]) -> _Carry:
        rollout_key, callback_key, continue_key = jr.split(key, 3)

        def rollout(step_state: Any, env_state: Any, key: Key[Array, ""]) -> Any:
            return _rollout(
                callback, contexts, env, carry.policy, step_state, env_state,
                num_steps, key,
            )  # fmt: skip

        if num_envs == 1:
            step_state, env_state, rewards = rollout(
                carry.step_state, carry.env_state, rollout_key
            )
        else:
            step_state, env_state, rewards = eqx.filter_vmap(rollout)(
                carry.step_state, carry.env_state, jr.split(rollout_key, num_envs)
            )
        policy, opt_state, log = _train_policy(carry.policy, carry.opt_state, rewards)
        iteration_count = carry.iteration_count + 1
        state = carry.state
        running = carry.running
        if callback is not None:
            ctx = contexts.make(
                "iteration", state=state, step_state=step_state, env=env,
                policy=policy, iteration_count=iteration_count, opt_state=opt_state,
                training_log=log, locals={**training_locals, "log": log},
            )  # fmt: skip
            state = callback.on_iteration(ctx, key=callback_key)
            ctx = dataclasses.replace(ctx, state=state)
            running = jnp.asarray(callback.continue_training(ctx, key=continue_key))
        return _Carry(
            state,
            step_state,
            env_state,
            policy,
            opt_state,
            iteration_count,
            running,
            jax.tree.map(
                lambda new, old: new.astype(old.dtype), log, carry.training_log
            ),
        )

    def guarded(carry: _Carry, key: Key[Array, ""]) -> tuple[_Carry, Bool[Array, ""]]:
        # Once `continue_training` has said no, the remaining iterations do nothing.
        new = lax.cond(carry.running, lambda c: iteration(c, key), lambda c: c, carry)
        return new, jnp.logical_and(carry.running, new.running)

    initial = _Carry(
        state,
        step_state,
        env_state,
        policy,
        opt_state,
        iteration_count,
        jnp.array(True),
        toy_training_log(jnp.zeros((1,))),
    )
    initial = _promote_weak(initial, iteration, learn_key)
    final, flags = lax.scan(guarded, initial, jr.split(learn_key, num_iterations))
    state = final.state
    if callback is not None:
        state = callback.on_training_end(
            contexts.make(
                "training", state=state, step_state=final.step_state, env=env,
                policy=final.policy, total_timesteps=total_timesteps,
                iteration_count=final.iteration_count, opt_state=final.opt_state,
                locals=training_locals,
            ),
            key=end_key,
        )  # fmt: skip
    return TrainingResult(
        state,
        final.step_state,
        final.iteration_count.astype(jnp.int32),
        flags,
        final.policy,
        final.training_log,
    )


def _promote_weak(initial: _Carry, iteration: Any, key: Key[Array, ""]) -> _Carry:
    """Give each weakly typed leaf of the initial carry (`jnp.array(0.0)`, a Python
    number) the dtype one iteration returns, as `lax.scan` and Lerax's algorithms
    accept it; the `lax.cond` that skips stopped iterations would not."""
    out = eqx.filter_eval_shape(iteration, initial, key)

    def promote(leaf: Any, shape: Any) -> Any:
        if (
            is_weak(leaf)
            and hasattr(shape, "dtype")
            and getattr(leaf, "shape", None) == shape.shape
            and scan_promotes(leaf, shape)
        ):
            return jnp.asarray(leaf, dtype=shape.dtype)
        return leaf

    dynamic, static = eqx.partition(initial, eqx.is_array)
    out_dynamic, _ = eqx.partition(out, lambda x: isinstance(x, jax.ShapeDtypeStruct))
    try:
        promoted = jax.tree.map(promote, dynamic, out_dynamic)
    except ValueError:  # the structure changes: `lax.scan` will say where
        return initial
    return eqx.combine(promoted, static)


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
        callback = _callback_list(list(callback))
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
        return eqx.filter_eval_shape(_train, *arguments)
    return _train(*arguments)


def _callback_list(callbacks: list[Any]) -> Any:
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
