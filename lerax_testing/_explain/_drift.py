"""Where a state leaf's dtype or shape changed: the user's line that made it.

A drift shows as a difference between the state a method received and the one it
returned, which names the leaf but not the line. The method's jaxpr knows: the
equation that produces the leaf carries the source location of the user's code
that wrote it (an addition with a float, a division, a `jnp.where`). Tracing only:
nothing is compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax

from ._source import user_frame


def _is_abstract_array(x: Any) -> bool:
    return isinstance(x, jax.Array | jax.ShapeDtypeStruct)


def drift_location(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    callback: Any,
    start: Any,
) -> tuple[str, int] | None:
    """The user's line that made the first leaf of `fn(callback, *args)`'s output
    whose dtype or shape differs from `start`'s leaf at the same place.

    `args` may hold arrays or `jax.ShapeDtypeStruct`s. Best effort: `None` when
    the structures differ, nothing differs, or no user frame is recorded.
    """
    try:
        dynamic, static = eqx.partition(args, _is_abstract_array)

        def call(dynamic: Any) -> Any:
            return fn(callback, *eqx.combine(dynamic, static))

        closed, out_shape = jax.make_jaxpr(call, return_shape=True)(dynamic)
        out_leaves = jax.tree.leaves(out_shape)
        start_leaves = [x for x in jax.tree.leaves(start) if _is_abstract_array(x)]
        if len(out_leaves) != len(start_leaves):
            return None
        index = next(
            i
            for i, (a, b) in enumerate(zip(start_leaves, out_leaves, strict=True))
            if a.dtype != b.dtype or a.shape != b.shape
        )
        var = closed.jaxpr.outvars[index]
        producer = next(
            (e for e in closed.jaxpr.eqns if any(v is var for v in e.outvars)), None
        )
        if producer is None:
            return None
        traceback = producer.source_info.traceback
        if traceback is None:
            return None
        frames = [(f.file_name, f.line_num) for f in traceback.frames]
        return user_frame(frames, callback)
    except Exception:  # locating is a bonus: the drift itself is the finding
        return None
