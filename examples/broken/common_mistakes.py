"""Callbacks that work when called once in Python but break training.

`lerax-conformance examples/broken` shows what the harness reports for each; the
fixed versions are in `examples/return_tracker.py`.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float, Int, Key

from lerax_callback import (
    AbstractCallbackStepState,
    AbstractStepCallback,
    ResetContext,
    StepContext,
)


class Running(AbstractCallbackStepState):
    total: Float[Array, ""]
    steps: Int[Array, ""]


class PythonIfOnDone(AbstractStepCallback[Running]):
    """Resets the return with a Python `if`: fine eagerly, fails under `jax.jit`."""

    def step_reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> Running:
        return Running(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def on_step(self, ctx: StepContext, *, key: Key[Array, ""]) -> Running:
        if ctx.done:
            return Running(jnp.zeros((), jnp.float32), ctx.state.steps + 1)
        total = ctx.state.total + ctx.reward.astype(jnp.float32)
        return Running(total, ctx.state.steps + 1)


class DriftingDtype(AbstractStepCallback[Running]):
    """Averages steps with `/`, turning the int32 counter into a float: the
    `lax.scan` carry changes type and training fails to compile."""

    def step_reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> Running:
        return Running(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def on_step(self, ctx: StepContext, *, key: Key[Array, ""]) -> Running:
        total = ctx.state.total + ctx.reward.astype(jnp.float32)
        return Running(total, (ctx.state.steps + 1) / 1)  # type: ignore[arg-type]


class PrintsWhileTracing(AbstractStepCallback[Running]):
    """Uses `print`, which runs once while tracing and never during training."""

    def step_reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> Running:
        return Running(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def on_step(self, ctx: StepContext, *, key: Key[Array, ""]) -> Running:
        print("reward:", ctx.reward)
        total = ctx.state.total + ctx.reward.astype(jnp.float32)
        return Running(total, ctx.state.steps + 1)
