"""The examples the harness draws, as plain numbers: `Scenario`, the constants the
draws rely on (reward bounds, round iteration counts, Lerax's PPO log keys), and
the decoders that turn hypothesis's bytes into a `Scenario` (see `_encoding`).

`lerax_testing.strategies` re-exports the public names and builds its strategies
from these."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import strategies as st

from ._encoding import FloatDecoder, RowDecoder, TailDecoder

REWARD_BOUND = 1e6
"""The largest reward magnitude drawn by default, about what real environments give."""

SPECIAL_REWARDS = (0.0, 1.0, -1.0, 1e-30, -1e-30, REWARD_BOUND, -REWARD_BOUND)


POWERS_OF_TEN = tuple(10**k for k in range(1, 7))
"""Round iteration counts, where "every N iterations" logic fires."""

LOGGING_PERIODS = (8, 16, 25, 32, 50, 64, 128, 250, 256, 500, 512, 1024, 2000, 5000)

BOUNDARY_COUNTS = tuple(
    sorted(
        {0, 1, 2, 2**31 // 4}
        | {n + d for n in POWERS_OF_TEN for d in (-1, 1)}
        | {p * m for p in LOGGING_PERIODS for m in (1, 2, 3)}
    )
)
"""Iteration counts rich in boundaries: powers of ten's neighbours, multiples of
common logging periods, and a large value."""


LERAX_PPO_LOG_KEYS = (
    "approx_kl",
    "loss",
    "policy_loss",
    "value_loss",
    "entropy_loss",
    "explained_variance",
)
"""The metrics Lerax's PPO logs after each iteration, scalar floats: the
training-log keys generated for a `lerax.callback` callback."""

TRAINING_LOG_KEYS = (*LERAX_PPO_LOG_KEYS, "mean_reward")
"""PPO's metrics and the iteration's mean reward: the reference loop's log, and
the training-log keys generated for a `lerax_callback` callback (which may run
in the reference loop or in Lerax)."""


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One generated training episode, as plain numbers.

    The harness drives a callback through it: `reset`, `step_reset`,
    `on_training_start`, one `on_step` per row of `rewards` and `dones` (one column
    per environment), `on_iteration`, `continue_training`, `on_training_end`.
    """

    seed: int
    rewards: tuple[tuple[float, ...], ...]
    dones: tuple[tuple[bool, ...], ...]
    iteration_count: int
    training_log: dict[str, float]
    opt_step: int
    locals_value: float

    @property
    def num_steps(self) -> int:
        return len(self.rewards)

    @property
    def num_envs(self) -> int:
        return len(self.rewards[0]) if self.rewards else 0

    def describe(self) -> str:
        """A readable, copy-pasteable description of the example."""

        def fmt(row: tuple[Any, ...]) -> str:
            return "[" + ", ".join(repr(v) for v in row) + "]"

        lines = [
            f"seed={self.seed}",
            f"{self.num_steps} step(s) over {self.num_envs} environment(s):",
        ]
        for t, (r, d) in enumerate(zip(self.rewards, self.dones, strict=True)):
            lines.append(f"  step {t}: reward={fmt(r)} done={fmt(d)}")
        lines.append(f"iteration_count={self.iteration_count}")
        lines.append(f"training_log={self.training_log!r}")
        return "\n".join(lines)


def decoders(
    num_envs: int,
    reward_options: dict[str, Any] | None,
    training_log_names: tuple[str, ...],
    training_log_strategy: st.SearchStrategy[dict[str, float]] | None,
) -> tuple[RowDecoder, TailDecoder]:
    """The decoders of a step's bytes and of an example's other numbers."""
    options = {
        "min_value": -REWARD_BOUND,
        "max_value": REWARD_BOUND,
        "allow_nonfinite": False,
        **(reward_options or {}),
    }
    return (
        RowDecoder(num_envs, FloatDecoder(specials=SPECIAL_REWARDS, **options)),
        TailDecoder(
            () if training_log_strategy is not None else training_log_names,
            powers_of_ten=POWERS_OF_TEN,
            boundary_counts=BOUNDARY_COUNTS,
        ),
    )


def scenario_from(numbers: dict[str, Any], log: dict[str, float] | None) -> Scenario:
    """A `Scenario` from decoded numbers, with the drawn training log if any."""
    if log is not None:
        numbers["training_log"] = log
    return Scenario(**numbers)
