"""Where a callback's class and methods are defined (no JAX: the command's
target discovery uses it before anything heavy is imported)."""

from __future__ import annotations

import inspect
from typing import Any


def class_location(obj: Any) -> tuple[str, int] | None:
    """Where the class of `obj` (or `obj`, if a class) is defined."""
    cls = obj if isinstance(obj, type) else type(obj)
    try:
        file = inspect.getsourcefile(cls)
        _, line = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return None
    return (file, line) if file else None


def method_location(callback: Any, method: str) -> tuple[str, int] | None:
    """Where `callback`'s method `method` is defined."""
    fn = getattr(type(callback), method, None)
    try:
        file = inspect.getsourcefile(fn)  # type: ignore[arg-type]
        _, line = inspect.getsourcelines(fn)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return None
    return (file, line) if file else None
