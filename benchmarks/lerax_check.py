"""What checking against Lerax's algorithms costs (needs Lerax 0.0.6 or 0.0.5).

For the example Lerax callback (`examples/lerax/episode_returns.py`), in one
process, each figure a ratio of timings taken in the same run:

- the `lerax` check against every installed algorithm, over tracing each
  algorithm's `learn()` once with an empty callback (the floor: what the check
  cannot avoid);
- a full check with every algorithm chosen, over a full check with one (PPO):
  what the extra algorithms add to everything else;
- a full check with every algorithm, over the same check without `lerax`.

Timings are warm (the algorithms' recordings are made once per process, so the
first check pays them); the median of `--repeats` runs is shown.

    python benchmarks/lerax_check.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from lerax.callback import EmptyCallback
except ImportError as error:  # pragma: no cover - depends on the environment
    raise SystemExit(
        f"benchmarks/lerax_check.py needs Lerax ({error}): on Python 3.13, "
        "`pip install lerax` or the wheel of its main branch."
    ) from error

from timing import median_seconds  # the benchmarks' shared timing (same folder)

from lerax_testing import CHECKS, check_callback
from lerax_testing._lerax._algorithms import installed_algorithms
from lerax_testing._lerax._learn import run_learn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "lerax"))
from episode_returns import BestEpisodeReturn  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    names = installed_algorithms()
    callback = BestEpisodeReturn()
    options = {"seed": 0, "max_examples": 20}
    without = [c for c in CHECKS if c != "lerax"]

    def traces() -> None:
        for name in names:
            run_learn(EmptyCallback(), name)

    def lerax_only() -> None:
        check_callback(callback, checks=["lerax"], **options)

    def full_all() -> None:
        check_callback(callback, **options)

    def full_ppo() -> None:
        check_callback(callback, algorithms=["ppo"], **options)

    def full_without() -> None:
        check_callback(callback, checks=without, **options)

    for warm in (traces, lerax_only, full_all, full_ppo, full_without):
        warm()
    floor = median_seconds(traces, args.repeats)
    lerax = median_seconds(lerax_only, args.repeats)
    every = median_seconds(full_all, args.repeats)
    ppo = median_seconds(full_ppo, args.repeats)
    no_lerax = median_seconds(full_without, args.repeats)
    print(f"algorithms: {', '.join(names)}")
    print(f"lerax check / tracing learn() once per algorithm: {lerax / floor:.2f}x")
    print(f"full check, all algorithms / full check, PPO alone: {every / ppo:.2f}x")
    ratio = every / no_lerax
    print(f"full check, all algorithms / full check without lerax: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
