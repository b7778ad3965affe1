"""Whether a conformance check is driving callbacks in this process.

Checks call a callback's methods with generated data, host functions included
(`jax.debug.callback`): a writer that appends to a real log would log made-up
numbers. `lerax_testing` marks the time it checks; a callback's host code can ask
`is_checking()` and stay quiet, as the built-in callbacks do.

Imports nothing, so that the API and the built-ins may use it.
"""

from __future__ import annotations

_depth = 0


def is_checking() -> bool:
    """True while `lerax_testing` checks a callback in this process (its host
    functions then receive generated data, not training data)."""
    return _depth > 0


class checking:  # noqa: N801 - used as a context manager, like `open`
    """Mark the code inside `with checking():` as a conformance check."""

    def __enter__(self) -> None:
        global _depth
        _depth += 1

    def __exit__(self, *exc_info: object) -> None:
        global _depth
        _depth -= 1
