"""Timing shared by the benchmarks that compare whole checks: the median of
repeated wall-clock timings of one call, taken in the same process."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_seconds(run: Callable[[], Any], repeats: int) -> float:
    """The median of `repeats` timings of `run()`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
