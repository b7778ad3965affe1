"""The `lerax` check: the callback in the real `learn()` of each chosen Lerax
algorithm, traced (never compiled), the ground truth of what training does with
it. A crash is reported once, with the algorithms where it happens and those
where it does not. Without Lerax, a `lerax_callback` callback that names
algorithms is traced in the reference loop with the contexts their recorded
profiles describe (`_lerax._standin`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr

from .._engine._contexts import ContextBuilder
from .._explain._advice import advise
from .._explain._report import Failure, SkipCheck
from .._explain._source import error_summary, source_line, user_location
from .._lerax._algorithms import titles
from .._lerax._learn import LearnCrash, method_of, trace_learn
from .._lerax._standin import standin_recording
from .._loop._training import train
from .._subject import Subject

NO_LERAX = (
    "Lerax is not installed here (it needs Python 3.13 or newer): "
    "`pip install lerax`, or Lerax's main branch from its repository"
)


def check_lerax(subject: Subject) -> list[Failure]:
    """Trace the real `learn()` of each chosen algorithm (`subject.lerax`) with
    the callback; one failure per distinct crash."""
    if subject.lerax is None:
        raise SkipCheck(NO_LERAX)
    lerax = subject.lerax
    if not lerax.algorithms:
        raise SkipCheck(lerax.why_none)
    callback = subject.callback if lerax.standin else lerax.wrap(subject.callback)
    crashes: dict[tuple[Any, ...], list[LearnCrash]] = {}
    for name in lerax.algorithms:
        if lerax.standin:
            crash = _trace_standin(subject, name)
        else:
            crash = trace_learn(callback, name, *lerax.env_and_policy(name))
        if crash is not None:
            location = user_location(crash.error, subject.callback)
            key = (crash.method, type(crash.error).__name__, location, crash.changes)
            crashes.setdefault(key, []).append(crash)
    return [
        _failure(found, key[2], lerax.algorithms, lerax.standin)
        for key, found in crashes.items()
    ]


def _trace_standin(subject: Subject, name: str) -> LearnCrash | None:
    """Without Lerax: the reference loop traced (never compiled) with the contexts
    algorithm `name` passes, made from its recorded profile (`locals`, optimiser
    state, training log), over two environments and two iterations."""
    recording = standin_recording(name)
    given = subject.context.contexts
    values = {**given.values, "training_log": recording.training_log()}
    contexts = ContextBuilder(given.api, values, recording)
    env, policy = subject.context.env, subject.context.policy
    callback = _NeverAsked(subject.callback)
    try:
        eqx.filter_eval_shape(
            train, callback, contexts, env, policy, 2, 2, 2, jr.key(0)
        )
    except Exception as error:
        return LearnCrash(name, method_of(error), error)
    return None


class _NeverAsked(eqx.Module):
    """The callback as Lerax's algorithms call it: every method but
    `continue_training`, which none of them calls (the reference loop would)."""

    inner: Any

    def reset(self, ctx: Any, *, key: Any) -> Any:
        return self.inner.reset(ctx, key=key)

    def step_reset(self, ctx: Any, *, key: Any) -> Any:
        return self.inner.step_reset(ctx, key=key)

    def on_step(self, ctx: Any, *, key: Any) -> Any:
        return self.inner.on_step(ctx, key=key)

    def on_iteration(self, ctx: Any, *, key: Any) -> Any:
        return self.inner.on_iteration(ctx, key=key)

    def on_training_start(self, ctx: Any, *, key: Any) -> Any:
        return self.inner.on_training_start(ctx, key=key)

    def on_training_end(self, ctx: Any, *, key: Any) -> Any:
        return self.inner.on_training_end(ctx, key=key)

    def continue_training(self, ctx: Any, *, key: Any) -> Any:
        return jnp.array(True)


def _failure(
    crashes: list[LearnCrash],
    location: tuple[str, int] | None,
    chosen: tuple[str, ...],
    standin: str = "",
) -> Failure:
    """One failure for the crashes that share a method, an error and the user's
    line (`location`): where it crashes and where it traces fine, the cause (a
    changed carry or the error raised) and advice; when some algorithms trace it
    fine, the advice also offers checking with those alone (`algorithms=`).
    `standin`: the Lerax release whose profiles stood in for the algorithms."""
    first = crashes[0]
    where = [c.algorithm for c in crashes]
    fine = [name for name in chosen if name not in where]
    method = f"`{first.method}`" if first.method else "the callback"
    if first.changes:
        what = "; ".join(
            f"`{m}` returned a state that differs at `{change}`"
            for m, change in first.changes
        )
        cause = f"{what}, and the algorithm's `lax.scan` rejects the changed carry"
    else:
        cause = f"{method} raised {error_summary(first.error)}"
    at = f" at {location[0]}:{location[1]}" if location else ""
    if standin:
        message = (
            f"With the contexts Lerax {standin}'s {titles(where)} "
            f"pass{'es' if len(where) == 1 else ''} (stand-ins from their recorded "
            f"profiles: Lerax is not installed here), {cause}{at}"
        )
    else:
        message = f"In Lerax's {titles(where)}, {cause}{at} while `learn()` was traced"
    if fine:
        message += f"; {titles(fine)} trace{'s' if len(fine) == 1 else ''} it fine"
    message += "."
    failure = Failure(
        "lerax", first.method, message, location=location, details=source_line(location)
    )
    fix = advise(failure)
    if first.changes:
        fix = (
            "Return a state of the class, structure, shapes and dtypes the method "
            "was given (`eqx.tree_at` on array leaves, cast with `.astype`); "
            "`apply_curriculum` returns `(algorithm_state, callback_state)`, both "
            "unchanged in structure."
        )
    if fine:
        keep = ", ".join(repr(n) for n in fine)
        comma = "," if len(fine) == 1 else ""
        only = (
            f"If the callback is meant for {titles(fine)} only, check it with "
            f"`algorithms=({keep}{comma})` (command: "
            + " ".join(f"`--algorithm {n}`" for n in fine)
            + "); otherwise make it work with what every algorithm passes"
        )
        fix = only + (f": {fix}" if fix else ".")
    return dataclasses.replace(failure, advice=fix)
