"""Recorded values as JSON, and back: how profiles keep what an algorithm passes.

`encode` writes a value a real algorithm passed (as `_record` keeps it: arrays as
`jax.ShapeDtypeStruct`s) as plain data, with every array's dtype and shape and
every object's class and fields, so that a profile says exactly what a callback
gets. `decode` makes a value of that structure again without Lerax: arrays of the
recorded shapes and dtypes, optax states as named tuples of the same names and
fields, modules as `equinox.Module`s of the same name and fields, and anything
that cannot be rebuilt (a function, an optimiser's transformations) as an
`Unavailable` whose use says what it was and how to check against the real one.

The format, one node per value:

- an array: `"float32[2,3]"` (`"weak float32[]"` for a weakly typed one);
- a dict: a JSON object of its entries;
- `None`: `null`;
- a Python `bool`, `int`, `float` or `str`: `{"__class__": "int", "value": 3}`;
- a tuple or list: `{"__class__": "tuple", "items": [...]}`;
- a named tuple: `{"__class__": name, "namedtuple": {field: node}}`;
- a dataclass (an `equinox.Module`): `{"__class__": name, "fields": {field: node}}`;
- anything else: `{"__class__": name}`.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import re
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._engine._contexts import MissingContextValue

CLASS = "__class__"
_SCALARS = (bool, int, float, str)
_ARRAY = re.compile(r"^(weak )?([\w<>]+)\[([\d,]*)\]$")


def encode(value: Any, depth: int = 0) -> Any:
    """`value` as JSON-ready data (see the module's docstring for the format)."""
    if depth > 40:  # deeper than any state Lerax passes: keep the class only
        return {CLASS: type(value).__qualname__}
    if value is None:
        return None
    if isinstance(value, Unavailable):  # a decoded stand-in: what it stood for
        return {CLASS: value.kind}
    if isinstance(value, (jax.Array, np.ndarray)):
        value = jax.ShapeDtypeStruct(
            value.shape, value.dtype, weak_type=bool(getattr(value, "weak_type", 0))
        )
    if isinstance(value, jax.ShapeDtypeStruct):
        weak = "weak " if value.weak_type else ""
        return f"{weak}{value.dtype}[{','.join(map(str, value.shape))}]"
    if type(value) in _SCALARS:
        return {CLASS: type(value).__name__, "value": value}
    if isinstance(value, dict):
        return {str(k): encode(v, depth + 1) for k, v in value.items()}
    name = type(value).__qualname__
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):
        items = {f: encode(getattr(value, f), depth + 1) for f in type(value)._fields}
        return {CLASS: name, "namedtuple": items}
    if type(value) in (tuple, list):
        return {CLASS: name, "items": [encode(v, depth + 1) for v in value]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {}
        for field in dataclasses.fields(value):
            if hasattr(value, field.name):
                fields[field.name] = encode(getattr(value, field.name), depth + 1)
        return {CLASS: name, "fields": fields}
    return {CLASS: name}


def array_spec(node: str) -> jax.ShapeDtypeStruct:
    """The `jax.ShapeDtypeStruct` an array node (`"float32[3]"`) stands for."""
    match = _ARRAY.match(node)
    if match is None:
        raise ValueError(f"not an array in a profile: {node!r}")
    weak, dtype, dims = match.groups()
    shape = tuple(int(d) for d in dims.split(",") if d)
    if dtype.startswith("key<"):
        return jax.ShapeDtypeStruct(shape, _key_dtype())
    return jax.ShapeDtypeStruct(shape, jnp.dtype(dtype), weak_type=bool(weak))


@functools.cache
def _key_dtype() -> Any:
    """The dtype of `jax.random.key`'s keys (traced once, not once per key leaf)."""
    return jax.eval_shape(lambda: jax.random.key(0)).dtype


class Unavailable(MissingContextValue):
    """Stands in for a recorded object a profile cannot rebuild without Lerax (a
    function, an optimiser's transformations); any use raises an error naming it,
    where it was and how to check against the real one."""

    __slots__ = ("kind",)

    def __init__(self, kind: str, where: str):
        super().__init__(where, kind)
        object.__setattr__(self, "kind", kind)

    def message(self) -> str:
        return (
            f"`{self.field}` is Lerax's `{self.kind}`, which the stand-in made from "
            "a recorded profile cannot provide without Lerax; install Lerax (Python "
            ">= 3.13) to check the callback against the real algorithm"
        )

    def __repr__(self) -> str:
        return f"<stand-in for Lerax's {self.kind}>"


class StandInModule(eqx.Module):
    """The base of the modules `decode` makes: a recorded module's class name and
    fields, without its methods."""


class AlgorithmStandIn(StandInModule):
    """The base of a recorded algorithm's stand-in: its hyperparameters as fields,
    and the methods callbacks call on an algorithm."""

    def num_iterations(self, total_timesteps: int) -> int:
        """Iterations in `total_timesteps` steps, as every Lerax algorithm counts
        them: `total_timesteps // (num_envs * num_steps)`."""
        return total_timesteps // (self.num_envs * self.num_steps)  # type: ignore[attr-defined]


@functools.cache
def _module_class(name: str, fields: tuple[str, ...], base: type) -> type:
    namespace = {
        "__annotations__": dict.fromkeys(fields, Any),
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"A stand-in for Lerax's `{name}`, made from a recorded profile.",
    }
    return type(name, (base,), namespace)


@functools.cache
def _namedtuple_class(name: str, fields: tuple[str, ...]) -> type:
    cls = collections.namedtuple(name, fields)  # type: ignore[misc]
    cls.__module__ = __name__
    return cls


def decode(node: Any, where: str, algorithm: str = "") -> Any:
    """A value of the structure `node` describes (see the module's docstring), with
    arrays as `jax.ShapeDtypeStruct`s; `where` names it (`ctx.locals['self']`) in
    the message of what cannot be rebuilt; a module of class `algorithm` gets the
    algorithm's methods."""
    if node is None:
        return None
    if isinstance(node, str):
        return array_spec(node)
    if CLASS not in node:
        return {k: decode(v, f"{where}[{k!r}]", algorithm) for k, v in node.items()}
    name = node[CLASS]
    if "value" in node:
        return node["value"]
    if "items" in node:
        items = [
            decode(v, f"{where}[{i}]", algorithm) for i, v in enumerate(node["items"])
        ]
        return items if name == "list" else tuple(items)
    if "namedtuple" in node:
        fields = node["namedtuple"]
        cls = _namedtuple_class(name, tuple(fields))
        return cls(*(decode(v, f"{where}.{k}", algorithm) for k, v in fields.items()))
    if "fields" in node:
        fields = node["fields"]
        base = AlgorithmStandIn if name == algorithm else StandInModule
        cls = _module_class(name, tuple(fields), base)
        return cls(
            **{k: decode(v, f"{where}.{k}", algorithm) for k, v in fields.items()}
        )
    return Unavailable(name, where)
