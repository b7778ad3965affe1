"""The layering of the two packages: which idea may import which, no import cycles,
and small modules. Read from the source with `ast`, so nothing is imported."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lerax_callback", "lerax_testing")
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module of ours that `name` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            submodules = [f"{module}.{alias.name}" for alias in node.names]
            # `from . import _switch` imports the module `_switch`, and the package
            # only for names that are not modules of their own.
            names_only = any(sub not in MODULES for sub in submodules)
            targets = submodules + ([module] if names_only else [])
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_the_import_graph_sees_every_form_of_import(tmp_path):
    """The layering tests pass on a graph without edges: `_imports` itself must
    find absolute, relative, package and function-level imports."""
    planted = tmp_path / "_planted.py"
    planted.write_text(
        "import lerax_callback\n"
        "from .. import _tree\n"
        "from .._engine import _keys\n"
        "from ._finite import check_finite\n"
        "from lerax_testing._explain._report import Report\n"
        "def later():\n"
        "    from lerax_testing import _settings\n",
        encoding="utf-8",
    )
    assert _imports("lerax_testing._checks._planted", planted) == {
        "lerax_callback",
        "lerax_testing._tree",
        "lerax_testing._engine._keys",
        "lerax_testing._checks._finite",
        "lerax_testing._explain._report",
        "lerax_testing._settings",
    }
    assert any(GRAPH.values()), "no imports found in the packages"


def _importers_of(prefix: str) -> dict[str, set[str]]:
    return {
        name: {t for t in targets if t == prefix or t.startswith(prefix + ".")}
        for name, targets in GRAPH.items()
        if any(t == prefix or t.startswith(prefix + ".") for t in targets)
    }


def _inside(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_api_never_imports_the_type_checker_the_builtins_or_the_harness():
    core = [
        n
        for n in GRAPH
        if n.startswith("lerax_callback.")
        and not _inside(n, "lerax_callback._typecheck", "lerax_callback._builtins")
    ]
    assert core, "no API modules found"
    for name in core:
        bad = {
            t
            for t in GRAPH[name]
            if _inside(t, "lerax_callback._typecheck", "lerax_callback._builtins")
            or t.startswith("lerax_testing")
        }
        assert not bad, f"{name} imports {sorted(bad)}"


def test_builtins_use_only_the_public_api_modules():
    builtins = [n for n in GRAPH if _inside(n, "lerax_callback._builtins")]
    assert builtins, "no built-in modules found"
    for name in builtins:
        bad = {t for t in GRAPH[name] if _inside(t, "lerax_callback._typecheck")}
        assert not bad, f"{name} imports {sorted(bad)}"


def test_lerax_callback_never_imports_lerax_testing():
    api = [n for n in GRAPH if n.startswith("lerax_callback")]
    assert api, "no modules of `lerax_callback` found"
    for name in api:
        assert not any(t.startswith("lerax_testing") for t in GRAPH[name]), name


@pytest.mark.parametrize("idea", ["lerax_testing._cli", "lerax_testing._formats"])
def test_only_the_command_and_the_plugin_import_the_command_and_formats(idea):
    allowed = ("lerax_testing._cli", "lerax_testing.pytest_plugin")
    allowed += ("lerax_testing.__main__",)
    if idea == "lerax_testing._formats":
        allowed += ("lerax_testing._formats",)
    importers = _importers_of(idea)
    assert importers, f"nothing imports {idea}"
    for name, targets in importers.items():
        assert _inside(name, *allowed), f"{name} imports {sorted(targets)}"


def test_formats_do_not_import_the_command():
    assert not {
        n
        for n in _importers_of("lerax_testing._cli")
        if _inside(n, "lerax_testing._formats")
    }


REGISTRY = "lerax_testing._checks._registry"
"""The check registry: what every layer may know of the checks, without JAX."""

LAYERS = {
    "lerax_testing._engine": (
        "lerax_callback",
        "lerax_testing._engine",
        "lerax_testing._tree",
        "lerax_testing.toy",
    ),
    "lerax_testing._explain": (
        "lerax_callback",
        "lerax_testing._explain",
        "lerax_testing._settings",
        "lerax_testing._config",
        "lerax_testing._engine",  # the package alone: `MAX_STEPS`, no JAX
        REGISTRY,  # the checks' catch-all advice, which leaves name states
    ),
    "lerax_testing._lerax": (
        "lerax_callback",
        "lerax_testing._lerax",
        "lerax_testing._tree",
        "lerax_testing._engine",  # contexts' placeholder, for what stand-ins lack
    ),
    "lerax_testing._loop": (
        "lerax_callback",
        "lerax_testing._loop",
        "lerax_testing._engine",
        "lerax_testing._tree",
        "lerax_testing.toy",
        REGISTRY,  # which checks run the loop
    ),
}
"""What each subpackage of the harness may import: the engine drives callbacks and
knows nothing of checks or reports; explaining a failure needs no engine and of
the checks only their records; the reference loop needs the engine's contexts
only; what the harness knows of Lerax's algorithms stands on its own, but for the
engine's placeholder of a context value it cannot make."""


@pytest.mark.parametrize("subpackage", sorted(LAYERS))
def test_each_subpackage_imports_only_the_layers_below_it(subpackage):
    members = [n for n in GRAPH if _inside(n, subpackage)]
    assert len(members) > 1, f"{subpackage} has no modules"
    allowed = LAYERS[subpackage]
    for name in members:
        bad = {t for t in GRAPH[name] if not _inside(t, *allowed)}
        assert not bad, f"{name} imports {sorted(bad)}, outside {allowed}"


def test_explanations_import_the_engine_package_alone():
    """`_explain` reads `MAX_STEPS` from the engine's package, never a module that
    imports JAX."""
    explain = [n for n in GRAPH if _inside(n, "lerax_testing._explain")]
    assert explain, "no modules of `_explain` found"
    for name in explain:
        deep = {t for t in GRAPH[name] if t.startswith("lerax_testing._engine.")}
        assert not deep, f"{name} imports {sorted(deep)}"


def _third_party_imports(path: Path) -> set[str]:
    """The top-level names of every module `path` imports that is neither ours nor
    the standard library's."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.add((node.module or "").partition(".")[0])
    return found - set(sys.stdlib_module_names) - set(PACKAGES) - {"__future__"}


def test_the_check_registry_imports_nothing_but_the_standard_library():
    """The plugin, `_settings` and `_config` read the check ids when pytest starts:
    the registry, and the `_checks` package that holds it, import no JAX, no check
    module, nothing of ours but the registry."""
    package = "lerax_testing._checks"
    assert GRAPH[REGISTRY] == set()
    assert GRAPH[package] == {REGISTRY}
    for name in (REGISTRY, package):
        assert _third_party_imports(MODULES[name]) == set(), name


def test_below_the_checks_only_the_registry_is_imported():
    """`_explain`, `_loop`, `_settings` and `_config` may read the registry, never a
    check module (which imports JAX and the layers above)."""
    below = ("_explain", "_loop", "_settings", "_config")
    lower = [n for n in GRAPH if _inside(n, *(f"lerax_testing.{b}" for b in below))]
    assert len(lower) > len(below)
    for name in lower:
        checks = {t for t in GRAPH[name] if _inside(t, "lerax_testing._checks")}
        assert checks <= {REGISTRY}, f"{name} imports {sorted(checks)}"


def _private_names_imported(modules: dict[str, Path] = MODULES) -> list[str]:
    """`from module import _name` where `_name` is no module: a private name
    crossing modules."""
    found = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and not any(m.endswith("." + alias.name) for m in MODULES):
                    found.append(f"{name}: {alias.name}")
    return found


def test_no_private_name_crosses_modules():
    assert _private_names_imported() == []


def test_the_layering_test_sees_a_private_name(tmp_path):
    """The finder itself: a planted private name is found, a private module and a
    dunder are not."""
    planted = tmp_path / "_planted.py"
    planted.write_text(
        "from lerax_testing._tree import _hidden\n"
        "from lerax_testing import _tree\n"
        "from lerax_testing import __version__\n",
        encoding="utf-8",
    )
    found = _private_names_imported({"lerax_testing._planted": planted})
    assert found == ["lerax_testing._planted: _hidden"]


MAX_TOP_LEVEL_PRIVATE = 8


def test_few_private_modules_at_the_top_of_the_harness():
    """Private modules of `lerax_testing` live in subpackages named by idea; only a
    few that every idea uses sit at the top."""
    top = sorted(
        path.stem
        for path in (ROOT / "lerax_testing").glob("_*.py")
        if path.name not in ("__init__.py", "__main__.py")
    )
    assert top, "no private modules found"
    assert len(top) <= MAX_TOP_LEVEL_PRIVATE, top


def _cycles() -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert _cycles() == []


def test_modules_stay_small():
    big = {
        name: count
        for name, path in MODULES.items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not big, f"modules over {MAX_LINES} lines: {big}"


def test_every_subpackage_says_what_it_holds():
    for name, path in MODULES.items():
        if path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            assert doc, f"{name} has no docstring"


def test_the_layering_test_sees_a_cycle():
    """The cycle finder itself: a planted cycle is found."""
    GRAPH["lerax_testing._tree"].add("lerax_testing._explain._report")
    GRAPH["lerax_testing._explain._report"].add("lerax_testing._tree")
    try:
        assert ["lerax_testing._explain._report", "lerax_testing._tree"] in _cycles()
    finally:
        GRAPH["lerax_testing._tree"].discard("lerax_testing._explain._report")
        GRAPH["lerax_testing._explain._report"].discard("lerax_testing._tree")


def test_the_formatter_lays_out_every_module():
    """No `# fmt: skip` or `# fmt: off`: `ruff format` lays the code out, and a
    module that outgrows the size limit is split by idea, not packed."""
    packed = [
        f"{name}:{number}"
        for name, path in MODULES.items()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "# fmt: skip" in line or "# fmt: off" in line
    ]
    assert packed == []


MAX_UNDOCUMENTED_LINES = 30
"""A function (method, nested function) longer than this says what it does and why."""


def _long_functions_without_docstrings(
    modules: dict[str, Path] = MODULES,
) -> list[str]:
    """`module:line name` of every function over `MAX_UNDOCUMENTED_LINES` lines
    without a docstring."""
    found = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_UNDOCUMENTED_LINES and ast.get_docstring(node) is None:
                found.append(f"{name}:{node.lineno} {node.name}")
    return found


def test_long_functions_say_what_they_do():
    missing = _long_functions_without_docstrings()
    assert not missing, "long functions without a docstring:\n" + "\n".join(missing)


def test_the_docstring_test_sees_a_long_function(tmp_path):
    """The finder itself: a long nested function without a docstring is found, a
    documented one and a short one are not."""
    lines = [f"x{i} = {i}\n" for i in range(MAX_UNDOCUMENTED_LINES)]
    planted = tmp_path / "_planted.py"
    planted.write_text(
        'def documented():\n    """Says why."""\n'
        + "".join("    " + line for line in lines)
        + "def outer():\n"
        + "    def inner():\n"
        + "".join("        " + line for line in lines)
        + "    return inner\n"
        + "def short():\n    return 1\n",
        encoding="utf-8",
    )
    found = _long_functions_without_docstrings({"lerax_testing._planted": planted})
    assert found == [
        f"lerax_testing._planted:{MAX_UNDOCUMENTED_LINES + 3} outer",
        f"lerax_testing._planted:{MAX_UNDOCUMENTED_LINES + 4} inner",
    ]
