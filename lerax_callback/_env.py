"""Minimal environment and policy bases.

Contexts carry the algorithm's own environment and policy, whatever their classes:
these bases exist so that small environments and policies (such as the toy ones in
`lerax_testing.toy`) have something to subclass, not to restrict what a context holds.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx


class _Named(eqx.Module):
    """Gives `name` a default, the class's name, without making it a field.

    A field or a property in this base would become the default of a subclass's own
    `name: str` field (dataclasses read class attributes as defaults), and then a
    subclass declaring `name: str` before a field without a default would no longer
    be a valid dataclass. `__getattr__` runs only when `name` is not found
    otherwise, so a subclass's field or property always wins.
    """

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "name":
            return type(self).__name__
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {attribute!r}"
        )


class AbstractEnvLike(_Named):
    """Base class for environments handed to callbacks through their contexts.

    **Attributes:**

    - `name`: a human-readable name of the environment; optional, the class's name
        unless a subclass declares it (as a field or a property).
    """


class AbstractPolicy(_Named):
    """Base class for policies handed to callbacks through their contexts.

    **Attributes:**

    - `name`: a human-readable name of the policy; optional, the class's name unless
        a subclass declares it (as a field or a property).
    """
