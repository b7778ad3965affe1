"""Process-wide state a callback (or a check) may change: JAX's configuration and
hypothesis's settings profile; snapshots, differences and restoring them.

A callback that calls `jax.config.update(...)` changes every later computation of
the program, so the `side_effects` check reports it, and the harness must undo it
before the next check runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import traceback
from collections.abc import Iterator
from typing import Any

import jax
from hypothesis import settings

from ._explain._source import user_frame

ConfigSnapshot = dict[str, Any]
"""`{flag name: value}` for every JAX configuration flag, global values."""


def config_snapshot() -> ConfigSnapshot:
    """Every JAX flag's global value (`jax.config.values`, the documented flags and
    the internal ones alike): what `jax.config.update` changes."""
    return dict(jax.config.values)


def _differ(a: Any, b: Any) -> bool:
    try:
        return bool(a != b)
    except Exception:  # a value without a boolean `!=`: compare identities
        return a is not b


def config_changes(
    before: ConfigSnapshot, after: ConfigSnapshot
) -> list[tuple[str, Any, Any]]:
    """`(flag, old value, new value)` for each flag whose value differs, by name.
    Flags that only `after` knows (defined by a later import) are not changes."""
    return [
        (name, old, after[name])
        for name, old in before.items()
        if name in after and _differ(old, after[name])
    ]


def restore_config(saved: ConfigSnapshot) -> None:
    """Set every flag that differs from `saved` back to its saved value. Every flag
    is tried; the first error, if any, is raised afterwards."""
    failed: BaseException | None = None
    for name, old, _ in config_changes(saved, config_snapshot()):
        try:
            jax.config.update(name, old)
        except Exception as error:  # e.g. a flag fixed once the backend started
            failed = failed or error
    if failed is not None:
        raise RuntimeError(
            f"could not restore every JAX flag: {type(failed).__name__}: {failed}"
        ) from failed


@contextlib.contextmanager
def restore_jax_config() -> Iterator[None]:
    """Restore all of JAX's configuration and hypothesis's current settings profile
    on exit, whatever happened inside (a check, or a callback it ran, may change
    them; the next check and the user's own program must not see that).

    The harness's `run_check` should run each check inside it.
    """
    saved = config_snapshot()
    profile = settings.get_current_profile_name()
    try:
        yield
    finally:
        try:
            restore_config(saved)
        finally:
            if settings.get_current_profile_name() != profile:
                settings.load_profile(profile)


@dataclasses.dataclass(frozen=True)
class ConfigUpdate:
    """One `jax.config.update(name, value)` call, and the user's line that made it."""

    name: str
    value: Any
    location: tuple[str, int] | None


@contextlib.contextmanager
def recording_config_updates(
    callback: Any, updates: list[ConfigUpdate]
) -> Iterator[None]:
    """Append each `jax.config.update` call made inside to `updates`, with the
    caller's line in the user's code (the update itself still happens).

    Only calls through the `jax.config` object are seen: a `jax.config.update`
    bound to a name before entering goes unrecorded, and then no line is known.
    """
    real_update = jax.config.update

    def update(name: str, value: Any) -> None:
        stack = traceback.extract_stack()[:-1]
        frames = [(f.filename, f.lineno or 0) for f in reversed(stack)]
        updates.append(ConfigUpdate(name, value, user_frame(frames, callback)))
        real_update(name, value)

    patched_before = "update" in vars(jax.config)  # someone else's patch: keep it
    jax.config.update = update  # type: ignore[method-assign]
    try:
        yield
    finally:
        if patched_before:
            jax.config.update = real_update  # type: ignore[method-assign]
        else:
            del jax.config.update  # back to the class's method
