"""Conformance harness, strategies and reference loop for Lerax callbacks.

The public names are imported on first use (PEP 562), so that importing a light
submodule such as `lerax_testing.pytest_plugin`, which pytest loads in every run of
every project that installs the toolkit, does not import JAX.
"""

# No `from __future__ import annotations` and only underscored helpers here:
# everything bound in this namespace shows in `dir(lerax_testing)`.
import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from lerax_callback._checking import is_checking as is_checking

    from . import strategies as strategies, toy as toy
    from ._checks._registry import CHECKS as CHECKS
    from ._config import (
        ConfigError as ConfigError,
        InvalidArgument as InvalidArgument,
    )
    from ._engine._contexts import (
        MissingContextValueError as MissingContextValueError,
    )
    from ._explain._report import (
        CheckResult as CheckResult,
        ConformanceError as ConformanceError,
        Failure as Failure,
        Report as Report,
    )
    from ._harness import check_callback as check_callback
    from ._loop._run import run_training as run_training
    from ._loop._training import TrainingResult as TrainingResult

# Public name -> (submodule, attribute in it; `None` for the submodule itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "strategies": (".strategies", None),
    "toy": (".toy", None),
    "ConfigError": ("._config", "ConfigError"),
    "InvalidArgument": ("._config", "InvalidArgument"),
    "MissingContextValueError": ("._engine._contexts", "MissingContextValueError"),
    "check_callback": ("._harness", "check_callback"),
    "TrainingResult": ("._loop._training", "TrainingResult"),
    "run_training": ("._loop._run", "run_training"),
    "CHECKS": ("._checks._registry", "CHECKS"),
    "CheckResult": ("._explain._report", "CheckResult"),
    "ConformanceError": ("._explain._report", "ConformanceError"),
    "Failure": ("._explain._report", "Failure"),
    "Report": ("._explain._report", "Report"),
    "is_checking": ("lerax_callback._checking", "is_checking"),
}


def __getattr__(name: str) -> _typing.Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module = _importlib.import_module(module_name, __name__)  # relative or absolute
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    # The public names are exactly `_LAZY`'s, whichever submodules (such as the
    # pytest plugin) happen to have been imported and bound here.
    return sorted(set(_LAZY) | {name for name in globals() if name.startswith("_")})
