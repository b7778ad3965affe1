"""A full check compiles few XLA programs: a budget, counted, not timed.

Counted with `jax.monitoring` (every `backend_compile` event), which is
deterministic where timings on a shared machine are not.

Counting fairly: JAX also compiles each new primitive and shape once per process
when it runs eagerly (`runs`, the eager half of `purity`), and keeps those
programs for every later callback. The test first checks another callback class
that uses the same operations (`WeakStart`), so those process-wide compilations
are paid before counting, then counts a full default check of a callback of a
class not seen before: what is left are the compilations the harness makes per
callback (the two jitted episodes and `vmap`'s per-environment program), which
no earlier check can share.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from jax import monitoring
from zoo import DtypeDrift, ReturnTracker, WeakStart

from lerax_testing import check_callback

BUDGET = 8
"""Compilations for a full default check of a simple correct callback."""

DEFECTIVE_BUDGET = 24
"""For a callback whose step state changes dtype: the jitted episodes cannot run
it, so its methods are jitted one by one, as the `jit` check's messages need."""

_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def counting_compilations() -> Iterator[list[str]]:
    """Yields a list that gets one entry per XLA compilation while inside."""
    compiled: list[str] = []
    active = True

    def listen(event: str, duration: float, **kwargs: object) -> None:
        if active and event == _EVENT:
            compiled.append(event)

    monitoring.register_event_duration_secs_listener(listen)
    try:
        yield compiled
    finally:
        active = False
        monitoring.unregister_event_duration_listener(listen)


@pytest.fixture(scope="module")
def warm() -> None:
    report = check_callback(WeakStart(), seed=0)
    assert report.ok, report.render()


def _fresh_class(base: type) -> type:
    """A subclass never checked before: its jitted programs cannot be cached."""
    return type(f"Fresh{base.__name__}", (base,), {"__module__": base.__module__})


def test_a_full_check_of_a_simple_callback_stays_within_the_budget(warm):
    callback = _fresh_class(ReturnTracker)()
    with counting_compilations() as compiled:
        report = check_callback(callback, seed=0)
    assert report.ok, report.render()
    assert 0 < len(compiled) <= BUDGET, (
        f"a full check compiled {len(compiled)} programs (budget {BUDGET})"
    )


def test_a_full_check_of_a_defective_callback_stays_within_its_budget(warm):
    callback = _fresh_class(DtypeDrift)()
    with counting_compilations() as compiled:
        report = check_callback(callback, seed=0)
    assert not report.ok
    assert 0 < len(compiled) <= DEFECTIVE_BUDGET, (
        f"a full check compiled {len(compiled)} programs (budget {DEFECTIVE_BUDGET})"
    )


def test_more_examples_compile_nothing_more(warm):
    # The eager operations `ReturnTracker` uses first are paid before counting,
    # whichever tests this worker ran before (`WeakStart` starts otherwise).
    check_callback(_fresh_class(ReturnTracker)(), seed=0, max_examples=2)
    first = _fresh_class(ReturnTracker)()
    second = _fresh_class(ReturnTracker)()
    with counting_compilations() as few:
        check_callback(first, seed=0, max_examples=5)
    with counting_compilations() as many:
        check_callback(second, seed=0, max_examples=50)
    assert few, "the new class's episodes compile: the counter must see them"
    assert len(many) == len(few)


def test_the_scan_check_compiles_nothing(warm):
    """`scan` traces its own loop of the callback's calls (one environment and
    several) and compiles nothing, neither the loop nor `run_training`."""
    callback = _fresh_class(ReturnTracker)()
    with counting_compilations() as compiled:
        report = check_callback(callback, checks=["scan"], seed=0)
    assert report.ok, report.render()
    assert compiled == []


def test_checks_share_one_stream_of_examples(warm, monkeypatch):
    """The examples are drawn once for all the example-driven checks."""
    from lerax_testing._subject import Subject

    draws: list[tuple[int, int]] = []
    original = Subject.stream

    def stream(self: Subject, num_envs: int, max_examples: int) -> list:
        if (num_envs, max_examples) not in self.streams:
            draws.append((num_envs, max_examples))
        return original(self, num_envs, max_examples)

    monkeypatch.setattr(Subject, "stream", stream)
    checks = ["types", "jit", "vmap", "finite"]
    report = check_callback(ReturnTracker(), checks=checks, seed=0, max_examples=30)
    assert report.ok, report.render()
    assert len(draws) == 1


def test_example_keys_are_made_a_batch_to_a_dispatch(warm, monkeypatch):
    """The jitted episodes take their keys as data made for a whole stream of
    examples at once: a few dispatches for a check, not two per example."""
    from lerax_testing._engine import _keys

    made: list[int] = []
    original = _keys._key_data

    def counting(*args: object, **kwargs: object) -> object:
        made.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_keys, "_key_data", counting)
    report = check_callback(ReturnTracker(), seed=98765, max_examples=60)
    assert report.ok, report.render()
    assert 0 < len(made) <= 6


def test_key_data_wraps_to_the_keys_the_eager_calls_take():
    """A jitted episode wraps key data; the eager calls and reproducers take
    `example_keys`. Both must be the same keys, under any PRNG implementation."""
    import jax
    import jax.random as jr
    import numpy as np

    from lerax_testing._engine._keys import CALL_KEYS, example_key_data, example_keys
    from lerax_testing._globals import restore_jax_config

    for impl in (None, "rbg"):
        with restore_jax_config():
            if impl is not None:
                jax.config.update("jax_default_prng_impl", impl)
            for num_envs in (None, 3):
                keys = example_keys(5, 8, num_envs)
                data = example_key_data(5, 8, num_envs)
                for i, method in enumerate(CALL_KEYS):
                    expected = jr.key_data(keys.calls[method])
                    assert np.array_equal(expected, data.calls[i])
                assert np.array_equal(jr.key_data(keys.reset), data.reset)
                assert np.array_equal(jr.key_data(keys.stacked), data.stacked)


def test_later_callbacks_reuse_the_examples_drawn_for_earlier_ones(monkeypatch):
    """Drawing is the largest per-example cost; a stream drawn once per process
    serves every callback checked with the same seed and options."""
    from hypothesis import strategies as st

    from lerax_testing import _subject
    from lerax_testing._subject import Subject

    monkeypatch.setattr(_subject, "_STREAMS", {})  # what earlier tests drew
    draws: list[tuple[int, int]] = []
    original = Subject._draw

    def draw(self: Subject, num_envs: int, max_examples: int) -> list:
        draws.append((num_envs, max_examples))
        return original(self, num_envs, max_examples)

    monkeypatch.setattr(Subject, "_draw", draw)
    checks = ["types", "runs"]
    check_callback(ReturnTracker(), checks=checks, seed=12345, max_examples=7)
    first = len(draws)
    assert first == 2  # one stream for several environments, one for one
    check_callback(
        _fresh_class(ReturnTracker)(), checks=checks, seed=12345, max_examples=7
    )
    assert len(draws) == first
    check_callback(ReturnTracker(), checks=checks, seed=12346, max_examples=7)
    assert len(draws) == first + 2
    # Strategies with equal reprs may draw differently: they are never shared.
    for value in (1.0, 2.0):
        logs = st.just(None).map(lambda _, v=value: {"loss": v, "approx_kl": v})
        check_callback(
            ReturnTracker(),
            checks=["types"],
            seed=12345,
            max_examples=7,
            training_logs=logs,
        )
    assert len(draws) == first + 4


def test_example_keys_follow_the_configured_prng_implementation():
    """Keys are kept per process, but never across PRNG settings: a reproducer's
    `jax.random.key(seed)` under `rbg` must meet the keys the check used."""
    import jax
    import jax.random as jr

    from lerax_testing._engine._keys import example_keys
    from lerax_testing._globals import restore_jax_config

    default = example_keys(7, 8, None).calls["reset"]
    with restore_jax_config():
        jax.config.update("jax_default_prng_impl", "rbg")
        rbg = example_keys(7, 8, None).calls["reset"]
        expected = jr.split(jr.key(7), 64)[0]
    assert jr.key_impl(default) != jr.key_impl(rbg)
    assert (jr.key_data(rbg) == jr.key_data(expected)).all()


def test_a_callback_that_assigns_to_itself_runs_with_what_it_holds_now():
    """The arrays of the callback kept between examples are made again when the
    callback's own leaves change (the `purity` check reports the change)."""
    from zoo import SelfMutating

    from lerax_testing._engine._drive import Env, _parts
    from lerax_testing.toy import ToyEnv, ToyPolicy

    callback = SelfMutating()
    context = Env(ToyEnv(), ToyPolicy())
    first = _parts(context, callback)
    assert _parts(context, callback) is first
    object.__setattr__(callback, "calls", callback.calls + 1)  # as its method does
    again = _parts(context, callback)
    assert again is not first
    assert again[1].leaves != first[1].leaves
