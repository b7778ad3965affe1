"""Checked calls: a function's arguments and return value against its annotations.

A callback method is checked against its own annotations; where it has none, the
callback API's (`ctx: StepContext`, `key: Key[Array, ""]`, `-> StepStateType`, ...)
stand in, so unannotated callbacks are held to the API's contract. The context's
states are checked as the callback's declared state types, and state instances
(the context's and the returned one) field by field.
"""

from __future__ import annotations

import dataclasses
import functools as ft
import inspect
import types
import weakref
from collections.abc import Callable
from typing import Any

from jaxtyping import jaxtyped

from .._callback import CALLBACK_METHODS
from .._contexts import StateType, StepStateType
from .._family import OURS, CallbackApi, callback_api
from ._errors import annotation_text, display_name, mismatch
from ._fields import check_module_fields, module_globals
from ._hints import (
    UNRESOLVED,
    Check,
    bindings_for,
    make_check,
    resolve,
    violation,
)

ORIGINAL = "__lerax_typecheck_original__"
"""The attribute a checking wrapper keeps the function it wraps in."""


_ITERATION_STATES = (("state", StateType, True), ("step_state", StepStateType, False))
# Which context attributes hold which state: `(attribute, type variable, fields?)`.
# The step states of an `IterationContext` may be batched over environments, so
# only their class is checked, not their (per-environment) field shapes.
_CONTEXT_STATES: dict[str, tuple[tuple[str, Any, bool], ...]] = {
    "on_step": (("state", StepStateType, True),),
    "on_iteration": _ITERATION_STATES,
    "continue_training": _ITERATION_STATES,
    "on_training_start": _ITERATION_STATES,
    "on_training_end": _ITERATION_STATES,
}

_POSITIONAL = inspect.Parameter.VAR_POSITIONAL
_KEYWORD = inspect.Parameter.VAR_KEYWORD


@dataclasses.dataclass(frozen=True)
class CallSpec:
    """What to check around calls of one function on one class of `self`."""

    title: str
    signature: inspect.Signature
    parameters: tuple[tuple[Check, Any], ...]
    result: Check | None
    context: str | None
    context_states: tuple[tuple[str, Any, str, bool], ...]
    state_bases: tuple[type, ...] = (OURS.state, OURS.step_state)


def original(fn: Any) -> Any:
    """The function a checking wrapper wraps (or `fn` itself)."""
    return getattr(fn, ORIGINAL, fn)


def _defining_class(owner: type, fn: Callable) -> type:
    """The class in `owner`'s MRO whose body defines `fn`."""
    name = getattr(fn, "__name__", "")
    for unwrap in (False, True):
        for klass in owner.__mro__:
            attribute = klass.__dict__.get(name)
            if (original(attribute) if unwrap else attribute) is fn:
                return klass
    return owner


def _contract(api: CallbackApi | None, name: str) -> inspect.Signature | None:
    """The signature the callback API `api` gives method `name`, if it has one."""
    if api is None or name not in CALLBACK_METHODS:
        return None
    fn = api.callback.__dict__.get(name)
    return None if fn is None else inspect.signature(original(fn))


def _contract_names(api: CallbackApi) -> tuple[dict[str, Any], dict[str, Any]]:
    """Where the API's own annotations are evaluated: its module, and the type
    parameters of its `AbstractCallback` (Lerax's PEP 695 parameters are not names
    of its module)."""
    params = getattr(api.callback, "__parameters__", ())
    return module_globals(api.callback), {p.__name__: p for p in params}


def build_spec(fn: Callable, owner: type | None) -> CallSpec:
    """The checks for calling `fn` with `self` of class `owner` (`None`: no `self`)."""
    name = getattr(fn, "__name__", "<function>")
    signature = inspect.signature(fn)
    api = None if owner is None else callback_api(owner)
    contract = _contract(api, name)
    contract_globals, contract_locals = _contract_names(api or OURS)
    own_globals = getattr(fn, "__globals__", None) or module_globals(fn)
    localns: dict[str, Any] = {}
    bindings: dict[Any, Any] = {}
    if owner is not None:
        defining = _defining_class(owner, fn)
        bindings = bindings_for(owner, defining)
        # Let annotations name the classes of a callback defined in a function,
        # and its state types; the module's own names come first.
        named = [v for v in bindings.values() if isinstance(v, type)]
        named += [defining, owner]
        localns = {v.__name__: v for v in named if v.__name__ not in own_globals}

    def check_for(name: str, annotation: Any, fallback: Any) -> Check | None:
        # The method's own annotation; where it has none, or one that cannot be
        # evaluated (a name local to a function), the API's.
        empty = inspect.Parameter.empty
        if annotation is not empty:
            hint = resolve(annotation, own_globals, localns)
            if hint is not UNRESOLVED or fallback is empty:
                return make_check(name, hint, written=annotation, bindings=bindings)
        if fallback is empty:
            return None
        hint = resolve(fallback, contract_globals, contract_locals)
        return make_check(name, hint, written=fallback, bindings=bindings)

    parameters = []
    params = list(signature.parameters.values())
    if owner is not None:
        params = params[1:]
    for param in params:
        fallback = inspect.Parameter.empty
        if contract is not None and param.name in contract.parameters:
            fallback = contract.parameters[param.name].annotation
        check = check_for(param.name, param.annotation, fallback)
        if check is not None:
            parameters.append((check, param.kind))
    result = check_for(
        "return",
        signature.return_annotation,
        inspect.Signature.empty if contract is None else contract.return_annotation,
    )
    context = None
    context_states: list[tuple[str, Any, str, bool]] = []
    if contract is not None and params:
        context = params[0].name
        for attribute, variable, fields in _CONTEXT_STATES.get(name, ()):
            state_type = bindings.get(variable)
            if isinstance(state_type, type):
                expected = annotation_text(variable.__name__, state_type)
                context_states.append((attribute, state_type, expected, fields))
    title = display_name(fn) if owner is None else f"{display_name(owner)}.{name}"
    family = api or OURS
    return CallSpec(
        f"`{title}`",
        signature,
        tuple(parameters),
        result,
        context,
        tuple(context_states),
        (family.state, family.step_state),
    )


def _check(value: Any, check: Check, subject: str, what: str) -> None:
    error = violation(value, check.hint)
    if error is not None:
        raise mismatch(
            subject=subject,
            what=what,
            expected=check.expected,
            value=value,
            hint=check.hint,
        ) from error


def _check_context(spec: CallSpec, ctx: Any, *, fields: bool) -> None:
    """The context's own fields (if asked) and the states it carries."""
    where = f"`{spec.context}` passed to {spec.title}"
    if fields and dataclasses.is_dataclass(ctx) and not isinstance(ctx, type):
        check_module_fields(ctx, origin=where)
    for attribute, state_type, expected, check_fields in spec.context_states:
        state = getattr(ctx, attribute, None)
        if state is None:
            continue
        what = f"`{spec.context}.{attribute}`"
        _check(state, Check(attribute, state_type, expected), spec.title, what)
        if check_fields:
            check_module_fields(state, origin=f"{what} passed to {spec.title}")


def run_checked(
    spec: CallSpec,
    fn: Callable,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    context_fields: bool = False,
) -> Any:
    """Call `fn(*args, **kwargs)`, checking around the call as `spec` says."""
    try:
        bound = spec.signature.bind(*args, **kwargs)
    except TypeError:
        return fn(*args, **kwargs)  # Let Python report the bad call itself.
    arguments = bound.arguments
    # One jaxtyping memo per call: a dimension name means one size across the
    # arguments and the return value, and in `isinstance` checks in the body.
    with jaxtyped("context"):
        for check, kind in spec.parameters:
            if check.name not in arguments:
                continue
            value = arguments[check.name]
            what = f"Argument `{check.name}`"
            if kind is _POSITIONAL:
                for item in value:
                    _check(item, check, spec.title, what)
            elif kind is _KEYWORD:
                for item in value.values():
                    _check(item, check, spec.title, what)
            else:
                _check(value, check, spec.title, what)
        if spec.context is not None and spec.context in arguments:
            _check_context(spec, arguments[spec.context], fields=context_fields)
        out = fn(*args, **kwargs)
        if spec.result is not None:
            _check(out, spec.result, spec.title, "The return value")
    if isinstance(out, spec.state_bases):
        check_module_fields(out, origin=f"the return value of {spec.title}")
    return out


def checked_function(fn: types.FunctionType) -> Callable[..., Any]:
    """`fn`, checking each call's arguments and return value.

    When `fn` takes `self`, type variables are resolved per class of `self`.
    """
    params = list(inspect.signature(fn).parameters)
    takes_self = bool(params) and params[0] == "self"
    specs: weakref.WeakKeyDictionary[type, CallSpec] = weakref.WeakKeyDictionary()
    free: list[CallSpec] = []

    @ft.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if takes_self and args:
            owner = type(args[0])
            spec = specs.get(owner)
            if spec is None:
                spec = specs[owner] = build_spec(fn, owner)
        else:
            if not free:
                free.append(build_spec(fn, None))
            spec = free[0]
        return run_checked(spec, fn, args, kwargs)

    setattr(checked, ORIGINAL, fn)
    return checked


_CALL_SPECS: weakref.WeakKeyDictionary[type, dict[Any, CallSpec]] = (
    weakref.WeakKeyDictionary()
)


def typecheck_call(callback: Any, method_name: str, ctx: Any, *, key: Any) -> Any:
    """Call one method of any callback, checking everything around the call.

    Runs `getattr(callback, method_name)(ctx, key=key)` and checks, whether or not
    the callback opted in and whether or not checking is switched on:

    - the callback's fields, the arguments `ctx` and `key`, and the context's
        fields;
    - the context's `state` (and `step_state`) as the callback's declared
        `StateType` / `StepStateType` (read by `callback_state_types`), and the
        fields of `ctx.state`;
    - the return value, against the method's return annotation with the generic
        state types resolved, and the fields of a returned state.

    The method's own annotations are used; where it has none, the callback API's
    stand in (`ctx: StepContext`, `key: Key[Array, ""]`, `-> StepStateType` for
    `on_step`, and so on). Checks run once even when the method is itself checked.
    Under `jax.jit` they run at trace time, on tracers' shapes and dtypes.

    **Arguments:**

    - `callback`: the callback instance.
    - `method_name`: which method to call, e.g. `"on_step"`.
    - `ctx`: the context to pass.
    - `key`: the PRNG key to pass.

    **Returns:**

    What the method returned.

    **Raises:**

    `TypeCheckError` on the first mismatch, naming the method, the argument, field
    or return value, what was expected and what was found; `TypeError` if
    `callback` is not a callback instance or has no such method.

    Callbacks written against Lerax's own `lerax.callback` are checked the same
    way, against Lerax's annotations and their declared state types.
    """
    api = callback_api(callback)
    if api is None or isinstance(callback, type):
        what = display_name(callback) if isinstance(callback, type) else repr(callback)
        raise TypeError(
            f"`typecheck_call` takes a callback instance, got {what}; pass an "
            "instance of an `AbstractCallback` subclass, e.g. `MyCallback()`."
        )
    owner = type(callback)
    attribute = inspect.getattr_static(owner, method_name, None)
    fn = original(attribute)
    if not isinstance(fn, types.FunctionType):
        if not (method_name in CALLBACK_METHODS and callable(attribute)):
            raise TypeError(
                f"`{display_name(owner)}.{method_name}` is not a method; pass the "
                f"name of one, e.g. one of {', '.join(CALLBACK_METHODS)}."
            )
        # A callable that is not a plain function: check it against the API.
        fn = original(api.callback.__dict__[method_name])
        target = _call_attribute(method_name)
    else:
        target = fn
    specs = _CALL_SPECS.setdefault(owner, {})
    spec = specs.get(fn)
    if spec is None:
        spec = specs[fn] = build_spec(fn, owner)
    check_module_fields(callback, origin="the callback")
    return run_checked(spec, target, (callback, ctx), {"key": key}, context_fields=True)


def _call_attribute(name: str) -> Callable[..., Any]:
    def call(self: Any, ctx: Any, *, key: Any) -> Any:
        return getattr(self, name)(ctx, key=key)

    return call
