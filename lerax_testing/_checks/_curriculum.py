"""`apply_curriculum` in the generated-example checks: `structure` traces it with
the state `on_iteration` returned and compares what it returns with what it was
given, as the algorithm's iteration scan compares its carry; `finite` runs it and
looks for NaN. Only for a `lerax.callback` callback with a curriculum, checked
against a Lerax release whose algorithms call it (`_lerax._curriculum`)."""

from __future__ import annotations

from typing import Any

from .._engine._drive import Call
from .._explain._report import Failure
from .._explain._source import error_summary, user_location
from .._lerax._curriculum import Curriculum, curriculum_of
from .._subject import Subject
from .._tree import diff, first_nan, has_nan

METHOD = "apply_curriculum"

_ADVICE = (
    "Return `(algorithm_state, callback_state)`, each of the class, structure, "
    "shapes and dtypes it was given: change array leaves with `eqx.tree_at` and "
    "cast new values with `.astype(old.dtype)`; never put a Python number where "
    "an array was."
)
_NAN_ADVICE = (
    "Guard divisions and logs in the curriculum (`jnp.maximum(n, 1)`, "
    "`jnp.where(ok, x, old)`): a NaN in the algorithm state reaches the "
    "environment or the optimiser of every later iteration."
)


def subject_curriculum(subject: Subject) -> Curriculum | None:
    """The curriculum the checks drive for `subject`, if any."""
    recording = getattr(subject.context.contexts, "recording", None)
    if recording is None:
        return None
    return curriculum_of(subject.callback, recording)


def _driven(subject: Subject, calls: list[Call]) -> tuple[Curriculum, Any] | None:
    """The curriculum to drive for `subject` and the callback state to drive it
    with, what the last `on_iteration` of `calls` returned; `None` without
    either."""
    curriculum = subject_curriculum(subject)
    states = [c.output for c in calls if c.method == "on_iteration"]
    if curriculum is None or not states:
        return None
    return curriculum, states[-1]


def curriculum_structure_failures(
    subject: Subject, calls: list[Call], check: str, note: str = ""
) -> list[Failure]:
    """Trace `apply_curriculum` with the state the last traced `on_iteration` of
    `calls` returned; a failure for an error, for a result that is not the pair
    of states, and for each leaf whose class, structure, shape or dtype changed."""
    driven = _driven(subject, calls)
    if driven is None:
        return []
    curriculum, last = driven
    try:
        (state, callback_state), out = curriculum.trace(last)
    except Exception as error:
        return [
            Failure(
                check,
                METHOD,
                f"{note}`{METHOD}` could not be traced with the algorithm's state: "
                f"it raised {error_summary(error)}.",
                location=user_location(error, subject.callback),
                advice=_ADVICE,
            )
        ]
    if not (isinstance(out, tuple) and len(out) == 2):
        return [
            Failure(
                check,
                METHOD,
                f"{note}`{METHOD}` returned {type(out).__name__}, not the pair "
                "`(algorithm_state, callback_state)` the algorithm unpacks.",
                advice=_ADVICE,
            )
        ]
    failures = []
    for before, after, path, whose in (
        (state, out[0], "algorithm_state", "an algorithm"),
        (callback_state, out[1], "state", "a callback"),
    ):
        for d in diff(before, after, path, carry=True):
            failures.append(
                Failure(
                    check,
                    METHOD,
                    f"{note}`{METHOD}` returns {whose} state unlike the one it "
                    "received (the algorithm's scan carry): "
                    f"`{d}`.",
                    leaf=d.path,
                    expected=d.before,
                    found=d.after,
                    advice=_ADVICE,
                )
            )
    return failures


def curriculum_nan_failures(subject: Subject, calls: list[Call]) -> list[Failure]:
    """Run `apply_curriculum` with the state the last `on_iteration` of `calls`
    returned; a failure when it returns NaN from NaN-free states."""
    driven = _driven(subject, calls)
    if driven is None:
        return []
    curriculum, last = driven
    try:
        inputs, out = curriculum.run(last)
    except Exception:  # an error is the `structure` check's finding
        return []
    if not (isinstance(out, tuple) and len(out) == 2):
        return []  # not the pair of states: the `structure` check's finding
    if has_nan(inputs) or not has_nan(out):
        return []
    leaf = first_nan(out[0], "algorithm_state") or first_nan(out[1], "state")
    return [
        Failure(
            "finite",
            METHOD,
            f"`{METHOD}` returns NaN at `{leaf}` from states without NaN.",
            leaf=leaf,
            advice=_NAN_ADVICE,
        )
    ]
