"""Reproducers make the callback the way its user did, and fail the same way.

A callback with an `__init__` of its own rejects its fields as keywords, so a
reproducer written from its `repr` (`Window(window=3, seen=0)`) would raise
`TypeError` instead of reproducing anything. Each reproducer here is run, in a
fresh interpreter as a user would paste it, and must fail with the check's
`ConformanceError`.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lerax_testing import check_callback

MODULE = textwrap.dedent(
    '''
    import equinox as eqx
    import jax.numpy as jnp

    import lerax_callback as lc


    class _Base(lc.AbstractCallback[lc.EmptyCallbackState, lc.EmptyCallbackStepState]):
        def reset(self, ctx, *, key):
            return lc.EmptyCallbackState()

        def step_reset(self, ctx, *, key):
            return lc.EmptyCallbackStepState()

        def on_step(self, ctx, *, key):
            if ctx.reward > self.threshold():  # a Python `if` on a traced value
                return lc.EmptyCallbackStepState()
            return ctx.state

        def on_iteration(self, ctx, *, key):
            return ctx.state

        def on_training_start(self, ctx, *, key):
            return ctx.state

        def on_training_end(self, ctx, *, key):
            return ctx.state


    class Plain(_Base):
        """Made with its fields as keywords: `Plain(scale=2.0)`."""

        scale: float = eqx.field(static=True)

        def threshold(self):
            return self.scale


    class Window(_Base):
        """Made with an `__init__` of its own, which takes no field keywords."""

        window: int = eqx.field(static=True)
        seen: int = eqx.field(static=True)

        def __init__(self, window: int):
            self.window = window
            self.seen = 0

        def threshold(self):
            return float(self.window)


    class Hidden(Window):
        """An `__init__` whose argument is kept under another name."""

        def __init__(self, size: int):
            self.window = size
            self.seen = 0
    '''
)


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "made_callbacks.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import made_callbacks

    yield made_callbacks
    sys.modules.pop("made_callbacks", None)


def _reproducer(callback) -> str:
    report = check_callback(callback, checks=["jit"], seed=3, max_examples=2)
    failure = report.result("jit").failures[0]
    assert failure.reproducer is not None
    return failure.reproducer


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("make", "written"),
    [
        (lambda m: m.Plain(scale=2.0), "Plain(scale=2.0)"),
        (lambda m: m.Window(3), "Window(window=3)"),
    ],
    ids=["fields", "own-init"],
)
def test_a_reproducer_makes_the_callback_as_its_user_did_and_fails_the_same_way(
    module, tmp_path: Path, make, written: str
):
    code = _reproducer(make(module))
    assert written in code
    run = _run(code, tmp_path)
    assert run.returncode != 0
    assert "TypeError" not in run.stderr, run.stderr
    assert "ConformanceError" in run.stderr, run.stderr
    assert "[jit]" in run.stderr


def test_an_argument_that_cannot_be_read_back_is_a_placeholder_to_fill_in(module):
    code = _reproducer(module.Hidden(3))
    assert "Hidden(size=FILL_IN_size)" in code
    assert "# define first: `FILL_IN_size`" in code
    with pytest.raises(NameError, match="FILL_IN_size"):
        exec(code, {})  # never a `TypeError` from the constructor


def test_a_module_level_callback_is_imported_by_its_name(module):
    module.CHECKED = module.Window(4)
    code = _reproducer(module.CHECKED)
    assert "from made_callbacks import CHECKED" in code
    assert "check_callback(CHECKED," in code
