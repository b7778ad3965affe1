"""The global type-checking switch, shared by the API and the type checker.

The hooks in the states, the contexts and `AbstractCallback` read `enabled` on every
construction, so this module imports nothing: with checking off, a hook costs one
boolean test. The type checker (`_typecheck`) installs the functions the hooks call
when it is imported (`lerax_callback` imports it), so the API never imports the
type checker and beartype is imported only once a check runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

enabled: bool = False
"""Whether every state, callback and context is checked; see `enable_typechecking`."""

ENVIRONMENT_VARIABLE = "LERAX_TYPECHECK"

OPT_IN = "__lerax_typechecked__"
"""Set on a class by `typechecked`; callback classes derived from it are checked too."""


def _not_installed(_: Any) -> None:
    raise RuntimeError(
        "lerax_callback's type checker is not loaded; import `lerax_callback` "
        "rather than its private modules."
    )


_check_module: Callable[[Any], None] = _not_installed
_new_callback_class: Callable[[type], None] = _not_installed


def install(
    check_module: Callable[[Any], None], new_callback_class: Callable[[type], None]
) -> None:
    """Called once by the type checker to plug itself into the hooks."""
    global _check_module, _new_callback_class
    _check_module, _new_callback_class = check_module, new_callback_class


def check_module(module: Any) -> None:
    """Check `module`'s fields (called by the hooks when the switch is on)."""
    _check_module(module)


def new_callback_class(cls: type) -> None:
    """Instrument a callback class just defined, if checking applies to it."""
    _new_callback_class(cls)
