"""Callbacks of another API family than `lerax_callback`'s, checked and run with
contexts of their own classes: a fake API shaped like a newer Lerax release
(`fake_lerax_api`, with an `algorithm` context field) stands for Lerax here, so
these tests run without Lerax installed."""

from __future__ import annotations

from typing import Any

import fake_lerax_api as fake
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import lerax_callback as lc
from lerax_callback._family import callback_api
from lerax_testing import check_callback, run_training

CHECKS = ["api", "runs", "types", "jit", "vmap", "structure", "scan"]


class Seen(fake.AbstractCallbackStepState):
    steps: Float[Array, ""]


class Best(fake.AbstractCallbackState):
    best: Float[Array, ""]


class FakeCounter(fake.AbstractCallback[Best, Seen]):
    """Correct, written against the fake API; asserts the contexts' classes."""

    def reset(self, ctx: Any, *, key: Any) -> Best:
        assert type(ctx) is fake.ResetContext, type(ctx)
        return Best(jnp.zeros((), jnp.float32))

    def step_reset(self, ctx: Any, *, key: Any) -> Seen:
        return Seen(jnp.zeros((), jnp.float32))

    def on_step(self, ctx: Any, *, key: Any) -> Seen:
        assert type(ctx) is fake.StepContext, type(ctx)
        return Seen(ctx.state.steps + 1.0)

    def on_iteration(self, ctx: Any, *, key: Any) -> Best:
        assert type(ctx) is fake.IterationContext, type(ctx)
        return Best(jnp.maximum(ctx.state.best, jnp.mean(ctx.step_state.steps)))

    def on_training_start(self, ctx: Any, *, key: Any) -> Best:
        return ctx.state

    def on_training_end(self, ctx: Any, *, key: Any) -> Best:
        return ctx.state

    def continue_training(self, ctx: Any, *, key: Any) -> Any:
        return jnp.array(True)


class ReadsAlgorithm(FakeCounter):
    """Uses the newer release's `ctx.algorithm`, which the harness cannot make."""

    def on_iteration(self, ctx: Any, *, key: Any) -> Best:
        scale = jnp.asarray(ctx.algorithm.learning_rate, jnp.float32)
        return Best(ctx.state.best + scale)


class Algorithm:
    learning_rate = 0.5


class OursChecksContexts(lc.AbstractStepCallback[lc.EmptyCallbackStepState]):
    """A `lerax_callback` callback that insists on its own context classes."""

    def step_reset(self, ctx: Any, *, key: Any) -> lc.EmptyCallbackStepState:
        assert type(ctx) is lc.ResetContext, type(ctx)
        return lc.EmptyCallbackStepState()

    def on_step(self, ctx: Any, *, key: Any) -> lc.EmptyCallbackStepState:
        assert type(ctx) is lc.StepContext, type(ctx)
        return ctx.state


def test_the_family_is_read_from_the_class_hierarchy():
    assert callback_api(FakeCounter).name == "fake_lerax_api"
    assert callback_api(FakeCounter).contexts["iteration"] is fake.IterationContext
    assert callback_api(lc.EmptyCallback()).ours
    assert callback_api(object()) is None
    assert lc.callback_state_types(FakeCounter) == (Best, Seen)


def test_a_callback_of_another_family_passes_with_contexts_of_its_own_classes():
    report = check_callback(FakeCounter(), checks=CHECKS, seed=1, max_examples=5)
    assert report.ok, report.render()


def test_each_callback_keeps_its_own_family_in_one_process():
    check_callback(FakeCounter(), checks=["runs"], seed=1, max_examples=3)
    report = check_callback(OursChecksContexts(), checks=CHECKS, seed=1, max_examples=3)
    assert report.ok, report.render()


def test_an_unknown_context_field_names_itself_and_the_option():
    report = check_callback(ReadsAlgorithm(), checks=["runs"], seed=1, max_examples=3)
    assert not report.ok
    message = report.failures[0].message
    assert "ctx.algorithm" in message
    assert "context_values" in message


def test_context_values_fill_an_unknown_field():
    report = check_callback(
        ReadsAlgorithm(),
        checks=CHECKS,
        seed=1,
        max_examples=3,
        context_values={"algorithm": Algorithm()},
    )
    assert report.ok, report.render()


def test_a_wrong_reset_state_class_fails_types():
    class WrongReset(FakeCounter):
        def reset(self, ctx: Any, *, key: Any) -> Any:
            return Seen(jnp.zeros((), jnp.float32))

    report = check_callback(WrongReset(), checks=["types"], seed=1, max_examples=3)
    assert [f.check for f in report.failures] == ["types"] * len(report.failures)
    assert any("reset" == f.method for f in report.failures), report.render()


def test_the_reference_loop_runs_another_family_and_takes_context_values():
    result = run_training(
        ReadsAlgorithm(),
        num_envs=2,
        num_steps=3,
        num_iterations=2,
        context_values={"algorithm": Algorithm()},
    )
    assert float(result.state.best) == pytest.approx(1.0)
    assert result.step_state.steps.shape == (2,)


def test_the_reference_loop_refuses_a_class_and_a_non_callback():
    with pytest.raises(TypeError, match="instantiate it first"):
        run_training(FakeCounter)
    with pytest.raises(TypeError, match="AbstractCallback"):
        run_training(object())


def test_the_public_context_strategies_make_the_callbacks_own_classes():
    from hypothesis import given, settings

    from lerax_testing import strategies as lst

    seen = Seen(jnp.zeros((), jnp.float32))
    best = Best(jnp.zeros((), jnp.float32))

    @settings(max_examples=3, database=None)
    @given(
        lst.step_contexts(seen, callback=FakeCounter),
        lst.iteration_contexts(
            best, seen, callback=FakeCounter, context_values={"algorithm": 1}
        ),
        lst.reset_contexts(),
    )
    def run(step: Any, iteration: Any, reset: Any) -> None:
        assert type(step) is fake.StepContext
        assert type(iteration) is fake.IterationContext
        assert iteration.algorithm == 1
        assert type(reset) is lc.ResetContext

    run()
    with pytest.raises(TypeError, match="context classes"):
        lst.reset_contexts(callback=object())


def test_the_reference_loop_takes_a_list_of_callbacks_as_lerax_learn_does():
    result = run_training(
        [lc.EpisodeStatsCallback(writer=lambda **_: None), OursChecksContexts()],
        num_envs=2,
        num_steps=3,
        num_iterations=2,
    )
    assert isinstance(result.state, lc.CallbackListState)
    with pytest.raises(TypeError, match="one API family"):
        run_training([OursChecksContexts(), FakeCounter()])


def test_the_command_takes_context_values(tmp_path, monkeypatch, capsys):
    from lerax_testing._cli import main

    (tmp_path / "algo.py").write_text(
        "class Algorithm:\n    learning_rate = 0.5\n\n\n"
        "def make():\n    return Algorithm()\n"
    )
    (tmp_path / "cb.py").write_text(
        "from test_harness_families import ReadsAlgorithm\n\ncb = ReadsAlgorithm()\n"
    )
    monkeypatch.chdir(tmp_path)
    fast = ["cb.py:cb", "--checks", "runs", "--max-examples", "2", "--no-isolate"]
    assert main([*fast, "--context-value", "algorithm=algo:make"]) == 0
    assert main(fast) == 1
    assert "ctx.algorithm" in capsys.readouterr().out
    assert main([*fast, "--context-value", "algorithm"]) == 2
    assert "FIELD=module:attribute" in capsys.readouterr().err


def test_a_state_class_of_the_other_family_is_named_with_its_module():
    class ReturnsOurEmptyState(fake.AbstractStepCallback[fake.EmptyCallbackStepState]):
        def step_reset(self, ctx: Any, *, key: Any) -> Any:
            return lc.EmptyCallbackStepState()

        def on_step(self, ctx: Any, *, key: Any) -> Any:
            return ctx.state

    report = check_callback(
        ReturnsOurEmptyState(), checks=["types"], seed=1, max_examples=2
    )
    failure = next(f for f in report.failures if f.method == "step_reset")
    assert failure.expected == "fake_lerax_api.EmptyCallbackStepState"
    assert failure.found == "lerax_callback._states.EmptyCallbackStepState"


class CountsWhileLearning(fake.Counter):
    """Reads a training-log metric by name: the mean reward, which the reference
    loop logs and Lerax's PPO does not."""

    metric: str = "mean_reward"

    def on_iteration(self, ctx, *, key):
        learning = ctx.training_log[self.metric] > -1e9
        return fake.Count(ctx.state.count + learning.astype(jnp.int32))


class OursCountsWhileLearning(lc.AbstractIterationCallback[fake.Count]):
    def reset(self, ctx, *, key):
        return fake.Count(jnp.zeros((), jnp.int32))

    def on_iteration(self, ctx, *, key):
        learning = ctx.training_log["mean_reward"] > -1e9
        return fake.Count(ctx.state.count + learning.astype(jnp.int32))


def test_a_lerax_callback_gets_the_metrics_lerax_ppo_logs():
    """A Lerax callback runs in Lerax's algorithms: reading `mean_reward` fails
    as it would in PPO, reading PPO's `approx_kl` passes; a callback of ours,
    which may run in the reference loop, gets `mean_reward` too."""
    missing = check_callback(CountsWhileLearning(), checks=["runs"], seed=0)
    [failure] = missing.failures
    assert "mean_reward" in failure.message
    kl = check_callback(
        CountsWhileLearning(metric="approx_kl"), checks=["runs"], seed=0
    )
    assert kl.ok, kl.render()
    ours = check_callback(OursCountsWhileLearning(), checks=["runs"], seed=0)
    assert ours.ok, ours.render()


class Summary(fake.AbstractCallbackState):
    best: Float[Array, ""]
    iterations: Float[Array, ""]


class EndsWithSummary(FakeCounter):
    """Returns a summary of another class from `on_training_end`."""

    def on_training_end(self, ctx: Any, *, key: Any) -> Any:
        return Summary(ctx.state.best, jnp.asarray(ctx.iteration_count, jnp.float32))


class Total(lc.AbstractCallbackState):
    total: Float[Array, ""]


class OursEndsWithSummary(lc.AbstractIterationCallback[Total]):
    def reset(self, ctx: Any, *, key: Any) -> Total:
        return Total(jnp.zeros((), jnp.float32))

    def on_iteration(self, ctx: Any, *, key: Any) -> Total:
        return Total(ctx.state.total + 1.0)

    def on_training_end(self, ctx: Any, *, key: Any) -> Any:
        return lc.EmptyCallbackState()


def test_the_final_state_class_counts_only_where_training_keeps_it():
    # Lerax's `learn()` drops what `on_training_end` returns; our reference loop
    # returns it to the caller, as `TrainingResult.state`.
    kept = check_callback(EndsWithSummary(), checks=["types", "structure"], seed=0)
    assert kept.ok, kept.render()
    ours = check_callback(OursEndsWithSummary(), checks=["types", "structure"], seed=0)
    assert {f.method for f in ours.failures} == {"on_training_end"}, ours.render()
