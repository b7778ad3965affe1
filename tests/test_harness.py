"""`check_callback` as a user relies on it: reports, never crashes, reproduces."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest
from zoo import (
    DtypeDrift,
    MissingLogKey,
    PrintsAtTraceTime,
    PythonIf,
    ReturnTracker,
    Summary,
    UnguardedMean,
)

import lerax_callback as lc
from lerax_testing import CHECKS, ConformanceError, check_callback

BUILTINS = [
    lc.EmptyCallback(),
    lc.CallbackList([lc.EmptyCallback(), ReturnTracker()]),
    lc.ProgressBarCallback(writer=lambda **numbers: None),
    lc.EpisodeStatsCallback(writer=None),
    lc.EarlyStoppingCallback(metric="loss", patience=3, mode="min"),
    lc.EarlyStoppingCallback(metric="episode_return", patience=3),
]


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    "callback",
    BUILTINS,
    ids=[type(c).__name__ + str(i) for i, c in enumerate(BUILTINS)],
)
def test_every_builtin_callback_passes_every_check(callback):
    report = check_callback(callback, seed=0, max_examples=5)
    assert [r.check for r in report.results] == list(CHECKS)
    assert report.ok, report.render()


@pytest.mark.parametrize(
    "thing",
    [object(), 42, lambda ctx, *, key: None],
    ids=["object", "int", "function"],
)
def test_anything_that_is_not_a_callback_is_reported_not_raised(thing):
    report = check_callback(thing, seed=0)
    assert report.result("api").status == "failed"
    assert {r.status for r in report.results[1:]} == {"skipped"}
    assert not report.ok


def test_a_callback_that_cannot_be_printed_is_still_checked():
    class Unprintable(ReturnTracker):
        def __repr__(self):
            raise RuntimeError("no repr")

    report = check_callback(Unprintable(), checks=["api", "structure"], seed=0)
    assert report.ok
    assert "Unprintable" in report.callback


def test_one_failing_check_does_not_hide_the_others():
    report = check_callback(
        PythonIf(), checks=["runs", "jit", "finite"], seed=0, max_examples=5
    )
    statuses = {r.check: r.status for r in report.results}
    assert statuses == {"runs": "passed", "jit": "failed", "finite": "passed"}


def test_raise_for_failures_raises_an_assertion_error_listing_every_cause():
    report = check_callback(DtypeDrift(), checks=["structure", "scan"], seed=0)
    with pytest.raises(ConformanceError) as caught:
        report.raise_for_failures()
    assert isinstance(caught.value, AssertionError)
    text = str(caught.value)
    assert "step_state.steps: int32[] -> float32[]" in text
    assert "also breaks: scan" in text  # the drift explains the loop's failure
    assert caught.value.report is report
    assert type(caught.value).__module__ == "lerax_testing"


def test_a_passing_report_raises_nothing():
    check_callback(
        ReturnTracker(), checks=["api", "structure"], seed=0
    ).raise_for_failures()


def test_the_report_is_plain_json_serialisable_data():
    report = check_callback(
        UnguardedMean(), checks=["api", "finite"], seed=3, max_examples=5
    )
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False
    assert data["seed"] == 3
    finite = data["results"][1]
    assert finite["check"] == "finite"
    assert finite["status"] == "failed"
    failure = finite["failures"][0]
    assert failure["method"] == "on_iteration"
    assert failure["leaf"] == "state.mean"
    assert failure["location"]["file"].endswith("zoo.py")


def test_text_groups_failures_by_method():
    report = check_callback(DtypeDrift(), checks=["structure", "x64"], seed=0)
    text = report.render()
    assert text.splitlines()[0].startswith("DtypeDrift()")
    assert "\non_step:\n" in text


def test_the_same_seed_reproduces_the_same_shrunk_example():
    first = check_callback(UnguardedMean(), checks=["finite"], seed=11, max_examples=8)
    again = check_callback(UnguardedMean(), checks=["finite"], seed=11, max_examples=8)
    assert first.failures[0].example == again.failures[0].example
    assert "seed=11" in first.failures[0].reproducer


def test_shrinking_reports_a_single_step_example():
    report = check_callback(UnguardedMean(), checks=["finite"], seed=5, max_examples=10)
    assert "1 step(s)" in report.failures[0].example


def test_a_failure_found_beside_other_examples_shrinks_to_its_own_simplest():
    """Examples are drawn several to a hypothesis example; the one that fails is
    reported, shrunk (one step, the other rewards zero), not its neighbours."""

    class SqrtOfReward(lc.AbstractCallback):
        def reset(self, ctx, *, key):
            return lc.EmptyCallbackState()

        def step_reset(self, ctx, *, key):
            return ReturnStepState(jnp.zeros(()))

        def on_step(self, ctx, *, key):
            return ReturnStepState(jnp.sqrt(ctx.reward + 10.0))

        def on_iteration(self, ctx, *, key):
            return ctx.state

        def on_training_start(self, ctx, *, key):
            return ctx.state

        def on_training_end(self, ctx, *, key):
            return ctx.state

    report = check_callback(SqrtOfReward(), checks=["finite"], seed=3)
    (failure,) = report.failures
    assert "1 step(s)" in failure.example
    line = next(x for x in failure.example.splitlines() if "step 0:" in x)
    rewards = [float(r) for r in line.split("[")[1].split("]")[0].split(",")]
    assert sorted(rewards)[1:] == [0.0, 0.0]
    assert min(rewards) < -10.0


class ReturnStepState(lc.AbstractCallbackStepState):
    value: jax.Array


def test_checks_leave_x64_mode_and_leak_checking_as_they_found_them():
    before = (jax.config.jax_enable_x64, jax.config.jax_check_tracer_leaks)
    check_callback(ReturnTracker(), checks=["x64", "purity"], seed=0, max_examples=2)
    check_callback(DtypeDrift(), checks=["x64"], seed=0)
    assert (jax.config.jax_enable_x64, jax.config.jax_check_tracer_leaks) == before
    assert jnp.zeros(()).dtype == jnp.float32


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"checks": ["jitt"]}, ValueError, "unknown check"),
        ({"checks": "jit"}, TypeError, r"checks=\['jit'\]"),
        ({"max_examples": 0}, ValueError, "max_examples"),
        ({"num_envs": 1.5}, ValueError, "num_envs"),
        ({"max_steps": 1000}, ValueError, "max_steps"),
        ({"seed": "x"}, TypeError, "seed"),
        ({"skip": {"jit": ""}}, ValueError, "reason"),
        ({"skip": ["jit"]}, ValueError, "reason"),
        ({"skip": {"nope": "why"}}, ValueError, "unknown check"),
        ({"reward_range": (1.0, -1.0)}, ValueError, "reward_range"),
    ],
    ids=lambda v: str(v) if not isinstance(v, dict) else "-".join(v),
)
def test_invalid_arguments_are_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        check_callback(ReturnTracker(), **kwargs)


def test_a_class_instead_of_an_instance_says_how_to_fix_it():
    with pytest.raises(TypeError, match=r"ReturnTracker\(\)"):
        check_callback(ReturnTracker)


def test_a_check_can_be_skipped_with_a_reason_by_argument():
    report = check_callback(PythonIf(), checks=["jit"], skip={"jit": "eager only"})
    assert report.result("jit").status == "skipped"
    assert report.skipped == {"jit": "eager only"}
    assert "skipped: eager only" in report.render()
    assert report.ok


def test_a_check_can_be_skipped_by_the_callback_class():
    class KnownDrift(DtypeDrift):
        __conformance_skip__ = {"structure": "steps become floats on purpose"}

    report = check_callback(KnownDrift(), checks=["structure"], seed=0)
    assert report.skipped == {"structure": "steps become floats on purpose"}


def test_a_check_can_be_skipped_project_wide(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.lerax_testing]
            max_examples = 3
            seed = 77
            skip = { finite = "our environments never end episodes" }
            """
        )
    )
    report = check_callback(UnguardedMean(), checks=["finite", "api"])
    assert report.skipped == {"finite": "our environments never end episodes"}
    assert report.seed == 77
    assert report.settings["max_examples"] == 3


def test_a_broken_project_config_is_a_clear_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.lerax_testing]\nexamples = 3\n")
    with pytest.raises(ValueError, match="unknown keys"):
        check_callback(ReturnTracker(), checks=["api"])


def test_progress_is_reported_per_check():
    seen = []
    check_callback(
        ReturnTracker(),
        checks=["api", "structure"],
        seed=0,
        progress=lambda cb, check: seen.append((cb, check)),
    )
    assert seen == [("ReturnTracker()", "api"), ("ReturnTracker()", "structure")]


class RejectsNonfiniteRewards(ReturnTracker):
    """Fails at run time when a non-finite reward reaches `on_step`."""

    def on_step(self, ctx: lc.StepContext, *, key: Any) -> Any:
        returns = super().on_step(ctx, key=key)
        finite = jnp.all(jnp.isfinite(ctx.reward))
        return eqx.error_if(returns, ~finite, "a non-finite reward reached on_step")


def test_nonfinite_rewards_only_when_asked():
    rejecting = RejectsNonfiniteRewards()
    plain = check_callback(rejecting, checks=["jit"], seed=1, max_examples=30)
    assert plain.ok, plain.render()
    asked = check_callback(
        rejecting, checks=["jit"], seed=1, max_examples=30, allow_nonfinite_rewards=True
    )
    [failure] = asked.failures
    assert failure.method == "on_step"
    assert "a non-finite reward reached on_step" in (failure.details or ""), failure
    assert any(word in (failure.example or "") for word in ("inf", "nan")), failure
    tracker = ReturnTracker()
    assert check_callback(tracker, checks=["finite"], seed=1, max_examples=30).ok
    robust = check_callback(
        tracker,
        checks=["finite"],
        seed=1,
        max_examples=30,
        allow_nonfinite_rewards=True,
    )
    assert robust.ok, "NaN in, NaN out is not the callback's fault"


def test_trace_time_effects_are_seen_after_other_checks_compiled_the_method():
    # The jit check compiles `on_iteration` first; side_effects must trace again.
    report = check_callback(
        PrintsAtTraceTime(), checks=["jit", "side_effects"], seed=0, max_examples=3
    )
    assert report.result("jit").status == "passed"
    assert report.result("side_effects").status == "failed", report.render()


class WindowMean(lc.AbstractIterationCallback[Summary]):
    """Every 1000 iterations, starts a new window of means; divides by the
    window's length, which is 0 exactly when a new window starts."""

    def reset(self, ctx: lc.ResetContext, *, key: Any) -> Any:
        return Summary(jnp.zeros((), jnp.float32))

    def on_iteration(self, ctx: lc.IterationContext, *, key: Any) -> Any:
        count = ctx.iteration_count
        since = count % 1000
        new_window = (count > 0) & (since == 0)
        total = jnp.where(new_window, 0.0, ctx.state.mean * since)
        return Summary((total / jnp.where(count > 0, since, 1)).astype(jnp.float32))


def test_rare_iteration_counts_are_generated_by_default():
    report = check_callback(WindowMean(), checks=["finite"], seed=0)
    [failure] = report.failures
    assert "iteration_count=" in failure.example
    count = int(failure.example.split("iteration_count=")[1].split()[0])
    assert count > 0
    assert count % 1000 == 0


class ExitsInOnStep(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Any) -> Any:
        import sys

        sys.exit(0)


class DisablesJitInOnStep(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Any) -> Any:
        jax.config.update("jax_disable_jit", True)
        return super().on_step(ctx, key=key)


def test_sys_exit_in_a_callback_is_a_failure_not_the_end_of_the_run():
    report = check_callback(ExitsInOnStep(), checks=["runs", "jit"], seed=0)
    assert not report.ok
    assert all("sys.exit(0)" in f.message for f in report.failures), report.render()
    assert report.failures[0].location is not None


def test_global_jax_config_a_callback_changes_is_restored_for_its_neighbours():
    hostile = check_callback(DisablesJitInOnStep(), seed=0, max_examples=3)
    assert hostile.result("side_effects").status == "failed"
    assert jax.config.jax_disable_jit is False
    neighbour = check_callback(ReturnTracker(), seed=0, max_examples=3)
    assert neighbour.ok, neighbour.render()


def test_every_failure_carries_advice_in_the_data():
    """Advice is part of the report's data (JSON, JUnit), not only of its text."""
    for callback in (PythonIf(), DtypeDrift(), MissingLogKey()):
        report = check_callback(callback, seed=0, max_examples=5)
        assert report.failures, type(callback).__name__
        for result in report.to_dict()["results"]:
            for failure in result["failures"]:
                assert failure["advice"], (result["check"], failure["message"])


def test_a_dtype_drift_points_at_the_line_that_made_it():
    import linecache

    report = check_callback(DtypeDrift(), checks=["structure"], seed=0)
    [failure] = [f for f in report.failures if f.leaf == "step_state.steps"][:1]
    assert failure.location is not None
    assert "ctx.state.steps + 1.0" in linecache.getline(*failure.location)


class Truncations(lc.AbstractCallbackStepState):
    count: jax.Array


class KL(lc.AbstractCallbackState):
    kl: jax.Array


class CountsTruncations(lc.AbstractStepCallback[Truncations]):
    """Reads a variable of PPO's `on_step`, as Lerax users do."""

    def step_reset(self, ctx: lc.ResetContext, *, key: jax.Array) -> Truncations:
        return Truncations(jnp.zeros((), jnp.int32))

    def on_step(self, ctx: lc.StepContext, *, key: jax.Array) -> Truncations:
        truncated = jnp.asarray(ctx.locals["truncation"], jnp.int32)
        return Truncations(ctx.state.count + truncated)


class TracksKL(lc.AbstractIterationCallback[KL]):
    """Reads a metric of PPO's training log."""

    def reset(self, ctx: lc.ResetContext, *, key: jax.Array) -> KL:
        return KL(jnp.zeros((), jnp.float32))

    def on_iteration(self, ctx: lc.IterationContext, *, key: jax.Array) -> KL:
        return KL(ctx.training_log["approx_kl"].astype(jnp.float32))


class ReadsAnotherAlgorithmsLocal(CountsTruncations):
    def on_step(self, ctx: lc.StepContext, *, key: jax.Array) -> Truncations:
        seen = jnp.sum(ctx.locals["next_observation"])  # not among PPO's variables
        return Truncations(ctx.state.count + (seen > 0))


@pytest.mark.parametrize("num_envs", [1, 3])
def test_callbacks_reading_ppo_metrics_and_step_variables_pass(num_envs: int):
    callback = lc.CallbackList([CountsTruncations(), TracksKL()])
    report = check_callback(callback, seed=0, num_envs=num_envs, max_examples=5)
    assert report.ok, report.render()


def test_a_missing_local_names_the_key_and_how_to_give_it():
    report = check_callback(ReadsAnotherAlgorithmsLocal(), seed=0, checks=["runs"])
    [failure] = report.failures
    assert "next_observation" in failure.message
    assert "context_values=" in (failure.advice or ""), failure.advice


def test_a_defect_inside_a_callback_list_is_located_in_the_child():
    """The line is the child's, not the list's dispatch to it."""
    from zoo import PythonIf, ReturnTracker

    report = check_callback(
        lc.CallbackList([ReturnTracker(), PythonIf()]), checks=["jit"], seed=0
    )
    [failure] = report.failures
    assert failure.location is not None
    file, line = failure.location
    assert file.endswith("zoo.py"), failure.location
    assert "if ctx.done" in Path(file).read_text().splitlines()[line - 1]


def test_a_training_log_strategy_is_used_by_the_checks_that_trace_once():
    """The fixed example of `structure`, `retrace` and `purity` carries a log
    like the generated ones, so a callback is not traced again for the keys."""
    from hypothesis import strategies as st
    from zoo import ReturnTracker

    class ReadsKl(ReturnTracker):
        """Reads `kl`, which only the custom logs below have."""

        def on_iteration(self, ctx: lc.IterationContext, *, key: Any) -> Summary:
            return Summary(ctx.training_log["kl"].astype(jnp.float32))

    checks = ["structure", "retrace", "purity"]
    logs = st.fixed_dictionaries({"kl": st.floats(0, 1, width=32)})
    report = check_callback(ReadsKl(), seed=0, training_logs=logs, checks=checks)
    assert report.ok, report.render()
    without = check_callback(ReadsKl(), seed=0, checks=checks)
    assert not without.ok  # the default logs have no `kl`
