"""Project-wide settings from `[tool.lerax_testing]` in `pyproject.toml`.

```toml
[tool.lerax_testing]
max_examples = 30
num_envs = 3
seed = 1234
skip = { x64 = "our environments never run in float64" }
context_values = { algorithm = "mypkg.training:make_algorithm" }
env = "mypkg.envs:make_env"        # the environment and policy placed in contexts
policy = "mypkg.envs:make_policy"  # and run by the reference loop (a factory is called)
```
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._checks._registry import CHECKS
from ._lerax._choice import validate_algorithms

_KEYS = {
    "max_examples",
    "num_envs",
    "num_steps",
    "seed",
    "skip",
    "context_values",
    "env",
    "policy",
    "algorithms",
}


class InvalidArgument(TypeError, ValueError):
    """An argument, option or setting the toolkit cannot use, with what to change.

    Raised before any check runs, by `check_callback`, the command (which exits
    with status 2) and the pytest plugin alike. It is both a `TypeError` and a
    `ValueError`, so code that caught either before still does.
    """


InvalidArgument.__module__ = "lerax_testing"


class ConfigError(InvalidArgument):
    """A `[tool.lerax_testing]` table that cannot be used; says what to change."""


ConfigError.__module__ = "lerax_testing"


@dataclasses.dataclass(frozen=True)
class ProjectConfig:
    """The `[tool.lerax_testing]` settings of one project, validated."""

    path: Path | None = None
    max_examples: int | None = None
    num_envs: int | None = None
    num_steps: int | None = None
    seed: int | None = None
    skip: dict[str, str] = dataclasses.field(default_factory=dict)
    context_values: dict[str, str] = dataclasses.field(default_factory=dict)
    env: str | None = None
    policy: str | None = None
    algorithms: tuple[str, ...] | None = None


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest `pyproject.toml` at or above `start` (default: the working dir)."""
    here = (start or Path(os.getcwd())).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def validate_skip(skip: Any, where: str) -> dict[str, str]:
    """Check a `{check id: reason}` mapping; a reason must be given for each check."""
    if skip is None:
        return {}
    if isinstance(skip, list | tuple | set | frozenset):
        raise ConfigError(
            f"{where} must map each check id to the reason it is skipped, e.g. "
            f'`{{"x64": "never run in float64"}}`; got a {type(skip).__name__}.'
        )
    if not isinstance(skip, Mapping):
        raise ConfigError(
            f"{where} must be a mapping of check id to reason, got {skip!r}."
        )
    out: dict[str, str] = {}
    for check, reason in skip.items():
        if check not in CHECKS:
            raise ConfigError(
                f"{where} names unknown check {check!r}; the checks are "
                f"{', '.join(CHECKS)}."
            )
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(
                f"{where} must give a reason for skipping {check!r}, e.g. "
                f'`{check} = "why this check does not apply"`.'
            )
        out[check] = reason.strip()
    return out


def validate_spec(spec: Any, where: str) -> str | None:
    """A `module:attribute` string naming an object (or a factory of one), or
    `ConfigError` showing what to write."""
    if spec is None:
        return None
    module, colon, attribute = str(spec).partition(":")
    if not (isinstance(spec, str) and colon and module.strip() and attribute.strip()):
        raise ConfigError(
            f"{where} must be `module:attribute`, naming an object or a factory "
            f'that takes no arguments, e.g. `"mypkg.envs:make_env"`; got {spec!r}.'
        )
    return spec.strip()


def load_project_config(path: Path | None = None) -> ProjectConfig:
    """Read and validate `[tool.lerax_testing]` from `path` or the nearest
    `pyproject.toml`. A project without one gets the defaults."""
    path = find_pyproject() if path is None else path
    if path is None:
        return ProjectConfig()
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from error
    table = data.get("tool", {}).get("lerax_testing", {})
    where = f"`[tool.lerax_testing]` in {path}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table.")
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(
            f"{where} has unknown keys {sorted(unknown)}; known keys are "
            f"{sorted(_KEYS)}."
        )
    for key in ("max_examples", "num_envs", "num_steps", "seed"):
        value = table.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise ConfigError(f"{where}: `{key}` must be a non-negative integer.")
    return ProjectConfig(
        path=path,
        max_examples=table.get("max_examples"),
        num_envs=table.get("num_envs"),
        num_steps=table.get("num_steps"),
        seed=table.get("seed"),
        skip=validate_skip(table.get("skip"), f"{where}: `skip`"),
        context_values=_context_values(table.get("context_values"), where),
        env=validate_spec(table.get("env"), f"{where}: `env`"),
        policy=validate_spec(table.get("policy"), f"{where}: `policy`"),
        algorithms=_algorithms(table.get("algorithms"), where),
    )


def _algorithms(values: Any, where: str) -> tuple[str, ...] | None:
    try:
        return validate_algorithms(values, f"{where}: `algorithms`")
    except (TypeError, ValueError) as error:
        raise ConfigError(str(error)) from None


def _context_values(values: Any, where: str) -> dict[str, str]:
    if values is None:
        return {}
    if not isinstance(values, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and ":" in v
        for k, v in values.items()
    ):
        raise ConfigError(
            f"{where}: `context_values` must map context field names to "
            '`"module:attribute"` strings, e.g. '
            '`context_values = { algorithm = "mypkg.training:make_algorithm" }`.'
        )
    return dict(values)
