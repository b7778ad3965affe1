"""What went wrong, read from a `Failure`'s fields, and the fix for it.

The checks attach advice where they know the cause; where they do not (a `runs`
failure, the reference loop failing in `scan`, a plain exception caught by the
`vmap` check), their advice is missing or generic. `advise` classifies a failure by
its message, leaf and expected/found values and returns advice matched to the
cause: tracer conversions, dtype, shape and static-field drift, a state of the
wrong class, an attribute the harness's environment or policy lacks, a missing
key, and plain exceptions by type. Pure text: no JAX (the check registry holds
the checks' catch-all advice, and which checks run the reference loop).
"""

from __future__ import annotations

import re

from .._checks._registry import LOOP_CHECKS, REGISTRY
from ._failure import Failure
from ._widening import (
    becomes_float,
    count_in_integers,
    declare_float,
    whole_float_constant,
)

TRACER_ERRORS: dict[str, tuple[str, str]] = {
    "TracerBoolConversionError": (
        "a Python `if`, `while`, `and`/`or`/`not` or `bool()` on a traced value",
        "Choose between values with `jnp.where(cond, a, b)` or `lax.select`, or "
        "between computations with `lax.cond`, instead of Python control flow.",
    ),
    "TracerIntegerConversionError": (
        "`int()`, `range()` or indexing a Python sequence with a traced value",
        "Keep the value an array: index arrays with it (`x[i]`), use `lax.fori_loop` "
        "or `lax.dynamic_index_in_dim`, not Python `int()`.",
    ),
    "TracerArrayConversionError": (
        "a NumPy conversion (`np.asarray`, `np.*` functions, `.tolist()`) of a "
        "traced value",
        "Use `jax.numpy` instead of NumPy inside callback methods; to hand values "
        "to host code, use `jax.debug.callback`.",
    ),
    "ConcretizationTypeError": (
        "`float()`, `.item()` or another conversion of a traced value to a concrete "
        "Python value",
        "Keep it an array (`jnp` operations, `jnp.where`, `lax.cond`); to print or "
        "log it, use `jax.debug.print` or `jax.debug.callback`.",
    ),
    "UnexpectedTracerError": (
        "a tracer leaked out of a transformation (stored on `self`, in a global or "
        "in a container outside the method)",
        "Return every value through the method's result instead of storing it; keep "
        "host-side state behind `jax.debug.callback`.",
    ),
}
"""`{JAX error class name: (what the user's code did, how to fix it)}`."""

ENV_OPTION = (
    "`check_callback(cb, env=MyEnv(), policy=MyPolicy())` or `--env module:factory`"
)

_EXCEPTION = re.compile(r"(?:raised|fails:) ([A-Z]\w*(?:Error|Exception|Exit))\b")
_DTYPE = re.compile(r"^([a-z]+\d*)\[([\d,]*)\]( \(weak\))?$")
_CLASS = re.compile(r"^[A-Za-z_][\w.]*$")
_NO_ATTRIBUTE = re.compile(r"'(\w+)' object has no attribute '(\w+)'")
_KEY = re.compile(r"KeyError: ('[^']*'|\"[^\"]*\"|\S+)")
_ENV_TYPES = ("Env", "Policy")  # class names that end so: the harness's toy ones

GENERIC_ADVICE = tuple(
    c.fallback_advice for c in REGISTRY.values() if c.fallback_advice is not None
)
"""The checks' catch-all advice (`Check.fallback_advice`): replaced wherever a
cause is known."""


def exception_name(failure: Failure) -> str | None:
    """The exception class a failure reports, by name (also for tracer errors the
    checks describe in words instead of naming)."""
    match = _EXCEPTION.search(failure.message)
    if match:
        return match.group(1)
    for name, (what, _) in TRACER_ERRORS.items():
        if what in failure.message:
            return name
    return None


def drift(failure: Failure) -> str | None:
    """How a state leaf changed between a method's input and output: `dtype`,
    `weak` (a weakly typed start of another kind), `shape`, `static` or `class`;
    None when the failure is no such change."""
    if failure.expected is None or failure.found is None or failure.leaf is None:
        return None
    if failure.check not in ("structure", "x64", "types"):
        return None
    before, after = _DTYPE.match(failure.expected), _DTYPE.match(failure.found)
    if before and after:
        if before.group(1) != after.group(1):
            return "weak" if before.group(3) else "dtype"
        return "shape"
    return "class" if class_change(failure) else "static"


def class_change(failure: Failure) -> bool:
    """Whether `failure` expected one class and found another (a method returning
    a state of the wrong class)."""
    expected, found = failure.expected or "", failure.found or ""
    return bool(_CLASS.match(expected) and _CLASS.match(found)) and expected != found


def leaf_name(path: str) -> str:
    """The last named part of a leaf path: `steps` for `step_state.steps` or
    `carry[0].steps`, `rewards` for `ctx.locals['rewards'][1]`."""
    parts = [p.strip("'\"") for p in re.split(r"[.\[\]]+", path) if p]
    named = [p for p in parts if not p.isdigit()]
    return named[-1] if named else path


def _drift_advice(failure: Failure, kind: str) -> str:
    """The fix for a state leaf that drifted (`drift`'s `kind`): the declared class, a
    start of the right dtype, updates cast back, a fixed shape (or a reduction over
    environments) or a constant static field, naming the user's field."""
    name = f"`{leaf_name(failure.leaf or '')}`"
    expected = failure.expected or ""
    dtype = expected.split("[", 1)[0]
    if kind == "class":
        return (
            f"Return a `{failure.expected}` from `{failure.method}`, as declared, "
            f"not a `{failure.found}`; or declare `{failure.found}` as the callback's "
            "state type if that is the class you mean."
        )
    if kind == "weak":
        return (
            f"Start {name} with the dtype it is updated with, e.g. "
            f"`jnp.zeros((), jnp.{(failure.found or '').split('[', 1)[0]})`: "
            "`jnp.array(0.0)` is a weak float that a `lax.scan` never turns into an "
            "integer."
        )
    if kind == "dtype" and becomes_float(expected, failure.found or ""):
        after = (failure.found or "").split("[", 1)[0]
        constant = whole_float_constant(failure.location)
        if constant:
            return count_in_integers(name, dtype, after, constant)
        return declare_float(name, dtype, after)
    if kind == "dtype":
        return (
            f"Keep {name} {dtype}: cast every update back "
            f"(`new.astype(jnp.{dtype})`); `/`, float constants and float64 rewards "
            "(under x64) change the dtype."
        )
    if kind == "shape":
        if failure.method in _ITERATION_METHODS and _gains_leading_axis(failure):
            return (
                f"{name} took an environment axis ({expected} here becomes "
                f"{failure.found}): `{failure.method}` gets the step states with one "
                "row per environment (axis 0; none with one environment). Reduce "
                f"over environments (`jnp.mean(ctx.step_state.x)`) so that {name} "
                "keeps its shape; a state holding a value per environment changes "
                "shape with their number."
            )
        return (
            f"Give {name} a fixed shape from the start ({expected} here becomes "
            f"{failure.found}): a `lax.scan` carry never changes shape. Keep a "
            "fixed-size buffer (`jnp.roll(x, 1).at[0].set(v)`) rather than "
            "concatenating or appending, and reduce batched values to the shape "
            "the state started with."
        )
    return (
        f"Keep the static field {name} constant (it is part of the pytree's "
        "structure); store a changing value as an array leaf, e.g. "
        "`jnp.zeros((), jnp.int32)`."
    )


_CARRY_DRIFT = re.compile(r"`([^`]+)` ([a-z]+\d*\[[\d,]*\]) -> ([a-z]+\d*\[[\d,]*\])")


_ITERATION_METHODS = (
    "on_iteration",
    "continue_training",
    "on_training_start",
    "on_training_end",
)
"""The methods that get every environment's step states at once."""


def _gains_leading_axis(failure: Failure) -> bool:
    """Whether `found`'s shape is `expected`'s with an axis in front."""
    before, after = (
        _DTYPE.match(failure.expected or ""),
        _DTYPE.match(failure.found or ""),
    )
    if not (before and after):
        return False
    old = [d for d in before.group(2).split(",") if d]
    new = [d for d in after.group(2).split(",") if d]
    return len(new) == len(old) + 1 and new[1:] == old


def _exception_advice(name: str, failure: Failure) -> str:
    """Advice for a plain exception of class `name` raised by callback code."""
    text = failure.message
    if name == "IndexError" and "out of range" in text:
        if failure.method in _ITERATION_METHODS:
            return (
                f"With one environment `{failure.method}` gets the step states "
                "unbatched, with no environment axis, so reading that axis "
                "(`.shape[0]`, `axis=0`, `x[0]`) fails: reduce over every axis with "
                "`jnp.sum`/`jnp.mean` (no `axis=`), which work batched and unbatched, "
                "or count elements with `x.size`."
            )
        return (
            "Per-environment methods get one environment's arrays, with no "
            "environment axis: read the shape the method is given, not a batch's."
        )
    if (
        name == "ValueError"
        and "vmap was requested to map its argument along axis" in text
        and failure.method in _ITERATION_METHODS
    ):
        return (
            f"With one environment `{failure.method}` gets the step states "
            "unbatched, with no environment axis to `jax.vmap` over: reduce them "
            "with `jnp.sum`/`jnp.mean` over every axis, or compute element-wise "
            "(`s.best - s.ret` works batched and unbatched) instead of vmapping."
        )
    if "ordered IO callback" in text or "ordered effects" in text:
        return (
            "The algorithm vmaps per-environment methods, and an ordered host "
            "callback cannot be vmapped: pass `ordered=False` to `io_callback`, or "
            "use `jax.debug.callback`."
        )
    missing = _NO_ATTRIBUTE.search(text)
    if name == "AttributeError" and missing:
        owner, attribute = missing.groups()
        if owner.endswith(_ENV_TYPES):
            return (
                f"The harness's toy `{owner}` has no `{attribute}`; your own "
                f"environment or policy may: pass it with {ENV_OPTION}, or read "
                f"only what every environment has."
            )
        return (
            f"`{owner}` objects have no attribute `{attribute}`: check the name and "
            "which object the line reads it from (`ctx.state`, `ctx.env`, `self`)."
        )
    if name == "KeyError":
        key = _KEY.search(text)
        shown = key.group(1) if key else "the key"
        if "training_log" in text:
            return (
                f"`ctx.training_log` has no {shown}: read it with "
                f"`ctx.training_log.get({shown}, default)`, or pass "
                "`training_logs=` to `check_callback` so the harness generates the "
                "metrics your algorithm logs (from the command or pyproject, "
                "`--context-value training_log=module:factory` gives one fixed log)."
            )
        if "locals" in text:
            return (
                f"`ctx.locals` has no {shown}: it holds the algorithm's local "
                "variables, which differ between algorithms and call sites; read it "
                f"with `ctx.locals.get({shown}, default)`, or give the checks a "
                "`locals` dict with `context_values=` (`--context-value "
                "locals=module:factory`)."
            )
        return f"Check that {shown} exists before reading it, or use `.get(key, x)`."
    if name == "IndexError" and "0-dimensional" in text:
        return (
            "With one environment step states have no environment axis: reduce them "
            "with `jnp.sum`/`jnp.mean`, which work batched and unbatched, instead of "
            "indexing environments (`x[0]`)."
        )
    if name == "NotImplementedError" and "vmap_method" in text:
        return (
            'Pass `vmap_method="sequential"` (or another batching rule) to '
            "`jax.pure_callback`: the algorithm vmaps per-environment methods."
        )
    return _EXCEPTION_ADVICE.get(name, _DEFAULT_EXCEPTION).format(
        name=name, method=f"`{failure.method}`" if failure.method else "the callback"
    )


_DEFAULT_EXCEPTION = (
    "Make {method} handle every context an algorithm may pass: the failing example "
    "shows inputs that make it raise `{name}`."
)
_EXCEPTION_ADVICE = {
    "IndexError": "Check sizes before indexing; state and context arrays have the "
    "shapes of one environment in per-environment methods.",
    "TypeError": "Check the types the line combines: context fields are JAX arrays "
    "(`ctx.reward`, `ctx.done`), states are the declared modules; convert with "
    "`jnp.asarray(...)` and check the arguments' order and names.",
    "ZeroDivisionError": "Divide JAX arrays and guard the divisor "
    "(`x / jnp.maximum(n, 1)` or `jnp.where(n > 0, x / n, 0.0)`); Python `/` on a "
    "zero count raises.",
    "ValueError": "Check the shapes and values the line combines; the failing "
    "example shows inputs that make it raise `ValueError`.",
    "NameError": "Define the name, or import it, in the callback's module.",
    "AssertionError": "An `assert` in {method} failed on these inputs: use "
    "`eqx.error_if` for checks on traced values, and allow every input an algorithm "
    "may pass.",
    "RecursionError": "{method} calls itself (or a method that calls it) without end.",
}


def _scan_advice(failure: Failure) -> str | None:
    """Advice for the reference loop failing, from JAX's error text."""
    text = failure.message
    if "pytree structure" in text or "key sets" in text:
        return (
            "Keep every pytree the loop carries the same from step to step: no "
            "added keys, fields or entries (copy dicts before adding to them), and "
            "static fields that never change."
        )
    if "must have equal types" in text or "must have equal output types" in text:
        if "shapes" in text:
            return _drift_advice(failure, "shape")
        if "bool" in text and "running" in text:
            return (
                "Return a scalar boolean array from `continue_training`: reduce "
                "per-environment values with `jnp.all`/`jnp.any`."
            )
        drifted = _CARRY_DRIFT.search(text)
        if drifted and becomes_float(drifted.group(2), drifted.group(3)):
            name = f"`{leaf_name(drifted.group(1))}`"
            before, after = (drifted.group(i).split("[", 1)[0] for i in (2, 3))
            return declare_float(name, before, after)
        return (
            "Keep every state leaf's dtype: create leaves with an explicit dtype "
            "(`jnp.zeros((), jnp.int32)`) and cast updates back "
            "(`new.astype(state.x.dtype)`)."
        )
    return None


def advise(failure: Failure) -> str | None:
    """Advice matched to what went wrong in `failure`: the check's own when it is
    specific, else one derived from the failure's fields; None when nothing fits."""
    own = failure.advice
    if failure.check == "lerax" and own:
        return own  # already matched to the cause, with the algorithms to name
    generic = own is None or own.startswith(GENERIC_ADVICE)
    name = exception_name(failure)
    loop = failure.check in LOOP_CHECKS and failure.method is None
    if loop and generic and name not in TRACER_ERRORS:
        matched = _scan_advice(failure)
        if matched is not None:
            return matched
    if name in TRACER_ERRORS:
        return own if own and not generic else TRACER_ERRORS[name][1]
    if name == "SystemExit" and own:
        return own
    if name is not None and failure.check != "typecheck":
        return _exception_advice(name, failure)
    kind = drift(failure)
    if kind is not None and (generic or kind == "class"):
        return _drift_advice(failure, kind)
    if (
        failure.check == "typecheck"
        and "numpy.ndarray" in (failure.found or "")
        and "Array" in (failure.expected or "")
    ):
        return (
            "A NumPy array where the annotation asks for a JAX array: make it with "
            "`jax.numpy` (`jnp.zeros((), jnp.float32)`, `jnp.asarray(x)`); under "
            "`jax.jit` it would become one, but eagerly it stays NumPy."
        )
    return own
