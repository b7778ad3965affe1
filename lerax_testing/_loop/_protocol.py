"""The environment and policy protocol of the reference training loop, checked up
front so that a missing method is named before anything is traced.

Contexts accept any environment and policy; only the reference loop
(`run_training`, and the checks registered with `runs_loop`) calls their methods.
Imports only the check registry, so the command and the plugin can use it before
JAX is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._checks._registry import LOOP_CHECKS

ENV_METHODS = {
    "initial": "initial(*, key) -> state",
    "observation": "observation(state) -> observation",
    "step": "step(state, action, *, key) -> (state, reward, done)",
}
"""The methods the reference loop calls on an environment, with their signatures."""

POLICY_METHODS = {"action": "action(observation, *, key) -> action"}
"""The methods the reference loop calls on a policy."""


def protocol_problems(env: Any, policy: Any) -> list[str]:
    """What `env` and `policy` lack of the loop's protocol, one phrase each
    (`None` stands for the toy one, which has everything)."""
    problems = []
    for what, value, methods in (
        ("env", env, ENV_METHODS),
        ("policy", policy, POLICY_METHODS),
    ):
        if value is None:
            continue
        missing = [m for m in methods if not callable(getattr(value, m, None))]
        if missing:
            listed = ", ".join(f"`{m}`" for m in missing)
            problems.append(f"the {what} `{type(value).__qualname__}` lacks {listed}")
    return problems


def require_protocol(
    env: Any, policy: Any, *, checks: Iterable[str] | None = None
) -> None:
    """Raise `TypeError` if `env` or `policy` lacks a method the reference loop
    calls: always for `run_training` (`checks=None`), and for a conformance run
    only when one of its `checks` runs the loop.

    The message names the missing methods, the whole protocol and the fix.
    """
    running = LOOP_CHECKS if checks is None else [c for c in checks if c in LOOP_CHECKS]
    problems = protocol_problems(env, policy) if running else []
    if not problems:
        return
    if checks is None:
        caller = "the reference training loop"
        fix = "Add the missing methods."
    else:
        named = " and ".join(f"`{c}`" for c in running)
        plural = "s" if len(running) > 1 else ""
        caller = f"the reference training loop (the {named} check{plural})"
        skips = ", ".join(f'"{c}": "why"' for c in running)
        fix = (
            "Add the missing methods, or, if the environment or policy is only "
            f"there for the callback to read, skip the loop: `skip={{{skips}}}` "
            f"(command: {' '.join(f'`--skip {c}=why`' for c in running)})."
        )
    raise TypeError(
        f"{'; '.join(problems)}, which {caller} calls. An environment needs "
        f"`{'`, `'.join(ENV_METHODS.values())}`; a policy needs "
        f"`{POLICY_METHODS['action']}` (see `lerax_testing.toy.ToyEnv` and "
        f"`ToyPolicy`). {fix}"
    )
