"""The option table: one `Option` record per option of a conformance run, declared
once with `define_option` (as hypothesis declares its settings), from which the
rest is derived: `check_callback`'s validation, `resolve_settings`' merging, the
accepted `[tool.lerax_testing]` keys, the command's flags, the plugin's
`--lerax-*` options and `lerax_*` ini settings, and the docs' table.

Imports no JAX: pytest loads the plugin, and with it this table, in every run.
"""

from __future__ import annotations

import dataclasses
import os
import random
from collections.abc import Callable
from typing import Any, Literal

from .._checks._registry import CHECKS
from .._engine import MAX_STEPS
from . import _values as v

Python = Literal["setting", "object", "spec or object"]
"""What a value given to `check_callback` is: a `setting` (plain data, resolved
into `Settings`, which crosses process boundaries), an `object` (kept beside the
settings, Python only), or either: a `module:attribute` string is a setting, any
other value an object (an environment made in Python)."""


@dataclasses.dataclass(frozen=True)
class Option:
    """One option, everywhere it can be given.

    **Attributes:**

    - `name`: the keyword of `check_callback`, the field of `Settings`, the key in
        `[tool.lerax_testing]` and (with `lerax_`) the ini setting.
    - `default`: the value when nothing gives one (`None`: decided at run time,
        as `default_text` says).
    - `validate`: `validate(value, what)` gives the value to use or raises
        `InvalidArgument` naming `what` and what is allowed.
    - `help`: one line, for `--help`, the plugin and the docs.
    - `default_text`: the default as the docs show it.
    - `parse`: `parse(text, what)` for the command line and ini files (a list of
        strings when `repeatable`, a bool when `boolean`); `None`: Python only.
    - `flag`: the command's flag, `--lerax-` + the same for the plugin.
    - `metavar`: what the flag takes.
    - `repeatable`: the flag may be given several times (an ini line each).
    - `boolean`: a flag without a value.
    - `merge`: `first` (the first source that gives one wins) or `update` (a
        mapping, each source's items over the last's).
    - `python`: see `Python`.
    - `renamed_from`: old `[tool.lerax_testing]` keys, refused with the new name.
    """

    name: str
    default: Any
    validate: Callable[[Any, str], Any]
    help: str
    default_text: str = ""
    parse: Callable[[Any, str], Any] | None = v.parse_text
    flag: str | None = None
    metavar: str | None = None
    repeatable: bool = False
    boolean: bool = False
    merge: Literal["first", "update"] = "first"
    python: Python = "setting"
    renamed_from: tuple[str, ...] = ()
    environment: Callable[[], Any] | None = None
    """The value the environment gives when no argument or project does (the
    fixed seed in CI), or None."""
    draw: Callable[[], Any] | None = None
    """Draws the value when nothing gives one and `default` is None (a seed)."""

    @property
    def pyproject_key(self) -> str | None:
        """The key in `[tool.lerax_testing]`: every option that can be written
        as text has one (not `training_logs`, a Python object only)."""
        return None if self.parse is None and not self.boolean else self.name

    @property
    def plugin_flag(self) -> str | None:
        return None if self.flag is None else "--lerax-" + self.flag[2:]

    @property
    def ini(self) -> str | None:
        return None if self.flag is None else "lerax_" + self.name

    @property
    def dest(self) -> str:
        """The attribute argparse and pytest store the flag's value under."""
        assert self.flag is not None
        return self.flag[2:].replace("-", "_")

    def check(self, value: Any, what: str | None = None) -> Any:
        """`value` validated (None stays None: not given)."""
        if value is None:
            return None
        return self.validate(value, what or f"`{self.name}`")

    def from_text(self, raw: Any, what: str) -> Any:
        """What a flag or an ini setting gives: `raw` parsed and validated, None
        when it is not given (empty, `False` for a boolean, no items)."""
        if raw is None or raw == "" or raw == [] or (self.boolean and not raw):
            return None
        if self.boolean:
            return True if isinstance(raw, bool) else v.flag(_truth(raw, what), what)
        assert self.parse is not None
        return self.parse(raw, what)


def _truth(text: str, what: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise v.ConfigError(f"{what} must be true or false, got {text!r}.")


OPTIONS: dict[str, Option] = {}
"""Every option, by name, in the order they are documented."""


def define_option(name: str, default: Any, validate: Callable, **fields: Any) -> None:
    """Declare an option once; everything else reads it from `OPTIONS`."""
    if name in OPTIONS:
        raise ValueError(f"option {name!r} is defined twice")
    OPTIONS[name] = Option(name, default, validate, **fields)


CI_SEED = 20261124
"""The seed of a run in CI when none is given, so that CI runs are reproducible."""


def in_ci() -> bool:
    """Whether we run in CI, where a run without a seed uses `CI_SEED`."""
    return bool(os.environ.get("CI")) or "GITHUB_ACTIONS" in os.environ


DEFAULT_MAX_EXAMPLES = 20
DEFAULT_NUM_ENVS = 3
DEFAULT_MAX_STEPS = 6

define_option(
    "checks",
    CHECKS,
    v.select_checks,
    help="the check ids to run",
    default_text="all",
    parse=v.parse_checks,
    flag="--checks",
    metavar="IDS",
)
define_option(
    "skip",
    None,
    v.validate_skip,
    help="checks that do not apply, each with the reason; reported as skipped",
    default_text="none",
    parse=v.parse_skip,
    flag="--skip",
    metavar="CHECK=REASON",
    repeatable=True,
    merge="update",
)
define_option(
    "max_examples",
    DEFAULT_MAX_EXAMPLES,
    v.positive_int,
    help="generated examples per check (some checks take fewer, see the checks)",
    default_text=str(DEFAULT_MAX_EXAMPLES),
    parse=v.parse_positive,
    flag="--max-examples",
    metavar="N",
)
define_option(
    "num_envs",
    DEFAULT_NUM_ENVS,
    v.positive_int,
    help="parallel environments in batched calls (at least 2 for the batched "
    "checks to mean anything)",
    default_text=str(DEFAULT_NUM_ENVS),
    parse=v.parse_positive,
    flag="--num-envs",
    metavar="N",
)
define_option(
    "max_steps",
    DEFAULT_MAX_STEPS,
    v.steps,
    help=f"the longest generated sequence of steps (at most {MAX_STEPS})",
    default_text=str(DEFAULT_MAX_STEPS),
    parse=v.parse_positive,
    flag="--max-steps",
    metavar="N",
    renamed_from=("num_steps",),
)
define_option(
    "seed",
    None,
    v.integer,
    help="the seed of the examples, shown in every report to reproduce a run",
    default_text="random; fixed in CI",
    parse=v.parse_int,
    flag="--seed",
    metavar="SEED",
    environment=lambda: CI_SEED if in_ci() else None,
    draw=lambda: random.SystemRandom().randrange(2**31),
)
define_option(
    "reward_range",
    None,
    v.reward_range,
    help="`(low, high)` bounds of generated rewards",
    default_text="±1e6",
    parse=v.parse_range,
    flag="--reward-range",
    metavar="LOW,HIGH",
)
define_option(
    "allow_nonfinite_rewards",
    False,
    v.flag,
    help="also draw infinite and NaN rewards, to test robustness to a broken "
    "environment",
    default_text="off",
    flag="--allow-nonfinite-rewards",
    boolean=True,
)
define_option(
    "typecheck",
    False,
    v.flag,
    help="switch on `lerax_callback`'s runtime type checking",
    default_text="off",
    flag="--typecheck",
    boolean=True,
)
define_option(
    "context_values",
    None,
    v.context_values,
    help="values of context fields the harness cannot make, e.g. "
    "`algorithm=mypkg.training:make_ppo`",
    default_text="none",
    parse=v.parse_context_values,
    flag="--context-value",
    metavar="FIELD=MODULE:FACTORY",
    repeatable=True,
    merge="update",
    python="object",
)
define_option(
    "env",
    None,
    v.validate_spec,
    help="the environment placed in contexts and run by the reference loop: an "
    "object, or a zero-argument factory",
    default_text="the toy one",
    flag="--env",
    metavar="MODULE:FACTORY",
    python="spec or object",
)
define_option(
    "policy",
    None,
    v.validate_spec,
    help="the policy, likewise",
    default_text="the toy one",
    flag="--policy",
    metavar="MODULE:FACTORY",
    python="spec or object",
)
define_option(
    "algorithms",
    None,
    v.algorithms,
    help="the Lerax algorithms the callback is meant for, named as "
    "`lerax.algorithm`'s modules",
    default_text="every installed one for `lerax.callback` callbacks, none for "
    "ours (named ones without Lerax: stand-ins)",
    parse=v.parse_names,
    flag="--algorithm",
    metavar="NAME",
    repeatable=True,
)
define_option(
    "training_logs",
    None,
    v.anything,
    help="a hypothesis strategy of `{name: float}` training logs",
    default_text="the metrics Lerax's PPO logs",
    parse=None,
    python="object",
)

SETTINGS = tuple(o for o in OPTIONS.values() if o.pyproject_key is not None)
"""The options that are settings, in `Settings` and `[tool.lerax_testing]`."""
