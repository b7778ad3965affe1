"""The `prng` check: PRNG keys used as `jax.random` needs them to be.

Each method is traced once to a jaxpr (nothing compiled) and read by `_keyflow`:

- a key consumed twice (two draws, or a split and a draw, from one key) gives
  both draws the same randomness;
- a draw from a key made from constants (`jax.random.key(0)` in a method, or a
  key the callback holds) gives every call, step and environment the same
  numbers, and so does a state that starts from such a key;
- a key carried in a state, drawn from and returned unchanged, gives the next
  call the same numbers again, and so does any key stored after a draw from it
  (the half of a split that was drawn from, the `key` argument).

A key folded with a value that changes (`jax.random.fold_in(jax.random.key(0),
step)`) depends on that value and is not reported: seeding each step from its
count is deterministic on purpose in evaluation code, and what it repeats across
environments is the author's choice.
"""

from __future__ import annotations

import os
from typing import Any

import jax

from .._engine._drive import ARGUMENT_NAMES, Invoker, MethodError, drive, tables
from .._explain._report import Failure
from .._explain._source import class_location, source_line, user_frame
from .._subject import Subject
from ._keyflow import Draw, KeyFlow, KeyRef, Reuse, Where, key_flow

STEP_METHODS = ("step_reset", "on_step")
"""The methods whose state argument and result are step states."""

SPLIT = "`k1, k2 = jax.random.split(key)`"


def check_prng(subject: Subject) -> list[Failure]:
    """`prng` failures: per method, its first key reused, drawn from constants, or
    stored back unchanged after a draw. The methods are traced with one environment
    on the fixed example `drive` traces with: what keys flow where is the same for
    every example."""
    calls: list[Any] = []
    invoker = Invoker(jit=True, batched=False, trace=True)
    try:
        drive(
            subject.callback,
            subject.shape_scenario(1),
            invoker,
            subject.context,
            on_call=calls.append,
        )
    except MethodError:
        return []  # the `jit` check's finding
    table = tables(subject.context.contexts)[0]
    failures: list[Failure] = []
    done: set[str] = set()
    for call in calls:
        if call.method in done:
            continue
        done.add(call.method)
        try:
            read = _read_method(
                call.method, table[call.method], subject.callback, call.args
            )
        except Exception:  # a method that does not trace: other checks report it
            continue
        failures += _failures(call.method, subject.callback, *read)
    return failures


def _read_method(
    method: str, fn: Any, callback: Any, args: tuple[Any, ...]
) -> tuple[KeyFlow, list[str], list[str]]:
    """The key flow of one call of `fn(callback, *args)`, with the names of its
    inputs and outputs (`step_state.key`). Arrays become their shapes and dtypes,
    everything else is closed over; the callback's own arrays do not vary."""
    names = ("self", *ARGUMENT_NAMES[method])
    leaves, treedef = jax.tree_util.tree_flatten_with_path((callback, *args))
    dynamic = [i for i, (_, x) in enumerate(leaves) if _is_array(x)]
    in_names = [names[leaves[i][0][0].idx] + _path(leaves[i][0][1:]) for i in dynamic]
    varying = [leaves[i][0][0].idx != 0 for i in dynamic]
    out_names: list[str] = []

    def flat(*arrays: Any) -> list[Any]:
        values = [x for _, x in leaves]
        for i, a in zip(dynamic, arrays, strict=True):
            values[i] = a
        out = fn(*jax.tree_util.tree_unflatten(treedef, values))
        found = jax.tree_util.tree_flatten_with_path(out)[0]
        out_names[:] = [_path(p) for p, x in found if _is_array(x)]
        return [x for _, x in found if _is_array(x)]

    specs = [_spec(leaves[i][1]) for i in dynamic]
    jaxpr = jax.make_jaxpr(flat)(*specs)
    root = "step_state" if method in STEP_METHODS else "state"
    return key_flow(jaxpr, varying), in_names, [root + n for n in out_names]


def _is_array(x: Any) -> bool:
    return isinstance(x, jax.Array | jax.ShapeDtypeStruct)


def _spec(x: Any) -> jax.ShapeDtypeStruct:
    weak = bool(getattr(x, "weak_type", False))
    return jax.ShapeDtypeStruct(x.shape, x.dtype, weak_type=weak)


def _path(path: tuple[Any, ...]) -> str:
    return jax.tree_util.keystr(tuple(path))


def _failures(
    method: str,
    callback: Any,
    flow: KeyFlow,
    in_names: list[str],
    out_names: list[str],
) -> list[Failure]:
    """At most one failure of each kind for `method`."""
    found: list[Failure] = []
    if flow.reuses:
        found.append(_reuse_failure(method, callback, flow.reuses[0]))
    if flow.constant_draws:
        found.append(_constant_failure(method, callback, flow.constant_draws[0]))
    for name, ref in zip(out_names, flow.outputs, strict=True):
        stale = _stale_failure(method, callback, flow, name, ref, in_names)
        if stale is not None:
            found.append(stale)
            break
    else:
        stored = _stored_constant(method, callback, flow, out_names)
        if stored is not None:
            found.append(stored)
    return found


def _location(where: Where | None, callback: Any) -> tuple[str, int] | None:
    """The user's line of an equation nested in `where` (outermost first): the
    innermost one in the file defining the callback's class, so that a draw in a
    loop's body is its own line rather than the loop's, but none inside a `jit`
    once one is found (a jitted function's jaxpr, `jax.random.normal`'s, is
    traced once and cached, so its lines may be of another call). Without such
    a line, the outermost equation's user line."""
    if not where:
        return None
    own = class_location(callback)
    own_file = os.path.realpath(own[0]) if own else None
    first = best = None
    for eqn in where:
        traceback = getattr(eqn.source_info, "traceback", None)
        frames = (
            [(f.file_name, f.line_num) for f in traceback.frames] if traceback else []
        )
        location = user_frame(frames, callback) if frames else None
        if location is not None:
            first = first or location
            if own_file is not None and os.path.realpath(location[0]) == own_file:
                best = location
        if best is not None and eqn.primitive.name in ("jit", "pjit"):
            break
    return best or first


def _at(location: tuple[str, int] | None) -> str:
    """`line 12 (`noise = jr.normal(key)`)`, or nothing for an unknown line."""
    if location is None:
        return ""
    line = source_line(location)
    return f" at line {location[1]}" + (f" (`{line}`)" if line else "")


def _reuse_failure(method: str, callback: Any, reuse: Reuse) -> Failure:
    second = _location(reuse.second.where, callback)
    if reuse.in_loop:
        return Failure(
            "prng",
            method,
            f"`{method}` draws from the same key on every pass of a loop"
            f"{_at(second)}: each pass gets the same randomness.",
            location=second,
            advice="Give each pass a key of its own: "
            "`jax.random.fold_in(key, i)` with the loop counter, `keys = "
            "jax.random.split(key, n)` indexed by it, or a key carried through "
            "the loop and split on each pass.",
        )
    first = _location(reuse.first.where, callback)
    if first == second:
        where = _at(second)
    else:
        where = f":{_at(first)} and again{_at(second)}"
    return Failure(
        "prng",
        method,
        f"`{method}` draws from one key twice (a split counts as a draw){where}. "
        "Both draws see the same randomness, so their numbers are identical or "
        "correlated.",
        location=second,
        advice=f"Split the key, one sub-key per draw: {SPLIT} (or `keys = "
        "jax.random.split(key, n)`, each used once), and draw again only from "
        "the sub-keys, never from the key that was split.",
    )


def _constant_failure(method: str, callback: Any, draw: Draw) -> Failure:
    made = _location(draw.key.origin.made, callback)
    drawn = _location(draw.where, callback)
    source = (
        f"a key made from constants{_at(made)}"
        if made is not None
        else f"a key made from constants or held by the callback{_at(drawn)}"
    )
    return Failure(
        "prng",
        method,
        f"`{method}` draws from {source}: it depends on neither the `key` "
        "argument nor the state, so every call, every step and every environment "
        "gets the same numbers.",
        location=made or drawn,
        advice="Draw from the method's `key` argument (split it for several "
        f"draws: {SPLIT}), or from a key carried in the state and split on every "
        "call; never build a key with `jax.random.key(0)` or "
        "`jax.random.PRNGKey(0)` inside a method.",
    )


def _stale_failure(
    method: str,
    callback: Any,
    flow: KeyFlow,
    name: str,
    ref: KeyRef | None,
    in_names: list[str],
) -> Failure | None:
    """A key the method returns in its state after drawing from it: a stored key
    returned unchanged, or any key it drew from (the half of a split it drew
    from, the `key` argument) stored for the next call, which draws from it
    again."""
    if ref is None:
        return None
    draw = next((d for d in flow.draws if d.key.overlaps(ref)), None)
    if draw is None:
        return None
    location = _location(draw.where, callback)
    source = in_names[ref.origin.input] if ref.origin.input is not None else None
    if source is not None and not ref.region and _is_state(source):
        return Failure(
            "prng",
            method,
            f"`{method}` draws from the stored key `{source}`{_at(location)} and "
            f"returns it unchanged in `{name}`: the next call draws the same "
            "numbers again.",
            leaf=name,
            location=location,
            advice="Split the stored key, draw with one half and store the other: "
            f"`key, sub = jax.random.split({_in_context(method, source)})`, draw "
            f"from `sub`, and return the state with `{_field(name)}=key`.",
        )
    return Failure(
        "prng",
        method,
        f"`{method}` stores in `{name}` a key it drew from{_at(location)}: the "
        "next call draws from that key again and repeats this call's randomness.",
        leaf=name,
        location=location,
        advice="Split before drawing and store the half that was not drawn from: "
        f"`key, sub = jax.random.split(key)`, draw from `sub`, and return the "
        f"state with `{_field(name)}=key`.",
    )


def _is_state(name: str) -> bool:
    """Whether an input leaf's name is a state's (`step_state.key`), not the
    `key` argument's or a context's."""
    return name.split(".", 1)[0] in ("state", "step_state")


def _in_context(method: str, name: str) -> str:
    """How a method reads an input state leaf: `step_state.key` is `ctx.state.key`
    in `on_step`, and `ctx.step_state.key` in the iteration methods."""
    root, _, rest = name.partition(".")
    if not rest:  # an entry of a dict or list, not a field
        return f"ctx.{name}"
    if root == "step_state" and method not in STEP_METHODS:
        return f"ctx.step_state.{rest}"
    return f"ctx.state.{rest}"


def _field(name: str) -> str:
    """The last field of a leaf path: `key` for `step_state.key`."""
    return name.rsplit(".", 1)[-1]


def _stored_constant(
    method: str, callback: Any, flow: KeyFlow, out_names: list[str]
) -> Failure | None:
    """A state that starts from a key made from constants: every run and every
    environment draws the same stream from it."""
    for name, ref in zip(out_names, flow.outputs, strict=True):
        if ref is None or not ref.origin.constant or ref.origin.made is None:
            continue
        location = _location(ref.origin.made, callback)
        return Failure(
            "prng",
            method,
            f"`{method}` stores a key made from constants{_at(location)} in "
            f"`{name}`: every run and every environment draws the same numbers "
            "from it.",
            leaf=name,
            location=location,
            advice="Store the method's `key` argument, or a half split from it "
            "(`key, sub = jax.random.split(key)`): `State(key=key, ...)`.",
        )
    return None
