"""The pytest plugin of `lerax_testing`: conformance checks as pytest tests.

- The `callback_conformance` fixture: `callback_conformance(MyCallback(), **options)`
    runs `check_callback` and fails the test with the report's text.
- `conformance_suite`: `test_my_callback = conformance_suite(MyCallback(alpha=0.1))`
    in a test module makes one test item per check, `test_my_callback[jit]`, ...,
    which pytest-xdist spreads over its workers.
- Options (`pytest --help`, group "lerax"): a `--lerax-*` option and a `lerax_*`
    ini setting for each option of the option table (`--lerax-max-examples`,
    `--lerax-num-envs`, `--lerax-seed`, `--lerax-skip CHECK=REASON`, ...; the
    table of options in docs/configuring.md lists them all).

pytest loads this module (entry point `pytest11`, name `lerax_testing`; disable it
with `-p no:lerax_testing`) in every run of every project that installs the toolkit,
so it imports neither JAX nor the harness until a test uses them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pytest

from .._settings import (
    SETTINGS as SETTINGS_OPTIONS,
    ConfigError,
    InvalidArgument,
    resolve_settings,
    select_checks,
    split_arguments,
    typechecking,
)
from ._options import (
    CLEANUP,
    SETTINGS,
    WORKER_SEED,
    pytest_addoption as pytest_addoption,
    read_settings,
)

if TYPE_CHECKING:
    from .._explain._report import Report

__all__ = ["callback_conformance", "conformance_suite"]

MARKER = "lerax_conformance"
"""The marker of `conformance_suite`'s items (`-m "not lerax_conformance"`)."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: a conformance check of a callback, made by "
        "lerax_testing.pytest_plugin.conformance_suite.",
    )
    options = read_settings(config)
    config.stash[SETTINGS] = options
    cleanup = contextlib.ExitStack()
    config.stash[CLEANUP] = cleanup
    if options.typecheck:
        try:
            cleanup.enter_context(typechecking())
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from error


def pytest_unconfigure(config: pytest.Config) -> None:
    cleanup = config.stash.get(CLEANUP, None)
    if cleanup is not None:
        cleanup.close()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker checks with the seed the controller chose."""
    options = node.config.stash.get(SETTINGS, None)
    if options is not None and options.settings is not None:
        node.workerinput[WORKER_SEED] = options.settings.seed


def pytest_report_header(config: pytest.Config) -> str | None:
    options = config.stash.get(SETTINGS, None)
    if options is None or options.settings is None:
        return None
    settings = options.settings
    text = (
        f"lerax_testing: seed {settings.seed} ({settings.seed_source}; reproduce "
        f"with --lerax-seed={settings.seed})"
    )
    if settings.typecheck:
        text += ", runtime type checking on"
    for what in ("env", "policy"):
        if getattr(settings, what) is not None:
            text += f", {what} {getattr(settings, what)}"
    return text


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Report a skipped check at the user's `conformance_suite(...)` line rather
    than inside this plugin, where the test function is defined."""
    report = yield
    origin = getattr(getattr(item, "obj", None), "_lerax_origin", None)
    if origin is not None and report.skipped and isinstance(report.longrepr, tuple):
        report.longrepr = (origin[0], origin[1], report.longrepr[2])
    return report


def _run(config: pytest.Config, callback: Any, options: dict[str, Any]) -> Report:
    """Check `callback` with the run's settings, a test's own `options` over them."""
    from .._harness import check_callback, run_checks

    run = config.stash.get(SETTINGS, None)
    if run is None:  # the plugin was not configured: `check_callback`'s defaults
        return check_callback(callback, **options)
    if run.settings is None:  # the run's settings could not be resolved
        # A fresh error per test, the original (type, message, cause) as its cause.
        raise InvalidArgument(str(run.error)) from run.error
    settings = run.settings
    progress = options.pop("progress", None)
    given, objects = split_arguments(options)
    if given:
        explicit = {o.name: getattr(settings, o.name) for o in SETTINGS_OPTIONS}
        explicit.update(given)
        explicit["skip"] = {**settings.skip, **dict(given.get("skip") or {})}
        settings = resolve_settings(seed_source=settings.seed_source, **explicit)
    return run_checks(callback, settings, **objects, progress=progress)


def _failure_text(report: Report, config: pytest.Config, nodeid: str) -> str:
    """The report, and the pytest command that runs the item again as this run
    did: its seed and its `--lerax-*` options (`--lerax-algorithm sac`, ...)."""
    run = config.stash.get(SETTINGS, None)
    flags = " ".join(shlex.quote(f) for f in (run.flags if run is not None else ()))
    return (
        f"{report.render()}\n\nReproduce with: pytest --lerax-seed={report.seed} "
        + (f"{flags} " if flags else "")
        + f"'{nodeid}'"
    )


@pytest.fixture
def callback_conformance(request: pytest.FixtureRequest) -> Callable[..., Report]:
    """Check a callback; the test fails with the full report if any check fails.

    ```python
    def test_my_callback(callback_conformance):
        callback_conformance(MyCallback(alpha=0.1), skip={"x64": "float32 only"})
    ```

    Takes the callback instance and any keyword of `check_callback` (`checks`,
    `skip`, `max_examples`, `seed`, `env`, ...), which override the `--lerax-*`
    options; `skip` adds to `--lerax-skip`. Returns the `Report` when no check failed.
    """

    def run(callback: Any, **options: Any) -> Report:
        report = _run(request.config, callback, options)
        request.node.user_properties.append(("lerax_seed", report.seed))
        if not report.ok:
            pytest.fail(
                _failure_text(report, request.config, request.node.nodeid),
                pytrace=False,
            )
        return report

    return run


def conformance_suite(
    callback: Any, *, checks: Iterable[str] | None = None, **options: Any
) -> Callable[..., None]:
    """One pytest test item per conformance check of `callback`.

    Assign the result to a `test_*` name at the top level of a test module:

    ```python
    from lerax_testing.pytest_plugin import conformance_suite

    test_my_callback = conformance_suite(MyCallback(alpha=0.1))
    ```

    `pytest -v` then shows `test_my_callback[api] PASSED`, `test_my_callback[jit]
    FAILED`, ..., each failure with its part of the report, and `pytest -n 2`
    spreads the checks over workers. `-k "test_my_callback and jit"` selects one.

    **Arguments:**

    - `callback`: the callback instance, or a class or function that makes one when
        called without arguments (it is then made once per item, when it runs).
    - `checks`: the check ids to make items for (default: all of `CHECKS`).
    - `options`: any other keyword of `check_callback` (`skip`, `max_examples`,
        `seed`, `env`, ...); they override the `--lerax-*` options.

    **Returns:**

    A test function, parametrized over the check ids and marked `lerax_conformance`.
    """
    selected = _select_checks(checks)
    if isinstance(callback, type):
        _refuse_unmakeable(callback)
    whole: dict[Any, Report] = {}  # every check's report, for root causes

    def test(lerax_check: str, request: pytest.FixtureRequest) -> None:
        wanted = getattr(request.config.stash.get(SETTINGS, None), "settings", None)
        if wanted is not None and lerax_check not in wanted.checks:
            pytest.skip(f"{lerax_check}: not among the run's checks (--lerax-checks)")
        instance = _instantiate(callback)
        run = ["api"] if lerax_check == "api" else ["api", lerax_check]
        report = _run(request.config, instance, {**options, "checks": run})
        request.node.user_properties.append(("lerax_seed", report.seed))
        result = report.result(lerax_check)
        if result.status == "skipped":
            pytest.skip(f"{lerax_check}: {result.reason}")
        if result.status == "failed":
            alone = dataclasses.replace(report, results=(result,))
            text = _failure_text(alone, request.config, request.node.nodeid)
            if lerax_check != "api":
                key = (report.seed, wanted.checks if wanted is not None else None)
                if key not in whole:
                    checks = wanted.checks if wanted is not None else None
                    every = {**options, "checks": checks, "seed": report.seed}
                    whole[key] = _run(request.config, instance, every)
                text = _root_causes(whole[key], result) + text
            pytest.fail(text, pytrace=False)

    test.__doc__ = f"Conformance of {_name(callback)}, one item per check."
    caller = sys._getframe(1)  # where the user made the suite, to report skips at
    test._lerax_origin = (caller.f_code.co_filename, caller.f_lineno)  # type: ignore[attr-defined]
    parametrized = pytest.mark.parametrize("lerax_check", selected, ids=selected)
    return getattr(pytest.mark, MARKER)(parametrized(test))


def _root_causes(whole: Report, result: Any) -> str:
    """The root causes, found among every check's failures, of `result`'s failures
    when another check explains them: their finding and fix, to lead the item's
    text, so that an item failing only as a consequence (the loop's carry for a
    leaf's drift) shows the fix of what it is a consequence of. Empty when the
    item's own check is the root."""
    from .._explain._causes import group_failures

    own = {(f.check, f.method, f.message) for f in result.failures}
    lines: list[str] = []
    for cause in group_failures(whole.failures):
        members = (cause.failure, *cause.others)
        if cause.failure.check == result.check or not any(
            (f.check, f.method, f.message) in own for f in members
        ):
            continue
        primary = cause.failure
        method = f" in `{primary.method}`" if primary.method else ""
        lines.append(
            f"Root cause, found by the `{primary.check}` check{method}: "
            f"{primary.message}\n  fix: {primary.advice}"
        )
    return "\n\n".join(lines) + "\n\n" if lines else ""


def _select_checks(checks: Iterable[str] | None) -> list[str]:
    """The check ids in `CHECKS` order, so that every xdist worker collects the
    same items whatever iterable (a set, say) was given."""
    selected = list(select_checks(checks))
    if not selected:
        raise ValueError("`checks` is empty; name at least one check, or leave it out.")
    return selected


def _refuse_unmakeable(cls: type) -> None:
    """`InvalidArgument` when `cls()` cannot make the callback to check (a state
    or context class, an abstract class, one whose constructor needs arguments),
    at collection rather than in every item."""
    from .._explain._classes import (
        class_instead_of_instance,
        not_a_callback_class,
        required_arguments,
    )

    if not_a_callback_class(cls) is not None or required_arguments(cls):
        raise InvalidArgument(
            "`conformance_suite` takes a callback instance, or a class or factory "
            "that makes one without arguments: " + class_instead_of_instance(cls)
        )


def _instantiate(callback: Any) -> Any:
    """The instance to check: `callback` itself, or what its factory makes."""
    from lerax_callback._family import is_callback

    if isinstance(callback, type) or (callable(callback) and not is_callback(callback)):
        return callback()
    return callback


def _name(callback: Any) -> str:
    """A name for `callback` that needs no `repr`, which may be slow or import JAX."""
    qualname = getattr(callback, "__qualname__", None)  # a class or a function
    return qualname if isinstance(qualname, str) else f"a {type(callback).__qualname__}"
