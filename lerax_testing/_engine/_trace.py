"""Calling functions by tracing alone, and the key under which `jax.jit` caches them.

Most checks need only what tracing shows: the structure, shapes and dtypes of
what a method returns, the errors raised while tracing (tracer errors, jaxtyping
checks, leaked tracers, `lax.scan`'s carry checks) and the Python side effects
that happen only then. Tracing costs a few milliseconds; compiling costs tens to
hundreds, so a check that traces is nearly free next to one that compiles.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax


def _is_dynamic(x: Any) -> bool:
    """What `eqx.filter_jit` traces (arrays) and what `filter_eval_shape` also
    treats as an array (the shapes a traced call returns)."""
    return eqx.is_array(x) or isinstance(x, jax.ShapeDtypeStruct)


def jit_signature(tree: Any) -> tuple[Any, ...]:
    """What `eqx.filter_jit` keys its compilations on: the tree structure, each
    array's shape, dtype and weak type, and every other leaf by value.

    Two calls whose signatures are equal (`signatures_equal`) share one trace and
    one compilation; a call with a signature not seen before is traced again.
    """
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    parts: list[Any] = []
    for leaf in leaves:
        if _is_dynamic(leaf):
            weak = bool(getattr(leaf, "weak_type", False))
            parts.append(("array", tuple(leaf.shape), str(leaf.dtype), weak))
        else:
            parts.append(("static", type(leaf), leaf))
    return (treedef, tuple(parts))


def signatures_equal(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equality as JAX's cache sees it: static leaves by `==`, a comparison that
    raises or gives no plain truth value counting as different."""
    if a[0] != b[0] or len(a[1]) != len(b[1]):
        return False
    for x, y in zip(a[1], b[1], strict=True):
        if x[0] != y[0] or x[1] != y[1]:
            return False
        try:
            if x[0] == "array":
                same = x[2:] == y[2:]
            else:
                same = bool(x[2] is y[2] or x[2] == y[2])
        except Exception:
            return False
        if not same:
            return False
    return True


def tracing(fn: Callable[..., Any], *, memo: bool = True) -> Callable[..., Any]:
    """`fn` called by tracing only (`eqx.filter_eval_shape`): arrays come back as
    `jax.ShapeDtypeStruct`s, and nothing is compiled or run.

    With `memo`, a call whose `jit_signature` was seen before returns the earlier
    result without tracing again, as `jax.jit` would reuse its trace; without it,
    every call traces (to see what happens while tracing, every time).
    """
    seen: list[tuple[tuple[Any, ...], Any]] = []

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        if memo:
            key = jit_signature(args)
            for known, output in seen:
                if signatures_equal(known, key):
                    return output
        output = eqx.filter_eval_shape(fn, *args)
        if memo:
            seen.append((key, output))
        return output

    return call
