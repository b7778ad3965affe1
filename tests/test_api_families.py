"""Callbacks of another API family, without Lerax: a fake `lerax.callback` shaped
like Lerax's newer release (`fake_lerax_api`), and `to_lerax` when Lerax is absent.

Runs on every Python; the tests against the real Lerax are in `test_lerax.py`.
"""

from __future__ import annotations

import sys

import fake_lerax_api as fake
import jax.numpy as jnp
import jax.random as jr
import pytest

import lerax_callback as lc
from lerax_callback._bridge import _ours
from lerax_callback._family import OURS, callback_api


@pytest.fixture(autouse=True)
def _switch_is_restored():
    before = lc.typechecking_enabled()
    yield
    assert lc.typechecking_enabled() == before, "a test left the switch changed"


def test_callback_api_recognises_a_lerax_shaped_family_from_the_hierarchy():
    api = callback_api(fake.Counter())
    assert api is not None
    assert not api.ours
    assert api.name == "fake_lerax_api"
    assert api.callback is fake.AbstractCallback
    assert api.contexts == {
        "reset": fake.ResetContext,
        "step": fake.StepContext,
        "iteration": fake.IterationContext,
        "training": fake.TrainingContext,
    }
    assert (api.state, api.step_state) == (
        fake.AbstractCallbackState,
        fake.AbstractCallbackStepState,
    )
    assert api.empty_state is fake.EmptyCallbackState
    assert callback_api(lc.EmptyCallback) is OURS
    assert callback_api(fake.Count) is None


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (fake.Counter, (fake.Count, fake.Steps)),
        (fake.StepCounter, (fake.EmptyCallbackState, fake.Steps)),
        (fake.SubCounter, (fake.Count, fake.Steps)),
        (fake.AbstractCallback, (fake.StateType, fake.StepStateType)),
    ],
    ids=["direct", "partial-base", "unparameterised-subclass", "abstract"],
)
def test_callback_state_types_reads_the_fake_familys_generics(cls, expected):
    assert lc.callback_state_types(cls) == expected


def test_the_bridge_builds_our_contexts_by_field_name_leaving_algorithm_out():
    theirs = fake.IterationContext(
        state=fake.Count(jnp.array(1)),
        step_state=fake.Steps(jnp.array(2)),
        env="env",
        policy="policy",
        iteration_count=jnp.array(3),
        opt_state=None,
        training_log={"loss": jnp.array(0.5)},
        algorithm="the algorithm",
        locals={"x": 1},
    )
    ours = _ours(theirs, lc.IterationContext)
    assert isinstance(ours, lc.IterationContext)
    assert ours.state is theirs.state
    assert ours.training_log is theirs.training_log
    assert not hasattr(ours, "algorithm")


def test_a_lerax_context_missing_a_field_is_a_clear_error():
    with pytest.raises(
        TypeError, match=r"no `state` field.*lerax_callback\.StepContext"
    ):
        _ours(fake.ResetContext(locals={}), lc.StepContext)


def _typechecked_counter(reset_result):
    @lc.typechecked
    class Checked(fake.Counter):
        def reset(self, ctx, *, key):
            return reset_result

    return Checked()


def test_typechecked_holds_a_fake_family_callback_to_its_declared_state_types():
    good = _typechecked_counter(fake.Count(jnp.zeros((), jnp.int32)))
    good.reset(fake.ResetContext({}), key=jr.key(0))
    bad = _typechecked_counter(fake.EmptyCallbackState())
    with pytest.raises(
        lc.TypeCheckError,
        match=r"(?s)return value of `Checked.reset`.*`Count`.*`EmptyCallbackState`",
    ):
        bad.reset(fake.ResetContext({}), key=jr.key(0))


def test_subclasses_of_a_typechecked_fake_family_callback_are_checked_too():
    base = type(_typechecked_counter(fake.Count(jnp.zeros((), jnp.int32))))

    class Sub(base):
        def step_reset(self, ctx, *, key):
            return fake.Count(jnp.zeros((), jnp.int32))

    with pytest.raises(lc.TypeCheckError, match=r"(?s)`Sub.step_reset`.*`Steps`"):
        Sub().step_reset(fake.ResetContext({}), key=jr.key(0))


def test_a_context_of_the_other_family_is_named_with_its_module():
    with pytest.raises(lc.TypeCheckError) as caught:
        lc.typecheck_call(fake.Counter(), "reset", lc.ResetContext({}), key=jr.key(0))
    message = str(caught.value)
    assert "expected: an instance of `fake_lerax_api.ResetContext`" in message
    assert "found:    an instance of `lerax_callback.ResetContext`" in message
    assert "to_lerax" in message


def test_our_callback_given_a_fake_lerax_context_names_both_modules():
    with pytest.raises(lc.TypeCheckError) as caught:
        lc.typecheck_call(
            lc.EpisodeStatsCallback(writer=None),
            "reset",
            fake.ResetContext({}),
            key=jr.key(0),
        )
    message = str(caught.value)
    assert "`lerax_callback.ResetContext`" in message
    assert "`fake_lerax_api.ResetContext`" in message


def test_typecheck_call_checks_fake_family_steps_against_the_api():
    ctx = fake.StepContext(
        fake.Count(jnp.zeros((), jnp.int32)),  # the wrong state class
        None,
        None,
        jnp.array(False),
        jnp.array(1.0),
        {},
    )
    with pytest.raises(lc.TypeCheckError, match=r"(?s)`ctx.state`.*`Steps`"):
        lc.typecheck_call(fake.Counter(), "on_step", ctx, key=jr.key(0))


def test_to_lerax_without_lerax_says_how_to_install_it(monkeypatch):
    # `None` in `sys.modules` makes `import lerax` fail, as if it were absent.
    monkeypatch.setitem(sys.modules, "lerax", None)
    monkeypatch.setitem(sys.modules, "lerax.callback", None)
    with pytest.raises(ImportError, match=r"lerax-callback-toolkit\[lerax\].*3\.13"):
        lc.to_lerax(lc.EpisodeStatsCallback())


def test_to_lerax_refuses_a_class_and_a_non_callback():
    with pytest.raises(TypeError, match=r"to_lerax\(EmptyCallback\(\)\)"):
        lc.to_lerax(lc.EmptyCallback)
    with pytest.raises(TypeError, match="callback instance"):
        lc.to_lerax(42)
