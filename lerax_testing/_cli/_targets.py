"""The callbacks a `lerax-conformance` TARGET names.

A TARGET is `module`, `module:attribute`, `path/to/file.py`,
`path/to/file.py:attribute` or a folder (its `.py` files, recursively). An
attribute may be a callback instance, a callback class whose constructor needs no
arguments, or a zero-argument factory. A module or file on its own stands for every
concrete callback class and instance it defines (assigns or declares itself, rather
than imports), of either API family (`lerax_callback` or Lerax's `lerax.callback`).

No false greens: a class that looks concrete but is still abstract is an error, not
passed over, unless it says it is a base (its name starts with `Abstract`, or it
sets `__conformance_abstract__ = True`); such bases are counted in the summary."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from .._explain._classes import (
    abstract_members as abstract_members,
    class_name,
    construction,
    not_a_callback_class,
)
from ._entries import (
    Entry as Entry,
    Target as Target,
    UsageError as UsageError,
    build_entry,
    error_entry,
    location,
    required_arguments as required_arguments,
)
from ._folders import module_files

_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def parse_target(text: str) -> Target:
    """Split a TARGET into module or file and attribute; `UsageError` if malformed."""
    base, attribute = text, None
    head, colon, tail = text.rpartition(":")
    if colon and tail and _DOTTED.match(tail) and head and not head.endswith(":"):
        base, attribute = head, tail
    elif colon and not re.match(r"^[A-Za-z]:[\\/]", text):  # not a Windows drive
        raise UsageError(
            f"cannot read target {text!r}: write `module`, `module:attribute`, "
            "`path/to/file.py` or `path/to/file.py:attribute`."
        )
    if base.endswith(".py") or "/" in base or os.sep in base or Path(base).is_dir():
        path = Path(base)
        if path.is_dir() and attribute is None:
            return Target(text, path=path.resolve())
        if not path.is_file():
            raise UsageError(f"target {text!r}: there is no file {str(path)!r}.")
        return Target(text, path=path.resolve(), attribute=attribute)
    if not _DOTTED.match(base):
        raise UsageError(
            f"target {text!r} is neither a module name nor a path to a `.py` file."
        )
    return Target(text, module=base, attribute=attribute)


def ensure_importable(target: Target) -> None:
    """`UsageError` if the target's module or file cannot be found (nothing runs)."""
    if target.module is None:
        return
    try:
        found = importlib.util.find_spec(target.module) is not None
    except (ImportError, ValueError):
        found = False
    except Exception:  # a parent package failed to import: that is the target's error
        return
    if not found:
        raise UsageError(_unknown_module(target.module))


def _unknown_module(name: str) -> str:
    return (
        f"no module named {name!r}; install it, run from the folder that contains "
        "it, or give the path of its `.py` file."
    )


def expand(target: Target) -> list[Target]:
    """A folder TARGET as one TARGET per module file under it; others as they are."""
    if target.path is None or not target.path.is_dir():
        return [target]
    return [
        Target(
            os.path.join(target.text, os.path.relpath(file, target.path)),
            path=file,
            folder=target.text,
        )
        for file in module_files(target.path)
    ]


def discover(target: Target) -> list[Entry]:
    """Import the target and list its callbacks (`UsageError` if there are none).

    An exception while importing is not a usage error: it becomes an `Entry` with
    `error`, the target's failure. A folder stands for the `.py` files under it
    (see `expand`). A module of a folder may have no callbacks; the folder may not.
    """
    return discover_each(target, lambda entries: None)


def discover_each(
    target: Target, imported: Callable[[list[Entry]], None]
) -> list[Entry]:
    """`discover`, calling `imported(entries)` right after each module is imported,
    before the next one is (the command keeps each module's JAX configuration)."""
    entries = []
    for part in expand(target):
        found = _discover(part)
        imported(found)
        entries += found
    if target.folder is None:
        ensure_something_to_check(target.text, entries)
    return entries


def ensure_something_to_check(text: str, entries: list[Entry]) -> None:
    """`UsageError` when `entries`, all that TARGET `text` holds, give nothing to
    check: no callbacks, only abstract bases, or only skipped ones."""
    bases = [e.name.rpartition(":")[2] for e in entries if e.base is not None]
    entries = [e for e in entries if e.base is None]
    if not entries:
        only = (
            f"; only the abstract bases {', '.join(bases)}, which are not checked"
            if bases
            else ""
        )
        raise UsageError(
            f"no callbacks found in {text!r}: it defines no concrete "
            f"`AbstractCallback` subclass or instance{only} (imported ones are not "
            "checked)."
        )
    if all(e.skipped for e in entries):
        raise UsageError(
            f"no callback to check in {text!r}: {entries[0].name} {entries[0].skipped}."
        )


def _discover(target: Target) -> list[Entry]:
    try:
        module = _import(target)
    except UsageError:
        raise
    except BaseException as error:  # anything the user's module raises or exits with
        if isinstance(error, KeyboardInterrupt):
            raise
        return [error_entry(target.text, target, error, "importing it")]
    if target.attribute is not None:
        return [_from_attribute(target, module)]
    return _scan(target, module)


def _import(target: Target) -> ModuleType:
    """The target's module, imported by name or loaded from its file (its folder on
    `sys.path`, as for a script), reusing a module loaded from that file before. A
    module not found is a `UsageError`; what the user's module raises propagates."""
    if target.module is not None:
        try:
            return importlib.import_module(target.module)
        except ModuleNotFoundError as error:
            name = error.name or ""
            if name and (target.module == name or target.module.startswith(name + ".")):
                raise UsageError(_unknown_module(target.module)) from error
            raise
    assert target.path is not None
    folder = str(target.path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # as for a script: its siblings are importable
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) == str(target.path):
            return module  # checked before (also when named several ways)
    name = target.path.stem
    number = 1
    while name in sys.modules or not name.isidentifier():
        name, number = f"_lerax_target_{target.path.stem}_{number}", number + 1
    spec = importlib.util.spec_from_file_location(name, target.path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _from_attribute(target: Target, module: ModuleType) -> Entry:
    """The entry for `module:attribute`: a callback instance, or a concrete callback
    class or zero-argument factory to build; anything else is a `UsageError` saying
    what to name instead (and what the module defines, for a missing attribute)."""
    from lerax_callback._family import is_callback

    obj: Any = module
    assert target.attribute is not None
    for part in target.attribute.split("."):
        if not hasattr(obj, part):
            found = [e.name.rpartition(":")[2] for e in _scan(target, module, True)]
            hint = f"; it defines {', '.join(found)}" if found else ""
            raise UsageError(
                f"target {target.text!r}: {target.module or target.path} has no "
                f"attribute {target.attribute!r}{hint}."
            )
        obj = getattr(obj, part)
    what = f"target {target.text!r}"
    if is_callback(obj):
        return Entry(target.text, target.text, obj, location=location(obj))
    required = required_arguments(obj) if callable(obj) else []
    if isinstance(obj, type):
        problem = not_a_callback_class(obj)
        if problem is not None:  # a state or context class, an abstract one, ...
            raise UsageError(f"{what}: {problem}")
        if required:
            listed = ", ".join(f"`{r}`" for r in required)
            raise UsageError(
                f"{what}: `{class_name(obj)}` needs constructor arguments "
                f"({listed}); define an instance in the module, e.g. `callback = "
                f"{construction(obj)}`, and name it as "
                f"`{target.child('callback')}`, or name a zero-argument factory."
            )
    elif not callable(obj):
        raise UsageError(
            f"{what} is a {type(obj).__name__}, not a callback, a callback class or "
            "a factory."
        )
    if required:
        raise UsageError(
            f"{what} needs arguments ({', '.join(required)}); name an instance or a "
            "zero-argument factory instead."
        )
    return build_entry(target.text, target, obj)


def _declared_base(cls: type) -> str | None:
    """Why an abstract `cls` is a deliberate base (not checked), or None when it
    looks concrete, so being abstract is a mistake."""
    if cls.__name__.startswith("Abstract"):
        return "names start with Abstract"
    if vars(cls).get("__conformance_abstract__") is True:  # its own, not inherited
        return "__conformance_abstract__ = True"
    return None


def _abstract_error(target: Target, name: str, cls: type, missing: list[str]) -> Entry:
    listed = ", ".join(f"`{m}`" for m in missing)
    verb = "is" if len(missing) == 1 else "are"
    return Entry(
        target.child(name),
        target.text,
        error=f"`{name}` is abstract: {listed} {verb} not implemented; implement "
        f"{'it' if len(missing) == 1 else 'them'} or name the class `Abstract...` "
        "(or set `__conformance_abstract__ = True`) if it is a base",
        location=location(cls),
    )


def _scan(target: Target, module: ModuleType, quiet: bool = False) -> list[Entry]:
    """Every callback class and instance `module` defines, in order: concrete ones
    to check, abstract bases to count, and abstract-by-mistake ones as errors."""
    from lerax_callback._family import is_callback, is_callback_class

    assigned = _assigned_names(module)
    found: list[tuple[str, Any]] = []
    abstract: dict[str, list[str]] = {}
    for name, obj in list(vars(module).items()):
        if name.startswith("_"):
            continue
        if isinstance(obj, type):
            if is_callback_class(obj) and obj.__module__ == module.__name__:
                found.append((name, obj))
                if missing := abstract_members(obj):
                    abstract[name] = missing
        elif is_callback(obj) and _defined_here(name, obj, module, assigned):
            found.append((name, obj))
    if quiet:
        return [
            Entry(target.child(name), target.text)
            for name, _ in found
            if name not in abstract
        ]
    exposed = {type(obj) for _, obj in found if not isinstance(obj, type)}
    entries = []
    for name, obj in found:
        child = target.child(name)
        if not isinstance(obj, type):
            entries.append(Entry(child, target.text, obj, location=location(obj)))
        elif name in abstract:
            base = _declared_base(obj)
            if base is None:
                entries.append(_abstract_error(target, name, obj, abstract[name]))
            else:
                entries.append(
                    Entry(child, target.text, base=base, location=location(obj))
                )
        elif obj not in exposed:  # a class whose instances are exposed is theirs
            required = required_arguments(obj)
            if not required:
                entries.append(build_entry(child, target, obj))
            else:
                entries.append(
                    Entry(
                        child,
                        target.text,
                        skipped=f"needs constructor arguments ({', '.join(required)});"
                        " define an instance in the module, or name a zero-argument "
                        f"factory as `{target.child('FACTORY')}`",
                        location=location(obj),
                    )
                )
    return entries


def _assigned_names(module: ModuleType) -> set[str] | None:
    """The names the module's own top-level code assigns, or None without source."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError):
        return None
    names: set[str] = set()
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        if isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While):
            todo.extend(ast.iter_child_nodes(node))
    return names


def _defined_here(
    name: str, obj: Any, module: ModuleType, assigned: set[str] | None
) -> bool:
    if assigned is not None:
        return name in assigned
    for other in list(sys.modules.values()):  # no source: was it imported from one?
        namespace = getattr(other, "__dict__", None)
        if other is not module and namespace and namespace.get(name) is obj:
            return False
    return True
