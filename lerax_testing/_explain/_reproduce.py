"""The code a failure prints to reproduce it: `check_callback(...)` with every
option of the failing run that is not a default, so that it fails the same way.

Options given as `module:attribute` specs (`--env`, `[tool.lerax_testing] env`,
`--context-value`) are written as the code that makes them, with its import;
objects given to `check_callback` itself cannot be written out, so the code names
them and a comment says to define them first.

The callback is made as the user made it (`Construction`): by the command's
TARGET (`module:attr`), by importing the module-level name it is bound to, by its
`repr` when that is a call of its generated `__init__` (`Stats(alpha=0.1)`), or,
for a class with an `__init__` of its own, by that `__init__`'s parameters read
back from the instance's fields of the same names; a parameter that cannot be
read back is a labelled placeholder to fill in (a `NameError` that says so),
never a call with field keywords that the `__init__` rejects. Imports no JAX.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import os
import sys
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
    - `target`: the command's TARGET that made the callback (`pkg.cbs:Mine`), if
        the command made it.
    """

    settings: Settings | None = None
    objects: tuple[str, ...] = ()
    context_objects: tuple[str, ...] = ()
    target: str | None = None

    @classmethod
    def of_run(
        cls,
        settings: Settings,
        *,
        context_values: Mapping[str, Any] | None = None,
        target: str | None = None,
        **objects: Any,
    ) -> Replay:
        """The replay of a run given `settings` and these `check_callback`
        keywords (`None` for those not given)."""
        given = tuple(name for name, value in objects.items() if value is not None)
        return cls(settings, given, tuple(context_values or ()), target)

    def code(
        self,
        callback: str | Construction,
        check: str,
        seed: int,
        callback_class: type | None = None,
    ) -> str:
        """`check_callback(callback, checks=[check], ..., seed=seed)`, runnable,
        with the import of `callback_class` when it has one (or the imports and
        notes of a `Construction`)."""
        notes: list[str] = []
        if isinstance(callback, Construction):
            imports = list(callback.imports)
            notes += callback.notes
            callback = callback.expression
        else:
            imports = [] if callback_class is None else _class_import(callback_class)
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


@dataclasses.dataclass(frozen=True)
class Construction:
    """Code that makes the callback as the user made it.

    **Attributes:**

    - `expression`: the expression, e.g. `ReturnHistory(window=5)`.
    - `imports`: the lines it needs first.
    - `notes`: what the user must define or fill in before running it.
    """

    expression: str
    imports: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def script(self) -> list[str]:
        """The imports, a comment with the notes, as lines to put first."""
        lines = list(dict.fromkeys(self.imports))
        if self.notes:
            lines.append(f"# define first: {'; '.join(self.notes)}")
        return lines


def construction(
    callback: Any, description: str, target: str | None = None
) -> Construction:
    """How a reproducer makes `callback` (see the module's docstring); `description`
    is its `repr`, used when the class's `__init__` is the generated one."""
    if target is not None:
        made = _by_target(target)
        if made is not None:
            return made
    cls = type(callback)
    bound = _module_name_of(callback)
    if bound is not None:
        return Construction(bound, (f"from {cls.__module__} import {bound}",))
    imports = tuple(_class_import(cls))
    init = _own_init(cls)
    if init is None:
        return Construction(description, imports)
    return _by_init(callback, init, imports)


_LITERALS = (bool, int, float, str, bytes, type(None))


def _literal(value: Any) -> bool:
    """Whether `repr(value)` is code that makes an equal value."""
    if isinstance(value, float):
        return math.isfinite(value)  # `nan` and `inf` are no Python literals
    if isinstance(value, _LITERALS):
        return True
    if isinstance(value, tuple | list):
        return all(_literal(v) for v in value)
    if isinstance(value, dict):
        return all(_literal(k) and _literal(v) for k, v in value.items())
    return False


def _by_init(callback: Any, init: Any, imports: tuple[str, ...]) -> Construction:
    """`Class(param=value, ...)` with each parameter of the class's own `__init__`
    read back from the instance's field of that name; a placeholder to fill in
    for a required one that cannot be."""
    cls = type(callback)
    arguments: list[str] = []
    notes: list[str] = []
    try:
        parameters = list(inspect.signature(init).parameters.values())[1:]
    except (TypeError, ValueError):
        parameters = []
    for p in parameters:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        value = getattr(callback, p.name, _MISSING)
        if value is not _MISSING and _literal(value):
            if p.default is not p.empty and _literal(p.default) and value == p.default:
                continue
            code = repr(value)
        elif p.default is not p.empty:
            continue  # its default is the best guess left
        else:
            code = f"FILL_IN_{p.name}"
            notes.append(
                f"`{code}`, the `{p.name}` the failing run passed to "
                f"`{cls.__qualname__}(...)` (its `__init__` keeps no field of that "
                "name to read it back from)"
            )
        keyword = p.kind is not p.POSITIONAL_ONLY
        arguments.append(f"{p.name}={code}" if keyword else code)
    return Construction(
        f"{cls.__qualname__}({', '.join(arguments)})", imports, tuple(notes)
    )


_MISSING = object()


def _own_init(cls: type) -> Any:
    """The class's `__init__` when written by hand (in it or a base), else None
    for the one `dataclasses` (and so equinox) generates from the fields."""
    init = getattr(cls, "__init__", None)
    init = inspect.unwrap(init) if init is not None else None
    code = getattr(init, "__code__", None)
    if code is None or code.co_filename.startswith("<"):
        return None
    if init is object.__init__:
        return None
    return init


def _module_name_of(callback: Any) -> str | None:
    """The name `callback` is bound to at the top level of its class's module,
    if that module can be imported by name."""
    cls = type(callback)
    module_name = cls.__module__
    if module_name in ("__main__", "builtins") or module_name.startswith(
        "_lerax_target_"
    ):
        return None
    module = sys.modules.get(module_name)
    if module is None:
        return None
    for name, value in list(vars(module).items()):
        if value is callback and not name.startswith("_"):
            return name
    return None


def _by_target(target: str) -> Construction | None:
    """The command's TARGET (`module:attr` or `path/file.py:attr`) as code:
    importing it, or running the file, and calling a factory."""
    where, colon, attribute = target.rpartition(":")
    if not colon or not where or not attribute:
        return None
    try:
        if where.endswith(".py") or os.sep in where:
            # The command loaded the file as a module of a made-up name: find it
            # there rather than run the user's file again.
            path = os.path.realpath(where)
            found: Any = next(
                m
                for m in list(sys.modules.values())
                if os.path.realpath(getattr(m, "__file__", None) or "") == path
            )
            for part in attribute.split("."):
                found = getattr(found, part)
            first, *rest = attribute.split(".")
            expression = f"runpy.run_path({where!r})[{first!r}]" + "".join(
                f".{p}" for p in rest
            )
            imports: tuple[str, ...] = ("import runpy",)
        else:
            found = importlib.import_module(where)
            for part in attribute.split("."):
                found = getattr(found, part)
            expression = f"{where}.{attribute}"
            imports = (f"import {where}",)
    except Exception:  # the run made it; a reproducer falls back to other ways
        return None
    return Construction(expression + "()" if is_factory(found) else expression, imports)
