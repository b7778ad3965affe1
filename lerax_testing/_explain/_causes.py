"""One defect, one entry: a report's failures grouped by root cause.

One Python `if` on a traced value fails `jit`, `vmap`, `structure` and the
reference loop with one environment and with several: five failures, one line to
fix. `group_failures` puts failures that share a cause into one `Cause`, shown
under the check that explains it best with the others as "also breaks". The
per-check results stay as they are (JSON, JUnit and pytest items still fail each
check); only the human renderings show causes.

Failures share a cause when they share any of:

- the user's source line they arose at (`location`);
- a state leaf (by its last name: `steps` in `step_state.steps`, in the loop's
  `carry[0].steps` and in the type checker's "Field `steps`"), for checks about
  states;
- a method with the same expected and found class;
- a class one method returned by mistake and an `AttributeError` on an object of
  that class (the next method reading the state it expected), or the same two
  classes the other way round (a later method returning the declared class);
- a method's return value, for `types` and the type checker's "return value";
- a method's leaked tracer, however each check words it;
- a method's output leaf that differs between calls that should agree (`vmap`
  against each environment alone, `purity` against another call), or a method
  that draws from a global random generator and differs under `vmap`: one source
  of randomness or hidden state outside the key;
- the same message once check names and environment counts are taken out.

A failure of the reference loop (`scan`) that is a state-type mismatch and matches
nothing joins the first cause about states, which explains it; a change of JAX's
global configuration explains the other failures of its method that name neither
a line nor a leaf. Pure: no JAX, nothing but a `Failure`'s fields and the check
registry's records.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from .._checks._registry import LOOP_CHECKS, REGISTRY
from ._advice import advise, class_change, exception_name, leaf_name
from ._failure import Failure

_STATE_CHECKS = tuple(c.id for c in REGISTRY.values() if c.leaf_is_state)
"""Checks whose leaf names a state or context entry, so that a shared leaf is a
shared cause (a NaN leaf or a vmap mismatch leaf is not)."""

_STATE_CAUSES = tuple(c.id for c in REGISTRY.values() if c.finds_state_defects)
"""Checks whose failure with a leaf is a defect of a state itself."""

PREFERRED: dict[str, tuple[str, ...]] = {
    "tracer": ("jit", "vmap", "structure", "types", "runs", "scan", "x64"),
    "exception": ("runs", "jit", "types", "vmap", "structure", "scan", "x64"),
    "vmap": ("vmap", "jit", "structure", "scan"),
    "class": ("types", "structure", "typecheck", "scan"),
    "state": ("structure", "x64", "types", "purity", "typecheck", "retrace", "scan"),
    "config": ("side_effects",),
    "random": ("purity", "vmap"),
}
"""For each kind of cause, the checks that explain it best, best first: a Python
`if` is a `jit` finding, a dtype drift a `structure` one, a plain exception a
`runs` one."""

_FIELD = re.compile(r"^Field `(\w+)` of `")
_PATHS = re.compile(r"`((?:carry\[\d+\])?\.?[\w.\[\]'\"]+)` \S+ -> ")
_KEY_SETS = re.compile(r"the keys that differ: ([\w ,]+)")
_COUNTS = re.compile(
    r"with (?:one|\d+) environments?|over \d+ environments|"
    r"with `jax_enable_x64` on, |the `\w+` check"
)
_FLAG = re.compile(r"^jax_\w+$")  # the leaf of a global JAX configuration change
_MISMATCH = re.compile(r"must have (?:equal|the same)|pytree structure|differ")
_NO_ATTRIBUTE_ON = re.compile(r"'(\w+)' object has no attribute")
_RETURN_VALUE = re.compile(r"^The return value of `[\w.]+` does not match")
_LEAK = re.compile(r"tracer leaked|leaks a tracer")
_DIFFERS = re.compile(r"differs from calling it on each environment|gives different")
_DRAWS = re.compile(r"draws from (?:Python's `random`|NumPy's global)")


def _returned_by_mistake(failure: Failure) -> str | None:
    """The class a method returned instead of the declared one, by name."""
    return (failure.found or "").rsplit(".", 1)[-1] if class_change(failure) else None


def _missing_attribute_on(failure: Failure) -> str | None:
    """The class of the object an `AttributeError` was raised on, by name."""
    if exception_name(failure) != "AttributeError":
        return None
    match = _NO_ATTRIBUTE_ON.search(failure.message)
    return match.group(1) if match else None


@dataclasses.dataclass(frozen=True)
class Cause:
    """One defect: the failure that explains it best, and the others it causes.

    **Attributes:**

    - `failure`: the primary failure, with advice matched to the cause.
    - `others`: the failures of other checks (or other methods, or the loop with
        another number of environments) that the same defect causes.
    """

    failure: Failure
    others: tuple[Failure, ...] = ()

    @property
    def checks(self) -> tuple[str, ...]:
        """Every check this cause fails, the primary's first."""
        seen = [self.failure.check]
        for other in self.others:
            if other.check not in seen:
                seen.append(other.check)
        return tuple(seen)

    @property
    def also_breaks(self) -> list[str]:
        """The other checks, with the method when it differs from the primary's:
        `["vmap", "scan", "typecheck (reset)"]`."""
        out: list[str] = []
        for other in self.others:
            label = other.check
            if other.method and other.method != self.failure.method:
                label += f" ({other.method})"
            if label not in out and label != self.failure.check:
                out.append(label)
        return out


def _leaves(failure: Failure) -> set[str]:
    """The state leaves a failure is about, by last name."""
    if failure.check not in _STATE_CHECKS:
        return set()
    found = {leaf_name(failure.leaf)} if failure.leaf else set()
    field = _FIELD.match(failure.message)
    if field:
        found.add(field.group(1))
    found.update(leaf_name(p) for p in _PATHS.findall(failure.message))
    keys = _KEY_SETS.search(failure.message)
    if keys:
        found.update(k.strip() for k in keys.group(1).split(","))
    return found


def _keys(failure: Failure) -> set[tuple[str, ...]]:
    keys: set[tuple[str, ...]] = {("leaf", name) for name in _leaves(failure)}
    if failure.location is not None:
        keys.add(("at", failure.location[0], str(failure.location[1])))
    if class_change(failure):
        method, expected, found = failure.method, failure.expected, failure.found
        keys.add(("class", str(method), str(expected), str(found)))
        names = {(c or "").rsplit(".", 1)[-1] for c in (expected, found)}
        keys.add(("classes", *sorted(names)))
    for wrong in (_returned_by_mistake(failure), _missing_attribute_on(failure)):
        if wrong is not None:
            keys.add(("returned", wrong))
    if failure.method is not None and (
        failure.check == "types" or _RETURN_VALUE.search(failure.message)
    ):
        keys.add(("return", failure.method))
    if failure.method is not None and _LEAK.search(failure.message):
        keys.add(("leak", failure.method))
    if failure.leaf and failure.check in ("vmap", "purity"):
        if _DIFFERS.search(failure.message):
            keys.add(("differs", str(failure.method), leaf_name(failure.leaf)))
    if (failure.check == "vmap" and _DIFFERS.search(failure.message)) or (
        failure.check == "purity" and _DRAWS.search(failure.message)
    ):
        keys.add(("random", str(failure.method)))
    keys.add(("message", _COUNTS.sub("", failure.message)))
    return keys


def kind(failures: Sequence[Failure]) -> str:
    """What kind of cause a group of failures has: `tracer`, `exception`, `vmap`
    (an exception about batching), `class`, `state`, `config` or `other`."""
    # The loop fails with whatever JAX raises for the defect (a `TypeError` for a
    # carry of another type): its exception names the cause only when alone.
    own = [f for f in failures if f.method is not None] or list(failures)
    names = {exception_name(f) for f in own} - {None}
    if any(f.check == "side_effects" and _FLAG.match(f.leaf or "") for f in failures):
        return "config"
    if any(f.check == "purity" and _DRAWS.search(f.message) for f in failures):
        return "random"
    if names & {
        "TracerBoolConversionError",
        "TracerIntegerConversionError",
        "TracerArrayConversionError",
        "ConcretizationTypeError",
    }:
        return "tracer"
    wrong = {_returned_by_mistake(f) for f in failures} - {None}
    if (
        wrong
        and names == {"AttributeError"}
        and all(_missing_attribute_on(f) in wrong for f in own if exception_name(f))
    ):
        return "class"  # the wrong class returned, and what reading it broke
    if names:
        vmap = any("vmap" in f.message and f.check != "vmap" for f in failures)
        return "vmap" if vmap else "exception"
    if any(class_change(f) for f in failures):
        return "class"
    if any(f.check in _STATE_CAUSES and f.leaf for f in failures):
        return "state"
    return "other"


def _primary(group: list[Failure]) -> Failure:
    order = PREFERRED.get(kind(group), ())

    def rank(item: tuple[int, Failure]) -> tuple[int, int]:
        index, failure = item
        preferred = order.index(failure.check) if failure.check in order else len(order)
        return (preferred, index)

    return min(enumerate(group), key=rank)[1]


def _union(failures: Sequence[Failure]) -> list[list[Failure]]:
    """The failures in groups that share a key (`_keys`), by union-find."""
    owner: dict[tuple[str, ...], int] = {}
    parent = list(range(len(failures)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for index, failure in enumerate(failures):
        for key in _keys(failure):
            if key in owner:
                parent[find(index)] = find(owner[key])
            else:
                owner[key] = index
    by_root: dict[int, list[Failure]] = {}
    for index, failure in enumerate(failures):
        by_root.setdefault(find(index), []).append(failure)
    return list(by_root.values())


def _absorb(groups: list[list[Failure]]) -> list[list[Failure]]:
    """Join loop-only state mismatches to the first cause about states, and the
    failures a global configuration change explains to that change."""
    state = next((g for g in groups if any(f.check in _STATE_CAUSES for f in g)), None)
    config = [g for g in groups if kind(g) == "config"]
    kept: list[list[Failure]] = []
    for group in groups:
        loop_only = all(f.check in LOOP_CHECKS and f.method is None for f in group)
        if (
            state is not None
            and group is not state
            and loop_only
            and all(_MISMATCH.search(f.message) for f in group)
        ):
            state.extend(group)
            continue
        target = next(
            (
                c
                for c in config
                if c is not group
                and all(
                    f.location is None
                    and f.leaf is None
                    and f.method in {m.method for m in c}
                    for f in group
                )
            ),
            None,
        )
        if target is not None:
            target.extend(group)
            continue
        kept.append(group)
    return kept


def group_failures(failures: Sequence[Failure]) -> list[Cause]:
    """The causes behind `failures` (a report's, in check order), in the order of
    their first failure; each primary failure carries advice matched to its cause
    (`advise`)."""
    causes = []
    for group in _absorb(_union(failures)):
        primary = _primary(group)
        others = tuple(f for f in group if f is not primary)
        advice = advise(primary)
        causes.append(Cause(dataclasses.replace(primary, advice=advice), others))
    return causes
