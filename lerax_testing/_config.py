"""Project-wide settings from `[tool.lerax_testing]` in `pyproject.toml`.

```toml
[tool.lerax_testing]
max_examples = 30
num_envs = 3
max_steps = 8
seed = 1234
skip = { x64 = "our environments never run in float64" }
context_values = { algorithm = "mypkg.training:make_algorithm" }
env = "mypkg.envs:make_env"        # the environment and policy placed in contexts
policy = "mypkg.envs:make_policy"  # and run by the reference loop (a factory is called)
```

The keys are the option table's (`_options.OPTIONS`), each value checked by its
option's validator.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._options import OPTIONS, SETTINGS
from ._options._errors import (
    ConfigError as ConfigError,
    InvalidArgument as InvalidArgument,
)
from ._options._values import (
    validate_skip as validate_skip,
    validate_spec as validate_spec,
)

KEYS = {option.pyproject_key: option for option in SETTINGS}
"""The accepted keys of `[tool.lerax_testing]`, with their options."""

RENAMED = {old: option for option in SETTINGS for old in option.renamed_from}
"""Keys that had another name once, refused with the new one (a silent alias
would keep two names for one idea; a warning is easy to miss in CI)."""


@dataclasses.dataclass(frozen=True)
class ProjectConfig:
    """The `[tool.lerax_testing]` settings of one project, validated: `values`
    by option name; `config.max_examples` and the like read them (None when the
    project does not set one)."""

    path: Path | None = None
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name in OPTIONS:
            return self.values.get(name)
        raise AttributeError(name)


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest `pyproject.toml` at or above `start` (default: the working dir)."""
    here = (start or Path(os.getcwd())).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


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
    for old in sorted(set(table) & set(RENAMED)):
        new = RENAMED[old].name
        raise ConfigError(
            f"{where}: `{old}` is now called `{new}`, as the argument of "
            f"`check_callback` and the command's option are; write "
            f"`{new} = {table[old]!r}` instead."
        )
    unknown = set(table) - set(KEYS)
    if unknown:
        raise ConfigError(
            f"{where} has unknown keys {sorted(unknown)}; known keys are "
            f"{sorted(KEYS)}."
        )
    values = {}
    for key, value in table.items():
        option = KEYS[key]
        try:
            values[option.name] = option.check(value, f"{where}: `{key}`")
        except InvalidArgument as error:
            if isinstance(error, ConfigError):
                raise
            raise ConfigError(str(error)) from error
    return ProjectConfig(path=path, values=values)
