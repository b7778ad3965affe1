"""Every check catches real defective callbacks and leaves their correct twins alone."""

from __future__ import annotations

import pytest
from zoo import DEFECTS, PlainNumberField, SnapshotsPolicyFromStart

from lerax_testing import check_callback
from lerax_testing._globals import config_changes, config_snapshot, restore_jax_config


def _id(case: tuple) -> str:
    check, defective = case[0], case[1]
    return f"{check}-{type(defective).__name__}"


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path, monkeypatch):
    # Some defects write files at trace time; keep them out of the checkout.
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _restore_jax_config():
    # Some defects change JAX's configuration (`DisablesJit`); whatever a check
    # leaves behind must not reach the next test. The test proves the check itself
    # already restored it.
    before = config_snapshot()
    with restore_jax_config():
        yield
        assert config_changes(before, config_snapshot()) == []


@pytest.mark.parametrize("case", DEFECTS, ids=[_id(c) for c in DEFECTS])
def test_the_check_catches_the_defect(case):
    check, defective, _, method, words = case
    report = check_callback(defective, checks=[check], seed=0, max_examples=10)
    result = report.result(check)
    assert result.status == "failed", report.render()
    failure = result.failures[0]
    assert failure.check == check
    assert failure.method == method, report.render()
    text = " ".join(str(v) for v in failure.to_dict().values())
    assert words in text, report.render()
    assert not report.ok


@pytest.mark.parametrize("case", DEFECTS, ids=[_id(c) for c in DEFECTS])
def test_the_check_passes_the_correct_twin(case):
    check, _, twin, _, _ = case
    report = check_callback(twin, checks=[check], seed=0, max_examples=10)
    assert report.result(check).status == "passed", report.render()
    assert report.ok


@pytest.mark.parametrize("num_envs", [1, 3])
def test_a_plain_number_in_a_step_state_is_not_flagged(num_envs):
    """A leaf that is not an array reaches every method as it is, under `jit` as
    eagerly: the jitted episode, which would turn it into an array, is not used
    for such a callback, so `purity` and `retrace` see no difference."""
    report = check_callback(PlainNumberField(), seed=0, num_envs=num_envs)
    assert report.ok, report.render()


@pytest.mark.parametrize("num_envs", [1, 3])
def test_a_state_filled_in_at_training_start_is_not_flagged(num_envs):
    """`reset` may return a placeholder that `on_training_start` fills in: the
    iteration loop starts from `on_training_start`'s state, in Lerax as in the
    reference loop."""
    report = check_callback(SnapshotsPolicyFromStart(), seed=0, num_envs=num_envs)
    assert report.ok, report.render()
