"""`ProgressBarCallback`: training progress, reported from inside `jax.jit`."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO, final

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike
from jaxtyping import Array, Int, Key

from .._callback import AbstractCallback
from .._checking import is_checking
from .._contexts import IterationContext, ResetContext, StepContext, TrainingContext
from .._states import AbstractCallbackState, AbstractCallbackStepState

_INT32_MAX = int(np.iinfo(np.int32).max)


@final
class ProgressBarStepState(AbstractCallbackStepState):
    """One environment's step count.

    **Attributes:**

    - `steps`: the environment steps taken so far.
    """

    steps: Int[Array, ""]


@final
class ProgressBarState(AbstractCallbackState):
    """Training progress, updated at the end of each iteration.

    **Attributes:**

    - `total_timesteps`: the environment steps the training asks for.
    - `steps`: the environment steps taken so far, over all environments.
    """

    total_timesteps: Int[Array, ""]
    steps: Int[Array, ""]


class _Run:
    """What a `TextProgressBar` remembers about the run it is drawing."""

    def __init__(self) -> None:
        self.start_time: float | None = None
        self.start_steps = 0
        self.updates = 0
        self.line_length = 0


class TextProgressBar:
    """The default writer of `ProgressBarCallback`: a text progress bar.

    Each update shows a bar, the steps taken out of the total, the percentage and
    the steps per second. On a terminal the bar is redrawn in place (`\\r`) and the
    line is finished when training ends; elsewhere (a log file, a pipe) each update
    is a line of its own.

    Bars with the same `stream` and `width` compare equal, so a training function
    jitted with one is not compiled again for another.

    **Arguments:**

    - `stream`: where to write; `None` (the default) means whatever `sys.stderr` is
        when each update arrives.
    - `width`: the number of characters of the bar itself.
    """

    def __init__(self, *, stream: TextIO | None = None, width: int = 30):
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(
                f"`TextProgressBar(width=...)` must be a positive int, got {width!r}."
            )
        self.stream = stream
        self.width = width
        self._run = _Run()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TextProgressBar):
            return NotImplemented
        return self.stream is other.stream and self.width == other.width

    def __hash__(self) -> int:
        return hash((TextProgressBar, id(self.stream), self.width))

    def __repr__(self) -> str:
        return f"TextProgressBar(stream={self.stream!r}, width={self.width})"

    def _stream(self) -> TextIO:
        return sys.stderr if self.stream is None else self.stream

    def start(self, *, total: int) -> None:
        """Start the clock of a new run."""
        del total
        # Host callbacks are not ordered, so an update could in principle arrive
        # first; the clock then started at that update, and stays so.
        if self._run.updates == 0:
            self._run.start_time = time.perf_counter()

    def __call__(self, *, steps: int, total: int, iteration: int) -> None:
        """Draw the progress after `iteration` iterations."""
        run = self._run
        now = time.perf_counter()
        if run.start_time is None:
            run.start_time, run.start_steps = now, steps
        run.updates += 1
        elapsed = now - run.start_time
        counted = steps - run.start_steps
        rate = f"{counted / elapsed:,.0f}" if elapsed > 0 and counted > 0 else "?"
        fraction = min(max(steps / total, 0.0), 1.0) if total > 0 else 1.0
        filled = round(fraction * self.width)
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] "
            f"{steps:,}/{total:,} steps {100 * fraction:5.1f}% "
            f"{rate} steps/s (iteration {iteration})"
        )
        stream = self._stream()
        if _is_tty(stream):
            # Pad with spaces to wipe out the rest of a longer previous line.
            stream.write("\r" + line.ljust(run.line_length))
            run.line_length = len(line)
        else:
            stream.write(line + "\n")
        stream.flush()

    def close(self, *, steps: int, total: int) -> None:
        """Finish the line at the end of training, and forget the run."""
        del steps, total
        stream = self._stream()
        if self._run.updates > 0 and _is_tty(stream):
            stream.write("\n")
            stream.flush()
        self._run = _Run()


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


# The host sides of `jax.debug.callback`; quiet while a conformance check feeds
# them generated data.


def _start(writer: Any, total: ArrayLike) -> None:
    if not is_checking():
        writer.start(total=int(total))


def _update(writer: Callable[..., Any], numbers: ArrayLike) -> None:
    if is_checking():
        return
    steps, total, iteration = (int(n) for n in np.asarray(numbers))
    writer(steps=steps, total=total, iteration=iteration)


def _close(writer: Any, steps: ArrayLike, total: ArrayLike) -> None:
    if not is_checking():
        writer.close(steps=int(steps), total=int(total))


def _optional_method(writer: Any, name: str) -> bool:
    return callable(getattr(writer, name, None))


@final
class ProgressBarCallback(AbstractCallback[ProgressBarState, ProgressBarStepState]):
    """Shows training progress, in environment steps, from inside `jax.jit`.

    Every environment counts its own steps; at the end of each iteration the counts
    are summed and handed to `writer` on the host through `jax.debug.callback`, once
    per iteration. Counts are `int32`, so a run may take up to 2**31 - 1 steps.

    **Arguments:**

    - `writer`: called on the host after every iteration as
        `writer(steps=..., total=..., iteration=...)` with Python ints: the steps
        taken so far over all environments, the steps the training asks for and the
        iteration count. If it has `start(*, total)` or `close(*, steps, total)`
        methods, they are called when training starts and ends. The default is a
        `TextProgressBar` on stderr. It must be hashable (functions and most
        objects are), as it is part of the compiled program.
    """

    writer: Callable[..., Any]

    def __init__(self, *, writer: Callable[..., Any] | None = None):
        if writer is None:
            writer = TextProgressBar()
        if not callable(writer):
            raise TypeError(
                f"`ProgressBarCallback(writer=...)` must be callable, got "
                f"{type(writer).__qualname__}; pass e.g. `writer=show` where "
                "`def show(*, steps, total, iteration)`, or leave it out for a "
                "text progress bar."
            )
        self.writer = writer

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> ProgressBarState:
        del ctx, key
        zero = jnp.zeros((), jnp.int32)
        return ProgressBarState(zero, zero)

    def step_reset(
        self, ctx: ResetContext, *, key: Key[Array, ""]
    ) -> ProgressBarStepState:
        del ctx, key
        return ProgressBarStepState(jnp.zeros((), jnp.int32))

    def on_step(self, ctx: StepContext, *, key: Key[Array, ""]) -> ProgressBarStepState:
        del key
        steps = ctx.state.steps
        return ProgressBarStepState((steps + 1).astype(steps.dtype))

    def on_iteration(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> ProgressBarState:
        del key
        # `jnp.sum` adds up a batch of environments and leaves a single one as is.
        steps = jnp.sum(ctx.step_state.steps).astype(ctx.state.steps.dtype)
        # One operand rather than three: each operand of a host callback costs a
        # transfer of its own (about 0.1 ms on CPU).
        numbers = jnp.stack([steps, ctx.state.total_timesteps, ctx.iteration_count])
        jax.debug.callback(
            functools.partial(_update, self.writer), numbers.astype(jnp.int32)
        )
        return ProgressBarState(ctx.state.total_timesteps, steps)

    def on_training_start(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> ProgressBarState:
        del key
        total = ctx.total_timesteps
        if isinstance(total, int) and total > _INT32_MAX:
            raise ValueError(
                f"`ProgressBarCallback` counts steps in int32 and cannot show "
                f"{total:,} total timesteps; train for at most {_INT32_MAX:,} steps "
                "per run, or leave `ProgressBarCallback` out of longer runs."
            )
        dtype = ctx.state.total_timesteps.dtype
        total_timesteps = jnp.asarray(total).astype(dtype)
        if _optional_method(self.writer, "start"):
            jax.debug.callback(functools.partial(_start, self.writer), total_timesteps)
        return ProgressBarState(total_timesteps, ctx.state.steps)

    def on_training_end(
        self, ctx: TrainingContext, *, key: Key[Array, ""]
    ) -> ProgressBarState:
        del key
        if _optional_method(self.writer, "close"):
            jax.debug.callback(
                functools.partial(_close, self.writer),
                ctx.state.steps,
                ctx.state.total_timesteps,
            )
        return ctx.state
