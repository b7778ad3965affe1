"""Recording copies of the containers a method receives: dicts and lists (also
inside modules) whose mutating methods note the user's line and the change as
written (`self.history.append(...)`, `ctx.training_log['lr'] = ...`), for the
`purity` check's in-place mutation findings (`_mutation`)."""

from __future__ import annotations

import copy as copying
import dataclasses
import traceback
from typing import Any

import equinox as eqx
import jax

from .._engine._drive import ARGUMENT_NAMES, Invoker, WrappedInvoker
from .._explain._source import user_frame

CONTEXT_FIELDS: dict[str, str] = {
    "loc": "locals",
    "log": "training_log",
    "opt": "opt_state",
    "count": "iteration_count",
    "step_state": "state",  # `on_step`'s own state is `ctx.state`
}
"""The context attribute each call argument becomes, for messages (`ctx.locals`)."""


class Recorder:
    """Notes the user's line of the first change of each container, per method."""

    def __init__(self, callback: Any):
        self.callback = callback
        self.method = ""
        self.lines: dict[tuple[str, str], tuple[str, int] | None] = {}
        self.operations: dict[tuple[str, str], str] = {}

    def note(self, path: str, operation: str) -> None:
        stack = traceback.extract_stack()[:-3]  # drop `note`, `_note` and the dunder
        frames = [(f.filename, f.lineno or 0) for f in reversed(stack)]
        self.lines.setdefault((self.method, path), user_frame(frames, self.callback))
        self.operations.setdefault((self.method, path), operation)


class _Noting:
    """What both recording containers add to their base (`dict` or `list`,
    after this class in their bases): the recorder and the path it is told of."""

    def __init__(self, data: Any, recorder: Recorder, path: str):
        super().__init__(data)  # type: ignore[call-arg]
        self._recorder, self._path = recorder, path

    def _note(self, name: str, args: tuple[Any, ...]) -> None:
        self._recorder.note(self._path, _written(self._path, name, args))


class _RecordingDict(_Noting, dict):  # type: ignore[type-arg]
    """A dict that tells its recorder when it is changed in place."""


class _RecordingList(_Noting, list):  # type: ignore[type-arg]
    """A list that tells its recorder when it is changed in place."""


def _recording(base: type, name: str) -> Any:
    """`base.name`, noting the caller's line first."""
    original = getattr(base, name)

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._note(name, args)
        return original(self, *args, **kwargs)

    method.__name__ = name
    return method


_OPERATORS = {"__iadd__": "+=", "__imul__": "*=", "__ior__": "|="}


def _written(path: str, name: str, args: tuple[Any, ...]) -> str:
    """The change as the user wrote it: `self.history.append(...)`,
    `ctx.training_log['lr'] = ...`, `del self.seen[0]`."""
    key = f"[{args[0]!r}]" if args and name in ("__setitem__", "__delitem__") else ""
    if name == "__setitem__":
        return f"{path}{key} = ..."
    if name == "__delitem__":
        return f"del {path}{key}"
    if name in _OPERATORS:
        return f"{path} {_OPERATORS[name]} ..."
    return f"{path}.{name}(...)"


_DICT_MUTATORS = (
    "__setitem__",
    "__delitem__",
    "__ior__",
    "update",
    "setdefault",
    "pop",
    "popitem",
    "clear",
)
_LIST_MUTATORS = (
    "__setitem__",
    "__delitem__",
    "__iadd__",
    "__imul__",
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "clear",
    "sort",
    "reverse",
)
for _name in _DICT_MUTATORS:
    setattr(_RecordingDict, _name, _recording(dict, _name))
for _name in _LIST_MUTATORS:
    setattr(_RecordingList, _name, _recording(list, _name))

# Registered as pytrees like their bases, so that `jax.tree.map` over a recording
# `training_log` works as over the real one (and gives back a plain container).
jax.tree_util.register_pytree_with_keys(
    _RecordingDict,
    lambda d: ([(jax.tree_util.DictKey(k), d[k]) for k in sorted(d)], sorted(d)),
    lambda keys, children: dict(zip(keys, children, strict=True)),
)
jax.tree_util.register_pytree_with_keys(
    _RecordingList,
    lambda xs: ([(jax.tree_util.SequenceKey(i), x) for i, x in enumerate(xs)], None),
    lambda _, children: list(children),
)


def record(value: Any, recorder: Recorder, path: str) -> Any:
    """`value` with its dicts and lists, also inside modules, replaced by
    recording copies; the originals are left untouched."""
    if isinstance(value, dict):
        data = {k: record(v, recorder, f"{path}[{k!r}]") for k, v in value.items()}
        return _RecordingDict(data, recorder, path)
    if isinstance(value, list):
        items = [record(v, recorder, f"{path}[{i}]") for i, v in enumerate(value)]
        return _RecordingList(items, recorder, path)
    if isinstance(value, eqx.Module):
        return record_module(value, recorder, path)
    return value


def record_module(module: eqx.Module, recorder: Recorder, path: str) -> Any:
    """A shallow copy of `module` whose dict and list fields record changes (a
    state holding a list is changed in place as easily as `ctx.locals`)."""
    fields = {
        f.name: getattr(module, f.name)
        for f in dataclasses.fields(module)
        if hasattr(module, f.name)
    }
    recorded = {n: record(v, recorder, f"{path}.{n}") for n, v in fields.items()}
    if all(recorded[n] is v for n, v in fields.items()):
        return module
    try:
        new = copying.copy(module)
        for name, value in recorded.items():
            object.__setattr__(new, name, value)  # frozen: set as `__init__` does
    except Exception:  # an exotic module: find no line in it rather than break
        return module
    return new


class RecordingInvoker(WrappedInvoker):
    """Calls through `inner` with recording copies of the arguments' containers."""

    def __init__(self, inner: Invoker, recorder: Recorder):
        super().__init__(inner)
        self.recorder = recorder

    def __call__(self, method: str, callback: Any, *args: Any) -> Any:
        self.recorder.method = method
        recorded = tuple(
            record(arg, self.recorder, f"ctx.{CONTEXT_FIELDS.get(name, name)}")
            for name, arg in zip(ARGUMENT_NAMES[method], args, strict=False)
        )
        return self.inner(method, callback, *recorded)
