"""How much the built-in callbacks slow down a jitted training loop.

Times environment steps per second of the reference loop (`lerax_testing.run_training`)
with no callback calls at all, and with each of: `EmptyCallback`, a `CallbackList` of
eight `EmptyCallback`s, `ProgressBarCallback` (its text bar written to the null
device) and `EpisodeStatsCallback` (with a writer that shows nothing). Every loop is
compiled first; then the repetitions are interleaved across the loops, so that a
change in machine load affects all of them alike, and each loop's median time is
reported as a ratio to the loop without callback calls (1.000x is no overhead;
below is slower), with the time the callback adds to each iteration.

The toy environment is very cheap (a few microseconds per batched step), so any
fixed cost per iteration (such as a host callback) weighs more here than next to a
real environment and learner. Timings are noisy on a loaded machine: raise
`--repeats` when the ratios of the empty callbacks stray from 1.00x.

Run `python benchmarks/overhead.py`, or with `--quick` for a fast smoke run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax

import lerax_callback as lc
from lerax_testing import run_training


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


def time_once(run: Callable[[], Any]) -> float:
    """Seconds for one complete training run, host callbacks included."""
    start = time.perf_counter()
    jax.block_until_ready(run())
    jax.effects_barrier()
    return time.perf_counter() - start


def median_times(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Each run's median seconds: every run once to compile, then `repeats`
    rounds that each time every run once, so that a change in machine load
    affects all of them alike."""
    for run in runs.values():
        time_once(run)  # compile
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(time_once(run))
    return {name: statistics.median(values) for name, values in times.items()}


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
        runs = {
            name: lambda c=callback: run_training(c, key=0, **sizes)
            for name, callback in candidates(null_stream).items()
        }
        medians = median_times(runs, args.repeats)
    baseline = medians["no callback"]
    width = max(len(name) for name in medians)
    print(
        f"{'loop':<{width}}  {'env steps/s':>13} {'vs none':>10} {'ms/iteration':>13}"
    )
    for name, median in medians.items():
        added = (median - baseline) / args.num_iterations
        print(
            f"{name:<{width}}  {steps / median:>13,.0f} {baseline / median:>9.3f}x "
            f"{1e3 * added:>+13.3f}"
        )
    print(
        "vs none: the no-callback loop's time over this loop's (1.000x is no "
        "overhead);\nms/iteration: the time the callback adds to each iteration."
    )


if __name__ == "__main__":
    main()
