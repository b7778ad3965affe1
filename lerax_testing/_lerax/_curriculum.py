"""`apply_curriculum` as the generated-example checks call it: with an algorithm
state of the recorded algorithm's own class (recorded from its real `learn()`,
see `_record`) holding the callback state the example made, as the algorithm
calls it after `on_iteration`.

`curriculum_of(callback, recording)` is `None` when there is nothing to drive:
no recording, or a callback whose `apply_curriculum` is Lerax's default, which
returns both states unchanged. A `lerax_callback` callback's own is driven too
(`to_lerax` forwards it), with a stand-in state where Lerax is not installed.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from typing import Any

import equinox as eqx
import jax


@dataclasses.dataclass(frozen=True, eq=False)
class Curriculum:
    """A callback's `apply_curriculum` and the algorithm state it is given.

    - `callback`: the callback (its `apply_curriculum` is called).
    - `recording`: the `_record.Recording` whose algorithm state it gets.
    """

    callback: Any
    recording: Any

    def inputs(self, callback_state: Any, *, concrete: bool) -> tuple[Any, Any]:
        """`(algorithm_state, callback_state)` as the algorithm passes them: its
        recorded state (arrays when `concrete`, else shapes and dtypes) holding
        `callback_state`."""
        template = self.recording.algorithm_state(concrete=concrete)
        state = copy.copy(template)
        # The algorithm's own state class, with the example's callback state where
        # the algorithm keeps it; set directly, as equinox modules are frozen.
        object.__setattr__(state, "callback_state", callback_state)
        return state, callback_state

    def trace(self, callback_state: Any) -> tuple[tuple[Any, Any], Any]:
        """The inputs for `callback_state` (shapes and dtypes) and what
        `apply_curriculum` returns for them, traced; raises what tracing raises."""
        inputs = self.inputs(callback_state, concrete=False)
        with jax.numpy_rank_promotion("allow"):  # as Lerax's own code needs
            return inputs, eqx.filter_eval_shape(_apply, self.callback, *inputs)

    def run(self, callback_state: Any) -> tuple[tuple[Any, Any], Any]:
        """The concrete inputs for `callback_state` and what the jitted
        `apply_curriculum` returns for them (compiled once per callback)."""
        inputs = self.inputs(callback_state, concrete=True)
        with jax.numpy_rank_promotion("allow"):
            return inputs, _jitted(self.callback)(*inputs)


def _apply(callback: Any, state: Any, callback_state: Any) -> Any:
    return callback.apply_curriculum(state, callback_state)


@functools.cache
def _jitted_apply() -> Any:
    return eqx.filter_jit(_apply)


def _jitted(callback: Any) -> Any:
    return functools.partial(_jitted_apply(), callback)


def curriculum_of(callback: Any, recording: Any) -> Curriculum | None:
    """What to drive for `callback` with `recording`, or `None` (see the module)."""
    if recording is None or recording.algorithm_state(concrete=False) is None:
        return None
    method = getattr(type(callback), "apply_curriculum", None)
    if method is None:
        return None
    if any(method is default for default in _defaults()):
        return None
    return Curriculum(callback, recording)


def _defaults() -> tuple[Any, ...]:
    """The API's own `apply_curriculum` (Lerax's, which changes nothing; ours
    has none: `to_lerax` forwards a callback's own)."""
    try:
        from lerax.callback import AbstractCallback
    except ImportError:  # stand-ins: a `lerax_callback` callback
        return ()
    return (getattr(AbstractCallback, "apply_curriculum", None),)
