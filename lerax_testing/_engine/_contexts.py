"""Contexts of a callback's own API family, built from the context classes' fields.

A callback written against `lerax_callback` gets `lerax_callback`'s context classes
and one written against `lerax.callback` gets Lerax's, per callback. Contexts are
made by field name rather than by position, so a release that adds fields (Lerax's
`algorithm` on `IterationContext` and `TrainingContext`) still works: fields the
harness knows get generated values, a field it does not know gets the value the
user passes in `context_values`, else a `MissingContextValue` whose use fails with
a message naming the field and that option.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
from jax.dtypes import canonicalize_dtype

from lerax_callback._family import OURS, CallbackApi


def count_dtype() -> Any:
    """The dtype iteration counts come in: JAX's default integer, as Lerax counts
    (`jnp.array(0, dtype=int)`), so int64 under x64 (read when called, as x64 can
    be switched on later)."""
    return canonicalize_dtype(int)


def zero_count() -> Any:
    """An iteration count of zero, in `count_dtype`."""
    return jnp.zeros((), count_dtype())


KNOWN_FIELDS = frozenset(
    {
        "state",
        "step_state",
        "env",
        "policy",
        "done",
        "reward",
        "iteration_count",
        "total_timesteps",
        "opt_state",
        "training_log",
        "locals",
    }
)
"""The context fields the harness generates values for."""

OURS_RECORDED = ("opt_state", "locals")
"""What a `lerax_callback` callback's contexts take from a recorded algorithm: the
environment and policy stay the reference loop's, which drives them."""

CONTEXT_VALUES_HELP = (
    "pass it with `context_values={{{name!r}: value}}` (command: `--context-value "
    "{name}=module:factory`; pyproject: `[tool.lerax_testing] context_values`)"
)


class MissingContextValueError(AttributeError):
    """A callback used a context field the harness has no value for; the message
    names the field and how to pass a value (`context_values`)."""


MissingContextValueError.__module__ = "lerax_testing"


class MissingContextValue:
    """Stands in for a context field the harness cannot generate.

    Static under `jax.jit` (it is no array), and any use of it (an attribute, a
    call, an index, arithmetic, truth) raises `MissingContextValueError` naming the
    field and how to pass a value.
    """

    __slots__ = ("field", "context")

    def __init__(self, field: str, context: str):
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "context", context)

    def _fail(self, *_: Any, **__: Any) -> Any:
        raise MissingContextValueError(self.message())

    def message(self) -> str:
        return (
            f"`ctx.{self.field}` of `{self.context}` has no value here; "
            + CONTEXT_VALUES_HELP.format(name=self.field)
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # protocol probes (copy, pickle, JAX)
        self._fail()

    def __repr__(self) -> str:
        return f"<no value for ctx.{self.field}: pass context_values>"

    __call__ = __getitem__ = __iter__ = __len__ = __bool__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail
    __truediv__ = __rtruediv__ = __lt__ = __le__ = __gt__ = __ge__ = _fail
    __array__ = __jax_array__ = __float__ = __int__ = __index__ = _fail


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, bool], ...]:
    """`(name, required)` for each field `cls.__init__` takes."""
    found = []
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        required = (
            field.default is dataclasses.MISSING
            and field.default_factory is dataclasses.MISSING
        )
        found.append((field.name, required))
    return tuple(found)


def context_fields(api: CallbackApi) -> dict[str, tuple[str, ...]]:
    """`{context class name: its fields}` for the contexts `api`'s callbacks
    receive, to say which fields `context_values` may name."""
    return {
        f"{api.name}.{cls.__qualname__}": tuple(name for name, _ in _fields(cls))
        for cls in api.contexts.values()
    }


@dataclasses.dataclass(frozen=True, eq=False)
class ContextBuilder:
    """Makes the contexts of one callback: its family's classes, its values.

    - `api`: the callback's API family (`lerax_callback._family.callback_api`).
    - `values`: `{field: value}` for fields the harness does not generate (or to
        override one it does, such as `env`).
    - `recording`: what a real Lerax algorithm passed each method (its `env`,
        `policy`, `opt_state`, `algorithm` and `locals`, see
        `_lerax._record.Recording`; a `lerax_callback` callback takes only
        `OURS_RECORDED`), or `None` for the reference loop's values.
    """

    api: CallbackApi = OURS
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    recording: Any = None

    # Equal when they make the same contexts, so that `jax.jit`, which sees a
    # builder as a static argument, reuses its compilations across equal builders.
    def _identity(self) -> tuple[Any, ...]:
        values = tuple(sorted((k, id(v)) for k, v in self.values.items()))
        return (id(self.api), values, id(self.recording))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ContextBuilder) and self._identity() == other._identity()
        )

    def __hash__(self) -> int:
        return hash(self._identity())

    def make(self, kind: str, method: str, **known: Any) -> Any:
        """`method`'s context, of kind `kind` (`reset`, `step`, `iteration`,
        `training`), from the user's values, then what the recorded algorithm
        passed `method`, then the generated `known` values, then placeholders."""
        cls = self.api.contexts[kind]
        if self.recording is not None:
            recorded = self.recording.context_values(method)
            if self.api is OURS:  # ours keep the environment and policy the loop drives
                recorded = {k: v for k, v in recorded.items() if k in OURS_RECORDED}
            known.update(recorded)
        kwargs = {}
        for name, required in _fields(cls):
            if name in self.values and name not in ("state", "step_state"):
                kwargs[name] = self.values[name]
            elif name in known:
                kwargs[name] = known[name]
            elif required:
                kwargs[name] = MissingContextValue(name, cls.__qualname__)
        return cls(**kwargs)

    def unknown_fields(self) -> dict[str, tuple[str, ...]]:
        """`{context class name: fields}` the harness has no value for."""
        out = {}
        for cls in self.api.contexts.values():
            missing = tuple(
                name
                for name, required in _fields(cls)
                if required and name not in KNOWN_FIELDS and name not in self.values
            )
            if missing:
                out[cls.__qualname__] = missing
        return out
