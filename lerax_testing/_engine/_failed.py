"""Traces that failed, remembered so that they are not traced again.

Under `jit` a method's Python code runs only while it is traced, and tracing
depends only on the structure, shapes and dtypes of the inputs and the values of
their static parts: a call that failed to trace fails the same way for every
input of those shapes. JAX caches a successful trace, never a failed one, so a
callback that fails was traced anew for every example of every check; this memo
makes the failure path cost what the pass path does.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from lerax_callback import _switch

MAX_FAILED_TRACES = 256
"""The most failed traces remembered (`failed_trace`)."""

_FAILED_TRACES: dict[Any, Exception] = {}
"""The error of each jitted call or episode whose tracing failed, by what its
tracing depends on (`trace_key`)."""


def trace_key(*parts: Any) -> Any:
    """What tracing a jitted function on `parts` depends on: their structure, the
    shapes and dtypes of their arrays, the values of everything else, and the
    global switches that change tracing (x64, runtime type checking). `None`
    when some part cannot be hashed."""
    try:
        leaves, treedef = jax.tree_util.tree_flatten(parts)
        shaped = tuple(
            (x.shape, x.dtype, getattr(x, "weak_type", False))
            if isinstance(x, jax.Array | np.ndarray | np.generic)
            else x
            for x in leaves
        )
        key = (treedef, shaped, jax.config.jax_enable_x64, _switch.enabled)
        hash(key)
    except Exception:  # an unhashable static part: no memo, trace as usual
        return None
    return key


def failed_trace(key: Any) -> Exception | None:
    """The error tracing raised before for `key`, if any: under `jit` Python code
    runs only while tracing, so the same call on inputs of the same shapes fails
    the same way, and is not traced again (a failing callback would otherwise be
    traced anew for every example of every check, a cached success never is)."""
    return None if key is None else _FAILED_TRACES.get(key)


def remember_failure(key: Any, error: Exception) -> None:
    """Remember `error` for `key` when tracing raised it: not an error of the
    compiled program at run time (a host callback that raised, `eqx.error_if`),
    which depends on the values."""
    if key is None or isinstance(error, jax.errors.JaxRuntimeError):
        return
    if "EqxRuntimeError" in type(error).__name__:
        return
    if len(_FAILED_TRACES) >= MAX_FAILED_TRACES:
        _FAILED_TRACES.pop(next(iter(_FAILED_TRACES)))
    _FAILED_TRACES[key] = error
