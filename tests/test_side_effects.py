"""`side_effects` on methods an algorithm calls once per training: what they do
while traced happens once per `learn()`, as when run, so it is no finding; a
traced value formatted as text still is."""

from __future__ import annotations

from jaxtyping import Array, Key
from zoo import ReturnTracker, Summary

import lerax_callback as lc
from lerax_testing import check_callback

FAST = {"seed": 0, "max_examples": 3, "checks": ["side_effects"]}


class AnnouncesTheRun(ReturnTracker):
    """Prints the run's name once, when training starts (Lerax's own logging
    callback does the same)."""

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        print("Run: returns")
        return ctx.state


class PrintsATracerAtStart(ReturnTracker):
    """Formats a traced value into the text: it prints the tracer, never a value."""

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Summary:
        print(f"starting at iteration {ctx.iteration_count}")
        return ctx.state


def test_a_run_announced_once_at_training_start_passes():
    report = check_callback(AnnouncesTheRun(), **FAST)
    assert report.ok, report.render()


def test_a_tracer_printed_at_training_start_fails():
    report = check_callback(PrintsATracerAtStart(), **FAST)
    [failure] = report.failures
    assert failure.method == "on_training_start"
    assert "Tracer" in failure.message


def test_the_once_per_training_rule_keeps_loop_methods_checked():
    assert not check_callback(ReturnTrackerPrintingEachIteration(), **FAST).ok


class ReturnTrackerPrintingEachIteration(ReturnTracker):
    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Summary:
        print("iteration over")  # once, while tracing
        return super().on_iteration(ctx, key=key)
