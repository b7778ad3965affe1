"""Profiles: what each real Lerax algorithm passes to callbacks, as plain data.

A profile summarises a `Recording` (see `_record`): the methods in the order the
algorithm calls them, and per method each context field as `_trees.encode` writes
it (every array's dtype and shape, every object's class and fields), and the
training log's keys. Without Lerax, `_standin` makes the algorithms' contexts
from them. `python -m lerax_testing._lerax.profiles` records every installed algorithm
and writes `profiles/lerax-<version>.json`; the shipped files are its output, and a
test holds them to a fresh recording, so that a Lerax release that changes what
callbacks get fails a test rather than misleading users.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._algorithms import installed_algorithms
from ._record import Recording, recording
from ._trees import encode

FOLDER = Path(__file__).with_name("profiles")
"""Where the shipped profiles live, one file per Lerax release."""


def profile_of(found: Recording) -> dict[str, Any]:
    """The profile of one recording, as JSON-ready data."""
    methods = {}
    for method, fields in found.fields.items():
        methods[method] = {name: encode(value) for name, value in fields.items()}
    return {
        "calls": list(dict.fromkeys(found.calls)),
        "warm_up_steps_first": _steps_before_reset(found.calls),
        "calls_continue_training": "continue_training" in found.calls,
        "training_log": list(found.training_log_keys),
        "methods": methods,
    }


def current_profiles() -> dict[str, Any]:
    """Profiles of every algorithm of the installed Lerax, recorded now."""
    from importlib.metadata import version

    return {
        "lerax": version("lerax"),
        "algorithms": {
            name: profile_of(recording(name)) for name in installed_algorithms()
        },
    }


def shipped_profiles(version: str) -> dict[str, Any] | None:
    """The shipped profiles of Lerax `version`, if there are any."""
    path = FOLDER / f"lerax-{version}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_profiles() -> Path:
    """Record the installed Lerax's algorithms and write their profiles."""
    data = current_profiles()
    FOLDER.mkdir(exist_ok=True)
    path = FOLDER / f"lerax-{data['lerax']}.json"
    # Compact: the recorded states repeat in several methods' `locals`.
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    return path


def _steps_before_reset(calls: list[str]) -> bool:
    """Whether `on_step` runs before `reset`: the off-policy algorithms' warm-up
    (`learning_starts` steps) before the callback's state exists."""
    return (
        "on_step" in calls
        and "reset" in calls
        and (calls.index("on_step") < calls.index("reset"))
    )
