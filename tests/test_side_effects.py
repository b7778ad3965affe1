"""`side_effects` on methods an algorithm calls once per training: what they do
while traced happens once per `learn()`, as when run, so it is no finding; a
traced value formatted as text still is, logged below its logger's level where
the checks run or handed to `jax.debug.print` as an argument."""

from __future__ import annotations

import logging

import jax
from jaxtyping import Array, Key
from zoo import Returns, ReturnTracker, Summary

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


# ---------------------------------------------- logs below the logger's level

QUIET = logging.getLogger("test_side_effects_quiet.returns")
"""A logger no one configured where the checks run: the root's `WARNING` holds
back its `info` and `debug` records, which a training script may let through."""


class LogsTheRewardQuietly(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        QUIET.info("reward %s", ctx.reward)  # a tracer, once, where INFO is on
        return super().on_step(ctx, key=key)


class NotesTheTraceQuietly(ReturnTracker):
    """A debug note with no traced value in it, and a debug-only branch asking
    the logger first: neither is reported while the level holds them back."""

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        QUIET.debug("on_step traced")
        if QUIET.isEnabledFor(logging.DEBUG):
            print("debugging on_step")
        return super().on_step(ctx, key=key)


def test_a_tracer_logged_below_the_loggers_level_fails_at_its_line():
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    QUIET.addHandler(handler)
    try:
        report = check_callback(LogsTheRewardQuietly(), **FAST)
    finally:
        QUIET.removeHandler(handler)
    [failure] = report.failures
    assert failure.method == "on_step"
    assert 'at `QUIET.info("reward %s", ctx.reward)' in failure.message
    assert records == []  # made to be read, never handed to a handler
    assert QUIET.getEffectiveLevel() == logging.WARNING
    assert QUIET.info.__qualname__ == "Logger.info"  # restored


def test_plain_text_below_the_loggers_level_passes():
    report = check_callback(NotesTheTraceQuietly(), **FAST)
    assert report.ok, report.render()


class PrintsTheRewardAsArgument(ReturnTracker):
    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> Returns:
        jax.debug.print("reward {r}", r=f"{ctx.reward}")
        return super().on_step(ctx, key=key)


def test_tracer_text_handed_to_debug_print_as_an_argument_fails():
    report = check_callback(PrintsTheRewardAsArgument(), **FAST)
    [failure] = report.failures
    assert "hands `jax.debug.print` text already formatted" in failure.message
    assert 'r=f"{ctx.reward}"' in failure.message
