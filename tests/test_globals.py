"""Restoring process-wide state: every JAX flag and hypothesis's settings profile."""

from __future__ import annotations

import jax
import pytest
from hypothesis import settings

from lerax_testing._globals import (
    ConfigUpdate,
    config_changes,
    config_snapshot,
    recording_config_updates,
    restore_jax_config,
)

# Flags of several kinds: booleans, an enum-like string, and one with a context
# manager of its own (read as `jax.config.jax_disable_jit`).
CHANGES = {
    "jax_disable_jit": True,
    "jax_debug_nans": True,
    "jax_enable_x64": True,
    "jax_default_matmul_precision": "highest",
    "jax_numpy_rank_promotion": "warn",
}


def test_every_changed_flag_is_restored() -> None:
    before = config_snapshot()
    with restore_jax_config():
        for name, value in CHANGES.items():
            jax.config.update(name, value)
        changed = {name for name, _, _ in config_changes(before, config_snapshot())}
        assert changed == set(CHANGES)  # the changes did happen
    assert config_changes(before, config_snapshot()) == []
    assert jax.config.jax_disable_jit is before["jax_disable_jit"]


def _change_then_fail() -> None:
    with restore_jax_config():
        jax.config.update("jax_disable_jit", True)
        raise ZeroDivisionError("a check broke")


def test_flags_are_restored_when_the_body_raises() -> None:
    before = config_snapshot()
    with pytest.raises(ZeroDivisionError, match="a check broke"):
        _change_then_fail()
    assert config_changes(before, config_snapshot()) == []


def test_the_hypothesis_profile_is_restored() -> None:
    before = settings.get_current_profile_name()
    settings.register_profile("lerax-test-globals", max_examples=3)
    with restore_jax_config():
        settings.load_profile("lerax-test-globals")
        assert settings.default.max_examples == 3
    assert settings.get_current_profile_name() == before
    assert settings.default.max_examples != 3


def test_config_updates_are_recorded_with_the_callers_line() -> None:
    updates: list[ConfigUpdate] = []
    real = jax.config.update
    with restore_jax_config(), recording_config_updates(None, updates):
        jax.config.update("jax_debug_nans", True)  # the line recorded
        assert jax.config.jax_debug_nans  # and the update still happened
    assert jax.config.update == real
    assert "update" not in vars(jax.config)
    (update,) = updates
    assert (update.name, update.value) == ("jax_debug_nans", True)
    assert update.location is not None
    assert update.location[0] == __file__
