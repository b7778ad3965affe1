"""`check_callback` on callbacks written against Lerax's own `lerax.callback`, and
the verdicts on Lerax's built-in callbacks for the installed release (0.0.5 from
the package index, or 0.0.6, Lerax's main branch; see `test_lerax_main.py` for
what only 0.0.6 has).

Needs Lerax (Python 3.13 or newer): skipped, never failed, where it is absent.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

lerax_callback_api = pytest.importorskip(
    "lerax.callback", reason="Lerax is not installed (pip install '.[lerax]', 3.13+)"
)

from importlib.metadata import version  # noqa: E402

import jax.numpy as jnp  # noqa: E402

from lerax_testing import check_callback  # noqa: E402

pytestmark = pytest.mark.lerax

LERAX = tuple(int(part) for part in version("lerax").split(".")[:3])
MAIN = LERAX >= (0, 0, 6)
only_0_0_5 = pytest.mark.skipif(MAIN, reason="Lerax 0.0.5's behaviour")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "lerax"))
from episode_returns import BestEpisodeReturn, ReturnStepState  # noqa: E402

FAST = {"seed": 0, "max_examples": 5}


class PythonIfOnDone(BestEpisodeReturn):
    def on_step(self, ctx: Any, *, key: Any) -> ReturnStepState:
        if ctx.done:
            return ReturnStepState(jnp.zeros((), jnp.float32), ctx.state.running)
        running = ctx.state.running + ctx.reward.astype(jnp.float32)
        return ReturnStepState(running, ctx.state.last)


class WrongResetClass(BestEpisodeReturn):
    def reset(self, ctx: Any, *, key: Any) -> Any:
        zero = jnp.zeros((), jnp.float32)
        return ReturnStepState(zero, zero)


class WritesTrainingLog(BestEpisodeReturn):
    def on_iteration(self, ctx: Any, *, key: Any) -> Any:
        log = ctx.training_log
        log["best"] = ctx.state.best
        return super().on_iteration(ctx, key=key)


class ReadsObservation(BestEpisodeReturn):
    def on_step(self, ctx: Any, *, key: Any) -> ReturnStepState:
        state = super().on_step(ctx, key=key)
        height = jnp.sum(ctx.locals["observation"]).astype(jnp.float32)
        return ReturnStepState(state.running + 0.0 * height, state.last)


def test_a_correct_lerax_callback_passes_every_check():
    report = check_callback(BestEpisodeReturn(), **FAST)
    assert report.ok, report.render()
    assert report.callback_type.endswith("BestEpisodeReturn")


def test_a_callback_reading_the_algorithms_locals_passes():
    report = check_callback(ReadsObservation(), **FAST)
    assert report.ok, report.render()


def test_a_python_if_is_caught_by_jit_at_its_line():
    report = check_callback(PythonIfOnDone(), checks=["jit"], **FAST)
    [failure] = report.failures
    assert failure.method == "on_step"
    assert "if ctx.done" in failure.message


def test_a_wrong_reset_state_class_is_caught_by_types():
    report = check_callback(WrongResetClass(), checks=["types"], **FAST)
    assert any(f.method == "reset" for f in report.failures), report.render()


def test_a_write_into_the_training_log_is_caught_by_purity():
    report = check_callback(WritesTrainingLog(), checks=["purity"], **FAST)
    assert any("training_log" in f.message for f in report.failures), report.render()


@only_0_0_5
def test_lerax_empty_callback_cannot_be_instantiated_in_0_0_5():
    from lerax.callback import EmptyCallback

    with pytest.raises(TypeError, match="abstract"):
        EmptyCallback()


def test_lerax_callback_list_of_correct_children_passes():
    from lerax.callback import CallbackList

    report = check_callback(
        CallbackList([BestEpisodeReturn(), BestEpisodeReturn()]), **FAST
    )
    assert report.ok, report.render()


def test_lerax_progress_bar_passes():
    from lerax.callback import ProgressBarCallback

    report = check_callback(ProgressBarCallback(), **FAST)
    assert report.ok, report.render()


@only_0_0_5
def test_lerax_tensorboard_callback_fails_purity_for_its_log_write(tmp_path):
    pytest.importorskip("tensorboardX")
    from lerax.callback import TensorBoardCallback

    callback = TensorBoardCallback(name="check", log_dir=str(tmp_path))
    report = check_callback(callback, checks=["purity"], **FAST)
    messages = " ".join(f.message for f in report.failures)
    assert "learning_rate" in messages, report.render()


def test_a_callback_that_passed_the_checks_trains_in_lerax_ppo():
    import jax
    import jax.random as jr
    from lerax.algorithm import PPO
    from lerax.env.classic_control import CartPole
    from lerax.policy import MLPActorCriticPolicy

    callback = BestEpisodeReturn()
    assert check_callback(callback, **FAST).ok
    env = CartPole()
    policy = MLPActorCriticPolicy(env=env, key=jr.key(0))
    algorithm = PPO(num_envs=2, num_steps=64, num_epochs=4, num_batches=4)
    trained = algorithm.learn(
        env, policy, total_timesteps=2 * 64 * 8, key=jr.key(1), callback=callback
    )
    jax.block_until_ready(trained)


@only_0_0_5
def test_the_command_reports_lerax_empty_callback_as_abstract(capsys):
    from lerax_testing._cli import main

    status = main(["lerax.callback.empty:EmptyCallback", "--checks", "api"])
    assert status == 2
    error = capsys.readouterr().err
    assert "`EmptyCallback` is an abstract callback class (continue_training" in error
    assert "check an instance of a concrete subclass" in error


def test_the_command_finds_lerax_callbacks_in_a_folder(capsys):
    from lerax_testing._cli import main

    folder = Path(__file__).resolve().parent.parent / "examples" / "lerax"
    status = main([str(folder), "--checks", "api,runs", "--max-examples", "2"])
    assert status == 0
    assert "BestEpisodeReturn" in capsys.readouterr().out
