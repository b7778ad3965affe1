"""The plugin's options: `--lerax-*` on the command line and `lerax_*` in ini files,
one of each for every option of the option table (`_options.OPTIONS`), read once
per pytest run into the shared `Settings`."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import pytest

from .._settings import OPTIONS, InvalidArgument, Settings, resolve_settings

WORKER_SEED = "lerax_seed"
"""The key of the seed in pytest-xdist's `workerinput`."""


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """The plugin's options for one pytest run, after command line and ini files,
    resolved into the shared `Settings` (or the error that resolving raised, which
    fails the tests that check a callback rather than the whole run)."""

    settings: Settings | None
    error: Exception | None = None
    """The `InvalidArgument` resolving raised, kept whole (type, message, cause)."""
    typecheck: bool = False
    flags: tuple[str, ...] = ()
    """The `--lerax-*` options given on the command line but the seed, as
    arguments, for a reproducer that runs with them."""


def given_flags(config: pytest.Config) -> tuple[str, ...]:
    """The `--lerax-*` options of this run's command line (the seed aside: a
    reproducer gives its own), as command-line arguments."""
    flags: list[str] = []
    for option in OPTIONS.values():
        if option.plugin_flag is None or option.ini is None or option.name == "seed":
            continue
        value = config.getoption(f"lerax_{option.dest}", default=None)
        if option.boolean:
            flags += [option.plugin_flag] if value else []
        elif option.repeatable:
            for item in value or ():
                flags += [option.plugin_flag, str(item)]
        elif value is not None:
            flags += [option.plugin_flag, str(value)]
    return tuple(flags)


SETTINGS = pytest.StashKey[RunOptions]()
CLEANUP = pytest.StashKey[contextlib.ExitStack]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """A `--lerax-*` option and a `lerax_*` ini setting for every option of the
    table that can be written as text."""
    group = parser.getgroup("lerax", "lerax_testing: callback conformance checks")
    for option in OPTIONS.values():
        if option.plugin_flag is None or option.ini is None:
            continue
        default = (
            f"the ini setting {option.ini}, then [tool.lerax_testing] "
            f"{option.pyproject_key}, then {option.default_text}"
        )
        if option.name == "seed":
            default = default.replace(", then random", ", an integer --hypothesis-seed")
        if option.boolean:
            group.addoption(
                option.plugin_flag,
                action="store_true",
                default=False,
                help=f"{option.help} (default: {default}).",
            )
            parser.addini(option.ini, option.help, type="bool", default=False)
            continue
        group.addoption(
            option.plugin_flag,
            metavar=option.metavar,
            action="append" if option.repeatable else "store",
            default=[] if option.repeatable else None,
            help=f"{option.help} (default: {default}"
            + ("; repeatable)." if option.repeatable else ")."),
        )
        if option.repeatable:
            parser.addini(option.ini, f"{option.help}, one a line", type="linelist")
        else:
            parser.addini(option.ini, option.help, default="")


def read_settings(config: pytest.Config) -> RunOptions:
    """The run's settings: each option from its `--lerax-*` option, else its ini
    setting (a mapping takes both, the option's items over the ini's), then
    `resolve_settings` adds `[tool.lerax_testing]` and the defaults. A value that
    cannot be read is a usage error; one that cannot be used fails the tests that
    check a callback."""
    given: dict[str, Any] = {}
    sources: dict[str, str] = {}
    try:
        for option in OPTIONS.values():
            if option.plugin_flag is None or option.ini is None:
                continue
            from_ini = option.from_text(
                config.getini(option.ini), f"the ini setting {option.ini}"
            )
            from_flag = option.from_text(
                config.getoption(f"lerax_{option.dest}", default=None),
                option.plugin_flag,
            )
            if option.merge == "update":
                given[option.name] = {**(from_ini or {}), **(from_flag or {})}
            elif from_flag is not None:
                given[option.name], sources[option.name] = from_flag, option.plugin_flag
            elif from_ini is not None:
                given[option.name], sources[option.name] = from_ini, option.ini
    except InvalidArgument as error:
        raise pytest.UsageError(str(error)) from error
    source = f"from {sources['seed']}" if "seed" in sources else "given"
    if given.get("seed") is None:
        given["seed"], source = _hypothesis_seed(config), "from --hypothesis-seed"
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and WORKER_SEED in workerinput:
        given["seed"] = workerinput[WORKER_SEED]
        source = "from the pytest-xdist controller"
    typecheck = bool(given.get("typecheck"))
    flags = given_flags(config)
    try:
        settings = resolve_settings(seed_source=source, **given)
    except InvalidArgument as error:  # `check_callback` reports it
        return RunOptions(None, error, typecheck, flags)
    return RunOptions(settings, typecheck=settings.typecheck, flags=flags)


def _hypothesis_seed(config: pytest.Config) -> int | None:
    """`--hypothesis-seed`, when it is an integer, seeds the conformance checks too."""
    raw = config.getoption("hypothesis_seed", default=None)
    try:
        return None if raw is None else int(raw)
    except ValueError:
        return None
