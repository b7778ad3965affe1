"""Runtime type checking of callbacks, states and contexts against their annotations.

Two ways in:

- `typechecked`, a decorator for one callback class, state class or function:
    always checked, whatever the switch says.
- The global switch (`enable_typechecking`, or `LERAX_TYPECHECK=1` in the
    environment before `lerax_callback` is imported): every state, callback and
    context built while it is on has its fields checked, and the public methods of
    every callback class are checked, those defined before it was turned on too.

Checks run in Python, so under `jax.jit` they run once, at trace time, on the
tracers' shapes and dtypes, and cost nothing in the compiled loop. Switched off,
the hooks cost one boolean test per construction and callback methods are not
wrapped at all.
"""

from __future__ import annotations

import contextlib
import os
import types
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, overload

import equinox as eqx

from .. import _switch
from .._callback import CALLBACK_METHODS, AbstractCallback
from .._family import callback_api
from .._states import AbstractCallbackState, AbstractCallbackStepState
from ._calls import (
    ORIGINAL,
    checked_function,
    original,
    typecheck_call as typecheck_call,
)
from ._errors import TypeCheckError as TypeCheckError
from ._fields import (
    check_fields as check_fields,
    check_module_fields,
)

_T = TypeVar("_T")

# Classes whose own `__check_init__` checks their fields while the switch is on.
_SELF_CHECKING = (AbstractCallbackState, AbstractCallbackStepState, AbstractCallback)

# The wrappers the switch installed, by class and method name, to take out again.
_INSTALLED: weakref.WeakKeyDictionary[type, dict[str, Callable]] = (
    weakref.WeakKeyDictionary()
)


def _is_method(name: str, attribute: Any) -> bool:
    return (
        not name.startswith("_")
        and isinstance(attribute, types.FunctionType)
        and not getattr(attribute, "__isabstractmethod__", False)
    )


def _install(cls: type, *, permanent: bool) -> None:
    """Wrap the public methods `cls` defines (and, if `permanent`, the API's)."""
    installed = _INSTALLED.get(cls, {})
    names = [name for name, value in vars(cls).items() if _is_method(name, value)]
    if permanent and callback_api(cls) is not None:
        # Inherited API methods are checked as methods of this class too.
        names += [
            name
            for name in CALLBACK_METHODS
            if name not in vars(cls) and _is_method(name, getattr(cls, name, None))
        ]
    for name in names:
        attribute = vars(cls).get(name)
        if attribute is not None and hasattr(attribute, ORIGINAL):
            if permanent:
                installed.pop(name, None)  # Keep the wrapper, for good now.
            continue
        wrapper = checked_function(original(getattr(cls, name)))
        setattr(cls, name, wrapper)
        if not permanent:
            installed[name] = wrapper
    if installed:
        _INSTALLED[cls] = installed


def _uninstall_all() -> None:
    """Put back every method the switch wrapped."""
    for cls, installed in list(_INSTALLED.items()):
        for name, wrapper in installed.items():
            if vars(cls).get(name) is wrapper:
                setattr(cls, name, getattr(wrapper, ORIGINAL))
    _INSTALLED.clear()


def _callback_classes() -> list[type]:
    """`AbstractCallback` and every class derived from it that is alive."""
    found: dict[type, None] = {}
    pending: list[type] = [AbstractCallback]
    while pending:
        cls = pending.pop()
        if cls not in found:
            found[cls] = None
            pending.extend(cls.__subclasses__())
    return list(found)


def instrument_new_class(cls: type) -> None:
    """Wrap a callback class's methods as it is defined (see `AbstractCallback`)."""
    _install(cls, permanent=bool(getattr(cls, _switch.OPT_IN, False)))


def _set(enabled: bool) -> None:
    if not isinstance(enabled, bool):
        raise TypeError(
            f"`enable_typechecking` takes a bool, got {enabled!r}; use "
            "`enable_typechecking(True)` or `enable_typechecking(False)`."
        )
    if enabled == _switch.enabled:
        return
    if enabled:
        for cls in _callback_classes():
            _install(cls, permanent=False)
    else:
        _uninstall_all()
    _switch.enabled = enabled


class _Restore(contextlib.AbstractContextManager[None]):
    """Returned by `enable_typechecking`: restores the previous setting on exit."""

    def __init__(self, previous: bool) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _set(self._previous)


def enable_typechecking(
    enabled: bool = True,
) -> contextlib.AbstractContextManager[None]:
    """Switch runtime type checking on (or off) for everything, now.

    While it is on, every state, callback and context built has its fields checked
    (`check_fields`), and every public method of every callback class, defined
    before or after, has its arguments and return value checked, with the generic
    `StateType` / `StepStateType` checked as the classes the callback declares.
    Switching it off takes the method checks out again; classes and functions
    decorated with `typechecked` stay checked.

    Used as a context manager it restores the previous setting on exit:

    ```python
    with lerax_callback.enable_typechecking():
        result = run_training(MyCallback())
    ```

    Checks run when Python runs: under `jax.jit`, at trace time. A function jitted
    and traced while checking was off is not traced again when it is switched on;
    switch it on before the first call (or set `LERAX_TYPECHECK=1` before Python
    starts) to check a whole run.

    **Arguments:**

    - `enabled`: `True` to switch checking on, `False` to switch it off.

    **Returns:**

    A context manager that, on exit, restores the setting in force before the call.
    """
    previous = _switch.enabled
    _set(enabled)
    return _Restore(previous)


def typechecking_enabled() -> bool:
    """Whether the global type-checking switch is on (see `enable_typechecking`)."""
    return _switch.enabled


def _checked_check_init(own: Callable[[Any], None] | None) -> Callable[[Any], None]:
    def __check_init__(self: Any) -> None:
        if own is not None:
            own(self)
        # While the switch is on, our own bases' hooks check these fields already.
        if not (_switch.enabled and isinstance(self, _SELF_CHECKING)):
            check_module_fields(self)

    return __check_init__


def _instrument_subclasses(cls: type) -> None:
    """Check the classes derived from `cls` too, as they are defined.

    Our `AbstractCallback` does this in its own `__init_subclass__`; a callback of
    another family (Lerax's) gets the hook here, on the decorated class.
    """
    own = cls.__dict__.get("__init_subclass__")

    def __init_subclass__(sub: type, **kwargs: Any) -> None:
        if own is not None:
            own.__func__(sub, **kwargs)
        else:
            super(cls, sub).__init_subclass__(**kwargs)
        _install(sub, permanent=True)

    cls.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]


@overload
def typechecked(obj: type[_T]) -> type[_T]: ...


@overload
def typechecked(obj: _T) -> _T: ...


def typechecked(obj: Any) -> Any:
    """Check a callback class, a state class or a function against its annotations.

    - On a class (an `equinox.Module`: a callback, a state or any other module):
        every instance's fields are checked after `__init__` (a custom `__init__`
        too), and every call of its public methods has its arguments and return
        value checked. On a callback class the inherited API methods are checked
        as well, and so are the callback classes derived from it. Callbacks
        written against Lerax's `lerax.callback` are checked the same way.
    - On a function or method: every call's arguments and return value.

    Array annotations are checked for shape and dtype, and a dimension name means
    one size across the arguments and return value of one call. In a callback's
    methods, `StateType` and `StepStateType` are checked as the classes the
    callback declares (`class C(AbstractCallback[MyState, MyStep])`), as are the
    states the context carries. An unannotated API method is held to the API's
    annotations. Checks run whatever `enable_typechecking` says; under `jax.jit`
    they run at trace time.

    ```python
    @lerax_callback.typechecked
    class Counter(lerax_callback.AbstractCallbackStepState):
        count: Int[Array, ""]
    ```

    **Raises:**

    `TypeCheckError` at a call or construction whose values do not match;
    `TypeError` here if `obj` is neither a module class nor a function.
    """
    if isinstance(obj, type):
        if not issubclass(obj, eqx.Module):
            raise TypeError(
                f"`typechecked` decorates `equinox.Module` classes (callbacks and "
                f"states are modules) and functions, got the class "
                f"{obj.__qualname__}; subclass `eqx.Module` or decorate its methods."
            )
        if not obj.__dict__.get(_switch.OPT_IN, False):
            # A decorated base's hook checks all the fields of its subclasses.
            if not getattr(obj, _switch.OPT_IN, False):
                own = obj.__dict__.get("__check_init__")
                obj.__check_init__ = _checked_check_init(own)
                api = callback_api(obj)
                if api is not None and not api.ours:
                    _instrument_subclasses(obj)
            setattr(obj, _switch.OPT_IN, True)
            _install(obj, permanent=True)
        return obj
    if isinstance(obj, staticmethod | classmethod):
        return type(obj)(typechecked(obj.__func__))
    if isinstance(obj, types.FunctionType):
        return obj if hasattr(obj, ORIGINAL) else checked_function(obj)
    raise TypeError(
        f"`typechecked` decorates `equinox.Module` classes and functions, got {obj!r}."
    )


_ON = ("1", "true", "yes", "on")
_OFF = ("", "0", "false", "no", "off")


def _from_environment() -> None:
    """Apply `LERAX_TYPECHECK`, read once when `lerax_callback` is imported."""
    raw = os.environ.get(_switch.ENVIRONMENT_VARIABLE)
    if raw is None:
        return
    value = raw.strip().lower()
    if value in _ON:
        enable_typechecking(True)
    elif value not in _OFF:
        raise ValueError(
            f"{_switch.ENVIRONMENT_VARIABLE}={raw!r} is not understood; set it to "
            f"one of {', '.join(_ON)} to switch type checking on, or to one of "
            f"0, false, no, off (or leave it unset) to keep it off."
        )


_switch.install(check_fields, instrument_new_class)
_from_environment()
