"""`Failure`: one way a callback is not trace-safe, as plain data.

It lives apart from the report (`_report`) so that the grouping of failures by
cause (`_causes`), which the report's renderers use, can import it without a cycle.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Failure:
    """One way a callback is not trace-safe.

    **Attributes:**

    - `check`: the check id that found it (one of `CHECKS`).
    - `method`: the callback method concerned, or `None` for the whole callback.
    - `message`: what is wrong, where, and how to fix it, in one paragraph.
    - `leaf`: the path of the state leaf concerned, e.g. `state.episode_return`.
    - `expected`, `found`: what the check expected and what it found.
    - `location`: `(file, line)` of the user's source where the problem arose.
    - `advice`: one sentence on how to fix it.
    - `example`: the shrunk failing example, described in words.
    - `reproducer`: code that reproduces the failure.
    - `details`: the underlying error's text, for the curious.
    """

    check: str
    method: str | None
    message: str
    leaf: str | None = None
    expected: str | None = None
    found: str | None = None
    location: tuple[str, int] | None = None
    advice: str | None = None
    example: str | None = None
    reproducer: str | None = None
    details: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if self.location is not None:
            data["location"] = {"file": self.location[0], "line": self.location[1]}
        return data


Failure.__module__ = "lerax_testing"
