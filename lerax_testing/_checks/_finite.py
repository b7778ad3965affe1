"""The `finite` check: no NaN from NaN-free inputs, located with checkify."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
from jax.experimental import checkify

from .._engine._drive import Call, Invoker, MethodError, Trajectory, drive, tables
from .._engine._episode import StaticPart, split_static
from .._engine._scenario import Scenario
from .._explain._report import Failure
from .._explain._source import user_frame
from .._search import find_failure
from .._subject import Subject
from .._tree import first_nan, has_nan
from ._curriculum import curriculum_nan_failures


def _episode_has_nan(trajectory: Trajectory) -> bool:
    """Whether any output of a jitted episode holds NaN: its steps' outputs at
    once (padded steps too: a NaN only there is looked for call by call), then
    the other calls'."""
    run = trajectory.episode
    return has_nan(run.outs) or any(
        has_nan(call.output)  # the program's own arrays: nothing is made
        for call in trajectory.calls
        if call.method not in ("on_step", "continue_training")
    )


def locate_nan(
    fn: Any, args: tuple[Any, ...], callback: Any
) -> tuple[str | None, tuple[str, int] | None, str]:
    """Re-run one call with checkify's NaN checks: `(primitive, (file, line), text)`
    of the first operation that made a NaN.

    Compiled once per call function and callback (`_checked`): hypothesis runs a
    failing example's calls again at every step of shrinking, and compiling the
    checks each time made shrinking a NaN take a quarter of a minute."""
    dynamic, static = split_static(args)
    try:
        error, _ = _checked(fn)(static, dynamic)
    except TypeError:  # parts that cannot be hashed: compiled for this call alone
        checked = checkify.checkify(
            lambda d: fn(*eqx.combine(d, static.tree())), errors=checkify.nan_checks
        )
        error, _ = jax.jit(checked)(dynamic)
    exception = error.get_exception()
    if exception is None:
        return None, None, ""
    primitive = getattr(exception, "prim", None)
    frames = [
        (frame.file_name, frame.line_num)
        for frame in getattr(getattr(exception, "traceback_info", None), "frames", [])
    ]
    return primitive, user_frame(frames, callback), str(exception)


_CHECKED: dict[Any, Any] = {}
"""Per call function: it under checkify's NaN checks, jitted (`locate_nan`)."""


def _checked(fn: Any) -> Any:
    made = _CHECKED.get(fn)
    if made is None:

        def run(static: StaticPart, dynamic: Any) -> Any:
            def call(dynamic: Any) -> Any:
                return fn(*eqx.combine(dynamic, static.tree()))

            return checkify.checkify(call, errors=checkify.nan_checks)(dynamic)

        made = _CHECKED[fn] = jax.jit(run, static_argnums=0)
    return made


def check_finite(subject: Subject) -> list[Failure]:
    """NaN from NaN-free inputs, with the configured environments (every example)
    and, when those are several, with one unbatched environment (the first few
    examples): a reduction over environments, such as a standard deviation with
    `ddof=1`, can make NaN from one environment alone."""
    if subject.num_envs > 1:
        found = _finite_failures(subject, batched=True)
        if found:
            return found
    return _finite_failures(subject, batched=False)


def _finite_failures(subject: Subject, *, batched: bool) -> list[Failure]:
    """The first method of an example that returns NaN from NaN-free inputs, located
    with checkify, batched (every example) or with one environment (the first few). A
    jitted episode is looked into call by call only when it holds a NaN, so that a
    clean example costs one test."""
    invoker = Invoker(jit=True, batched=batched, share=True)
    table = tables(subject.context.contexts)[1 if batched else 0]
    alone = "" if batched or subject.num_envs == 1 else " with one environment"

    def inspect_call(call: Call, found: list[Failure]) -> None:
        if found or call.method == "continue_training":
            return
        output = call.host_output()
        if not has_nan(output) or has_nan(call.host_args()):
            return
        root = "step_state" if call.method in ("step_reset", "on_step") else "state"
        leaf = first_nan(output, root)
        try:
            primitive, location, text = locate_nan(
                table[call.method], (subject.callback, *call.args), subject.callback
            )
        except Exception:  # locating is a bonus; the NaN itself is the finding
            primitive, location, text = None, None, ""
        made = f" (first made by `{primitive}`)" if primitive else ""
        found.append(
            Failure(
                "finite",
                call.method,
                f"`{call.method}` returns NaN at `{leaf}` from inputs without "
                f"NaN{alone}{made}.",
                leaf=leaf,
                location=location,
                advice="Guard divisions and logs (`x / jnp.maximum(n, 1)`, "
                "`jnp.where(n > 0, ..., 0.0)`), avoid `inf - inf` and `0 * inf`, and "
                "reset with `jnp.where(done, 0.0, x)` rather than `x * (1 - done)`.",
                details=text or None,
            )
        )

    def test(scenario: Scenario) -> list[Failure]:
        if not all(math.isfinite(r) for row in scenario.rewards for r in row):
            # A broken environment's inf or NaN rewards (drawn only when the user
            # asks) may rightly give NaN; the other checks test robustness to them.
            return []
        found: list[Failure] = []
        try:
            trajectory = drive(subject.callback, scenario, invoker, subject.context)
        except MethodError:
            return []  # reported by the `jit` check
        if trajectory.episode is None or _episode_has_nan(trajectory):
            for call in trajectory.calls:
                inspect_call(call, found)
        return found or curriculum_nan_failures(subject, trajectory.calls)

    if not alone:
        return find_failure(subject, "finite", test, num_envs=subject.num_envs)
    # With one environment, the first few examples of the same stream.
    later = subject.beyond_few("finite", subject.num_envs)
    return find_failure(
        subject,
        "finite",
        lambda s: [] if id(s) in later else test(s),
        num_envs=subject.num_envs,
    )
