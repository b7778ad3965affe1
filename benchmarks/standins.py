"""What checking a `lerax_callback` callback against stand-ins of Lerax's
algorithms costs where Lerax is not installed (any Python).

For the example callback `examples/return_tracker.py`, in one process, each figure
a ratio of timings taken in the same run (warm: the stand-ins are made once per
process, so the first check pays for them; the median of `--repeats` runs):

- a full check with all eight algorithms stood in for, over a full check with
  none (the reference loop's contexts alone): what naming the algorithms costs;
- the same with one algorithm (PPO), to show what the seven others add.

    python benchmarks/standins.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from timing import median_seconds  # the benchmarks' shared timing (same folder)

from lerax_testing import check_callback
from lerax_testing._lerax import _choice
from lerax_testing._lerax._standin import standin_algorithms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from return_tracker import ReturnTracker  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    _choice.lerax_installed = lambda: False  # stand-ins even beside a real Lerax
    callback = ReturnTracker()
    options = {"seed": 0, "max_examples": 20}
    every = standin_algorithms()

    def none() -> None:
        check_callback(callback, **options)

    def all_eight() -> None:
        check_callback(callback, algorithms=every, **options)

    def ppo() -> None:
        check_callback(callback, algorithms=("ppo",), **options)

    for warm in (none, all_eight, ppo):
        warm()
    base = median_seconds(none, args.repeats)
    eight = median_seconds(all_eight, args.repeats)
    one = median_seconds(ppo, args.repeats)
    print(f"stand-ins: {', '.join(every)}")
    print(f"full check, all algorithms / full check, none: {eight / base:.2f}x")
    print(f"full check, PPO alone / full check, none: {one / base:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
