"""The `scan` check's training loop: the least loop that holds a callback's states
as `lax.scan` carries, on a generated example's rewards and dones.

`run_training` steps a toy environment and policy and skips stopped iterations
with a `lax.cond`; compiling all that takes over ten times as long as compiling
the callback's own calls. What the `scan` check looks for (states whose
structure, shapes or dtypes change across steps or iterations, static fields that
change, tracer errors under a loop) only needs the callback's methods inside two
nested `lax.scan`s: `on_step` over steps (vmapped over environments, or unbatched
with one), `on_iteration` and `continue_training` over iterations, with the step
states and the iteration state carried from one iteration to the next as Lerax's
algorithms carry them. The environment protocol is the `runs` and command
checks' concern (`run_training`, `require_protocol`), not this loop's.

Contexts are made by the call tables of the callback's family (`_calls`), with
the subject's environment, policy and context values, so both API families run;
each iteration's training log is the example's, so that the loop sees the keys
the other checks do (`training_logs=`, or the recorded algorithm's).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax import lax

from ._arrays import scenario_arrays
from ._calls import cached, tables
from ._contexts import ContextBuilder, zero_count
from ._scenario import Scenario

NUM_ITERATIONS = 3
"""Iterations of the loop: enough for a state to come back as a carry twice."""


def _loop(table: dict[str, Any], num_envs: int, batched: bool) -> Any:
    """The `scan` check's loop for one call table and `num_envs` environments, vmapped
    step states when `batched`."""

    def env_keys(key: Any) -> Any:
        return jr.split(key, num_envs) if batched else key

    def train(
        callback: Any,
        env: Any,
        policy: Any,
        loc: Any,
        opt: Any,
        log: Any,
        rewards: Any,
        dones: Any,
        key: Any,
    ) -> Any:
        """`reset`, `step_reset`, `on_training_start`, an iteration per row of `rewards`
        and `dones`, then `on_training_end`: the final states and each iteration's
        running flag. A state that changes across steps or iterations fails here."""
        keys = jr.split(key, 4)
        zero = zero_count()
        state = table["reset"](callback, loc, keys[0])
        step_state = table["step_reset"](callback, loc, env_keys(keys[1]))
        state = table["on_training_start"](
            callback, state, step_state, env, policy, zero, opt, loc, keys[2]
        )

        def iteration(carry: Any, xs: Any) -> Any:
            """`on_step` scanned over one iteration's steps, then `on_iteration` and
            `continue_training`; every iteration runs, so that each carry is traced,
            and `running` stays false once `continue_training` has said no."""
            state, step_state, count, running = carry
            rewards, dones, key = xs
            iteration_keys = jr.split(key, rewards.shape[0] + 2)

            def step(step_state: Any, xs: Any) -> Any:
                reward, done, key = xs
                return table["on_step"](
                    callback,
                    step_state,
                    env,
                    policy,
                    done,
                    reward,
                    loc,
                    env_keys(key),
                ), None

            step_state, _ = lax.scan(
                step, step_state, (rewards, dones, iteration_keys[2:])
            )
            count = count + 1
            state = table["on_iteration"](
                callback,
                state,
                step_state,
                env,
                policy,
                count,
                opt,
                log,
                loc,
                iteration_keys[0],
            )
            go = table["continue_training"](
                callback,
                state,
                step_state,
                env,
                policy,
                count,
                opt,
                log,
                loc,
                iteration_keys[1],
            )
            running = jnp.logical_and(running, jnp.asarray(go))
            return (state, step_state, count, running), running

        initial = (state, step_state, zero, jnp.array(True))
        xs = (rewards, dones, jr.split(keys[3], rewards.shape[0]))
        (state, step_state, count, _), flags = lax.scan(iteration, initial, xs)
        state = table["on_training_end"](
            callback, state, step_state, env, policy, count, opt, loc, keys[3]
        )
        return state, step_state, flags

    return train


def _loop_function(contexts: ContextBuilder, num_envs: int) -> Any:
    """The loop of `contexts`'s family for `num_envs` environments, made once per
    (equal) builder, as the call tables are."""
    made = cached(contexts).setdefault("scan loops", {})
    if num_envs not in made:
        batched = num_envs > 1
        table = tables(contexts)[1 if batched else 0]
        made[num_envs] = eqx.filter_jit(_loop(table, num_envs, batched))
    return made[num_envs]


LONGEST_OF = 8
"""The scan loop runs on the longest of this many of the checks' examples."""


def generated_scenario(subject: Any, num_envs: int) -> Scenario:
    """The longest of the first few of the examples the other checks draw (the
    subject's shared stream: no run of hypothesis of its own), so that rewards
    and dones respect the subject's options."""
    # With one environment, the examples `runs` draws.
    count = subject.max_examples if num_envs > 1 else subject.examples("runs")
    drawn = subject.stream(num_envs, count)[:LONGEST_OF]
    return max(drawn, key=lambda s: (s.num_steps, sum(map(any, s.dones))))


def run_scan_loop(subject: Any, num_envs: int, *, trace_only: bool = False) -> Any:
    """Run (or only trace) the loop on a generated example of `num_envs`
    environments, its steps repeated for each of `NUM_ITERATIONS` iterations."""
    scenario = generated_scenario(subject, num_envs)
    arrays = scenario_arrays(scenario, num_envs)

    def repeated(rows: Any, dtype: Any) -> Any:
        # NumPy, then one transfer: no eager JAX operation to compile.
        array = np.asarray(rows, dtype=dtype).reshape(len(rows), -1)
        if num_envs == 1:
            array = array[:, 0]
        # A contiguous copy: `jnp.asarray` of a broadcast view compiles a
        # broadcast for every new shape.
        repeated = np.broadcast_to(array, (NUM_ITERATIONS, *array.shape))
        return jax.device_put(np.ascontiguousarray(repeated))

    context = subject.context
    arguments = (
        subject.callback,
        context.env,
        context.policy,
        arrays["locals"],
        arrays["opt"],
        arrays["log"],
        repeated(scenario.rewards, arrays["rewards"][0].dtype),
        repeated(scenario.dones, bool),
        jr.key(scenario.seed),
    )
    train = _loop_function(context.contexts, num_envs)
    if trace_only:
        return eqx.filter_eval_shape(train, *arguments)
    return jax.block_until_ready(train(*arguments))
