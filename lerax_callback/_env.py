"""Minimal environment and policy bases.

Contexts carry the algorithm's own environment and policy, whatever their classes:
these bases exist so that small environments and policies (such as the toy ones in
`lerax_testing.toy`) have something to subclass, not to restrict what a context holds.
"""

from __future__ import annotations

import equinox as eqx


class AbstractEnvLike(eqx.Module):
    """Base class for environments handed to callbacks through their contexts.

    **Attributes:**

    - `name`: a human-readable name of the environment.
    """

    name: eqx.AbstractVar[str]


class AbstractPolicy(eqx.Module):
    """Base class for policies handed to callbacks through their contexts.

    **Attributes:**

    - `name`: a human-readable name of the policy.
    """

    name: eqx.AbstractVar[str]
