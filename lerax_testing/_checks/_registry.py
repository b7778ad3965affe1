"""The check registry: one `Check` record per check id, in the order the harness
runs and reports them, and everything else about the checks derived from it: the
public `CHECKS`, the summaries `--list-checks` prints, the table's column headers,
the checks that run the reference loop, how many examples each check takes, the
catch-all advice that `advise` replaces, and which checks' leaves name a state.

Adding a check is one record here, its function in a module of this package, and
its rows in `tests/zoo.py` (a defect and its correct twin).

Imports only the standard library, never JAX: the pytest plugin, `_settings` and
`_config` read the check ids when pytest starts. A record names its function as
`"module:name"` in this package, imported on first use (`Check.resolve`).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import re
from collections.abc import Callable
from typing import Any

FEW_EXAMPLES = 5
"""The examples a check takes when a few show all it can find: one that calls the
methods eagerly (slow, and what it finds shows on any example) or only traces them
(its calls see shapes and dtypes, the same for every example). Also how many
examples a jitted check's second, costlier pass runs (`Subject.beyond_few`)."""

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_FUNCTION = re.compile(r"^_[a-z0-9_]+:check_[a-z0-9_]+$")


@dataclasses.dataclass(frozen=True)
class Check:
    """One conformance check: what the harness, the reports and the docs need to
    know of it.

    **Attributes:**

    - `id`: the check id, part of the public API (`checks=[...]`, `skip={...}`,
        reports, test ids).
    - `function`: `"module:name"` of the function in `lerax_testing._checks` that
        runs the check on a `Subject` and returns its `Failure`s.
    - `summary`: one line, for `--list-checks`.
    - `description`: what the check verifies, for the README's table of checks.
    - `short`: the table's column header, when `id` is longer than four characters.
    - `runs_loop`: it runs the reference training loop, so the environment and
        policy need the loop's methods (`_loop._protocol`), and its failures without
        a method are the loop's.
    - `max_examples`: the most examples it takes (`Subject.examples`); None for
        every example asked for.
    - `fallback_advice`: the advice it attaches when it does not know the cause;
        `advise` replaces it with advice matched to the cause it finds.
    - `leaf_is_state`: a failure's `leaf` names a state or context entry, so that
        failures about one leaf share a cause (a NaN's leaf does not).
    - `finds_state_defects`: a failure with a leaf is a defect of a state itself: a
        cause of the kind `state`, which the loop's bare mismatches join.
    """

    id: str
    _: dataclasses.KW_ONLY
    function: str
    summary: str
    description: str
    short: str | None = None
    runs_loop: bool = False
    max_examples: int | None = None
    fallback_advice: str | None = None
    leaf_is_state: bool = False
    finds_state_defects: bool = False

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"check id {self.id!r} must be a lowercase identifier.")
        if not _FUNCTION.match(self.function):
            raise ValueError(
                f'`{self.id}`: `function` must be `"_module:check_name"` in '
                f'`lerax_testing._checks`, e.g. `"_execution:check_jit"`; got '
                f"{self.function!r}."
            )
        if len(self.label) > 4:
            raise ValueError(
                f"`{self.id}` needs a `short` header of at most four characters "
                f"for the table; got {self.label!r}."
            )
        if self.max_examples is not None and self.max_examples < 1:
            raise ValueError(f"`{self.id}`: `max_examples` must be positive or None.")
        if self.finds_state_defects and not self.leaf_is_state:
            raise ValueError(f"`{self.id}` finds state defects: its leaf is a state's.")

    @property
    def label(self) -> str:
        """The table's column header: `short`, else the id."""
        return self.short or self.id

    def resolve(self) -> Callable[[Any], list[Any]]:
        """The check's function, imported on first use (the check modules import
        JAX)."""
        return _load(self.function)

    def run(self, subject: Any) -> list[Any]:
        """Run the check on `subject`; its `Failure`s."""
        return self.resolve()(subject)


@functools.cache
def _load(function: str) -> Callable[[Any], list[Any]]:
    module, _, name = function.partition(":")
    return getattr(importlib.import_module(f".{module}", __package__), name)


def _registry(*checks: Check) -> dict[str, Check]:
    """The records by id, in the order given; two records of one id, or with one
    column header, are a mistake."""
    table: dict[str, Check] = {}
    for check in checks:
        if check.id in table:
            raise ValueError(f"check id {check.id!r} is registered twice.")
        same = [c.id for c in table.values() if c.label == check.label]
        if same:
            raise ValueError(f"`{check.id}` and `{same[0]}` share {check.label!r}.")
        table[check.id] = check
    return table


REGISTRY: dict[str, Check] = _registry(
    Check(
        "api",
        function="_api:check_api",
        summary="is a complete `AbstractCallback` with recoverable state types",
        description="an equinox Module subclassing `AbstractCallback`, nothing "
        "abstract left, `(self, ctx, *, key)` signatures, state types declared",
    ),
    Check(
        "runs",
        function="_execution:check_runs",
        summary="every method runs eagerly on generated contexts",
        description="every method runs eagerly on generated contexts",
        # Eager calls are slow, and a method that raises does so on any example.
        max_examples=FEW_EXAMPLES,
    ),
    Check(
        "types",
        function="_execution:check_types",
        summary="methods return the declared state types",
        description="methods return the declared state types (`on_training_end`'s "
        "only where training keeps it: the reference loop returns it, Lerax's "
        "`learn()` drops it); `continue_training` a scalar boolean array",
        short="type",
        leaf_is_state=True,
        finds_state_defects=True,
    ),
    Check(
        "jit",
        function="_execution:check_jit",
        summary="every method traces and runs under `jax.jit`",
        description="every method traces and runs under `jax.jit`; tracer errors "
        "explained with the line and the fix",
    ),
    Check(
        "vmap",
        function="_transforms:check_vmap",
        summary="step methods vmap over environments; others take batched states",
        description="step methods vmap over environments and agree with "
        "per-environment calls; other methods take batched and unbatched step states",
        fallback_advice="Write per-environment methods for one environment and let "
        "the algorithm vmap them; call host code through `jax.debug.callback` or "
        '`jax.pure_callback(..., vmap_method="sequential")`; in `on_iteration` '
        "reduce step states with `jnp.sum`/`jnp.mean`, which work batched and "
        "unbatched, instead of indexing environments.",
    ),
    Check(
        "structure",
        function="_structure:check_structure",
        summary="states keep their pytree structure, shapes and dtypes",
        description="states keep their pytree structure, shapes, dtypes and static "
        "parts (weak-type differences that `lax.scan` accepts are fine)",
        short="strc",
        fallback_advice="Give every state leaf a fixed dtype and shape: create it "
        "with an explicit dtype (`jnp.zeros((), jnp.float32)`) and cast updates "
        "back (`(state.x + ctx.reward).astype(state.x.dtype)`); keep static fields "
        "unchanged.",
        leaf_is_state=True,
        finds_state_defects=True,
    ),
    Check(
        "scan",
        function="_structure:check_scan",
        summary="completes the reference training loop",
        description="a training loop of nested `lax.scan`s that calls the callback "
        "as the reference training loop does (no environment stepped) traces "
        "without error, its states carried from step to step and iteration to "
        "iteration, with one environment and several",
        runs_loop=True,
        fallback_advice="Run the `structure`, `jit` and `vmap` checks for the "
        "method and leaf at fault; a `lax.scan` needs states whose structure, "
        "shapes and dtypes never change.",
        leaf_is_state=True,
    ),
    Check(
        "purity",
        function="_purity:check_purity",
        summary="deterministic, eager agrees with jit, no leaks, no in-place changes",
        description="same inputs and key give the same outputs, eagerly and "
        "jitted, which agree; no draw from Python's `random` or NumPy's global "
        "generator; no leaked tracers; neither the callback object nor the "
        "contexts' dicts and lists (`training_log`, `locals`) are changed in place",
        short="pure",
        # Eager calls are slow, and a method that differs from its jitted self, or
        # from itself, does so on any example.
        max_examples=FEW_EXAMPLES,
        leaf_is_state=True,
        finds_state_defects=True,
    ),
    Check(
        "retrace",
        function="_retrace:check_retrace",
        summary="jitted methods do not retrace on new values",
        description="jitted methods are not traced again for new values of the "
        "same shapes",
        short="retr",
        # A retrace follows a change of dtype, weak type or static part, which the
        # first examples already make.
        max_examples=10,
        leaf_is_state=True,
    ),
    Check(
        "finite",
        function="_finite:check_finite",
        summary="no NaN from NaN-free inputs",
        description="no NaN from NaN-free inputs (deliberate infinities are fine), "
        "with the configured environments and with one; the primitive and line "
        "that made it",
        short="fin",
    ),
    Check(
        "typecheck",
        function="_typecheck:check_typecheck",
        summary="jaxtyping annotations hold at run time",
        description="the jaxtyping annotations of state fields and methods hold at "
        "run time",
        short="tchk",
        # Its calls are traced: they see shapes and dtypes, the same every example.
        max_examples=FEW_EXAMPLES,
        leaf_is_state=True,
        finds_state_defects=True,
    ),
    Check(
        "x64",
        function="_structure:check_x64",
        summary="structure and scan also hold with `jax_enable_x64`",
        description="`structure` and `scan` also hold with `jax_enable_x64` on "
        "(float64 rewards, and iteration counts in int64 as Lerax makes them)",
        runs_loop=True,
        leaf_is_state=True,
        finds_state_defects=True,
    ),
    Check(
        "side_effects",
        function="_side_effects:check_side_effects",
        summary="no trace-time-only side effect, no global JAX config change",
        description="no `print`, `logging` call or write to a file (opened in the "
        "method or before, as a logger's handle) that runs only while tracing, in "
        "the methods an algorithm calls in its loops (in `reset` and the training "
        "start and end, called once per training, only a traced value printed as "
        "text); no text formatted from a traced value (an f-string, `str()`, "
        "`format()` or `%`) printed, logged or handed to `jax.debug.print`, with "
        "the line and the fix; no change to JAX's global configuration "
        "(`jax.config.update`)",
        short="side",
    ),
    Check(
        "prng",
        function="_prng:check_prng",
        summary="no PRNG key drawn from twice, made from constants, or kept unsplit",
        description="no PRNG key consumed twice (two draws, or a split and a draw, "
        "from one key), none made from constants (`jax.random.key(0)` in a method, "
        "or a key the callback holds), and no key carried in a state returned "
        "unchanged after a draw; the lines and the split that fixes it",
        # Its calls are traced: they see shapes and dtypes, the same every example.
        max_examples=FEW_EXAMPLES,
        fallback_advice="Draw only from the method's `key` argument or a key "
        "carried in the state, and split a key before each further use: "
        "`k1, k2 = jax.random.split(key)`.",
    ),
    Check(
        "lerax",
        function="_lerax:check_lerax",
        summary="traces through the real `learn()` of each chosen Lerax algorithm",
        description="the callback traces through the real `learn()` of each chosen "
        "Lerax algorithm (Python 3.13 with Lerax; elsewhere stand-ins recorded from "
        "it, for a `lerax_callback` callback that names algorithms): a crash is "
        "reported once, with the algorithms where it happens and where not",
        short="lrax",
    ),
)
"""Every check, by id, in the order the harness runs and reports them."""

CHECKS: tuple[str, ...] = tuple(REGISTRY)
"""Every check id, in the order the harness runs and reports them."""

LOOP_CHECKS: tuple[str, ...] = tuple(c.id for c in REGISTRY.values() if c.runs_loop)
"""The checks that run the reference training loop."""
