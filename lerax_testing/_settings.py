"""The settings of a conformance run, resolved in one place.

`resolve_settings` merges, in this order of precedence, explicit arguments (of
`check_callback`, the command's options, the plugin's options and ini settings),
`[tool.lerax_testing]` in `pyproject.toml`, the environment (a fixed seed in CI)
and the defaults, and returns one frozen `Settings`. `check_callback`, the command
and the pytest plugin all use it, so an option means the same everywhere.

The command and the plugin load this before knowing whether any callback will be
checked, so it imports no JAX; it may import `_config`, the option table
(`_options`) and the check registry, nothing else of ours. Which options there
are, their defaults and what they accept is the option table's, not this module's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from ._checks._registry import CHECKS
from ._config import ProjectConfig, load_project_config
from ._options import (
    CI_SEED as CI_SEED,
    DEFAULT_MAX_EXAMPLES as DEFAULT_MAX_EXAMPLES,
    DEFAULT_MAX_STEPS as DEFAULT_MAX_STEPS,
    DEFAULT_NUM_ENVS as DEFAULT_NUM_ENVS,
    OPTIONS as OPTIONS,
    SETTINGS as SETTINGS,
    ConfigError as ConfigError,
    InvalidArgument as InvalidArgument,
    in_ci as in_ci,
)
from ._options._values import (
    select_checks as select_checks,
    validate_skip,
)

TYPECHECK_VARIABLE = "LERAX_TYPECHECK"
"""Read by `lerax_callback` when it is imported: `1` switches type checking on."""


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


def split_arguments(given: Mapping[str, Any]) -> tuple[dict, dict]:
    """Python arguments by option name, split as `OPTIONS` says: the settings,
    for `resolve_settings`, and the objects that go beside them (`run_checks`'
    keywords), such as an environment made in Python."""
    settings: dict[str, Any] = {}
    objects: dict[str, Any] = {}
    for name, value in given.items():
        option = OPTIONS.get(name)
        if option is None:
            raise InvalidArgument(
                f"unknown option `{name}`; the options are {', '.join(OPTIONS)}."
            )
        spec = isinstance(value, str) or value is None
        if option.python == "object" or (option.python != "setting" and not spec):
            objects[name] = value
        else:
            settings[name] = value
    return settings, objects


def resolve_settings(
    *, seed_source: str = "given", project: ProjectConfig | bool = True, **given: Any
) -> Settings:
    """The one place where a run's settings are merged and validated, option by
    option as `OPTIONS` declares them.

    `given` holds the explicit values by option name (None: not given), which win;
    then `[tool.lerax_testing]` (`project=True` reads the nearest `pyproject.toml`,
    `False` ignores it, or pass a `ProjectConfig`), then the environment (a fixed
    seed in CI), then the defaults. Mappings (`skip`, `context_values`) add up,
    each source's items over the last's; the project's skips are kept apart, for
    a callback class's own to go between.

    **Raises:** `InvalidArgument` (`ConfigError` for a project table) naming the
    option, the bad value and what is allowed.
    """
    settings_names = {option.name for option in SETTINGS}
    unknown = sorted(set(given) - settings_names)
    if unknown:
        raise InvalidArgument(
            f"unknown option(s) {unknown}; the options are {sorted(settings_names)}."
        )
    if project is True:
        config = load_project_config()
    elif project is False:
        config = ProjectConfig()
    else:
        config = project
    values: dict[str, Any] = {}
    for option in SETTINGS:
        explicit = option.check(given.get(option.name))
        if option.boolean and not explicit:
            explicit = None  # as a flag: off unless some source switches it on
        from_project = config.values.get(option.name)
        source = seed_source
        if option.name == "skip":  # the project's kept apart: see `skips_for`
            values["skip"] = explicit or {}
            values["project_skip"] = from_project or {}
        elif option.merge == "update":
            values[option.name] = {**(from_project or {}), **(explicit or {})}
        elif explicit is not None:
            values[option.name] = explicit
        elif from_project is not None:
            values[option.name], source = from_project, "from [tool.lerax_testing]"
        elif option.environment is not None and option.environment() is not None:
            values[option.name], source = option.environment(), "the CI default"
        elif option.default is None and option.draw is not None:
            values[option.name], source = option.draw(), "random"
        else:
            values[option.name] = option.default
        if option.name == "seed":  # only the seed says where it came from
            values["seed_source"] = source
    return Settings(**values)
