"""What driving a callback records: each call's arguments and output.

A call made on its own records the arrays it was given and returned. A call read
from a jitted episode (`_episode`) records them lazily: most checks that share an
episode only ask for the class of an output (`types`) or for host copies of the
numbers (`finite`, `vmap`), and making a JAX array of every step's arguments and
outputs for every example would cost more than running the episode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import numpy as np


def host(tree: Any) -> Any:
    """`tree` with its JAX arrays as NumPy arrays (typed keys stay as they are)."""

    def one(leaf: Any) -> Any:
        if isinstance(leaf, jax.Array) and not jax.dtypes.issubdtype(
            leaf.dtype, jax.dtypes.prng_key
        ):
            return np.asarray(leaf)
        return leaf

    return jax.tree.map(one, tree)


@dataclasses.dataclass
class Call:
    """One recorded method call: its arguments (after the callback) and output."""

    method: str
    args: tuple[Any, ...]
    output: Any

    @property
    def output_type(self) -> type:
        """The class of the output, without making it when it is lazy."""
        return type(self.output)

    def host_args(self) -> tuple[Any, ...]:
        """The arguments with NumPy arrays for JAX arrays."""
        return host(self.args)

    def host_output(self) -> Any:
        """The output with NumPy arrays for JAX arrays."""
        return host(self.output)


class Lazy:
    """What the calls of one episode read their arguments and outputs from: each
    kind made on first use, once for all the episode's calls (`outputs` holds the
    steps' outputs only, by step)."""

    def __init__(
        self,
        make_args: Callable[[], list[Any]],
        make_outputs: Callable[[], list[Any]],
        host_args: Callable[[], list[Any]],
        host_outputs: Callable[[], list[Any]],
    ):
        self._makers = {
            "args": make_args,
            "outputs": make_outputs,
            "host_args": host_args,
            "host_outputs": host_outputs,
        }
        self._made: dict[str, list[Any]] = {}

    def get(self, what: str, index: int) -> Any:
        if what not in self._made:
            self._made[what] = self._makers[what]()
        return self._made[what][index]


_MADE_LATER = object()


class LazyCall(Call):
    """A call of a jitted episode: the `index`-th call, whose arguments (and
    output, for step `step`) are made from the episode's results when first asked
    for; other outputs are given as they are."""

    def __init__(
        self,
        method: str,
        index: int,
        lazy: Lazy,
        output_type: type,
        *,
        output: Any = _MADE_LATER,
        step: int = -1,
    ):
        self.method = method
        self._index = index
        self._lazy = lazy
        self._output_type = output_type
        self._output = output
        self._step = step

    @property  # type: ignore[override]
    def args(self) -> tuple[Any, ...]:
        return self._lazy.get("args", self._index)

    @property  # type: ignore[override]
    def output(self) -> Any:
        if self._output is _MADE_LATER:
            return self._lazy.get("outputs", self._step)
        return self._output

    @property
    def output_type(self) -> type:
        return self._output_type

    def host_args(self) -> tuple[Any, ...]:
        return self._lazy.get("host_args", self._index)

    def host_output(self) -> Any:
        return self._lazy.get("host_outputs", self._index)

    def __repr__(self) -> str:
        return f"LazyCall({self.method!r}, {self._index})"


@dataclasses.dataclass
class Trajectory:
    """The calls of one drive through an example, and the jitted episode's stacked
    results when it ran as one (`_episode.EpisodeRun`), for checks that read every
    step at once."""

    calls: list[Call]
    episode: Any = None

    def outputs(self, method: str) -> list[Any]:
        return [c.output for c in self.calls if c.method == method]

    def first(self, method: str) -> Call | None:
        return next((c for c in self.calls if c.method == method), None)
