"""How long the conformance harness takes, relative to training itself.

For each callback, in one run:

- `loop`: one jitted reference training loop (`run_training`), compilation
  included, as a user's own integration test would run it;
- `check`: `check_callback` with the default number of examples;
- `check x10`: the same with ten times the examples.

Prints `check / loop` (goal: well under 10x) and `check x10 / check` (goal: under
1.5x: examples share one compilation per method, so more examples add little).

    python benchmarks/harness.py            # the full set
    python benchmarks/harness.py --quick    # two callbacks, fewer examples
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import jax

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

import lerax_callback as lc  # noqa: E402
from lerax_testing import check_callback, run_training  # noqa: E402


def _callbacks(quick: bool) -> list[Any]:
    from loss_threshold import LossThreshold
    from return_tracker import ReturnTracker

    chosen = [ReturnTracker(), lc.EpisodeStatsCallback(writer=None)]
    if not quick:
        chosen += [
            LossThreshold(),
            lc.EarlyStoppingCallback("loss", patience=3, mode="min"),
            lc.CallbackList([ReturnTracker(), LossThreshold()]),
        ]
    return chosen


def _seconds(fn: Any) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--examples", type=int, default=20, help="examples per check")
    args = parser.parse_args()
    examples = 5 if args.quick else args.examples

    print(f"{'callback':<28}{'loop s':>8}{'check s':>9}{'x10 s':>8}"
          f"{'check/loop':>12}{'x10/check':>11}")  # fmt: skip
    # Pay the process's one-time costs (JAX's eager-operation caches, imports)
    # before timing anything, so that the first callback is not charged for them.
    run_training(lc.EmptyCallback())
    check_callback(lc.EmptyCallback(), seed=0, max_examples=2)
    check_ratios, scale_ratios = [], []
    for callback in _callbacks(args.quick):
        name = type(callback).__name__
        loop = _seconds(lambda cb=callback: run_training(cb, num_envs=3, num_steps=6))
        check = _seconds(
            lambda cb=callback: check_callback(cb, seed=0, max_examples=examples).ok
        )
        tenfold = _seconds(
            lambda cb=callback: (
                check_callback(cb, seed=1, max_examples=10 * examples).ok
            )
        )
        check_ratios.append(check / loop)
        scale_ratios.append(tenfold / check)
        print(f"{name:<28}{loop:>8.2f}{check:>9.2f}{tenfold:>8.2f}"
              f"{check / loop:>11.1f}x{tenfold / check:>10.2f}x")  # fmt: skip
    print(
        f"median: check/loop {statistics.median(check_ratios):.1f}x (goal < 10x), "
        f"10x examples {statistics.median(scale_ratios):.2f}x (goal < 1.5x)"
    )


if __name__ == "__main__":
    main()
