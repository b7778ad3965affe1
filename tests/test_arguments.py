"""One public error for arguments the toolkit cannot use: `InvalidArgument`,
raised by `check_callback` before any check runs (the plugin keeps it whole:
`test_plugin.py`)."""

from __future__ import annotations

import pytest
from zoo import ReturnTracker

import lerax_testing
from lerax_testing import InvalidArgument, check_callback


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


def test_a_class_where_an_instance_belongs_is_refused():
    with pytest.raises(InvalidArgument, match=r"pass an instance"):
        check_callback(ReturnTracker)


def test_a_list_of_callbacks_is_checked_as_their_callback_list():
    report = check_callback([ReturnTracker(), ReturnTracker()], checks=["api", "jit"])
    assert report.ok, report.render()
    assert report.callback_type == "lerax_callback._builtins._list.CallbackList"
