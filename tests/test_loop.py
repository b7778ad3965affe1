"""The reference training loop calls callbacks as Lerax's algorithms do."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest
from jaxtyping import Array, Int

import lerax_callback as lc
from lerax_testing import run_training, strategies as lst
from lerax_testing.toy import ToyEnv, ToyPolicy


class Calls(lc.AbstractCallbackState):
    iterations: Int[Array, ""]
    started: Int[Array, ""]
    ended: Int[Array, ""]
    last_count: Int[Array, ""]
    steps_seen: Int[Array, ""]


class Steps(lc.AbstractCallbackStepState):
    steps: Int[Array, ""]
    dones: Int[Array, ""]


class Recorder(lc.AbstractCallback[Calls, Steps]):
    """Counts every call it receives, to compare with the loop's promises."""

    def reset(self, ctx, *, key):
        zero = jnp.zeros((), jnp.int32)
        return Calls(zero, zero, zero, zero, zero)

    def step_reset(self, ctx, *, key):
        return Steps(jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))

    def on_step(self, ctx, *, key):
        assert ctx.done.shape == ()
        assert ctx.reward.shape == ()
        return Steps(ctx.state.steps + 1, ctx.state.dones + ctx.done.astype(jnp.int32))

    def on_iteration(self, ctx, *, key):
        s = ctx.state
        return Calls(
            s.iterations + 1,
            s.started,
            s.ended,
            ctx.iteration_count,
            jnp.sum(ctx.step_state.steps).astype(jnp.int32),
        )

    def on_training_start(self, ctx, *, key):
        s = ctx.state
        # `started` counts the steps training announces, so the test can check it.
        started = s.started + ctx.total_timesteps
        return Calls(s.iterations, started, s.ended, s.last_count, s.steps_seen)

    def on_training_end(self, ctx, *, key):
        s = ctx.state
        return Calls(s.iterations, s.started, s.ended + 1, s.last_count, s.steps_seen)


@pytest.mark.parametrize("num_envs", [1, 2])
def test_every_method_is_called_the_documented_number_of_times(num_envs):
    result = run_training(Recorder(), num_envs=num_envs, num_steps=5, num_iterations=3)
    state = result.state
    assert int(state.iterations) == 3
    assert int(state.started) == num_envs * 5 * 3
    assert int(state.ended) == 1
    assert int(state.last_count) == 3
    assert int(state.steps_seen) == num_envs * 5 * 3
    expected_shape = () if num_envs == 1 else (num_envs,)
    assert result.step_state.steps.shape == expected_shape
    assert jnp.all(result.step_state.steps == 15)
    assert int(jnp.sum(result.step_state.dones)) > 0, "the toy episodes should end"


def test_no_callback_still_trains_the_policy():
    result = run_training(None, num_envs=2, num_iterations=3)
    assert result.state is None
    assert float(result.policy.gain) > float(ToyPolicy().gain)


def test_the_loop_is_reproducible_from_its_key():
    a = run_training(Recorder(), num_envs=2, key=jr.key(3))
    b = run_training(Recorder(), num_envs=2, key=3)
    assert jnp.array_equal(a.step_state.dones, b.step_state.dones)


def test_the_loop_accepts_a_custom_environment_and_policy():
    env = ToyEnv(bound=0.5, max_episode_steps=3)
    result = run_training(
        Recorder(),
        env=env,
        policy=ToyPolicy(0.5),
        num_envs=2,
        num_steps=5,
        num_iterations=3,
    )
    assert int(jnp.sum(result.step_state.dones)) >= 2 * 15 // 3


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_envs": 0}, ValueError, "num_envs"),
        ({"num_steps": 1.5}, ValueError, "num_steps"),
        ({"key": "seed"}, TypeError, "jax.random.key"),
    ],
    ids=["zero-envs", "float-steps", "string-key"],
)
def test_bad_arguments_are_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        run_training(Recorder(), **kwargs)


def test_a_class_in_place_of_an_instance_is_a_clear_error():
    with pytest.raises(TypeError, match="instantiate"):
        run_training(Recorder)


def test_legacy_uint32_keys_are_accepted():
    result = run_training(Recorder(), key=jax.random.PRNGKey(0), num_envs=2)
    assert int(result.iterations_run) == 4
    assert jr.key_data(jr.key(0)).dtype == jnp.uint32


def test_the_result_depends_on_the_rollouts():
    # The training log is computed from every reward, so a loop without callbacks
    # still steps its environments (and benchmarks measure real work).
    calm = run_training(None, env=ToyEnv(noise=0.0), num_envs=2)
    noisy = run_training(None, env=ToyEnv(noise=1.0), num_envs=2)
    assert float(calm.training_log["loss"]) != float(noisy.training_log["loss"])
    assert calm.training_log["approx_kl"].dtype == jnp.float32
    assert set(calm.training_log) == set(lst.TRAINING_LOG_KEYS)  # as Lerax's PPO


def test_weakly_typed_initial_states_run_as_lax_scan_accepts_them():
    """`jnp.array(0.0)` starts are promoted to the dtypes the methods return, as
    `lax.scan` and Lerax's algorithms do, also under x64 (float64 weak starts)."""
    import jax
    from zoo import WeakScalarStarts

    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        result = run_training(WeakScalarStarts(), num_envs=2, num_steps=3)
    finally:
        jax.config.update("jax_enable_x64", previous)
    assert result.iterations_run == 4


class Ends(lc.AbstractCallbackStepState):
    dones: Int[Array, ""]
    terminations: Int[Array, ""]
    truncations: Int[Array, ""]


class CountsEnds(lc.AbstractStepCallback[Ends]):
    """Reads `on_step` variables by the names Lerax's PPO gives them."""

    def step_reset(self, ctx, *, key):
        zero = jnp.zeros((), jnp.int32)
        return Ends(zero, zero, zero)

    def on_step(self, ctx, *, key):
        state = ctx.state
        terminated = jnp.asarray(ctx.locals["termination"], jnp.int32)
        truncated = jnp.asarray(ctx.locals["truncation"], jnp.int32)
        value = ctx.locals["value"] + ctx.locals["log_prob"]
        same = (value == 0) & (ctx.locals["bootstrapped_reward"] == ctx.reward)
        return Ends(
            state.dones + jnp.asarray(ctx.done, jnp.int32),
            state.terminations + terminated * same,
            state.truncations + truncated,
        )


def test_step_locals_carry_the_names_lerax_ppo_gives_them():
    result = run_training(CountsEnds(), num_envs=2, num_steps=16, num_iterations=2)
    ends = result.step_state
    assert ends.terminations.tolist() == ends.dones.tolist()
    assert int(ends.dones.sum()) > 0
    assert ends.truncations.tolist() == [0, 0]
