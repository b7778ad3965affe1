"""How much the built-in callbacks slow down a jitted training loop.

Times environment steps per second of the reference loop (`lerax_testing.run_training`)
with no callback calls at all, and with each of: `EmptyCallback`, a `CallbackList` of
eight `EmptyCallback`s, `ProgressBarCallback` (its text bar written to the null
device) and `EpisodeStatsCallback` (with a writer that shows nothing). Every loop is
compiled first; then the repetitions are interleaved across the loops, so that a
change in machine load affects all of them alike, and each loop's median time is
reported as a ratio to its baseline (1.00x is no overhead; below 1.00x is slower).

Two baselines, because the reference loop's mock learner ignores the rewards: where
nothing reads them (no callback, `EmptyCallback`, `ProgressBarCallback`, which only
counts steps) XLA removes the environment from the compiled loop altogether, and the
loop then costs next to nothing. So each callback is timed twice:

- alone, against `run_training(None, ...)`. Without the environment such a run
  takes about a millisecond, so this column mostly measures the Python cost of a
  call (flattening the callback's fields) and the host calls themselves;
- next to `RewardSink`, a callback that only sums each environment's rewards and so
  keeps the environment running as a real learner would, against `RewardSink` alone.
  This column is the callback's cost in a loop that really steps environments.

The toy environment is very cheap (a few microseconds per batched step), so any
fixed cost weighs more here than next to a real environment and learner; the last
column gives that cost in milliseconds per iteration. Timings are noisy on a loaded
machine: raise `--repeats` when the ratios of the empty callbacks stray from 1.00x.

Run `python benchmarks/overhead.py`, or with `--quick` for a fast smoke run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any, final

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Key

import lerax_callback as lc
from lerax_testing import run_training


@final
class RewardSum(lc.AbstractCallbackStepState):
    """One environment's rewards, summed."""

    total: Float[Array, ""]


@final
class RewardSink(lc.AbstractStepCallback[RewardSum]):
    """Sums rewards per environment: stands in for a learner that reads them."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> RewardSum:
        del ctx, key
        return RewardSum(jnp.zeros((), jnp.float32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> RewardSum:
        del key
        total = ctx.state.total
        return RewardSum((total + ctx.reward).astype(total.dtype))


def show_nothing(**kwargs: Any) -> None:
    """A host writer that shows nothing, to time the host call alone."""
    del kwargs


def candidates(null_stream: Any) -> dict[str, lc.AbstractCallback | None]:
    """The callbacks to time, by name; `None` is the loop without callback calls."""
    return {
        "no callback": None,
        "EmptyCallback": lc.EmptyCallback(),
        "CallbackList(8 x EmptyCallback)": lc.CallbackList(
            [lc.EmptyCallback() for _ in range(8)]
        ),
        "ProgressBarCallback": lc.ProgressBarCallback(
            writer=lc.TextProgressBar(stream=null_stream)
        ),
        "EpisodeStatsCallback": lc.EpisodeStatsCallback(writer=show_nothing),
    }


def with_sink(callback: lc.AbstractCallback | None) -> lc.AbstractCallback:
    """`callback` next to a `RewardSink`, or the sink alone for no callback."""
    if callback is None:
        return RewardSink()
    return lc.CallbackList([RewardSink(), callback])


def time_once(run: Callable[[], Any]) -> float:
    """Seconds for one complete training run, host callbacks included."""
    start = time.perf_counter()
    jax.block_until_ready(run())
    jax.effects_barrier()
    return time.perf_counter() - start


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--num-steps", type=int, default=512, help="per iteration")
    parser.add_argument("--num-iterations", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per loop")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a fast smoke run: 2 envs x 64 steps x 2 iterations, 3 repeats",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.num_envs, args.num_steps, args.num_iterations, args.repeats = 2, 64, 2, 3
    for name in ("num_envs", "num_steps", "num_iterations", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    sizes = {
        "num_envs": args.num_envs,
        "num_steps": args.num_steps,
        "num_iterations": args.num_iterations,
    }
    steps = args.num_envs * args.num_steps * args.num_iterations
    print(
        f"{args.num_envs} envs x {args.num_steps} steps x {args.num_iterations} "
        f"iterations = {steps:,} env steps per run "
        f"({args.num_envs * args.num_steps:,} per iteration), "
        f"median of {args.repeats} runs, JAX {jax.__version__} on "
        f"{jax.default_backend()}"
    )
    with open(os.devnull, "w") as null_stream:
        runs: dict[tuple[str, bool], Callable[[], Any]] = {}
        for name, callback in candidates(null_stream).items():
            for sink in (False, True):
                loop_callback = with_sink(callback) if sink else callback
                runs[name, sink] = lambda c=loop_callback: run_training(
                    c, key=0, **sizes
                )
        for run in runs.values():
            time_once(run)  # compile
        times: dict[tuple[str, bool], list[float]] = {label: [] for label in runs}
        for _ in range(args.repeats):
            for label, run in runs.items():
                times[label].append(time_once(run))
    medians = {label: statistics.median(values) for label, values in times.items()}
    names = list(dict.fromkeys(name for name, _ in medians))
    width = max(len(name) for name in names)
    print(
        f"{'':<{width}}  {'alone':^24}  {'with RewardSink':^38}\n"
        f"{'loop':<{width}}  {'env steps/s':>13} {'vs none':>10}  "
        f"{'env steps/s':>13} {'vs sink':>10} {'ms/iteration':>13}"
    )
    for name in names:
        alone, sunk = medians[name, False], medians[name, True]
        added = (sunk - medians["no callback", True]) / args.num_iterations
        print(
            f"{name:<{width}}  {steps / alone:>13,.0f} "
            f"{medians['no callback', False] / alone:>9.3f}x  "
            f"{steps / sunk:>13,.0f} {medians['no callback', True] / sunk:>9.3f}x "
            f"{1e3 * added:>+13.3f}"
        )
    print(
        "vs none / vs sink: the baseline's time over the loop's (1.000x is no "
        "overhead);\nms/iteration: the time the callback adds to each iteration "
        "of the loop with RewardSink."
    )


if __name__ == "__main__":
    main()
