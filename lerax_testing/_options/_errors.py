"""The one error for an argument, option or setting the toolkit cannot use.

Defined beside the option table, which raises it, and re-exported by `_config`
and the package. Imports nothing.
"""

from __future__ import annotations


class InvalidArgument(TypeError, ValueError):
    """An argument, option or setting the toolkit cannot use, with what to change.

    Raised before any check runs, by `check_callback`, the command (which exits
    with status 2) and the pytest plugin alike. It is both a `TypeError` and a
    `ValueError`, so code that caught either before still does.
    """


InvalidArgument.__module__ = "lerax_testing"


class ConfigError(InvalidArgument):
    """A `[tool.lerax_testing]` table that cannot be used; says what to change."""


ConfigError.__module__ = "lerax_testing"
