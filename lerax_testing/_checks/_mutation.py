"""Part of the `purity` check: methods must not change what a context holds in place.

An algorithm hands the same `training_log`, `locals` and `opt_state` dicts to later
calls and to other callbacks; Lerax's own `TensorBoardCallback` once wrote
`ctx.training_log["learning_rate"] = ...` into them. Called inline (eagerly, or
traced inside an algorithm's loop) the change leaks into everything that reads the
dict afterwards, and an added key changes the loop's carry; jitted on its own it
changes only a traced copy and is lost.

The check calls every method eagerly (a jitted call cannot touch the caller's
objects) and compares each dict and list reachable from the arguments before and
after the call. When something changed, a second run hands the methods recording
copies of those dicts and lists, whose mutating methods note the user's line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import equinox as eqx
import jax

from .._engine._drive import ARGUMENT_NAMES, Invoker, MethodError, WrappedInvoker, drive
from .._explain._report import Failure
from .._explain._source import source_line
from .._subject import Subject
from ._recording import CONTEXT_FIELDS, Recorder, RecordingInvoker, record

ADVICE = (
    'Copy before changing: `log = {**ctx.training_log, "lr": lr}` or '
    "`log = dict(ctx.training_log)` then change `log` (`[*xs, x]` for a list); "
    "return what later calls need in the callback's state instead of writing it "
    "into the context."
)

_MAX_DEPTH = 8
"""How deep into nested containers and modules the snapshot looks."""


@dataclasses.dataclass(frozen=True)
class Mutation:
    """One in-place change of a container reachable from a method's arguments.

    - `method`: the callback method that made it.
    - `path`: the container, as the user writes it, e.g. `ctx.training_log`.
    - `what`: the change in words, e.g. "adds the key 'lr' to `ctx.training_log`".
    - `leaf`: the entry concerned, e.g. `ctx.training_log['lr']`.
    - `container`: `dict` or `list`.
    """

    method: str
    path: str
    what: str
    leaf: str
    container: str = "dict"


def _children(value: Any) -> Iterator[tuple[str, Any]]:
    """`(path suffix, child)` for the parts of `value` that may hold containers."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"[{k!r}]", v
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield f"[{i}]", v
    elif isinstance(value, eqx.Module):
        for field in dataclasses.fields(value):
            yield f".{field.name}", getattr(value, field.name, None)


def _containers(root: Any, path: str) -> Iterator[tuple[str, dict | list]]:
    """Every dict and list reachable from `root`, with its path, each once."""
    seen: set[int] = set()
    stack = [(path, root, 0)]
    while stack:
        where, value, depth = stack.pop()
        if id(value) in seen or depth > _MAX_DEPTH or isinstance(value, jax.Array):
            continue
        seen.add(id(value))
        if isinstance(value, dict | list):
            yield where, value
        stack.extend((where + s, v, depth + 1) for s, v in _children(value))


Snapshot = list[tuple[str, dict | list, dict | list]]
"""`(path, container, shallow copy)`: the copy holds the values themselves, so
`is` tells a replaced value apart and no id is reused while the snapshot lives."""


def snapshot(method: str, args: tuple[Any, ...]) -> Snapshot:
    """Shallow copies of every dict and list reachable from a call's arguments."""
    out: Snapshot = []
    for name, arg in zip(ARGUMENT_NAMES[method], args, strict=False):
        root = f"ctx.{CONTEXT_FIELDS.get(name, name)}"
        for path, container in _containers(arg, root):
            copy = dict(container) if isinstance(container, dict) else list(container)
            out.append((path, container, copy))
    return out


def self_snapshot(callback: Any) -> Snapshot:
    """Shallow copies of every dict and list the callback itself holds (`self.x`)."""
    out: Snapshot = []
    for path, container in _containers(callback, "self"):
        copy = dict(container) if isinstance(container, dict) else list(container)
        out.append((path, container, copy))
    return out


def changes(method: str, before: Snapshot) -> list[Mutation]:
    """How the containers of `before` differ from their copies now."""
    found: list[Mutation] = []

    def add(path: str, what: str, leaf: str) -> None:
        container = "list" if isinstance(before_of[path], list) else "dict"
        found.append(Mutation(method, path, what, leaf, container))

    before_of = {path: container for path, container, _ in before}

    for path, container, copy in before:
        if isinstance(container, dict) and isinstance(copy, dict):
            for k in sorted(container.keys() - copy.keys(), key=repr):
                add(path, f"adds the key {k!r} to `{path}`", f"{path}[{k!r}]")
            for k in sorted(copy.keys() - container.keys(), key=repr):
                add(path, f"removes the key {k!r} from `{path}`", f"{path}[{k!r}]")
            for k in copy.keys() & container.keys():
                if container[k] is not copy[k]:
                    add(path, f"replaces `{path}[{k!r}]`", f"{path}[{k!r}]")
        elif isinstance(container, list) and isinstance(copy, list):
            kept = all(a is b for a, b in zip(copy, container, strict=False))
            if len(container) > len(copy) and kept:
                add(path, f"appends to `{path}`", f"{path}[{len(copy)}]")
            elif len(container) != len(copy):
                add(
                    path,
                    f"changes the length of `{path}` from {len(copy)} to "
                    f"{len(container)}",
                    path,
                )
            elif not kept:
                pairs = enumerate(zip(copy, container, strict=True))
                i = next(i for i, (a, b) in pairs if a is not b)
                add(path, f"replaces `{path}[{i}]`", f"{path}[{i}]")
    return found


class _WatchingInvoker(WrappedInvoker):
    """Calls through `inner`, comparing the arguments' containers around each call."""

    def __init__(self, inner: Invoker):
        super().__init__(inner)
        self.mutations: list[Mutation] = []

    def __call__(self, method: str, *args: Any) -> Any:
        # `args` starts with the callback itself: its own fields are `purity`'s
        # self-mutation finding, not a context's.
        before = snapshot(method, args[1:]) + self_snapshot(args[0])
        try:
            return self.inner(method, *args)
        finally:
            self.mutations.extend(changes(method, before))


def find_mutations(subject: Subject) -> list[Mutation]:
    """Drive the callback eagerly (unbatched, one fixed example) and return the
    in-place changes its methods make to the containers they receive."""
    watching = _WatchingInvoker(Invoker(jit=False, batched=False))
    try:
        drive(subject.callback, subject.shape_scenario(1), watching, subject.context)
    except MethodError:
        pass  # a method that raises is the `runs` check's finding; keep what we saw
    return watching.mutations


def _locate(subject: Subject) -> Recorder:
    """Run the methods again on recording copies of the containers the contexts
    and the callback itself hold: its `lines` map `(method, container path)` to
    the user's line that first changed it, its `operations` to the change as
    written. Best effort: a callback that cannot run on dict and list subclasses
    just gets no line."""
    recorder = Recorder(subject.callback)
    invoker = RecordingInvoker(Invoker(jit=False, batched=False), recorder)
    callback = record(subject.callback, recorder, "self")
    try:
        drive(callback, subject.shape_scenario(1), invoker, subject.context)
    except Exception:  # the first run found the change; the line is a bonus
        pass
    return recorder


def _line_of(
    lines: dict[tuple[str, str], tuple[str, int] | None], method: str, path: str
) -> tuple[str, int] | None:
    """The line that changed `path` in `method`, else the line that changed the
    nearest container holding it: a list that `setdefault` put into `ctx.locals`
    is new in each recording run, but the line that put it there is known."""
    candidates = [
        (len(p), line)
        for (m, p), line in lines.items()
        if m == method and line is not None and path.startswith(p)
    ]
    return max(candidates)[1] if candidates else None


def mutation_failures(subject: Subject) -> list[Failure]:
    """`purity` failures for methods that change their context's contents in place,
    one per method and container, with the user's line where it can be found."""
    mutations = find_mutations(subject)
    if not mutations:
        return []
    recorder = _locate(subject)
    lines = recorder.lines
    reproducer = subject.reproducer("purity")
    failures: list[Failure] = []
    reported: set[tuple[str, str]] = set()
    for m in mutations:
        if (m.method, m.path) in reported:
            continue
        reported.add((m.method, m.path))
        location = _line_of(lines, m.method, m.path)
        if m.path.startswith("self"):
            operation = recorder.operations.get((m.method, m.path))
            failure = _self_mutation(m, operation, location)
            failures.append(dataclasses.replace(failure, reproducer=reproducer))
            continue
        line = source_line(location)
        where = f" at `{line}`" if line else ""
        failures.append(
            Failure(
                "purity",
                m.method,
                f"`{m.method}` changes its context in place: it {m.what}{where}. "
                "Algorithms hand the same dicts and lists to later calls and other "
                "callbacks, so the change leaks into them wherever the method is "
                "called inline (eagerly, or traced inside the algorithm's own loop; "
                "an added key then breaks the loop's carry), and is lost where it "
                "is jitted on its own.",
                leaf=m.leaf,
                location=location,
                advice=ADVICE,
                reproducer=reproducer,
            )
        )
    return failures


SELF_LIST_ADVICE = (
    "Keep the values in the callback's state instead, in a fixed-size buffer: a "
    "state field started as `jnp.zeros((N,))` with an index started as "
    "`jnp.zeros((), jnp.int32)`, updated as `values=state.values.at[state.index "
    "% N].set(x)`, `index=state.index + 1`; or keep a running statistic "
    "(`mean + (x - mean) / count`) when only a summary is needed."
)
SELF_DICT_ADVICE = (
    "Keep the values in the callback's state instead: one array field per key "
    "(`jnp.zeros(())`, or a fixed-size buffer `jnp.zeros((N,))` updated with "
    "`.at[i].set(x)` and an index), returned as a new state by the method."
)


def _self_mutation(
    mutation: Mutation, operation: str | None, location: tuple[str, int] | None
) -> Failure:
    """The `purity` failure for a method that changes a list or dict the callback
    itself holds, naming the container and the change as written."""
    name = mutation.path.removeprefix("self").lstrip(".")
    wrote = operation or mutation.what
    shown = f"`{wrote}`" if operation else wrote
    if location is not None:
        line = source_line(location)
        shown += f" at line {location[1]}" + (f" (`{line}`)" if line else "")
    message = (
        f"`{mutation.method}`: {shown} changes the callback's own "
        f"{mutation.container} `{name}` in "
        "place; nothing is assigned to `self`, but the callback is a constant of "
        "the training loop: under `jax.jit` the line runs once, while the method "
        "is traced (on a copy, or keeping a tracer), and eagerly on every call, so "
        "what it keeps never reaches the trained program and the callback changes "
        "from one call to the next."
    )
    return Failure(
        "purity",
        mutation.method,
        message,
        leaf=mutation.leaf,
        location=location,
        advice=SELF_LIST_ADVICE if mutation.container == "list" else SELF_DICT_ADVICE,
    )
