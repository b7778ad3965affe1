"""Which Lerax algorithms a run checks a callback against, and with what.

By default a `lerax.callback` callback is checked against every algorithm of the
installed Lerax (it may be handed to any of them), a `lerax_callback` one against
none (it runs in the reference loop, and in Lerax through `to_lerax`) unless
`algorithms` names some. The first chosen algorithm's recording shapes the
contexts every check makes; the `lerax` check traces them all. Without Lerax, a
`lerax_callback` callback can still name algorithms: their recorded profiles
stand in for them (`_standin`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from ._algorithms import (
    SPECS,
    installed_algorithms,
    lerax_installed,
    titles,
)
from ._record import recording
from ._standin import standin_algorithms, standin_profiles, standin_recording


def is_lerax_object(obj: Any) -> bool:
    """Whether `obj` is an instance of a class from Lerax (an environment, a
    policy), which the reference loop cannot drive."""
    return obj is not None and type(obj).__module__.split(".")[0] == "lerax"


@dataclasses.dataclass(frozen=True)
class LeraxChoice:
    """The Lerax algorithms a callback is checked against.

    - `algorithms`: their names, in `ALGORITHM_NAMES` order (maybe none).
    - `env`, `policy`: the user's Lerax environment and policy, or `None` for each
        algorithm's default.
    - `ours`: whether the callback is a `lerax_callback` one (wrapped with
        `to_lerax` for Lerax).
    - `why_none`: why no algorithm is chosen, when none is.
    - `standin`: without Lerax, the Lerax version whose recorded profiles stand
        in for its algorithms (`_standin`); empty when Lerax is installed.
    """

    algorithms: tuple[str, ...]
    env: Any = None
    policy: Any = None
    ours: bool = False
    why_none: str = ""
    standin: str = ""

    def recording(self, name: str) -> Any:
        """What algorithm `name` passes a callback: recorded from the installed
        Lerax, else made from its shipped profile. Raises what tracing the real
        `learn()` raises."""
        if self.standin:
            return standin_recording(name)
        return recording(name, *self.env_and_policy(name))

    def env_and_policy(self, name: str) -> tuple[Any, Any]:
        """The user's environment and policy where algorithm `name` accepts the
        environment, else `(None, None)`: the algorithm's defaults."""
        if self.env is not None and SPECS[name].accepts(self.env):
            return self.env, self.policy
        return None, None

    def wrap(self, callback: Any) -> Any:
        """`callback` as Lerax's algorithms take it."""
        if not self.ours:
            return callback
        from lerax_callback import to_lerax

        return to_lerax(callback)


def choose_algorithms(
    requested: Iterable[str] | None, *, ours: bool, env: Any = None, policy: Any = None
) -> LeraxChoice | None:
    """The algorithms to check against: `None` without Lerax, unless a
    `lerax_callback` callback names some (stand-ins then). `ValueError` when a
    requested one is not in the installed Lerax (or the stand-ins' release)."""
    if not lerax_installed():
        if not requested:
            return None
        version, _ = standin_profiles()
        known = standin_algorithms()
        if not ours:  # only a `lerax.callback` made elsewhere could get here
            raise ValueError(
                f"`algorithms` names {titles(requested)}, but Lerax is not installed "
                "here (it needs Python 3.13 or newer): `pip install lerax`."
            )
        missing = [n for n in requested if n not in known]
        if missing:
            raise ValueError(
                f"Lerax {version} has no {titles(missing)}; it has {titles(known)}."
            )
        return LeraxChoice(tuple(requested), ours=True, standin=version)
    installed = installed_algorithms()
    env = env if is_lerax_object(env) else None
    policy = policy if is_lerax_object(policy) else None
    if requested is None:
        if ours:
            why = (
                "a `lerax_callback` callback runs in Lerax through `to_lerax`; pass "
                "`algorithms=` (command: `--algorithm NAME`) to trace it in Lerax's "
                "algorithms"
            )
            return LeraxChoice((), env, policy, ours, why)
        return LeraxChoice(installed, env, policy, ours)
    missing = [n for n in requested if n not in installed]
    if missing:
        from importlib.metadata import version

        raise ValueError(
            f"the installed Lerax ({version('lerax')}) has no {titles(missing)}; it "
            f"has {titles(installed)}. Lerax's main branch has all eight algorithms."
        )
    return LeraxChoice(tuple(requested), env, policy, ours)
