"""Comparing pytrees leaf by leaf: paths, shapes, dtypes, weak types, static parts."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def is_arraylike(x: Any) -> bool:
    return isinstance(x, jax.Array | jax.ShapeDtypeStruct | np.ndarray)


def aval_text(x: Any, *, weak: bool = False) -> str:
    """`float32[]`, `int32[3]`, with `(weak)` when asked and weakly typed."""
    if not is_arraylike(x):
        return f"{type(x).__qualname__} {x!r}"[:80]
    dtype = x.dtype
    text = f"{dtype}{list(x.shape)}".replace(", ", ",")
    if weak and getattr(x, "weak_type", False):
        text += " (weak)"
    return text


def is_weak(x: Any) -> bool:
    if isinstance(x, jax.ShapeDtypeStruct):
        return bool(x.weak_type)
    if isinstance(x, jax.Array):
        try:
            return bool(x.weak_type)
        except AttributeError:
            return False
    return False


_WEAK_SCALARS: dict[str, Any] = {"i": 0, "u": 0, "f": 0.0, "c": 0j}
"""A Python scalar of each dtype kind: a weakly typed array promotes as one does."""


def scan_promotes(a: Any, b: Any) -> bool:
    """Whether `lax.scan` accepts `a` as the initial carry of a body returning `b`
    although their dtypes differ.

    `lax.scan` converts a weakly typed initial leaf (`jnp.array(0.0)`, a Python
    scalar) to `jnp.result_type(a, b)` and traces again; the carry then fits when
    that type is `b`'s own. So a weak `float64[]` start (under x64) may become a
    `float32[]` or `bfloat16[]` carry, and a weak `int32[]` one an `int8[]` or a
    `float32[]` carry, but a weak float never becomes an integer, and a strongly
    typed leaf never changes dtype. (JAX's own `_promote_weak_typed_inputs`.)
    """
    if not (is_weak(a) and is_arraylike(b)) or a.shape != b.shape:
        return False
    scalar = _WEAK_SCALARS.get(np.dtype(a.dtype).kind)
    if scalar is None:
        return False
    try:
        return bool(jnp.result_type(scalar, b.dtype) == b.dtype)
    except Exception:  # e.g. strict dtype promotion refusing the pair
        return False


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except Exception:
        return a is b


@dataclasses.dataclass(frozen=True)
class Difference:
    path: str
    before: str
    after: str
    kind: str  # "shape", "dtype", "weak_type", "static", "structure"

    def __str__(self) -> str:
        return f"{self.path}: {self.before} -> {self.after}"


def diff(
    a: Any, b: Any, path: str = "state", *, weak: bool = False, carry: bool = False
) -> list[Difference]:
    """Where `b` differs from `a` as a `lax.scan` carry or a jit input would see it.

    Arrays differ by shape or dtype (and weak type when `weak`); anything else
    (static fields, Python leaves, classes, keys of dicts, lengths of lists)
    differs by value or structure. With `carry`, `a` is an initial carry and `b`
    a body's output: a weakly typed leaf of `a` that `lax.scan` promotes to `b`'s
    dtype is no difference (see `scan_promotes`).
    """
    if is_arraylike(a) and is_arraylike(b):
        if a.shape != b.shape:
            return [Difference(path, aval_text(a), aval_text(b), "shape")]
        if a.dtype != b.dtype and not (carry and scan_promotes(a, b)):
            # Under `carry`, say that a start was weak: it explains why it passed
            # elsewhere, and that it may promote, just not to this dtype.
            before = aval_text(a, weak=carry)
            return [Difference(path, before, aval_text(b), "dtype")]
        if weak and is_weak(a) != is_weak(b):
            return [
                Difference(
                    path, aval_text(a, weak=True), aval_text(b, weak=True), "weak_type"
                )
            ]
        return []
    if is_arraylike(a) or is_arraylike(b):
        return [Difference(path, _describe(a), _describe(b), "structure")]
    if type(a) is not type(b):
        return [
            Difference(path, type(a).__qualname__, type(b).__qualname__, "structure")
        ]
    if isinstance(a, eqx.Module):
        out: list[Difference] = []
        for field in dataclasses.fields(a):
            va = getattr(a, field.name, None)
            vb = getattr(b, field.name, None)
            sub = f"{path}.{field.name}"
            if field.metadata.get("static", False):
                if not _same(va, vb):
                    out.append(Difference(sub, repr(va), repr(vb), "static"))
            else:
                out.extend(diff(va, vb, sub, weak=weak, carry=carry))
        return out
    if isinstance(a, dict):
        if set(a) != set(b):
            return [
                Difference(
                    path,
                    f"keys {sorted(map(str, a))}",
                    f"keys {sorted(map(str, b))}",
                    "structure",
                )
            ]
        return [
            d
            for k in a
            for d in diff(a[k], b[k], f"{path}[{k!r}]", weak=weak, carry=carry)
        ]
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return [
                Difference(path, f"length {len(a)}", f"length {len(b)}", "structure")
            ]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in diff(x, y, f"{path}[{i}]", weak=weak, carry=carry)
        ]
    if a is None and b is None:
        return []
    leaves_a, tree_a = jax.tree_util.tree_flatten(a)
    leaves_b, tree_b = jax.tree_util.tree_flatten(b)
    if jax.tree_util.treedef_is_leaf(tree_a) and jax.tree_util.treedef_is_leaf(tree_b):
        # A Python leaf (a number, a string, a function): static under `filter_jit`.
        if _same(a, b):
            return []
        return [Difference(path, repr(a)[:60], repr(b)[:60], "static")]
    if tree_a != tree_b:
        return [Difference(path, str(tree_a), str(tree_b), "structure")]
    return [
        d
        for i, (x, y) in enumerate(zip(leaves_a, leaves_b, strict=True))
        for d in diff(x, y, f"{path}<{i}>", weak=weak, carry=carry)
    ]


def _describe(x: Any) -> str:
    return aval_text(x) if is_arraylike(x) else type(x).__qualname__


def float_leaves(tree: Any) -> list[tuple[str, Any]]:
    """`(path, array)` for every floating-point array leaf of `tree` (JAX or
    NumPy)."""
    out = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        if isinstance(leaf, jax.Array | np.ndarray) and _inexact(leaf.dtype):
            out.append((jax.tree_util.keystr(path), leaf))
    return out


def first_nan(tree: Any, root: str) -> str | None:
    """The path, under `root`, of the first floating-point leaf of `tree` that
    holds NaN (`state.mean`), or `None`."""
    for path, leaf in float_leaves(tree):
        if has_nan(leaf):
            return root + path
    return None


def has_nan(tree: Any) -> bool:
    """Whether a floating-point array leaf of `tree` (JAX or NumPy) holds NaN;
    read through NumPy, without the paths `float_leaves` makes."""
    return any(
        isinstance(leaf, jax.Array | np.ndarray)
        and _inexact(leaf.dtype)
        and bool(np.isnan(np.asarray(leaf)).any())
        for leaf in jax.tree.leaves(tree)
    )


@functools.lru_cache(maxsize=64)
def _inexact(dtype: Any) -> bool:
    return bool(jnp.issubdtype(dtype, jnp.inexact))


def comparable(x: Any) -> Any:
    """Array leaves as NumPy (keys as their raw data), others unchanged."""
    if isinstance(x, jax.Array):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            x = jax.random.key_data(x)
        return np.asarray(x)
    return x


def first_mismatch(
    a: Any, b: Any, *, rtol: float = 0.0, atol: float = 0.0, path: str = ""
) -> str | None:
    """The first leaf path where `a` and `b` hold different values, or None.

    Float leaves compare within `rtol`/`atol` (NaN equals NaN). The path is made
    only for a mismatch: making one per leaf cost more than comparing them.
    """
    leaves_a, tree_a = jax.tree_util.tree_flatten(a)
    leaves_b, tree_b = jax.tree_util.tree_flatten(b)
    if tree_a != tree_b:
        return f"{path} (structure)"
    for index, (x, y) in enumerate(zip(leaves_a, leaves_b, strict=True)):
        if not same_leaf(comparable(x), comparable(y), rtol=rtol, atol=atol):
            where = jax.tree_util.tree_flatten_with_path(a)[0][index][0]
            return path + jax.tree_util.keystr(where)
    return None


def same_leaf(x: Any, y: Any, *, rtol: float = 0.0, atol: float = 0.0) -> bool:
    """Whether two leaves (made `comparable`) hold the same values: arrays of one
    shape and dtype, floats within `rtol`/`atol` (NaN equals NaN)."""
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        if x.shape != y.shape or x.dtype != y.dtype:
            return False
        if np.array_equal(x, y):  # the usual case, and ten times cheaper
            return True
        if np.issubdtype(x.dtype, np.inexact):
            return bool(np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True))
        return False
    return _same(x, y)


SHOWN_SIZE = 16
"""`pformat_values` shows the values of arrays up to this many elements."""


class _Shape:
    """A leaf that prints as the array it stands for, e.g. `f32[100]`."""

    def __init__(self, array: Any):
        self.text = eqx.tree_pformat(array)

    def __repr__(self) -> str:
        return self.text


def pformat_values(tree: Any) -> str:
    """`eqx.tree_pformat(tree)` with the values of small arrays (counts, flags,
    scalar metrics), and the shapes and dtypes of larger ones."""

    def shown(leaf: Any) -> Any:
        big = isinstance(leaf, jax.Array) and leaf.size > SHOWN_SIZE
        return _Shape(leaf) if big or isinstance(leaf, jax.core.Tracer) else leaf

    return eqx.tree_pformat(jax.tree.map(shown, tree), short_arrays=False)
