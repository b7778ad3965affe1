"""The base classes of callback states, and the empty states."""

from __future__ import annotations

from typing import final

import equinox as eqx

from . import _switch


class AbstractCallbackStepState(eqx.Module):
    """Base class for callback states that are vectorised across environment steps.

    An algorithm keeps one step state per parallel environment: `step_reset` and
    `on_step` are `vmap`ped over environments and `on_step` runs inside a `lax.scan`,
    so a step state is a scan carry. Its array leaves must keep their shapes and
    dtypes from one step to the next.
    """

    def __check_init__(self) -> None:
        # Runtime type checks, while switched on (see `enable_typechecking`).
        if _switch.enabled:
            _switch.check_module(self)


class AbstractCallbackState(eqx.Module):
    """Base class for callback states kept once per training run.

    The iteration state is the carry of the algorithm's outer `lax.scan` over
    iterations, so its structure, shapes and dtypes must not change either.
    """

    def __check_init__(self) -> None:
        # Runtime type checks, while switched on (see `enable_typechecking`).
        if _switch.enabled:
            _switch.check_module(self)


@final
class EmptyCallbackStepState(AbstractCallbackStepState):
    """The step state of a callback that keeps nothing per environment."""


@final
class EmptyCallbackState(AbstractCallbackState):
    """The iteration state of a callback that keeps nothing per run."""
