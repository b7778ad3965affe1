"""`lerax_testing._tree`'s carry comparison agrees with what `lax.scan` accepts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import jax
import jax.numpy as jnp
import pytest
from jax import lax

from lerax_testing._tree import diff, scan_promotes

# (initial carry, dtype the scan body returns): weak starts from Python scalars,
# and strong starts, to float and integer bodies of several widths.
STARTS: dict[str, Callable[[], jax.Array]] = {
    "weak-float": lambda: jnp.array(0.0),
    "weak-int": lambda: jnp.array(0),
    "float32": lambda: jnp.zeros((), jnp.float32),
    "int32": lambda: jnp.zeros((), jnp.int32),
    "bool": lambda: jnp.zeros((), bool),
}
BODY_DTYPES = ("float32", "float16", "bfloat16", "int32", "int8", "complex64")


@contextmanager
def _x64(on: bool) -> Iterator[None]:
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", on)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)


def _scan_accepts(start: jax.Array, dtype: str) -> bool:
    def body(carry: jax.Array, _: None) -> tuple[jax.Array, None]:
        return (carry + 1).astype(dtype), None

    try:
        jax.eval_shape(lambda c: lax.scan(body, c, None, length=2), start)
    except TypeError:
        return False
    return True


@pytest.mark.parametrize("x64", [False, True], ids=["x32", "x64"])
@pytest.mark.parametrize("dtype", BODY_DTYPES)
@pytest.mark.parametrize("start", sorted(STARTS))
def test_carry_comparison_matches_lax_scan(start: str, dtype: str, x64: bool) -> None:
    with _x64(x64):
        initial = STARTS[start]()
        output = jax.eval_shape(lambda c: (c + 1).astype(dtype), initial)
        accepted = _scan_accepts(initial, dtype)
        assert (diff(initial, output, carry=True) == []) == accepted
        # Under `jit` the start is an abstract value: the same rule holds.
        abstract = jax.eval_shape(lambda: STARTS[start]())
        assert (diff(abstract, output, carry=True) == []) == accepted


def test_a_test_case_is_accepted_and_one_refused_by_scan() -> None:
    """The table above exercises both outcomes (else it proves nothing)."""
    with _x64(True):
        assert _scan_accepts(jnp.array(0.0), "float32")
        assert not _scan_accepts(jnp.array(0.0), "int32")
        assert scan_promotes(jnp.array(0.0), jnp.zeros((), jnp.float32))


def test_without_carry_a_weak_start_that_changes_dtype_is_a_difference() -> None:
    with _x64(True):
        (difference,) = diff(jnp.array(0.0), jnp.zeros((), jnp.float32))
    assert str(difference) == "state: float64[] -> float32[]"


def test_a_refused_weak_start_is_shown_as_weak() -> None:
    (difference,) = diff(jnp.array(0.0), jnp.zeros((), jnp.int32), carry=True)
    assert str(difference) == "state: float32[] (weak) -> int32[]"
