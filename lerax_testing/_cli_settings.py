"""Settings shared by the pytest plugin and `lerax-conformance`: the seed of a run,
`CHECK=REASON` skips and the type-checking switch.

Both load this before knowing whether any callback will be checked, so it imports
no JAX (and nothing of ours that does).
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
from collections.abc import Iterable, Iterator

from ._config import ConfigError, ProjectConfig, validate_skip

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
