"""The reference training loop's jitted body: rollouts of `on_step`, `on_iteration`,
`continue_training`, and the training of the toy policy, as one `eqx.filter_jit`."""

from __future__ import annotations

import dataclasses
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jax import lax
from jaxtyping import Array, Bool, Float, Int, Key, PyTree

from .._engine._contexts import ContextBuilder, zero_count
from .._tree import is_weak, pformat_values, scan_promotes
from ..toy import ToyPolicy, toy_training_log


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
        """One step: act, step the environment, and call `on_step` with the loop's
        variables named as Lerax's PPO names them; returns the carry and the reward."""
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
            loc = {
                "observation": observation,
                "action": action,
                "clipped_action": action,
                "reward": reward,
                "bootstrapped_reward": reward,
                "done": done,
                "termination": done,
                "truncation": jnp.zeros_like(done),
                "value": zero,
                "log_prob": zero,
            }
            ctx = contexts.make(
                "step",
                "on_step",
                state=callback_state,
                env=env,
                policy=policy,
                done=done,
                reward=reward,
                locals=loc,
            )
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
def train(
    callback: Any,
    contexts: ContextBuilder,
    env: Any,
    policy: Any,
    num_envs: int,
    num_steps: int,
    num_iterations: int,
    key: Key[Array, ""],
) -> TrainingResult:
    """The reference loop: reset, `on_training_start`, `num_iterations` iterations of
    rollouts and a toy policy update, each followed by `on_iteration` and
    `continue_training`, then `on_training_end`; with `callback=None`, the loop
    alone. Iterations after `continue_training` says no are skipped by a `lax.cond`."""
    start_key, reset_key, learn_key, end_key = jr.split(key, 4)
    total_timesteps = num_envs * num_steps * num_iterations
    env_key, step_key, callback_key = jr.split(reset_key, 3)
    env_state = _batched(num_envs, lambda k: env.initial(key=k), env_key)
    step_state = state = None
    if callback is not None:
        reset_ctx = contexts.make("reset", "reset", locals={"num_envs": num_envs})
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
                "training",
                "on_training_start",
                state=state,
                step_state=step_state,
                env=env,
                policy=policy,
                total_timesteps=total_timesteps,
                iteration_count=iteration_count,
                opt_state=opt_state,
                locals=training_locals,
            ),
            key=start_key,
        )

    def iteration(carry: _Carry, key: Key[Array, ""]) -> _Carry:
        """Roll out every environment, update the toy policy, then call `on_iteration`
        and `continue_training`; the log is cast to the carry's dtypes, so that the
        `lax.cond` branches agree."""
        rollout_key, callback_key, continue_key = jr.split(key, 3)

        def rollout(step_state: Any, env_state: Any, key: Key[Array, ""]) -> Any:
            return _rollout(
                callback,
                contexts,
                env,
                carry.policy,
                step_state,
                env_state,
                num_steps,
                key,
            )

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
                "iteration",
                "on_iteration",
                state=state,
                step_state=step_state,
                env=env,
                policy=policy,
                iteration_count=iteration_count,
                opt_state=opt_state,
                training_log=log,
                locals={**training_locals, "log": log},
            )
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
                "training",
                "on_training_end",
                state=state,
                step_state=final.step_state,
                env=env,
                policy=final.policy,
                total_timesteps=total_timesteps,
                iteration_count=final.iteration_count,
                opt_state=final.opt_state,
                locals=training_locals,
            ),
            key=end_key,
        )
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
