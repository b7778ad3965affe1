"""Stand-ins for Lerax's algorithms where Lerax is not installed (Python < 3.13).

A `lerax_callback` callback can be checked against Lerax's algorithms without
Lerax: `standin_recording(name)` makes a `Recording` from the newest shipped
profile (`profiles/lerax-<version>.json`, recorded from the real `learn()`), so
the checks' contexts carry what that algorithm passes (its `locals` with their
shapes and dtypes, its optax state as named tuples of the same names, its training
log's keys, its algorithm state for `apply_curriculum`), and the `lerax` check
traces the reference loop with those contexts in place of the real `learn()`.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import jax

from ._profiles import FOLDER
from ._record import Recording, array_of
from ._trees import decode


def _version_key(path: Any) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", path.stem.removeprefix("lerax-"))
    return tuple(int(n) for n in numbers)


@functools.cache
def standin_profiles() -> tuple[str, dict[str, Any]]:
    """`(version, {algorithm: profile})` of the newest shipped profiles."""
    newest = max(FOLDER.glob("lerax-*.json"), key=_version_key)
    data = json.loads(newest.read_text(encoding="utf-8"))
    return data["lerax"], data["algorithms"]


def standin_algorithms() -> tuple[str, ...]:
    """The algorithms stand-ins exist for (every algorithm of the newest profile)."""
    return tuple(standin_profiles()[1])


@functools.cache
def standin_recording(name: str) -> Recording:
    """The `Recording` of algorithm `name` made from its shipped profile, with
    stand-ins (`_trees.decode`) for the objects the real one held."""
    from ._algorithms import SPECS

    profile = standin_profiles()[1][name]
    algorithm = SPECS[name].class_name
    fields = {
        method: {
            field: decode(node, f"ctx.{field}", algorithm)
            for field, node in recorded.items()
        }
        for method, recorded in profile["methods"].items()
    }
    seen = {
        field: value
        for recorded in fields.values()
        for field, value in recorded.items()
        if field in ("env", "policy", "algorithm")
    }
    concrete = {k: jax.tree.map(array_of, v) for k, v in seen.items()}
    return Recording(
        name,
        list(profile["calls"]),
        fields,
        concrete.get("env"),
        concrete.get("policy"),
        concrete.get("algorithm"),
    )
