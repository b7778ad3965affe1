"""The settings of a conformance run, resolved in one place.

`resolve_settings` merges, in this order of precedence, explicit arguments (of
`check_callback`, the command's options, the plugin's options and ini settings),
`[tool.lerax_testing]` in `pyproject.toml`, the environment (a fixed seed in CI)
and the defaults, and returns one frozen `Settings`. `check_callback`, the command
and the pytest plugin all use it, so an option means the same everywhere.

The command and the plugin load this before knowing whether any callback will be
checked, so it imports no JAX; it may import `_config`, the check registry and
the engine's `MAX_STEPS`, nothing else of ours.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import os
import random
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ._checks._registry import CHECKS
from ._config import (
    ConfigError,
    InvalidArgument,
    ProjectConfig,
    load_project_config,
    validate_skip,
    validate_spec,
)
from ._engine import MAX_STEPS
from ._lerax._choice import validate_algorithms

DEFAULT_MAX_EXAMPLES = 20
DEFAULT_NUM_ENVS = 3
DEFAULT_MAX_STEPS = 6

CI_SEED = 20261124
"""The seed of a run in CI when none is given, so that CI runs are reproducible
(`check_callback`, the pytest plugin and the command all use it)."""

TYPECHECK_VARIABLE = "LERAX_TYPECHECK"
"""Read by `lerax_callback` when it is imported: `1` switches type checking on."""


def in_ci() -> bool:
    """Whether we run in CI, where a run without a seed uses `CI_SEED`."""
    return bool(os.environ.get("CI")) or "GITHUB_ACTIONS" in os.environ


def choose_seed(explicit: int | None, config: ProjectConfig | None) -> tuple[int, str]:
    """The seed of a whole run and where it came from, for the report header.

    An explicit seed wins, then `[tool.lerax_testing] seed`, then the fixed CI seed
    in CI, then a fresh random one.
    """
    if explicit is not None:
        return explicit, "given"  # callers say where from
    if config is not None and config.seed is not None:
        return config.seed, "from [tool.lerax_testing]"
    if in_ci():
        return CI_SEED, "the CI default"
    return random.SystemRandom().randrange(2**31), "random"


def parse_int(text: str, what: str, *, minimum: int = 0) -> int:
    """An integer option, or `ConfigError` saying what was given and what is allowed."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ConfigError(f"{what} must be an integer, got {text!r}.") from None
    if value < minimum:
        raise ConfigError(f"{what} must be at least {minimum}, got {value}.")
    return value


def parse_skip(items: Iterable[str], what: str) -> dict[str, str]:
    """`["x64=never in float64", ...]` as `{check: reason}`, validated.

    `CHECK: REASON` is accepted too, for ini files.
    """
    skip: dict[str, str] = {}
    for item in items:
        item = item.strip()
        if not item:
            continue
        separator = "=" if "=" in item else ":"
        check, found, reason = item.partition(separator)
        if not found:
            raise ConfigError(
                f"{what} takes `CHECK=REASON`, e.g. `x64=never run in float64`; "
                f"got {item!r}, without the reason."
            )
        skip[check.strip()] = reason.strip()
    return validate_skip(skip, what)


def parse_context_values(items: Iterable[str], what: str) -> dict[str, str]:
    """`["algorithm=mypkg:make_ppo", ...]` as `{field: "module:attribute"}`
    (`FIELD = module:attribute` is accepted too, for ini files)."""
    values: dict[str, str] = {}
    for item in items:
        name, found, spec = item.strip().partition("=")
        if not item.strip():
            continue
        if not found or not name.strip() or ":" not in spec:
            raise ConfigError(
                f"{what} takes `FIELD=module:attribute`, e.g. "
                f"`algorithm=mypkg.training:make_ppo`; got {item!r}."
            )
        values[name.strip()] = spec.strip()
    return values


@contextlib.contextmanager
def typechecking() -> Iterator[None]:
    """Switch `lerax_callback`'s runtime type checking on, and off again on exit.

    When `lerax_callback` is not imported yet, this sets `LERAX_TYPECHECK=1` so that
    it starts with checking on (and so do subprocesses, such as pytest-xdist
    workers), without importing JAX now.
    """
    module = sys.modules.get("lerax_callback")
    if module is not None:
        with _enable(module):
            yield
        return
    previous = os.environ.get(TYPECHECK_VARIABLE)
    os.environ[TYPECHECK_VARIABLE] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(TYPECHECK_VARIABLE, None)
        else:
            os.environ[TYPECHECK_VARIABLE] = previous
        module = sys.modules.get("lerax_callback")
        if module is not None:  # imported meanwhile, with checking on: undo it
            _enable(module, False)


def _enable(module: object, on: bool = True) -> contextlib.AbstractContextManager:
    """Call `enable_typechecking(on)`, which switches now and returns a context
    manager restoring the previous setting."""
    enable = getattr(module, "enable_typechecking", None)
    if enable is None:
        raise ConfigError(
            "this version of `lerax_callback` has no runtime type checking "
            "(`lerax_callback.enable_typechecking`); upgrade it or drop the "
            "type-checking option."
        )
    return enable(on)


@dataclasses.dataclass(frozen=True)
class Settings:
    """The resolved settings of a conformance run: every value concrete.

    Plain data, so that it crosses process boundaries (`to_dict`/`from_dict`):
    objects such as a custom environment are named by `module:attribute` specs
    here, and objects passed to `check_callback` go beside it and win.
    """

    seed: int
    seed_source: str = "given"
    checks: tuple[str, ...] = CHECKS
    skip: Mapping[str, str] = dataclasses.field(default_factory=dict)
    project_skip: Mapping[str, str] = dataclasses.field(default_factory=dict)
    max_examples: int = DEFAULT_MAX_EXAMPLES
    num_envs: int = DEFAULT_NUM_ENVS
    max_steps: int = DEFAULT_MAX_STEPS
    reward_range: tuple[float, float] | None = None
    allow_nonfinite_rewards: bool = False
    typecheck: bool = False
    context_values: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """`{field: "module:attribute"}`: values of context fields the harness does not
    generate, named so that they cross process boundaries; see `load_object`."""
    env: str | None = None
    """`module:attribute` of the environment to place in contexts and run the
    reference loop with, instead of the toy one; see `load_object`."""
    policy: str | None = None
    """`module:attribute` of the policy, likewise."""
    algorithms: tuple[str, ...] | None = None
    """The Lerax algorithms the callback is meant for (`None`: its family's
    default, see `_lerax._choice`)."""

    def env_and_policy(self, env: Any = None, policy: Any = None) -> tuple[Any, Any]:
        """`env` and `policy` when given, else the objects `self.env` and
        `self.policy` name, else None (the toy ones)."""
        if env is None and self.env is not None:
            env = load_object(self.env, "the environment (`env`)")
        if policy is None and self.policy is not None:
            policy = load_object(self.policy, "the policy (`policy`)")
        return env, policy

    def resolved_context_values(self) -> dict[str, Any]:
        """`context_values` with each `module:attribute` loaded."""
        return {
            name: load_object(spec, f"the context value of `{name}`")
            for name, spec in self.context_values.items()
        }

    def skips_for(self, callback: Any) -> dict[str, str]:
        """The checks to skip for `callback`, with reasons: the project's, then the
        class's `__conformance_skip__`, then the explicit ones, each over the last."""
        return {**self.project_skip, **class_skips(callback), **self.skip}

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["checks"] = list(self.checks)
        data["skip"] = dict(self.skip)
        data["project_skip"] = dict(self.project_skip)
        data["context_values"] = dict(self.context_values)
        if self.algorithms is not None:
            data["algorithms"] = list(self.algorithms)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Settings:
        values = dict(data)
        values["checks"] = tuple(values.get("checks", CHECKS))
        if values.get("reward_range") is not None:
            values["reward_range"] = tuple(values["reward_range"])
        if values.get("algorithms") is not None:
            values["algorithms"] = tuple(values["algorithms"])
        return cls(**values)


def load_object(spec: str, what: str) -> Any:
    """The object `module:attribute` names, called when it is a function or class
    (a factory), so that `algo:make_algorithm` gives what `make_algorithm()` makes.

    Raises `ConfigError` naming `what`, the spec and the fix.
    """
    import importlib

    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise ConfigError(
            f"{what} must be given as `module:attribute`, e.g. "
            f"`mypkg.training:make_algorithm`; got {spec!r}."
        )
    if os.getcwd() not in sys.path:  # the project's own modules, as `python -m` does
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"{what}: cannot load {spec!r}: {error}") from error
    if is_factory(found):
        try:
            found = found()
        except Exception as error:
            raise ConfigError(
                f"{what}: calling {spec}() raised {type(error).__name__}: {error}; "
                "name a factory that takes no arguments."
            ) from error
    return found


def is_factory(found: Any) -> bool:
    """Whether `load_object` calls what a spec names: a class or a function."""
    return isinstance(found, type) or inspect.isfunction(found)


def class_skips(callback: Any) -> dict[str, str]:
    """A callback class's own `__conformance_skip__ = {check: reason}`, validated."""
    declared = getattr(type(callback), "__conformance_skip__", None)
    if declared is None:
        return {}
    where = f"`{type(callback).__qualname__}.__conformance_skip__`"
    return validate_skip(declared, where)


def _first(*values: Any) -> Any:
    """The first value that is not None (a project setting of 0 still counts)."""
    return next(v for v in values if v is not None)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"`{name}` must be a positive int, got {value!r}.")
    return value


def select_checks(checks: Iterable[str] | None) -> tuple[str, ...]:
    """The check ids to run, in `CHECKS` order; `TypeError`/`ValueError` naming
    what is wrong for a string or an unknown id."""
    if checks is None:
        return CHECKS
    if isinstance(checks, str):
        raise InvalidArgument(
            f"`checks` must be a list of check ids, e.g. `checks=[{checks!r}]`, "
            "not a string."
        )
    wanted = list(checks)
    unknown = [c for c in wanted if c not in CHECKS]
    if unknown:
        raise InvalidArgument(
            f"unknown check id(s) {unknown}; the checks are {', '.join(CHECKS)}."
        )
    return tuple(c for c in CHECKS if c in wanted)


def resolve_settings(
    *,
    checks: Iterable[str] | None = None,
    skip: Mapping[str, str] | None = None,
    max_examples: int | None = None,
    num_envs: int | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    seed_source: str = "given",
    reward_range: tuple[float, float] | None = None,
    allow_nonfinite_rewards: bool = False,
    typecheck: bool = False,
    context_values: Mapping[str, str] | None = None,
    env: str | None = None,
    policy: str | None = None,
    algorithms: Iterable[str] | None = None,
    project: ProjectConfig | bool = True,
) -> Settings:
    """The one place where a run's settings are merged and validated.

    Explicit arguments win, then `[tool.lerax_testing]` (`project=True` reads the
    nearest `pyproject.toml`, `False` ignores it, or pass a `ProjectConfig`), then
    the environment (a fixed seed in CI), then the defaults.

    **Raises:** `TypeError` or `ValueError` (`ConfigError` for a project table)
    that name the bad value and what is allowed.
    """
    if project is True:
        config: ProjectConfig | None = load_project_config()
    elif project is False:
        config = None
    else:
        config = project
    project_skip = dict(config.skip) if config else {}
    explicit_skip = validate_skip(skip, "`skip`")
    max_examples = _positive_int(
        "max_examples",
        _first(max_examples, config and config.max_examples, DEFAULT_MAX_EXAMPLES),
    )
    num_envs = _positive_int(
        "num_envs", _first(num_envs, config and config.num_envs, DEFAULT_NUM_ENVS)
    )
    max_steps = _positive_int(
        "max_steps", _first(max_steps, config and config.num_steps, DEFAULT_MAX_STEPS)
    )
    if max_steps > MAX_STEPS:
        raise InvalidArgument(
            f"`max_steps` must be at most {MAX_STEPS}, got {max_steps}."
        )
    if seed is None:
        seed, seed_source = choose_seed(None, config)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidArgument(f"`seed` must be an int, got {seed!r}.")
    if reward_range is not None:
        low, high = reward_range
        if not low < high:
            raise InvalidArgument(
                f"`reward_range` must be (low, high), got {reward_range}."
            )
        reward_range = (float(low), float(high))
    return Settings(
        seed=seed,
        seed_source=seed_source,
        checks=select_checks(checks),
        skip=explicit_skip,
        project_skip=project_skip,
        max_examples=max_examples,
        num_envs=num_envs,
        max_steps=max_steps,
        reward_range=reward_range,
        allow_nonfinite_rewards=bool(allow_nonfinite_rewards),
        typecheck=bool(typecheck),
        context_values={
            **(dict(config.context_values) if config else {}),
            **dict(context_values or {}),
        },
        env=validate_spec(env, "`env`") or (config.env if config else None),
        policy=validate_spec(policy, "`policy`") or (config.policy if config else None),
        algorithms=_algorithms(algorithms) or (config.algorithms if config else None),
    )


def _algorithms(algorithms: Iterable[str] | None) -> tuple[str, ...] | None:
    """`validate_algorithms`, its error an `InvalidArgument`."""
    try:
        return validate_algorithms(algorithms)
    except (TypeError, ValueError) as error:
        raise InvalidArgument(str(error)) from error
