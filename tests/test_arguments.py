"""One public error for arguments the toolkit cannot use: `InvalidArgument`,
raised by `check_callback` before any check runs (the plugin keeps it whole:
`test_plugin.py`)."""

from __future__ import annotations

from typing import Any

import fake_lerax_api as fake
import pytest
from zoo import Returns, ReturnTracker

import lerax_callback as lc
import lerax_testing
from lerax_testing import InvalidArgument, _harness as harness, check_callback


@pytest.fixture
def no_check_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The checks that ran: none, for an argument refused up front (a check that
    runs anyway fails the test)."""
    ran: list[str] = []

    def run_check(check: str, subject: Any) -> Any:
        ran.append(check)
        raise AssertionError(f"the `{check}` check ran")

    monkeypatch.setattr(harness, "run_check", run_check)
    return ran


def test_the_error_is_public_and_both_a_type_and_a_value_error():
    assert InvalidArgument.__module__ == "lerax_testing"
    assert issubclass(InvalidArgument, TypeError)
    assert issubclass(InvalidArgument, ValueError)
    assert issubclass(lerax_testing.ConfigError, InvalidArgument)
    assert lerax_testing.MissingContextValueError.__module__ == "lerax_testing"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"max_examples": 0}, "`max_examples` must be a positive int"),
        ({"seed": "zero"}, "`seed` must be an int"),
        ({"checks": "jit"}, "not a string"),
        ({"checks": ["jitt"]}, "unknown check id(s) ['jitt']"),
        ({"reward_range": (1.0, -1.0)}, "`reward_range` must be (low, high)"),
        ({"algorithms": ["ppo2"]}, "unknown algorithm(s) ['ppo2']"),
        ({"algorithms": "ppo"}, "not a string"),
    ],
)
def test_check_callback_refuses_bad_arguments_before_any_check(options, words):
    with pytest.raises(InvalidArgument) as raised:
        check_callback(ReturnTracker(), project_config=False, **options)
    assert words in str(raised.value)


class Window(lc.AbstractStatelessCallback):
    """A callback whose constructor needs an argument."""

    window: int

    def on_step(self, ctx, *, key):
        return ctx.state

    def on_iteration(self, ctx, *, key):
        return ctx.state

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state


class Custom(Window):
    """A callback with an `__init__` of its own."""

    def __init__(self, size: int, scale: float = 1.0):
        self.window = size


class FakeState(fake.AbstractCallbackStepState):
    """A state class of Lerax's newer API (the fake one)."""


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        (
            ReturnTracker,
            "`ReturnTracker` is a class; check an instance: `ReturnTracker()`.",
        ),
        (
            Window,
            "`Window` is a class; check an instance: `Window(window=...)` "
            "(it needs `window`).",
        ),
        (Custom, "`Custom(size=...)` (it needs `size`)."),
        (
            Returns,
            "`Returns` is a callback *state* class, not a callback; check "
            "the callback that uses it.",
        ),
        (FakeState, "`FakeState` is a callback *state* class"),
        (lc.StepContext, "`StepContext` is a callback *context* class"),
        (fake.IterationContext, "`IterationContext` is a callback *context* class"),
        (lc.AbstractStatelessCallback, "is an abstract callback class (on_iteration"),
        (int, "`int` is a class, but not an `AbstractCallback` one"),
    ],
)
def test_a_class_where_an_instance_belongs_says_what_to_give(
    cls: type, words: str, no_check_runs: list[str]
) -> None:
    with pytest.raises(InvalidArgument) as raised:
        check_callback(cls, project_config=False)
    assert words in str(raised.value)
    assert no_check_runs == []


class Counts(fake.Counter):
    """A callback of Lerax's newer API (the fake one), whose contexts have an
    `algorithm` field."""


@pytest.mark.parametrize(
    ("callback", "values", "words"),
    [
        (ReturnTracker(), {"nofield": 1}, "unknown context field `nofield`"),
        (ReturnTracker(), {"algorithm": 1}, "unknown context field `algorithm`"),
        (Counts(), {"nofield": 1}, "unknown context field `nofield`"),
    ],
)
def test_an_unknown_context_field_is_refused_before_any_check(
    callback: Any, values: dict[str, Any], words: str, no_check_runs: list[str]
) -> None:
    with pytest.raises(InvalidArgument) as raised:
        check_callback(callback, context_values=values, project_config=False)
    message = str(raised.value)
    assert words in message
    # It lists the fields of the contexts of the callback's own family.
    assert "reward, total_timesteps, training_log" in message
    family_has_algorithm = isinstance(callback, fake.AbstractCallback)
    assert ("fields algorithm, done" in message) == family_has_algorithm
    assert no_check_runs == []


def test_the_states_in_contexts_are_the_harness_s_to_make(no_check_runs: list[str]):
    for field in ("state", "step_state"):
        with pytest.raises(InvalidArgument, match=f"`{field}` cannot be given"):
            check_callback(ReturnTracker(), context_values={field: 1})
    assert no_check_runs == []


def test_a_context_field_of_the_callback_s_family_is_taken():
    report = check_callback(
        Counts(), checks=["api"], context_values={"algorithm": 1}, seed=1
    )
    assert report.ok, report.render()


def test_an_unknown_context_field_from_the_project_is_refused(
    tmp_path, monkeypatch: pytest.MonkeyPatch, no_check_runs: list[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lerax_testing]\ncontext_values = { nofeild = "os:getcwd" }\n'
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidArgument, match="unknown context field `nofeild`"):
        check_callback(ReturnTracker())
    assert no_check_runs == []


def test_a_list_of_callbacks_is_checked_as_their_callback_list():
    report = check_callback([ReturnTracker(), ReturnTracker()], checks=["api", "jit"])
    assert report.ok, report.render()
    assert report.callback_type == "lerax_callback._builtins._list.CallbackList"
