"""The global type-checking switch.

The hooks in the states, the contexts and `AbstractCallback` read `enabled` on every
construction, so this module imports nothing: with checking off, a hook costs one
boolean test. The checking machinery (and beartype) is imported only once a hook
finds the switch on, or a user asks for a check.
"""

from __future__ import annotations

from typing import Any

enabled: bool = False
"""Whether every state, callback and context is checked; see `enable_typechecking`."""

ENVIRONMENT_VARIABLE = "LERAX_TYPECHECK"

OPT_IN = "__lerax_typechecked__"
"""Set on a class by `typechecked`; callback classes derived from it are checked too."""


def check_module(module: Any) -> None:
    """Check `module`'s fields (called by the hooks when the switch is on)."""
    from ._typecheck_fields import check_fields

    check_fields(module)


def new_callback_class(cls: type) -> None:
    """Instrument a callback class just defined, if checking applies to it."""
    from ._typecheck import instrument_new_class

    instrument_new_class(cls)
