"""Generated examples drawn as hypothesis choices of bytes, decoded into plain
numbers: the number of steps, every step's rewards and `done` flags, and the
rest of the example (its seed, iteration count, training log, optimiser step and
`locals` value). The checks draw a whole example as one choice
(`ExampleDecoder`); the public `strategies.scenarios` draws a choice per step
(`RowDecoder`) and one for the rest (`TailDecoder`).

Why bytes: hypothesis spends about 30 microseconds on each choice it makes, and an
example drawn value by value (a branch and a float per reward, a boolean per
`done`, a branch per count and log entry) made about fifty choices for three
environments; it took 2 ms to draw, more than running it through every check.
Drawn as one choice, what is left is hypothesis's own work: about 0.4 ms per
hypothesis example and about a microsecond per byte. The checks draw eight
examples to a hypothesis example (`_subject.PER_DRAW`), about 0.15 ms each.

Why the layout: hypothesis shrinks a byte string by lowering its bytes towards
zero, so the decoding puts the simplest values at the lowest bytes. A number
takes a few bytes; the first picks a kind, simplest first (for a reward: a
special value, `0.0` first; a small integer; any finite float; infinity or NaN
when asked for), and the others the value within the kind. A failing example
therefore shrinks to zero rewards, no `done` and zero counts wherever the failure
allows, as it did when every value was a choice of its own. In one choice, the
number of steps comes first, so shrinking drops trailing steps before it
simplifies the rewards; the steps before a failing one are dropped after
shrinking (`_subject._fewer_steps`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

FLOAT_BYTES = 4
"""The bytes of one float: a kind and three of value."""

_FLOAT32_TINY = float(np.finfo(np.float32).tiny)

_SMALLEST_MAGNITUDE = 1e-6
"""The smallest magnitude of a drawn float other than the special values."""


def as_float32(value: float) -> float:
    """`value` rounded to float32; values in float32's subnormal range become 0
    (the CPU flushes them to zero under `jit`, so eager and jitted results would
    legitimately differ)."""
    rounded = float(np.float32(value))
    return 0.0 if abs(rounded) < _FLOAT32_TINY else rounded


def _fraction(data: bytes) -> float:
    """`data` as a number in `[0, 1)`."""
    return int.from_bytes(data, "big") / 2 ** (8 * len(data))


def _scaled(data: bytes, count: int) -> int:
    """`data` as an index in `range(count)`, growing with the bytes (not modulo
    `count`), so that lowering a byte, as shrinking does, picks an earlier (simpler)
    value, and every index is about as likely."""
    return int.from_bytes(data, "big") * count >> (8 * len(data))


class FloatDecoder:
    """Decodes `FLOAT_BYTES` bytes into a float within `[min_value, max_value]`,
    representable in float32. The first byte picks the kind:

    - below `special_kinds`: one of `specials` (the simplest in range first);
    - below `integer_kinds`: a small integer (`0, 1, -1, 2, -2, ...`);
    - with `allow_nonfinite`, from `nonfinite_kinds`: infinity or NaN;
    - otherwise: any float, log-uniform in magnitude from `1e-6` to the bound.
    """

    def __init__(
        self,
        *,
        specials: Sequence[float],
        min_value: float,
        max_value: float,
        allow_nonfinite: bool = False,
        special_kinds: int = 96,
        integer_kinds: int = 128,
        nonfinite_kinds: int = 192,
    ):
        """Reject infinite or reversed bounds with the fix, and prepare the decoding:
        the specials in range, the simplest first (what shrinking reaches), and the
        span of magnitudes of log-uniform floats."""
        if not (math.isfinite(min_value) and math.isfinite(max_value)):
            raise ValueError(
                f"Float bounds must be finite numbers; got {min_value!r} and "
                f"{max_value!r}. Ask for infinite rewards with `allow_nonfinite=True`."
            )
        if not min_value <= max_value:
            raise ValueError(
                f"Floats need `min_value <= max_value`; got {min_value!r} and "
                f"{max_value!r}. Swap them, or widen the range."
            )
        self.low = min_value
        self.high = max_value
        self.allow_nonfinite = allow_nonfinite
        self.special_kinds = special_kinds
        self.integer_kinds = integer_kinds
        self.nonfinite_kinds = nonfinite_kinds
        inside = [as_float32(v) for v in specials if min_value <= v <= max_value]
        # The simplest value in range first: 0.0 when it is in range, else the
        # bound nearest to it.
        nearest = as_float32(min(max(0.0, min_value), max_value))
        self.specials = tuple(dict.fromkeys([nearest, *inside]))
        bound = max(abs(min_value), abs(max_value), _SMALLEST_MAGNITUDE)
        self.log_span = math.log10(bound) - math.log10(_SMALLEST_MAGNITUDE)

    def __call__(self, data: bytes) -> float:
        kind, rest = data[0], data[1:]
        if kind < self.special_kinds:
            return self.specials[_scaled(rest[:1], len(self.specials))]
        if kind < self.integer_kinds:
            half, odd = divmod(rest[0], 2)
            return self._inside(float(-half if odd else half), fraction=0.0)
        if self.allow_nonfinite and kind >= self.nonfinite_kinds:
            return (math.inf, -math.inf, math.nan)[_scaled(rest[:1], 3)]
        fraction = _fraction(rest)
        magnitude = 10 ** (math.log10(_SMALLEST_MAGNITUDE) + fraction * self.log_span)
        return self._inside(-magnitude if kind % 2 else magnitude, fraction)

    def _inside(self, value: float, fraction: float) -> float:
        """`value` in float32 if it is within the bounds, else a value spread
        over the bounds by `fraction`."""
        if not self.low <= value <= self.high:
            value = self.low + (self.high - self.low) * fraction
        rounded = as_float32(value)
        return rounded if self.low <= rounded <= self.high else as_float32(self.low)


class RowDecoder:
    """Decodes one step's bytes into `(rewards, dones)` for `num_envs`
    environments: a float per reward (`FloatDecoder`), then one bit per
    environment for its `done` flag (`False`, a zero bit, is the simpler)."""

    def __init__(self, num_envs: int, reward: FloatDecoder):
        self.num_envs = num_envs
        self.reward = reward

    @property
    def size(self) -> int:
        """The bytes of one step."""
        return FLOAT_BYTES * self.num_envs + (self.num_envs + 7) // 8

    def __call__(self, data: bytes) -> tuple[tuple[float, ...], tuple[bool, ...]]:
        end = FLOAT_BYTES * self.num_envs
        rewards = tuple(
            self.reward(data[i : i + FLOAT_BYTES]) for i in range(0, end, FLOAT_BYTES)
        )
        flags = data[end:]
        dones = tuple(bool(flags[i // 8] >> (i % 8) & 1) for i in range(self.num_envs))
        return rewards, dones


class TailDecoder:
    """Decodes the bytes of an example's numbers other than its steps: `seed`
    (any 32-bit integer), `iteration_count` (a quarter each from `[0, 1]`, powers
    of ten and `boundary_counts`, where "every N iterations" logic fires, and
    any count up to a million), one float per name of `log_names` (`0.0`
    and `1.0` or any float32 up to `1e6` in magnitude), `opt_step` (up to a
    million) and `locals_value` (a float32 up to `1e3` in magnitude)."""

    def __init__(
        self,
        log_names: Sequence[str],
        *,
        powers_of_ten: Sequence[int],
        boundary_counts: Sequence[int],
    ):
        self.log_names = tuple(log_names)
        self.powers_of_ten = tuple(powers_of_ten)
        self.boundary_counts = tuple(boundary_counts)
        self.log_value = FloatDecoder(
            specials=(0.0, 1.0),
            min_value=-1e6,
            max_value=1e6,
            special_kinds=128,
            integer_kinds=128,
        )
        self.locals_value = FloatDecoder(
            specials=(0.0,),
            min_value=-1e3,
            max_value=1e3,
            special_kinds=32,
            integer_kinds=64,
        )

    @property
    def size(self) -> int:
        """The bytes of one example's other numbers."""
        return 4 + 4 + FLOAT_BYTES * len(self.log_names) + 3 + FLOAT_BYTES

    def __call__(self, data: bytes) -> dict[str, Any]:
        seed = int.from_bytes(data[:4], "big")
        count = self._count(data[4:8])
        at = 8
        log = {}
        for name in self.log_names:
            log[name] = self.log_value(data[at : at + FLOAT_BYTES])
            at += FLOAT_BYTES
        opt_step = _scaled(data[at : at + 3], 1_000_001)
        value = self.locals_value(data[at + 3 : at + 3 + FLOAT_BYTES])
        return {
            "seed": seed,
            "iteration_count": count,
            "training_log": log,
            "opt_step": opt_step,
            "locals_value": value,
        }

    def _count(self, data: bytes) -> int:
        kind, rest = data[0], data[1:]
        if kind < 64:
            return _scaled(rest, 2)
        if kind < 128:
            return self.powers_of_ten[_scaled(rest, len(self.powers_of_ten))]
        if kind < 192:
            return self.boundary_counts[_scaled(rest, len(self.boundary_counts))]
        return _scaled(rest, 1_000_001)


class ExampleDecoder:
    """Decodes one example's bytes: a byte for the number of steps (1 to
    `max_steps`, growing with the byte), `max_steps` steps' bytes (`RowDecoder`;
    those past the number of steps are not used), then the other numbers
    (`TailDecoder`). Returns the keyword arguments of a `Scenario`."""

    def __init__(self, max_steps: int, row: RowDecoder, tail: TailDecoder):
        self.max_steps = max_steps
        self.row = row
        self.tail = tail

    @property
    def size(self) -> int:
        """The bytes of one example."""
        return 1 + self.max_steps * self.row.size + self.tail.size

    def __call__(self, data: bytes) -> dict[str, Any]:
        num_steps = 1 + _scaled(data[:1], self.max_steps)
        width = self.row.size
        steps = [
            self.row(data[1 + t * width : 1 + (t + 1) * width])
            for t in range(num_steps)
        ]
        numbers = self.tail(data[1 + self.max_steps * width :])
        numbers["rewards"] = tuple(rewards for rewards, _ in steps)
        numbers["dones"] = tuple(dones for _, dones in steps)
        return numbers
