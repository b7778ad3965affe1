"""The generated examples: the numbers the checks rely on are drawn, bounds hold,
and failing examples shrink to simple values (`lerax_testing._engine._encoding`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, seed, settings, strategies as st

from lerax_testing import strategies as lst
from lerax_testing._engine._encoding import FloatDecoder, RowDecoder, TailDecoder

QUICK = settings(
    max_examples=200,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _draw(strategy: st.SearchStrategy, count: int) -> list:
    drawn: list = []

    @settings(QUICK, max_examples=count)
    @seed(7)
    @given(strategy)
    def collect(value: object) -> None:
        drawn.append(value)

    collect()
    return drawn


def test_zero_bytes_are_the_simplest_example() -> None:
    """Hypothesis shrinks bytes towards zero: zeros must decode to the simplest
    numbers, so that a shrunk example reads plainly."""
    row = RowDecoder(
        3, FloatDecoder(specials=lst.SPECIAL_REWARDS, min_value=-1e6, max_value=1e6)
    )
    assert row(bytes(row.size)) == ((0.0, 0.0, 0.0), (False, False, False))
    tail = TailDecoder(
        ("loss",), powers_of_ten=lst.POWERS_OF_TEN, boundary_counts=lst.BOUNDARY_COUNTS
    )
    assert tail(bytes(tail.size)) == {
        "seed": 0,
        "iteration_count": 0,
        "training_log": {"loss": 0.0},
        "opt_step": 0,
        "locals_value": 0.0,
    }


@pytest.mark.parametrize(
    ("low", "high", "nonfinite"),
    [(-1e6, 1e6, False), (0.0, 1.0, False), (-5.0, -2.0, False), (-1e6, 1e6, True)],
)
@QUICK
@given(data=st.binary(min_size=9, max_size=9))
def test_rewards_keep_their_bounds(
    low: float, high: float, nonfinite: bool, data: bytes
) -> None:
    reward = FloatDecoder(
        specials=lst.SPECIAL_REWARDS,
        min_value=low,
        max_value=high,
        allow_nonfinite=nonfinite,
    )
    decode = RowDecoder(2, reward)
    rewards, dones = decode(data)
    assert len(rewards) == len(dones) == 2
    for reward in rewards:
        if not math.isfinite(reward):
            assert nonfinite
            continue
        assert low <= reward <= high
        assert float(np.float32(reward)) == reward  # float32 as drawn
        assert reward == 0.0 or abs(reward) >= np.finfo(np.float32).tiny


def _checks_examples(count: int) -> list:
    """`count` examples as the checks draw them, several to a hypothesis example."""
    from lerax_testing._subject import PER_DRAW, _scenario_groups

    groups = _draw(
        _scenario_groups(
            PER_DRAW,
            num_envs=3,
            max_steps=8,
            reward_options=None,
            training_log_names=lst.TRAINING_LOG_KEYS,
            training_log_strategy=None,
        ),
        count // PER_DRAW,
    )
    return [s for group in groups for s in group]


@pytest.mark.parametrize("drawn", ["public strategy", "checks' streams"])
def test_examples_hold_the_numbers_the_checks_rely_on(drawn: str) -> None:
    """Across a default run's worth of examples: special and ordinary rewards of
    every magnitude, both `done` values, and iteration counts at the boundaries
    where "every N iterations" logic fires."""
    if drawn == "public strategy":
        examples = _draw(lst.scenarios(num_envs=3), 100)
    else:
        examples = _checks_examples(100)
    rewards = [r for s in examples for row in s.rewards for r in row]
    assert {0.0, 1.0, -1.0} <= set(rewards)
    assert any(abs(r) > 1e4 for r in rewards)
    assert any(0 < abs(r) < 1e-2 for r in rewards)
    assert any(r != int(r) for r in rewards)
    assert all(math.isfinite(r) for r in rewards)
    dones = {d for s in examples for row in s.dones for d in row}
    assert dones == {False, True}
    counts = {s.iteration_count for s in examples}
    assert counts & {0, 1}
    assert counts & set(lst.POWERS_OF_TEN)
    assert counts & (set(lst.BOUNDARY_COUNTS) - {0, 1, *lst.POWERS_OF_TEN})
    assert {len(s.rewards) for s in examples} >= {1, 8}
    assert len({s.seed for s in examples}) > 10


def test_a_stream_of_examples_holds_distinct_examples() -> None:
    """The checks' examples come several to a hypothesis example, their bytes
    one choice: hypothesis copies earlier choices of an example into later ones,
    and examples drawn as choices of their own came out as copies."""
    examples = _checks_examples(400)
    assert len(examples) == 400
    assert len({repr(s) for s in examples}) >= 390


def test_nonfinite_rewards_are_drawn_only_when_asked() -> None:
    options = {"allow_nonfinite": True}
    examples = _draw(lst.scenarios(num_envs=2, reward_options=options), 50)
    rewards = [r for s in examples for row in s.rewards for r in row]
    assert any(math.isnan(r) for r in rewards)
    assert math.inf in rewards
    assert -math.inf in rewards
    for unasked in (None, {"allow_nonfinite": False}):
        examples = _draw(lst.scenarios(num_envs=2, reward_options=unasked), 50)
        rewards = [r for s in examples for row in s.rewards for r in row]
        assert rewards
        assert all(math.isfinite(r) for r in rewards), unasked


def test_failing_examples_shrink_to_simple_values() -> None:
    """Only what the failure needs stays: one step, the other rewards zero, no
    `done`, a round count."""
    found = find(
        lst.scenarios(num_envs=2),
        lambda s: any(r < -1 for row in s.rewards for r in row),
        settings=QUICK,
    )
    assert len(found.rewards) == 1
    assert sorted(found.rewards[0])[1] == 0.0
    assert found.dones == ((False, False),)
    assert found.iteration_count == 0
    assert (
        find(
            lst.scenarios(), lambda s: s.iteration_count >= 1000, settings=QUICK
        ).iteration_count
        == 1000
    )


def test_a_given_training_log_strategy_is_used() -> None:
    logs = st.fixed_dictionaries({"kl": st.just(0.5)})
    examples = _draw(lst.scenarios(training_log_strategy=logs), 10)
    assert all(s.training_log == {"kl": 0.5} for s in examples)


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"min_value": 1.0, "max_value": 0.0}, "min_value <= max_value"),
        ({"min_value": -math.inf}, "finite"),
    ],
)
def test_bad_reward_bounds_are_named(options: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        lst.scenarios(reward_options=options)
