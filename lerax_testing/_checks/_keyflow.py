"""Where PRNG keys flow in a method's jaxpr, for the `prng` check: which key each
random draw consumes, which keys are made from constants alone, and which keys a
method hands back unchanged.

A jaxpr is read as JAX's own key-reuse checker reads one (`random_bits` and
`random_split` consume a key, `random_fold_in` derives one without consuming it,
`random_seed` and `random_wrap` make one), with what that checker leaves out:
raw `uint32[2]` keys (`jax.random.PRNGKey`, a key stored in a state as raw data)
followed through `random_wrap`/`random_unwrap`, keys that depend on no input
(built from literals, closed-over constants or the callback's own fields), and
the lines of the user's code where keys are made and drawn from.

Sub-keys are told apart by where they sit in a split: `k1, k2 = split(key)` are
two keys, and drawing from all of `split(key, n)` at once (under `vmap`) is one
draw from each. A key split again to the same shape gives the same sub-keys, so
`split(key)[0]` in one place and `split(key)[1]` in another are one split. A key
that is picked by a traced index, selected with `jnp.where` or made by a
primitive not known here is a new key of its own, so that a pattern this reading
cannot follow is never reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax
import jax.extend.core as jcore

Where = tuple[Any, ...]
"""The equations a draw or a key was made in, outermost first (a draw inside
`jax.random.normal` is its `random_bits` inside the `jit` of `_normal`)."""


@dataclasses.dataclass(eq=False)
class Origin:
    """One key's material: a key argument, a state leaf, or a key made in the
    method. `constant` when it depends on none of the method's varying inputs;
    `made` where a key made in the method was made; `input` the index of the
    method's input it is, if it is one."""

    constant: bool
    made: Where | None = None
    input: int | None = None


@dataclasses.dataclass(frozen=True)
class KeyRef:
    """A key or an array of keys: its `origin`, and which part of it, as the
    ranges along the leading axis taken one after the other (`()` is all of it).
    `open` when the array still has the axis of the last range."""

    origin: Origin
    region: tuple[tuple[int, int], ...] = ()
    open: bool = False

    def overlaps(self, other: KeyRef) -> bool:
        if self.origin is not other.origin:
            return False
        return all(
            a[0] < b[1] and b[0] < a[1]
            for a, b in zip(self.region, other.region, strict=False)
        )


@dataclasses.dataclass(frozen=True)
class Draw:
    """One consumption of a key: a random draw or a split."""

    key: KeyRef
    where: Where


@dataclasses.dataclass(frozen=True)
class Reuse:
    """`second` consumes (part of) the key `first` consumed; `in_loop` when it is
    one draw in a loop's body, repeated on every pass."""

    first: Draw
    second: Draw
    in_loop: bool = False


@dataclasses.dataclass
class KeyFlow:
    """What `key_flow` finds in one jaxpr."""

    draws: list[Draw] = dataclasses.field(default_factory=list)
    reuses: list[Reuse] = dataclasses.field(default_factory=list)
    constant_draws: list[Draw] = dataclasses.field(default_factory=list)
    outputs: list[KeyRef | None] = dataclasses.field(default_factory=list)
    """Per output of the jaxpr, the key it is, if any."""

    def drawn(self, origin: Origin) -> Draw | None:
        """The first draw from any part of `origin`."""
        return next((d for d in self.draws if d.key.origin is origin), None)


CONSUMING = frozenset({"random_bits", "random_split", "random_gamma"})
FORWARDING = frozenset(
    {
        "convert_element_type",
        "copy",
        "copy_p",
        "device_put",
        "optimization_barrier",
        "sharding_constraint",
        "reshard",
        "layout_constraint",
        "random_unwrap",
        "pvary",
    }
)
"""Primitives whose every output is the key its operand of the same index is."""
RESHAPING = frozenset({"reshape", "broadcast_in_dim", "expand_dims"})
CALLS = ("jaxpr", "call_jaxpr", "fun_jaxpr")
"""The parameters that hold the jaxpr of a call-like primitive (`jit`, custom
derivatives, `checkpoint`)."""


def is_key_type(aval: Any) -> bool:
    dtype = getattr(aval, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


class _Reader:
    """Reads one jaxpr and those inside it, sharing what was drawn so far."""

    def __init__(self) -> None:
        self.flow = KeyFlow()
        # The sub-keys of each key split so far, by the key and the shape.
        self.splits: dict[tuple[KeyRef, tuple[int, ...]], KeyRef] = {}

    def run(
        self,
        jaxpr: jcore.Jaxpr,
        refs: Sequence[KeyRef | None],
        varying: Sequence[bool],
        where: Where,
    ) -> tuple[list[KeyRef | None], list[bool]]:
        """Read `jaxpr` whose inputs are the keys `refs` and vary as `varying`;
        the keys its outputs are, and whether they vary."""
        keys: dict[Any, KeyRef] = {}
        vary: dict[Any, bool] = {}
        for var, ref, v in zip(jaxpr.invars, refs, varying, strict=True):
            vary[var] = v
            if ref is not None:
                keys[var] = ref
        for var in jaxpr.constvars:
            vary[var] = False

        def ref_of(atom: Any) -> KeyRef | None:
            if isinstance(atom, jcore.Literal):
                return None
            return keys.get(atom)

        def varies(atom: Any) -> bool:
            return not isinstance(atom, jcore.Literal) and vary.get(atom, False)

        for eqn in jaxpr.eqns:
            here = (*where, eqn)
            ins = [ref_of(a) for a in eqn.invars]
            in_vary = [varies(a) for a in eqn.invars]
            outs, out_vary = self.equation(eqn, ins, in_vary, here)
            for var, ref, v in zip(eqn.outvars, outs, out_vary, strict=True):
                if isinstance(var, jcore.DropVar):
                    continue
                vary[var] = v
                if ref is None and is_key_type(var.aval):
                    # A key of unknown making: a key of its own.
                    ref = KeyRef(Origin(constant=not v, made=here))
                if ref is not None:
                    keys[var] = ref
        return [ref_of(a) for a in jaxpr.outvars], [varies(a) for a in jaxpr.outvars]

    def split(self, key: KeyRef, shape: tuple[int, ...], where: Where) -> KeyRef:
        """The sub-keys of `key` split to `shape`; a key split again to the same
        shape gives the same sub-keys, with no new draw (`jr.split(key)[0]`
        here and `jr.split(key)[1]` there are the halves of one split)."""
        again = self.splits.get((key, shape))
        if again is not None:
            return again
        self.consume(key, where)
        made = KeyRef(Origin(key.origin.constant, key.origin.made))
        self.splits[(key, shape)] = made
        return made

    def consume(self, ref: KeyRef | None, where: Where) -> None:
        if ref is None:
            return
        draw = Draw(ref, where)
        earlier = next((d for d in self.flow.draws if d.key.overlaps(ref)), None)
        if earlier is not None:
            self.flow.reuses.append(Reuse(earlier, draw))
        if ref.origin.constant:
            self.flow.constant_draws.append(draw)
        self.flow.draws.append(draw)

    def equation(
        self, eqn: Any, ins: list[KeyRef | None], in_vary: list[bool], here: Where
    ) -> tuple[list[KeyRef | None], list[bool]]:
        """The keys an equation's outputs are, and whether they vary; draws
        recorded on the way."""
        name = eqn.primitive.name
        n = len(eqn.outvars)
        anything = any(in_vary)
        plain: tuple[list[KeyRef | None], list[bool]] = ([None] * n, [anything] * n)
        key = ins[0] if ins else None
        if name == "random_split" and key is not None:
            shape = tuple(eqn.params["shape"])
            return [self.split(key, shape, here)], in_vary[:1]
        if name in CONSUMING:
            self.consume(key, here)
            return plain
        if name == "random_wrap" and key is not None:
            # Raw key data (a stored raw key, or one unwrapped before) is the key.
            return [dataclasses.replace(key, open=False)], [in_vary[0]]
        if name in ("random_seed", "random_wrap"):
            return [KeyRef(Origin(constant=not in_vary[0], made=here))], [in_vary[0]]
        if name in ("random_fold_in", "random_clone") and key is not None:
            constant = key.origin.constant and not anything
            return [KeyRef(Origin(constant, key.origin.made))], [anything]
        if name in FORWARDING:
            return list(ins[:n]) + [None] * (n - len(ins)), list(in_vary[:n])
        if name in RESHAPING and key is not None:
            return [dataclasses.replace(key, open=False)], [in_vary[0]]
        if name == "squeeze" and key is not None:
            closes = 0 in eqn.params.get("dimensions", ())
            return [dataclasses.replace(key, open=key.open and not closes)], in_vary[:1]
        if name == "unstack" and key is not None and eqn.params["axis"] == 0:
            # `k1, k2 = split(key)` in newer JAX: each part as `key[i]` takes it.
            shape = eqn.invars[0].aval.shape
            zeros = (0,) * (len(shape) - 1)
            parts = [_take(key, (i, *zeros), (1, *shape[1:]), shape) for i in range(n)]
            return [dataclasses.replace(p, open=False) for p in parts], in_vary[:1] * n
        if name == "slice" and key is not None:
            return [_sliced(key, eqn)], [in_vary[0]]
        if name == "dynamic_slice" and key is not None:
            if all(isinstance(a, jcore.Literal) for a in eqn.invars[1:]):
                starts = tuple(int(a.val) for a in eqn.invars[1:])
                sizes = tuple(eqn.params["slice_sizes"])
                return [_take(key, starts, sizes, eqn.invars[0].aval.shape)], [
                    in_vary[0]
                ]
        if name == "cond":
            return self.cond(eqn, ins, in_vary, here)
        if name in ("scan", "while"):
            return self.loop(eqn, ins, in_vary, here)
        inner = _called(eqn)
        if inner is not None:
            jaxpr, _ = inner
            return self.run(jaxpr, ins, in_vary, here)
        if any(r is not None for r in ins):
            constant = all(r.origin.constant for r in ins if r is not None)
            constant = constant and not anything
            outs = [
                KeyRef(Origin(constant, here)) if is_key_type(v.aval) else None
                for v in eqn.outvars
            ]
            return outs, [anything] * n
        return plain

    def cond(
        self, eqn: Any, ins: list[KeyRef | None], in_vary: list[bool], here: Where
    ) -> tuple[list[KeyRef | None], list[bool]]:
        """Each branch read from what was drawn before the `cond`: one draw per
        branch is one draw, as only one branch runs."""
        before = list(self.flow.draws)
        drawn: list[Draw] = []
        results = []
        for branch in eqn.params["branches"]:
            self.flow.draws = list(before)
            results.append(self.run(branch.jaxpr, ins[1:], in_vary[1:], here))
            drawn += [d for d in self.flow.draws[len(before) :] if d not in drawn]
        self.flow.draws = before + drawn
        outs: list[KeyRef | None] = []
        out_vary = [
            any(vs) or in_vary[0] for vs in zip(*(r[1] for r in results), strict=True)
        ]
        for refs in zip(*(r[0] for r in results), strict=True):
            if all(r == refs[0] for r in refs):
                outs.append(refs[0])
            elif any(r is not None for r in refs):
                constant = all(r is None or r.origin.constant for r in refs)
                outs.append(KeyRef(Origin(constant and not in_vary[0], here)))
            else:
                outs.append(None)
        return outs, out_vary

    def loop(
        self, eqn: Any, ins: list[KeyRef | None], in_vary: list[bool], here: Where
    ) -> tuple[list[KeyRef | None], list[bool]]:
        """A `scan` or `while` body read once: a draw from a key that every pass
        sees (a key closed over, or a carried key passed on unchanged) is drawn
        again on every pass; a draw from a scanned-over array of keys takes one
        of them per pass."""
        params = eqn.params
        if eqn.primitive.name == "scan":
            body = params["jaxpr"].jaxpr
            consts, carries = _scan_counts(params)
            passes_many = params["length"] > 1
            body_ins, body_vary = ins, in_vary
        else:
            body, skip = params["body_jaxpr"].jaxpr, params["cond_nconsts"]
            consts = params["body_nconsts"]
            carries = len(ins) - skip - consts
            passes_many = True
            body_ins, body_vary = ins[skip:], in_vary[skip:]
        start = len(self.flow.draws)
        outs, out_vary = self.run(body, body_ins, body_vary, here)
        carried_in = body_ins[consts : consts + carries]
        kept = {
            id(ref.origin)
            for ref, out in zip(carried_in, outs[:carries], strict=True)
            if ref is not None and ref == out
        }
        every_pass = {id(r.origin) for r in body_ins[:consts] if r is not None} | kept
        if passes_many:
            for draw in self.flow.draws[start:]:
                if id(draw.key.origin) in every_pass:
                    self.flow.reuses.append(Reuse(draw, draw, in_loop=True))
        results: list[KeyRef | None] = []
        for i, ref in enumerate(outs):
            if i < carries and ref is not None and ref == carried_in[i]:
                results.append(ref)
            elif ref is not None:
                results.append(KeyRef(Origin(ref.origin.constant, ref.origin.made)))
            else:
                results.append(None)
        vary = [
            v or (i < carries and body_vary[consts + i]) for i, v in enumerate(out_vary)
        ]
        return results, vary


def _scan_counts(params: dict[str, Any]) -> tuple[int, int]:
    """A `scan`'s numbers of constant and carried operands: parameters of their
    own before JAX 0.11, parts of its operands' layout `ft_in` since."""
    if "num_consts" in params:
        return params["num_consts"], params["num_carry"]
    consts, carry, _ = params["ft_in"].unpack()
    return len(consts), len(carry)


def _sliced(key: KeyRef, eqn: Any) -> KeyRef:
    """The part of `key` a static `slice` takes: a range along the leading
    axis, or a key of its own for any other slice."""
    starts, limits = eqn.params["start_indices"], eqn.params["limit_indices"]
    return _take(
        key,
        tuple(starts),
        tuple(b - a for a, b in zip(starts, limits, strict=True)),
        eqn.invars[0].aval.shape,
    )


def _take(
    key: KeyRef, starts: tuple[int, ...], sizes: tuple[int, ...], shape: tuple[int, ...]
) -> KeyRef:
    if not starts or any(
        s != 0 or n != d
        for s, n, d in zip(starts[1:], sizes[1:], shape[1:], strict=True)
    ):
        return KeyRef(Origin(key.origin.constant, key.origin.made))
    if key.open:
        low, _ = key.region[-1]
        taken = (low + starts[0], low + starts[0] + sizes[0])
        return KeyRef(key.origin, (*key.region[:-1], taken), open=True)
    taken = (starts[0], starts[0] + sizes[0])
    return KeyRef(key.origin, (*key.region, taken), open=True)


def _called(eqn: Any) -> tuple[jcore.Jaxpr, Any] | None:
    """The jaxpr a call-like equation runs on its operands, if it is one."""
    for name in CALLS:
        value = eqn.params.get(name)
        if isinstance(value, jcore.ClosedJaxpr):
            value = value.jaxpr
        if isinstance(value, jcore.Jaxpr) and len(value.invars) == len(eqn.invars):
            if len(value.outvars) == len(eqn.outvars):
                return value, name
    return None


def key_flow(jaxpr: jcore.ClosedJaxpr, varying: Sequence[bool]) -> KeyFlow:
    """Read a method's `jaxpr` whose inputs vary as `varying` (the `key`
    argument, states and contexts do; the callback's own fields do not): its
    draws, the draws that consume a key already consumed, the draws from keys
    made from constants, and the key each output is.

    Every input is a key of its own (a raw `uint32` state leaf becomes one when
    it is wrapped or drawn from), so that an output that is an input, unchanged,
    is known by its origin's `input`."""
    reader = _Reader()
    refs = [KeyRef(Origin(constant=not v, input=i)) for i, v in enumerate(varying)]
    outs, _ = reader.run(jaxpr.jaxpr, refs, varying, ())
    reader.flow.outputs = outs
    return reader.flow
