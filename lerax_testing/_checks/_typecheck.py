"""The `typecheck` check: the callback's jaxtyping annotations hold at run time."""

from __future__ import annotations

from typing import Any

from .._engine._drive import Invoker, MethodError, drive_jit_first
from .._engine._scenario import Scenario
from .._explain._report import Failure
from .._explain._source import method_location
from .._search import find_failure, method_failure
from .._subject import Subject


class _Checked:
    """Stands in for the callback: every method call goes through
    `lerax_callback.typecheck_call`, whether or not the callback opted in."""

    def __init__(self, callback: Any):
        self._callback = callback

    def __getattr__(self, name: str) -> Any:
        from lerax_callback import typecheck_call

        def method(ctx: Any, *, key: Any) -> Any:
            return typecheck_call(self._callback, name, ctx, key=key)

        return method


def _harness_value(error: BaseException, subject: Subject) -> bool:
    """Whether a type error is about a context field the harness filled in (the
    toy environment and policy do not derive from Lerax's own bases, which
    `lerax.callback`'s contexts annotate): not the callback's doing."""
    owner = getattr(error, "field_owner", None)
    return owner in subject.context.contexts.api.contexts.values() and getattr(
        error, "field_name", None
    ) in ("env", "policy")


def check_typecheck(subject: Subject) -> list[Failure]:
    """`typecheck` failures: a value that breaks the callback's jaxtyping annotations,
    every method called through `typecheck_call` whether or not the callback opted
    in. A harness-made environment or policy that fails Lerax's annotations is no
    finding."""
    from lerax_callback import TypeCheckError

    checked = _Checked(subject.callback)
    # Under `jit` the annotations are checked while tracing, once per shape: so
    # tracing alone checks them, without compiling; a callback that cannot be
    # traced is checked eagerly instead.
    batches = (False, True) if subject.num_envs > 1 else (False,)
    invokers = [
        (Invoker(jit=True, batched=b, trace=True), Invoker(jit=False, batched=b))
        for b in batches
    ]

    def test(scenario: Scenario) -> list[Failure]:
        """The first annotation failure of one example, unbatched then batched; other
        method errors are the `runs` check's."""
        for jitted, eager in invokers:
            try:
                drive_jit_first(
                    checked,
                    scenario,
                    jitted,
                    eager,
                    subject.context,
                    keep=(TypeCheckError,),
                )
            except MethodError as error:
                if _harness_value(error.error, subject):
                    return []
                if isinstance(error.error, TypeCheckError):
                    failure = method_failure("typecheck", error, subject)
                    location = failure.location or method_location(
                        subject.callback, error.method
                    )
                    return [
                        Failure(
                            "typecheck",
                            error.method,
                            str(error.error),
                            location=location,
                            advice="Make the value match its annotation, or fix the "
                            "annotation if it is the annotation that is wrong.",
                        )
                    ]
                return []  # other errors are the `runs` check's finding
        return []

    return find_failure(subject, "typecheck", test, num_envs=subject.num_envs)
