"""What to say when a class is given where a callback instance belongs: which
arguments its constructor needs, or that it is a state or context class and no
callback at all. One message for `check_callback`, the command's targets and the
plugin's `conformance_suite`. Imports JAX (the callback API) only when called,
as the command's start-up reads it."""

from __future__ import annotations

import inspect
from typing import Any


def required_arguments(factory: Any) -> list[str]:
    """The parameters `factory(...)` must be given (none for `factory()` to work):
    an equinox Module's fields without defaults, or a custom `__init__`'s."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def abstract_members(cls: type) -> list[str]:
    """The methods and (equinox `AbstractVar`) fields `cls` leaves abstract."""
    names: set[str] = set()
    for attribute in (
        "__abstractmethods__",
        "__abstractvars__",
        "__abstractclassvars__",
    ):
        names.update(getattr(cls, attribute, ()))
    return sorted(names)


def class_name(cls: type) -> str:
    """`Outer.Inner` for a nested class, the bare name for one made in a function."""
    return cls.__name__ if "<locals>" in cls.__qualname__ else cls.__qualname__


def construction(cls: type) -> str:
    """How to make an instance, e.g. `ReturnHistory(window=...)`."""
    arguments = ", ".join(f"{name}=..." for name in required_arguments(cls))
    return f"{class_name(cls)}({arguments})"


def not_a_callback_class(cls: type) -> str | None:
    """What `cls` is when it is no concrete callback class, or None when it is one:
    a state or context class of a callback API, another class, or an abstract
    callback class."""
    from lerax_callback._family import class_family, is_callback_class

    name = f"`{class_name(cls)}`"
    if not is_callback_class(cls):
        family = class_family(cls)
        if family is None:
            return (
                f"{name} is a class, but not an `AbstractCallback` one (of "
                "`lerax_callback` or `lerax.callback`); check a callback."
            )
        if cls in family.contexts.values():
            return (
                f"{name} is a callback *context* class (what a callback's methods "
                "receive), not a callback; check the callback instead."
            )
        return (
            f"{name} is a callback *state* class, not a callback; check the callback "
            "that uses it."
        )
    missing = abstract_members(cls)
    if missing:
        return (
            f"{name} is an abstract callback class ({', '.join(missing)} not "
            "implemented); check an instance of a concrete subclass."
        )
    return None


def class_instead_of_instance(cls: type) -> str:
    """The message for a class given where a callback instance belongs: what the
    class is, or the instance to give instead and the arguments it needs."""
    problem = not_a_callback_class(cls)
    if problem is not None:
        return problem
    required = required_arguments(cls)
    needs = f" (it needs {', '.join(f'`{r}`' for r in required)})" if required else ""
    return (
        f"`{class_name(cls)}` is a class; check an instance: "
        f"`{construction(cls)}`{needs}."
    )
