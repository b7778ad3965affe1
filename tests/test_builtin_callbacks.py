"""The built-in callbacks: progress bar, episode statistics and early stopping."""

from __future__ import annotations

import dataclasses
import io
import math
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jax import lax
from jaxtyping import Array, Int

import lerax_callback as lc
from lerax_testing import run_training

KEY = jr.key(0)


def quiet(**kwargs):
    """A writer that shows nothing; module-level, so jitted runs can share it."""


class Recording:
    """A host-side writer that remembers every call's keyword arguments."""

    def __init__(self):
        self.calls = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)


class RecordingWithEnds(Recording):
    """A progress writer with the optional `start` and `close` methods."""

    def start(self, *, total):
        self.calls.append({"start": total})

    def close(self, *, steps, total):
        self.calls.append({"close": steps, "total": total})


def iteration_context(state, step_state, *, count=1, log=None):
    count = jnp.asarray(count, jnp.int32)
    return lc.IterationContext(
        state, step_state, None, None, count, {}, {} if log is None else log, {}
    )


def training_context(state, step_state, *, total_timesteps=100):
    count = jnp.zeros((), jnp.int32)
    return lc.TrainingContext(
        state, step_state, None, None, total_timesteps, count, {}, {}
    )


def all_builtins(writer=quiet):
    return [
        lc.ProgressBarCallback(writer=writer),
        lc.EpisodeStatsCallback(writer=writer),
        lc.EarlyStoppingCallback("episode_return", patience=3),
        lc.EarlyStoppingCallback("loss", mode="min", patience=3),
    ]


def leaf_dtypes(tree):
    return [leaf.dtype for leaf in jax.tree_util.tree_leaves(tree)]


# Every built-in in the reference loop


@pytest.mark.parametrize("num_envs", [1, 3])
def test_every_builtin_runs_in_the_reference_loop(num_envs):
    callbacks = all_builtins()
    result = run_training(
        lc.CallbackList(callbacks), num_envs=num_envs, num_steps=10, num_iterations=3
    )
    batch = () if num_envs == 1 else (num_envs,)
    for callback, state, step_state in zip(
        callbacks, result.state.states, result.step_state.states, strict=True
    ):
        state_type, step_state_type = lc.callback_state_types(callback)
        assert type(state) is state_type
        assert type(step_state) is step_state_type
        fresh = callback.reset(lc.ResetContext({}), key=KEY)
        fresh_step = callback.step_reset(lc.ResetContext({}), key=KEY)
        assert leaf_dtypes(state) == leaf_dtypes(fresh)
        assert leaf_dtypes(step_state) == leaf_dtypes(fresh_step)
        for leaf in jax.tree_util.tree_leaves(state):
            assert leaf.shape == ()
        for leaf in jax.tree_util.tree_leaves(step_state):
            assert leaf.shape == batch
        for leaf in jax.tree_util.tree_leaves((state, step_state)):
            assert not jnp.any(jnp.isnan(leaf))
    progress, stats = result.state.states[:2]
    assert int(progress.steps) == num_envs * 10 * 3
    assert int(stats.episodes) > 0
    assert int(result.iterations_run) == 3


def test_states_keep_their_dtypes_with_x64_enabled():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        reward = jnp.asarray(1.5, jnp.float64)
        assert reward.dtype == jnp.float64
        callbacks = all_builtins()
        result = run_training(lc.CallbackList(callbacks), num_envs=2, num_steps=10)
        for callback, state, step_state in zip(
            callbacks, result.state.states, result.step_state.states, strict=True
        ):
            fresh = callback.reset(lc.ResetContext({}), key=KEY)
            fresh_step = callback.step_reset(lc.ResetContext({}), key=KEY)
            assert leaf_dtypes(fresh) == leaf_dtypes(state)
            assert leaf_dtypes(fresh_step) == leaf_dtypes(step_state)
            assert {str(d) for d in leaf_dtypes((state, step_state))} <= {
                "float32",
                "int32",
            }
            # A float64 reward, as the toy environment gives with x64, is cast back.
            ctx = lc.StepContext(fresh_step, None, None, jnp.array(True), reward, {})
            stepped = callback.on_step(ctx, key=KEY)
            assert leaf_dtypes(stepped) == leaf_dtypes(fresh_step)
        # The loop really ran in float64: the toy policy's parameter is float64.
        assert result.policy.gain.dtype == jnp.float64
    finally:
        jax.config.update("jax_enable_x64", previous)


# ProgressBarCallback


@pytest.mark.parametrize("num_envs", [1, 3])
def test_progress_calls_the_writer_once_per_iteration_with_the_step_count(num_envs):
    writer = RecordingWithEnds()
    result = run_training(
        lc.ProgressBarCallback(writer=writer),
        num_envs=num_envs,
        num_steps=5,
        num_iterations=4,
    )
    total = num_envs * 5 * 4
    updates = [
        {"steps": num_envs * 5 * i, "total": total, "iteration": i} for i in range(1, 5)
    ]
    assert writer.calls == [
        {"start": total},
        *updates,
        {"close": total, "total": total},
    ]
    assert all(type(v) is int for call in writer.calls for v in call.values())
    assert int(result.state.steps) == total
    assert int(result.state.total_timesteps) == total


def test_progress_stops_reporting_when_training_stops():
    writer = Recording()
    stopper = lc.EarlyStoppingCallback("explained_variance", patience=1, min_delta=1e9)
    result = run_training(
        lc.CallbackList([lc.ProgressBarCallback(writer=writer), stopper]),
        num_envs=2,
        num_steps=4,
        num_iterations=6,
    )
    # The first mean reward improves on -inf; the second cannot beat it by 1e9.
    assert int(result.iterations_run) == 2
    assert result.continue_flags.tolist() == [True, False, False, False, False, False]
    assert writer.calls == [
        {"steps": 8, "total": 48, "iteration": 1},
        {"steps": 16, "total": 48, "iteration": 2},
    ]


def test_progress_refuses_more_steps_than_int32_counts():
    callback = lc.ProgressBarCallback(writer=quiet)
    state = callback.reset(lc.ResetContext({}), key=KEY)
    step_state = callback.step_reset(lc.ResetContext({}), key=KEY)
    ctx = training_context(state, step_state, total_timesteps=2**31)
    with pytest.raises(ValueError, match="int32"):
        callback.on_training_start(ctx, key=KEY)


def test_progress_rejects_a_writer_that_is_not_callable():
    with pytest.raises(TypeError, match="steps, total, iteration"):
        lc.ProgressBarCallback(writer="stderr")


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def clock(monkeypatch):
    """Replace the progress bar's clock with one that ticks two seconds a read."""
    ticks = iter(range(100, 1000, 2))
    monkeypatch.setattr(
        "lerax_callback._builtins._progress.time.perf_counter", lambda: next(ticks)
    )


def test_text_progress_bar_writes_one_line_per_update_off_a_terminal(clock):
    stream = io.StringIO()
    bar = lc.TextProgressBar(stream=stream, width=10)
    bar.start(total=4000)
    bar(steps=1000, total=4000, iteration=1)
    bar(steps=4000, total=4000, iteration=2)
    bar.close(steps=4000, total=4000)
    assert stream.getvalue().splitlines(keepends=True) == [
        "[##........] 1,000/4,000 steps  25.0% 500 steps/s (iteration 1)\n",
        "[##########] 4,000/4,000 steps 100.0% 1,000 steps/s (iteration 2)\n",
    ]


def test_text_progress_bar_redraws_in_place_on_a_terminal(clock):
    stream = FakeTerminal()
    bar = lc.TextProgressBar(stream=stream, width=4)
    bar.start(total=100)
    bar(steps=100, total=100, iteration=10)
    bar(steps=2, total=100, iteration=1)
    assert "\n" not in stream.getvalue()
    bar.close(steps=2, total=100)
    first = "[####] 100/100 steps 100.0% 50 steps/s (iteration 10)"
    second = "[....] 2/100 steps   2.0% 0 steps/s (iteration 1)"
    padding = " " * (len(first) - len(second))
    assert stream.getvalue() == f"\r{first}\r{second}{padding}\n"


def test_text_progress_bar_without_a_start_shows_the_rate_from_the_next_update(clock):
    stream = io.StringIO()
    bar = lc.TextProgressBar(stream=stream, width=2)
    bar(steps=10, total=30, iteration=1)
    bar(steps=30, total=30, iteration=2)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("? steps/s (iteration 1)")
    assert lines[1].endswith("10 steps/s (iteration 2)")


def test_the_default_progress_bar_writes_to_stderr_during_training(capsys):
    run_training(lc.ProgressBarCallback(), num_envs=2, num_steps=8, num_iterations=4)
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 4
    for i, line in enumerate(lines, start=1):
        assert f" {16 * i}/64 steps " in line
        assert f"{25.0 * i:5.1f}%" in line
        assert "steps/s" in line
        assert line.endswith(f"(iteration {i})")


def test_default_progress_bars_compare_equal_so_jit_can_reuse_a_compilation():
    assert lc.ProgressBarCallback() == lc.ProgressBarCallback()
    assert hash(lc.TextProgressBar()) == hash(lc.TextProgressBar())
    assert lc.TextProgressBar(stream=sys.stdout) != lc.TextProgressBar()
    assert lc.TextProgressBar(width=5) != lc.TextProgressBar(width=6)


@pytest.mark.parametrize("width", [0, 2.5, True])
def test_text_progress_bar_rejects_a_bad_width(width):
    with pytest.raises(ValueError, match="width"):
        lc.TextProgressBar(width=width)


# EpisodeStatsCallback

# Rewards and dones of three environments over six steps: the first finishes two
# episodes, the second none, the third three (one of them a single step long).
REWARDS = np.array(
    [
        [1.0, 0.5, -1.0],
        [2.0, 0.5, 2.0],
        [3.0, 0.5, 0.25],
        [4.0, 0.5, 0.25],
        [5.0, 0.5, 0.5],
        [6.0, 0.5, 4.0],
    ],
    np.float32,
)
DONES = np.array(
    [[0, 0, 1], [1, 0, 1], [0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1]], bool
)


def reference_episode_stats(rewards, dones, smoothing):
    """Per-environment statistics, computed step by step in plain Python."""
    envs = []
    for env in range(rewards.shape[1]):
        ret, length, episodes = 0.0, 0, 0
        average_return = average_length = 0.0
        for reward, done in zip(rewards[:, env], dones[:, env], strict=True):
            ret, length = ret + float(reward), length + 1
            if done:
                if episodes == 0:
                    average_return, average_length = ret, float(length)
                else:
                    average_return += smoothing * (ret - average_return)
                    average_length += smoothing * (length - average_length)
                episodes += 1
                ret, length = 0.0, 0
        envs.append((ret, length, average_return, average_length, episodes))
    return envs


def drive_steps(callback, rewards, dones, *, batched):
    """Feed `[steps, envs]` rewards and dones through `step_reset` and `on_step`
    under jit, vmapped over environments, or for the single one when not batched."""
    traces = 0

    @eqx.filter_jit
    def run(callback, rewards, dones):
        nonlocal traces
        traces += 1

        def one_env(rewards, dones):
            state = callback.step_reset(lc.ResetContext({}), key=KEY)

            def step(state, inputs):
                reward, done = inputs
                ctx = lc.StepContext(state, None, None, done, reward, {})
                return callback.on_step(ctx, key=KEY), None

            return lax.scan(step, state, (rewards, dones))[0]

        if batched:
            return jax.vmap(one_env, in_axes=1)(rewards, dones)
        return one_env(rewards[:, 0], dones[:, 0])

    step_state = run(callback, jnp.asarray(rewards), jnp.asarray(dones))
    assert traces == 1
    return step_state


def test_episode_step_state_matches_a_step_by_step_reference():
    callback = lc.EpisodeStatsCallback(writer=None, smoothing=0.5)
    step_state = drive_steps(callback, REWARDS, DONES, batched=True)
    expected = np.array(reference_episode_stats(REWARDS, DONES, 0.5)).T
    assert expected[4].tolist() == [2, 0, 3]
    actual = [
        step_state.episode_return,
        step_state.episode_length,
        step_state.average_return,
        step_state.average_length,
        step_state.episodes,
    ]
    for got, want in zip(actual, expected, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)


def test_an_unbatched_environment_gives_the_same_statistics():
    callback = lc.EpisodeStatsCallback(writer=None, smoothing=0.5)
    batched = drive_steps(callback, REWARDS[:, :1], DONES[:, :1], batched=True)
    single = drive_steps(callback, REWARDS[:, :1], DONES[:, :1], batched=False)
    assert single.episodes.shape == ()
    for got, want in zip(
        jax.tree_util.tree_leaves(single),
        jax.tree_util.tree_leaves(batched),
        strict=True,
    ):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(np.asarray(got), np.asarray(want)[0])


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_episode_stats_aggregate_over_environments_that_finished(jit):
    writer = Recording()
    callback = lc.EpisodeStatsCallback(writer=writer, smoothing=0.5)
    step_state = drive_steps(callback, REWARDS, DONES, batched=True)
    state = callback.reset(lc.ResetContext({}), key=KEY)
    on_iteration = (
        eqx.filter_jit(callback.on_iteration) if jit else callback.on_iteration
    )
    state = on_iteration(iteration_context(state, step_state, count=7), key=KEY)
    jax.effects_barrier()
    envs = reference_episode_stats(REWARDS, DONES, 0.5)
    finished = [env for env in envs if env[4] > 0]
    assert len(finished) == 2, "the second environment never finishes an episode"
    mean_return = sum(env[2] for env in finished) / len(finished)
    mean_length = sum(env[3] for env in finished) / len(finished)
    assert int(state.episodes) == 5
    assert float(state.mean_return) == pytest.approx(mean_return, rel=1e-6)
    assert float(state.mean_length) == pytest.approx(mean_length, rel=1e-6)
    assert writer.calls == [
        {
            "iteration": 7,
            "episodes": 5,
            "mean_return": pytest.approx(mean_return, rel=1e-6),
            "mean_length": pytest.approx(mean_length, rel=1e-6),
        }
    ]


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_episode_stats_before_any_episode_ends_are_zero_not_nan(batched, capsys):
    callback = lc.EpisodeStatsCallback()
    no_dones = np.zeros_like(DONES)
    step_state = drive_steps(callback, REWARDS, no_dones, batched=batched)
    state = callback.reset(lc.ResetContext({}), key=KEY)
    state = eqx.filter_jit(callback.on_iteration)(
        iteration_context(state, step_state, count=1), key=KEY
    )
    jax.effects_barrier()
    assert int(state.episodes) == 0
    assert float(state.mean_return) == 0.0
    assert float(state.mean_length) == 0.0
    out, _ = capsys.readouterr()
    assert out == "iteration 1: 0 episodes, no finished episode yet\n"


@pytest.mark.parametrize("num_envs", [1, 3])
def test_episode_stats_report_every_iteration_of_a_training_run(num_envs):
    writer = Recording()
    dones = DoneCounter()
    result = run_training(
        lc.CallbackList([lc.EpisodeStatsCallback(writer=writer), dones]),
        num_envs=num_envs,
        num_steps=12,
        num_iterations=3,
    )
    stats, _ = result.state.states
    _, counted = result.step_state.states
    assert [call["iteration"] for call in writer.calls] == [1, 2, 3]
    episodes = [call["episodes"] for call in writer.calls]
    assert episodes == sorted(episodes)
    assert episodes[-1] == int(stats.episodes) == int(jnp.sum(counted.dones)) > 0
    assert writer.calls[-1]["mean_return"] == float(stats.mean_return)
    assert writer.calls[-1]["mean_length"] == float(stats.mean_length)
    assert 1.0 <= float(stats.mean_length) <= 8.0, "toy episodes last 1 to 8 steps"


class DoneCounts(lc.AbstractCallbackStepState):
    dones: Int[Array, ""]


class DoneCounter(lc.AbstractStepCallback[DoneCounts]):
    """Counts each environment's finished episodes, independently of the built-ins."""

    def step_reset(self, ctx, *, key):
        return DoneCounts(jnp.zeros((), jnp.int32))

    def on_step(self, ctx, *, key):
        return DoneCounts(ctx.state.dones + ctx.done.astype(jnp.int32))


def test_the_default_episode_writer_prints_one_line(capsys):
    callback = lc.EpisodeStatsCallback(smoothing=0.5)
    step_state = drive_steps(callback, REWARDS, DONES, batched=True)
    state = callback.reset(lc.ResetContext({}), key=KEY)
    state = eqx.filter_jit(callback.on_iteration)(
        iteration_context(state, step_state, count=2), key=KEY
    )
    jax.effects_barrier()
    mean_return, mean_length = float(state.mean_return), float(state.mean_length)
    assert capsys.readouterr().out == (
        f"iteration 2: 5 episodes, mean return {mean_return:.4g}, "
        f"mean length {mean_length:.4g}\n"
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"smoothing": 0.0}, ValueError, r"smoothing.*\(0, 1\]"),
        ({"smoothing": 1.5}, ValueError, r"smoothing.*\(0, 1\]"),
        ({"writer": "stdout"}, TypeError, "callable or None"),
    ],
    ids=["zero-smoothing", "large-smoothing", "string-writer"],
)
def test_episode_stats_reject_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        lc.EpisodeStatsCallback(**kwargs)


# EarlyStoppingCallback


def reference_flags(values, *, mode, min_delta, patience):
    """`continue_training` after each value, computed in plain Python."""
    best, wait, flags = (-math.inf if mode == "max" else math.inf), 0, []
    for value in values:
        if mode == "max":
            improved = value > best + min_delta
        else:
            improved = value < best - min_delta
        best, wait = (value, 0) if improved else (best, wait + 1)
        flags.append(wait < patience)
    return flags


def feed_metric(callback, values, *, jit):
    """Call `on_iteration` and `continue_training` with a `score` in the log."""
    step_state = callback.step_reset(lc.ResetContext({}), key=KEY)

    def iteration(state, value):
        ctx = iteration_context(state, step_state, log={"score": value})
        state = callback.on_iteration(ctx, key=KEY)
        flag = callback.continue_training(
            dataclasses.replace(ctx, state=state), key=KEY
        )
        return state, flag

    state = callback.reset(lc.ResetContext({}), key=KEY)
    values = jnp.asarray(values, jnp.float32)
    if jit:
        return eqx.filter_jit(lambda s, v: lax.scan(iteration, s, v))(state, values)
    flags = []
    for value in values:
        state, flag = iteration(state, value)
        assert flag.shape == ()
        assert flag.dtype == jnp.bool_
        flags.append(flag)
    return state, jnp.stack(flags)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize(
    ("values", "mode", "min_delta", "patience", "expected", "best", "wait"),
    [
        ([1.0, 2.0, 2.05, 1.0, 3.0], "max", 0.1, 2, [1, 1, 1, 0, 1], 3.0, 0),
        ([5.0, 4.0, 4.0, 3.0], "min", 0.0, 1, [1, 1, 0, 1], 3.0, 0),
        ([1.0, 0.8, 0.6, 0.4, 0.2], "min", 0.5, 2, [1, 1, 0, 1, 1], 0.4, 1),
        ([1.0, math.nan, math.nan], "max", 0.0, 2, [1, 1, 0], 1.0, 2),
    ],
    ids=["max-with-delta", "min-ties", "min-with-delta", "nan-never-improves"],
)
def test_early_stopping_counts_iterations_without_improvement(
    values, mode, min_delta, patience, expected, best, wait, jit
):
    expected = [bool(flag) for flag in expected]
    callback = lc.EarlyStoppingCallback(
        "score", mode=mode, min_delta=min_delta, patience=patience
    )
    assert reference_flags(
        values, mode=mode, min_delta=min_delta, patience=patience
    ) == (expected)
    state, flags = feed_metric(callback, values, jit=jit)
    assert flags.tolist() == expected
    assert float(state.best) == pytest.approx(best)
    assert int(state.wait) == wait


def test_early_stopping_best_starts_infinite_and_the_first_value_improves():
    for mode, worst in (("max", -math.inf), ("min", math.inf)):
        callback = lc.EarlyStoppingCallback("score", mode=mode, min_delta=3.0)
        assert float(callback.reset(lc.ResetContext({}), key=KEY).best) == worst
        state, flags = feed_metric(callback, [-7.0], jit=False)
        assert float(state.best) == -7.0
        assert int(state.wait) == 0
        assert flags.tolist() == [True]


def test_early_stopping_ignores_iterations_before_an_episode_has_ended():
    callback = lc.EarlyStoppingCallback("episode_return", patience=1)
    step_state = drive_steps(callback, REWARDS, np.zeros_like(DONES), batched=True)
    state = callback.reset(lc.ResetContext({}), key=KEY)
    for count in range(1, 4):
        ctx = iteration_context(state, step_state, count=count)
        state = callback.on_iteration(ctx, key=KEY)
        flag = callback.continue_training(
            dataclasses.replace(ctx, state=state), key=KEY
        )
        assert bool(flag)
    assert int(state.wait) == 0
    assert float(state.best) == -math.inf
    assert float(state.value) == 0.0


class ValueSink:
    """A host-side list of numbers that `jax.debug.callback` appends to."""

    def __init__(self):
        self.values = []

    def __call__(self, value):
        self.values.append(float(value))


class LogRecorder(lc.AbstractIterationCallback[lc.EmptyCallbackState]):
    """Sends each iteration's training-log entry `name` to a host-side list."""

    name: str
    sink: ValueSink

    def reset(self, ctx, *, key):
        return lc.EmptyCallbackState()

    def on_iteration(self, ctx, *, key):
        jax.debug.callback(self.sink, ctx.training_log[self.name])
        return ctx.state


def run_until_stopped(callback, recorded_values, *, num_envs, num_iterations=12):
    result = run_training(
        callback, num_envs=num_envs, num_steps=16, num_iterations=num_iterations
    )
    jax.effects_barrier()
    run = int(result.iterations_run)
    assert len(recorded_values) == run
    return run, result.continue_flags.tolist()


def test_early_stopping_on_episode_returns_stops_the_loop():
    writer = Recording()
    stopper = lc.EarlyStoppingCallback("episode_return", patience=2)
    stats = lc.EpisodeStatsCallback(writer=writer)
    run, flags = run_until_stopped(
        lc.CallbackList([stats, stopper]), writer.calls, num_envs=3
    )
    returns = [call["mean_return"] for call in writer.calls]
    expected = reference_flags(returns, mode="max", min_delta=0.0, patience=2)
    assert run < 12
    assert flags == expected + [False] * (12 - run)
    assert expected[-1] is False


def test_early_stopping_on_a_logged_loss_stops_the_loop():
    losses = ValueSink()
    stopper = lc.EarlyStoppingCallback("loss", mode="min", patience=2)
    run, flags = run_until_stopped(
        lc.CallbackList([LogRecorder("loss", losses), stopper]),
        losses.values,
        num_envs=1,
    )
    expected = reference_flags(losses.values, mode="min", min_delta=0.0, patience=2)
    assert run < 12
    assert flags == expected + [False] * (12 - run)


def test_early_stopping_with_an_unbeatable_delta_stops_after_patience():
    # With mode "max" and a logged metric, `test_progress_stops_reporting_...`.
    stopper = lc.EarlyStoppingCallback(
        "episode_length", mode="min", patience=3, min_delta=1e9
    )
    result = run_training(stopper, num_envs=2, num_steps=16, num_iterations=8)
    assert int(result.iterations_run) == 4
    assert result.continue_flags.tolist() == [True] * 3 + [False] * 5
    assert int(result.state.wait) == 3


def test_a_missing_training_log_key_names_the_key_the_log_and_the_fix():
    with pytest.raises(
        KeyError,
        match=r"no 'reward'; its keys are \['approx_kl', 'entropy_loss', "
        r"'explained_variance', 'loss', 'mean_reward', 'policy_loss', "
        r"'value_loss'\]\. "
        r"Pass one of those as `metric`, or 'episode_return'",
    ):
        run_training(lc.EarlyStoppingCallback("reward"), num_envs=2)


def test_a_non_scalar_metric_is_a_clear_error():
    callback = lc.EarlyStoppingCallback("score")
    state = callback.reset(lc.ResetContext({}), key=KEY)
    step_state = callback.step_reset(lc.ResetContext({}), key=KEY)
    ctx = iteration_context(state, step_state, log={"score": jnp.zeros(3)})
    with pytest.raises(ValueError, match=r"'score' has shape \(3,\); log a scalar"):
        callback.on_iteration(ctx, key=KEY)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((), {}, TypeError, "metric"),
        (("",), {}, TypeError, "non-empty str"),
        (("loss",), {"patience": 0}, ValueError, "patience"),
        (("loss",), {"patience": 2.0}, ValueError, "patience"),
        (("loss",), {"min_delta": -1.0}, ValueError, "min_delta"),
        (("loss",), {"min_delta": math.inf}, ValueError, "min_delta"),
        (("loss",), {"mode": "maximum"}, ValueError, "'max' or 'min'"),
        (("loss",), {"smoothing": 0.0}, ValueError, "smoothing"),
    ],
    ids=[
        "no-metric",
        "empty-metric",
        "zero-patience",
        "float-patience",
        "negative-delta",
        "infinite-delta",
        "bad-mode",
        "zero-smoothing",
    ],
)
def test_early_stopping_rejects_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        lc.EarlyStoppingCallback(*args, **kwargs)
