"""What only Lerax's main branch (0.0.6) has: eight algorithms, `ctx.algorithm`,
`apply_curriculum` and `lerax.curriculum`, checked against the real algorithms.

Verdicts here are what the real `learn()` does with each callback: the `lerax`
check traces it, and every other check builds its contexts from what the first
chosen algorithm passes. Needs Lerax 0.0.6 (Python 3.13): skipped elsewhere.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any

import pytest

pytest.importorskip("lerax.curriculum", reason="needs Lerax 0.0.6 (main branch)")

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from lerax.callback import (  # noqa: E402
    AbstractCallbackState,
    AbstractIterationCallback,
)

from lerax_testing import check_callback  # noqa: E402

pytestmark = pytest.mark.lerax

FAST = {"seed": 0, "max_examples": 4}


class Value(AbstractCallbackState):
    value: Any


class IterationReader(AbstractIterationCallback[Value]):
    """Keeps one float read from the iteration context by `read`."""

    read: Any = eqx.field(static=True)

    def reset(self, ctx: Any, *, key: Any) -> Value:
        return Value(jnp.zeros((), jnp.float32))

    def on_iteration(self, ctx: Any, *, key: Any) -> Value:
        return Value(jnp.asarray(self.read(ctx), jnp.float32))

    def on_training_start(self, ctx: Any, *, key: Any) -> Value:
        return ctx.state

    def on_training_end(self, ctx: Any, *, key: Any) -> Value:
        return ctx.state

    def continue_training(self, ctx: Any, *, key: Any) -> Any:
        return jnp.array(True)


def _failed(report: Any) -> set[str]:
    return {r.check for r in report.results if r.status == "failed"}


def test_a_ppo_only_metric_fails_in_the_other_algorithms_as_one_entry():
    callback = IterationReader(lambda ctx: ctx.training_log["approx_kl"])
    report = check_callback(callback, **FAST)
    assert _failed(report) == {"lerax"}, report.render()
    [failure] = report.failures
    assert "KeyError" in failure.message
    assert "A2C" in failure.message
    assert "TD3" in failure.message
    assert "PPO traces it fine" in failure.message
    assert "algorithms=('ppo',)" in (failure.advice or "")
    assert check_callback(callback, algorithms=["ppo"], **FAST).ok


def test_an_off_policy_metric_passes_where_it_is_logged():
    callback = IterationReader(lambda ctx: ctx.training_log["q_loss"])
    report = check_callback(callback, algorithms=["sac", "ddpg", "td3"], **FAST)
    assert report.ok, report.render()
    assert not check_callback(callback, algorithms=["ppo"], **FAST).ok


def test_the_learning_rate_of_a_chained_optimiser_is_read_as_in_training():
    def learning_rate(ctx: Any) -> Any:
        return ctx.opt_state[1].hyperparams["learning_rate"]

    callback = IterationReader(learning_rate)
    on_policy = ["ppo", "a2c", "reinforce", "dqn"]
    assert check_callback(callback, algorithms=on_policy, **FAST).ok
    report = check_callback(callback, algorithms=["sac"], **FAST)
    assert "lerax" in _failed(report), report.render()


def test_the_algorithm_object_and_its_methods_are_there():
    def per_iteration(ctx: Any) -> Any:
        return ctx.algorithm.num_envs * ctx.algorithm.num_steps

    report = check_callback(IterationReader(per_iteration), **FAST)
    assert report.ok, report.render()


def test_locals_of_one_family_are_flagged_in_the_other():
    def rollout(ctx: Any) -> Any:
        return ctx.locals["rollout_buffer"].rewards.mean()

    callback = IterationReader(rollout)
    assert check_callback(callback, algorithms=["ppo", "a2c"], **FAST).ok
    report = check_callback(callback, **FAST)
    assert "lerax" in _failed(report), report.render()
    assert "DQN" in report.failures[-1].message


def test_a_curriculum_returning_another_class_is_caught_with_its_method():
    class Wrong(IterationReader):
        def apply_curriculum(self, state: Any, callback_state: Any) -> Any:
            return state, Value(jnp.zeros((2,), jnp.float32))

    report = check_callback(Wrong(lambda ctx: 0.0), algorithms=["ppo"], **FAST)
    [failure] = [f for f in report.failures if f.check == "lerax"]
    assert failure.method == "apply_curriculum", report.render()


def test_lerax_built_in_callbacks_get_their_true_verdicts(tmp_path):
    from lerax.callback import (
        CallbackList,
        ConsoleBackend,
        EmptyCallback,
        LoggingCallback,
        ProgressBarCallback,
    )

    for callback in (
        EmptyCallback(),
        CallbackList([EmptyCallback(), ProgressBarCallback()]),
        ProgressBarCallback(),
        LoggingCallback(ConsoleBackend()),
    ):
        report = check_callback(callback, **FAST)
        assert report.ok, report.render()


def test_lerax_logging_to_tensorboard_writes_nowhere_real(tmp_path):
    pytest.importorskip("tensorboardX")
    from lerax.callback import LoggingCallback, TensorBoardBackend

    runs = tmp_path / "runs"
    callback = LoggingCallback(TensorBoardBackend(log_dir=runs), name="mine")

    def files() -> dict[str, int]:
        return {str(p): p.stat().st_size for p in runs.rglob("*") if p.is_file()}

    before = files()  # what making the callback wrote: the user's doing
    report = check_callback(callback, **FAST)
    assert report.ok, report.render()
    assert files() == before


def test_the_scheduled_curriculum_passes_and_the_level_curriculum_example_fails():
    from lerax.curriculum import LevelCurriculum, ScheduledCurriculum, linear_schedule

    scheduled = ScheduledCurriculum(
        where=lambda env: env.gravity,
        schedule_fn=linear_schedule(start=9.8, end=12.0, total=100),
    )
    assert check_callback(scheduled, algorithms=["ppo", "dqn"], **FAST).ok
    level = LevelCurriculum(
        where=lambda env: env.gravity,
        levels=jnp.array([9.8, 11.0, 12.0]),
        metric_fn=lambda done, reward, locals: reward,
        threshold=100.0,
    )
    report = check_callback(level, algorithms=["ppo"], **FAST)
    assert "lerax" in _failed(report), report.render()
    assert "running_metric" in report.render()


def test_the_shipped_profiles_match_what_the_installed_lerax_passes():
    from lerax_testing._lerax._profiles import current_profiles, shipped_profiles

    shipped = shipped_profiles(version("lerax"))
    assert shipped is not None, "run `python -m lerax_testing._lerax.profiles`"
    fresh = json.loads(json.dumps(current_profiles()))
    assert fresh == shipped


def test_the_off_policy_algorithms_step_before_reset_and_none_asks_to_continue():
    from lerax_testing._lerax._profiles import shipped_profiles

    profiles = shipped_profiles(version("lerax"))["algorithms"]
    assert set(profiles) == {
        "ppo",
        "a2c",
        "reinforce",
        "dqn",
        "sac",
        "sac_discrete",
        "ddpg",
        "td3",
    }
    for name in ("dqn", "sac", "sac_discrete", "ddpg", "td3"):
        assert profiles[name]["warm_up_steps_first"], name
    assert not any(p["calls_continue_training"] for p in profiles.values())
    assert profiles["a2c"]["training_log"]
    assert "approx_kl" not in profiles["a2c"]["training_log"]


def test_a_pendulum_environment_goes_to_the_algorithms_that_accept_it():
    from lerax.env.classic_control import Pendulum

    class Mass(IterationReader):
        def apply_curriculum(self, state: Any, callback_state: Any) -> Any:
            env = eqx.tree_at(lambda e: e.m, state.env, state.env.m * 1.0)
            return eqx.tree_at(lambda s: s.env, state, env), callback_state

    report = check_callback(Mass(lambda ctx: 0.0), env=Pendulum(), **FAST)
    failed = [f for f in report.failures if f.check == "lerax"]
    # DQN and SACDiscrete act in discrete spaces: they keep CartPole, with no `m`.
    assert failed, report.render()
    assert failed[0].message.startswith("In Lerax's DQN and SACDiscrete,")
    assert "PPO, A2C, REINFORCE, SAC, DDPG and TD3 trace it fine" in failed[0].message


def test_a_callback_that_changes_locals_leaves_the_next_callback_alone():
    """The recorded `locals` are the algorithm's, kept for every callback checked
    in a process: a change one callback makes in place must not reach another
    callback's contexts."""

    class Writes(IterationReader):
        def on_iteration(self, ctx: Any, *, key: Any) -> Value:
            ctx.locals["mine"] = ctx.iteration_count
            return super().on_iteration(ctx, key=key)

    check_callback(Writes(lambda ctx: 0.0), algorithms=["ppo"], **FAST)

    def untouched(ctx: Any) -> Any:
        return 0.0 if "mine" not in ctx.locals else jnp.nan

    reader = check_callback(IterationReader(untouched), algorithms=["ppo"], **FAST)
    assert reader.ok, reader.render()


class StopWhenPositive(IterationReader):
    """Means to stop training once the value read is positive."""

    def continue_training(self, ctx: Any, *, key: Any) -> Any:
        return ctx.state.value <= 0


def test_a_callback_that_means_to_stop_training_is_told_no_algorithm_asks():
    stops = check_callback(
        StopWhenPositive(lambda ctx: ctx.iteration_count),
        algorithms=("ppo", "dqn"),
        checks=["types", "lerax"],
        **FAST,
    )
    assert stops.ok, stops.render()
    (note,) = stops.notes
    assert "never call it" in note
    assert "PPO and DQN" in note
    assert "note: `continue_training`" in stops.render()
    assert stops.to_dict()["notes"] == [note]
    always = check_callback(
        IterationReader(lambda ctx: ctx.iteration_count),
        algorithms=("ppo",),
        checks=["types"],
        **FAST,
    )
    assert always.notes == ()


class SuccessRate(IterationReader):
    """Raises gravity with the rate of iterations whose value was positive."""

    safe: bool = True

    def apply_curriculum(self, state: Any, callback_state: Any) -> Any:
        wins = jnp.maximum(callback_state.value, 0.0)
        tries = jnp.abs(callback_state.value)
        rate = wins / jnp.maximum(tries, 1.0) if self.safe else wins / tries
        gravity = (9.8 * (1.0 + rate)).astype(state.env.gravity.dtype)
        return eqx.tree_at(lambda s: s.env.gravity, state, gravity), callback_state


def test_a_curriculum_that_makes_nan_is_caught_by_finite_and_its_twin_passes():
    read = lambda ctx: jnp.where(ctx.iteration_count > 0, 1.0, 0.0)  # noqa: E731
    report = check_callback(
        SuccessRate(read, safe=False), algorithms=["ppo"], checks=["finite"], **FAST
    )
    [failure] = report.failures
    assert failure.method == "apply_curriculum", report.render()
    assert failure.leaf == "algorithm_state.env.gravity"
    twin = check_callback(
        SuccessRate(read), algorithms=["ppo"], checks=["finite", "structure"], **FAST
    )
    assert twin.ok, twin.render()


def test_a_curriculum_that_stores_a_python_number_is_caught_without_learn():
    class PythonGravity(IterationReader):
        def apply_curriculum(self, state: Any, callback_state: Any) -> Any:
            return eqx.tree_at(lambda s: s.env.gravity, state, 9.8), callback_state

    report = check_callback(
        PythonGravity(lambda ctx: 0.0), algorithms=["ppo"], checks=["structure"], **FAST
    )
    [failure] = report.failures
    assert failure.method == "apply_curriculum", report.render()
    assert failure.leaf == "algorithm_state.env.gravity"


def _standin_cases() -> list[Any]:
    from standins.readers import CASES

    return [
        pytest.param(callback, fine, id=f"{type(callback).__name__}-{len(fine)}")
        for callback, fine in CASES
    ]


@pytest.mark.parametrize(("callback", "fine"), _standin_cases())
def test_the_stand_ins_labels_are_what_the_real_algorithms_do(callback, fine):
    """`standins/readers.py` labels each `lerax_callback` callback with the
    algorithms that trace it fine; the real `learn()` agrees (and
    `test_standins.py` holds the stand-ins to the same labels)."""
    from standins.readers import EVERY

    from lerax_testing._lerax._algorithms import titles

    report = check_callback(callback, algorithms=EVERY, checks=["lerax"], seed=0)
    broken = [name for name in EVERY if name not in fine]
    if not broken:
        assert report.ok, report.render()
        return
    (failure,) = report.failures
    assert failure.message.startswith(f"In Lerax's {titles(broken)},"), failure.message


@pytest.mark.parametrize(("callback", "fine"), _standin_cases())
def test_the_stand_ins_contexts_give_the_real_algorithms_verdicts(
    callback, fine, monkeypatch
):
    """Every other check, with the contexts recorded from the real algorithms and
    with the stand-ins made from the shipped profiles, fails the same checks."""
    from standins.readers import EVERY

    from lerax_testing import CHECKS
    from lerax_testing._lerax import _choice

    options = {"algorithms": EVERY, "seed": 0, "max_examples": 4}
    checks = [c for c in CHECKS if c != "lerax"]
    real = check_callback(callback, checks=checks, **options)
    monkeypatch.setattr(_choice, "lerax_installed", lambda: False)
    standin = check_callback(callback, checks=checks, **options)
    assert _failed(standin) == _failed(real), standin.render()
    assert any("stood in for" in note for note in standin.notes)
