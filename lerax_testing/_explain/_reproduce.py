"""The code a failure prints to reproduce it: `check_callback(...)` with every
option of the failing run that is not a default, so that it fails the same way.

Options given as `module:attribute` specs (`--env`, `[tool.lerax_testing] env`,
`--context-value`) are written as the code that makes them, with its import;
objects given to `check_callback` itself cannot be written out, so the code names
them and a comment says to define them first. Imports no JAX.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

from .._settings import OPTIONS, Settings, is_factory


@dataclasses.dataclass(frozen=True)
class Replay:
    """What a reproducer needs besides the callback, the check and the seed.

    **Attributes:**

    - `settings`: the run's resolved settings.
    - `objects`: the keywords (`env`, `policy`, `training_logs`) the run was given
        as objects.
    - `context_objects`: the context fields whose values were given as objects.
    """

    settings: Settings | None = None
    objects: tuple[str, ...] = ()
    context_objects: tuple[str, ...] = ()

    @classmethod
    def of_run(
        cls,
        settings: Settings,
        *,
        context_values: Mapping[str, Any] | None = None,
        **objects: Any,
    ) -> Replay:
        """The replay of a run given `settings` and these `check_callback`
        keywords (`None` for those not given)."""
        given = tuple(name for name, value in objects.items() if value is not None)
        return cls(settings, given, tuple(context_values or ()))

    def code(
        self, callback: str, check: str, seed: int, callback_class: type | None = None
    ) -> str:
        """`check_callback(callback, checks=[check], ..., seed=seed)`, runnable,
        with the import of `callback_class` when it has one."""
        imports = [] if callback_class is None else _class_import(callback_class)
        notes: list[str] = []
        keywords = [f"checks=[{check!r}]"]
        settings = self.settings
        if settings is not None:
            for name in ("max_examples", "num_envs", "max_steps"):
                value = getattr(settings, name)
                if value != OPTIONS[name].default:
                    keywords.append(f"{name}={value}")
        keywords.append(f"seed={seed}")
        for name in ("env", "policy"):
            spec = getattr(settings, name, None)
            if name in self.objects:
                keywords.append(f"{name}={name}")
                notes.append(f"`{name}`: the {name} object given to the failing run")
            elif spec is not None:
                keywords.append(f"{name}={_made_by(spec, imports)}")
        if settings is not None and settings.reward_range is not None:
            keywords.append(f"reward_range={settings.reward_range!r}")
        if settings is not None and settings.allow_nonfinite_rewards:
            keywords.append("allow_nonfinite_rewards=True")
        if "training_logs" in self.objects:
            keywords.append("training_logs=training_logs")
            notes.append("`training_logs`: the strategy given to the failing run")
        values = _context_values(settings, self.context_objects, imports, notes)
        if values:
            keywords.append(f"context_values={{{values}}}")
        lines = [*dict.fromkeys(imports), "from lerax_testing import check_callback"]
        if settings is not None and settings.typecheck:
            lines += ["import lerax_callback", "lerax_callback.enable_typechecking()"]
        if notes:
            lines.append(f"# define first: {'; '.join(notes)}")
        lines.append(
            f"check_callback({callback}, {', '.join(keywords)}).raise_for_failures()"
        )
        return "\n".join(lines)


def _context_values(
    settings: Settings | None,
    fields: tuple[str, ...],
    imports: list[str],
    notes: list[str],
) -> str:
    """The items of a `context_values={...}` keyword, or `""` for none."""
    items: dict[str, str] = {}
    if settings is not None:
        for field, spec in settings.context_values.items():
            items[field] = _made_by(spec, imports)
    for field in fields:
        items[field] = f"{field}_value"
        notes.append(f"`{field}_value`: the `{field}` context value of the failing run")
    return ", ".join(f"{field!r}: {code}" for field, code in items.items())


def _class_import(cls: type) -> list[str]:
    """`from module import Class`, or nothing for a class defined in `__main__`,
    in a function or in a file loaded under a made-up name."""
    module = cls.__module__
    if (
        module in ("__main__", "builtins")
        or module.startswith("_lerax_target_")
        or "." in cls.__qualname__
    ):
        return []
    return [f"from {module} import {cls.__qualname__}"]


def _made_by(spec: str, imports: list[str]) -> str:
    """The expression that makes what `load_object(spec)` makes, adding the import
    it needs: `mypkg.envs.make_env()` for a factory, `mypkg.envs.ENV` otherwise."""
    module_name, _, attribute = spec.partition(":")
    imports.append(f"import {module_name}")
    expression = f"{module_name}.{attribute}"
    try:
        found: object = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):  # the failing run loaded it: unlikely
        return expression + "()"
    return expression + "()" if is_factory(found) else expression
