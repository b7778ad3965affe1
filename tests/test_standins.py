"""Lerax's algorithms stood in for without Lerax (Python 3.11, 3.12): a
`lerax_callback` callback that names algorithms gets the contexts their recorded
profiles describe, in every check, and the `lerax` check names the algorithms
where it breaks, as the real `learn()` does (`test_lerax_main.py` holds the
stand-ins to the real algorithms' verdicts on the same callbacks).

Where Lerax is installed, stand-ins are forced by hiding it from the harness's
choice of algorithms."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest
from standins.readers import CASES, EVERY, ApproxKL, LearningRate, Seen

import lerax_callback as lc
from lerax_testing import InvalidArgument, check_callback
from lerax_testing._lerax import _choice
from lerax_testing._lerax._algorithms import titles
from lerax_testing._lerax._standin import standin_profiles, standin_recording
from lerax_testing._lerax._trees import Unavailable, decode, encode

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_lerax(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_choice, "lerax_installed", lambda: False)


def _lerax_failures(report: Any) -> list[Any]:
    return [f for f in report.failures if f.check == "lerax"]


@pytest.mark.parametrize(
    ("callback", "fine"), CASES, ids=[f"{type(c).__name__}-{len(f)}" for c, f in CASES]
)
def test_the_lerax_check_names_where_a_callback_breaks(callback: Any, fine: Any):
    report = check_callback(callback, algorithms=EVERY, checks=["lerax"], seed=0)
    broken = [name for name in EVERY if name not in fine]
    failures = _lerax_failures(report)
    if not broken:
        assert report.ok, report.render()
        return
    assert len(failures) == 1, report.render()
    version = standin_profiles()[0]
    verb = "passes" if len(broken) == 1 else "pass"
    assert failures[0].message.startswith(
        f"With the contexts Lerax {version}'s {titles(broken)} {verb} (stand-ins"
    ), failures[0].message
    if fine:
        assert f"{titles(fine)} trace" in failures[0].message
        assert "algorithms=(" in failures[0].advice


def test_a_callback_for_the_algorithms_it_reads_passes_every_check():
    report = check_callback(LearningRate(), algorithms=("ppo", "dqn"), seed=0)
    assert report.ok, report.render()
    assert any("Lerax is not installed here" in note for note in report.notes)


def test_every_check_gets_the_first_algorithms_contexts():
    """Not only the `lerax` check: eager runs already see SAC's training log."""
    report = check_callback(ApproxKL(), algorithms=("sac",), seed=0, max_examples=3)
    failed = {r.check for r in report.results if r.status == "failed"}
    assert {"runs", "lerax"} <= failed, report.render()
    assert "approx_kl" in report.render()


def test_a_curriculum_gets_the_algorithms_state():
    """`apply_curriculum` of a `lerax_callback` callback (forwarded by `to_lerax`)
    is driven with a stand-in of the algorithm's state: a Python float put into
    it is caught without Lerax."""

    class Curriculum(lc.AbstractIterationCallback[Seen]):
        def reset(self, ctx: Any, *, key: Any) -> Seen:
            return Seen(jnp.zeros((), jnp.float32))

        def on_iteration(self, ctx: Any, *, key: Any) -> Seen:
            return ctx.state

        def apply_curriculum(self, state: Any, callback_state: Any) -> Any:
            return eqx.tree_at(lambda s: s.iteration_count, state, 1.0), callback_state

    report = check_callback(Curriculum(), algorithms=("sac",), seed=0, max_examples=3)
    assert not report.ok
    assert "iteration_count" in report.render(), report.render()


def test_continue_training_is_not_traced_as_no_algorithm_calls_it():
    """A `continue_training` that breaks under `jit` is the `jit` check's
    finding; the algorithms never call it, so the `lerax` check does not."""

    class StopsInPython(LearningRate):
        def continue_training(self, ctx: Any, *, key: Any) -> Any:
            return bool(ctx.state.value < 1.0)

    report = check_callback(StopsInPython(), algorithms=("ppo",), seed=0)
    failed = {r.check for r in report.results if r.status == "failed"}
    assert "jit" in failed, report.render()
    assert "lerax" not in failed, report.render()


def test_an_algorithm_lerax_lacks_is_refused_before_any_check():
    with pytest.raises(InvalidArgument, match="unknown algorithm"):
        check_callback(ApproxKL(), algorithms=("ppo2",))


def test_the_command_checks_against_stand_ins(tmp_path: Path):
    (tmp_path / "kl.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "from standins.readers import ApproxKL\n"
    )
    if "lerax" in sys.modules or _lerax_importable():
        pytest.skip("the command's worker sees the installed Lerax")
    out = subprocess.run(
        [sys.executable, "-m", "lerax_testing", str(tmp_path / "kl.py:ApproxKL")]
        + ["--algorithm", "ppo", "--algorithm", "sac", "--checks", "lerax"]
        + ["--format", "json", "--seed", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 1, out.stderr
    (outcome,) = json.loads(out.stdout)["callbacks"]
    (result,) = outcome["report"]["results"]
    (failure,) = result["failures"]
    assert result["check"] == "lerax"
    assert "SAC" in failure["message"]
    assert "PPO traces it fine" in failure["message"]


def _lerax_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("lerax") is not None


# The profiles' format, both ways.

Point = collections.namedtuple("Point", ["x", "y"])


class Box(eqx.Module):
    low: Any
    count: int
    point: Point
    fn: Any


def test_a_recorded_value_decodes_to_the_same_structure():
    value = {
        "box": Box(jnp.zeros((2, 3)), 4, Point(jnp.int32(1), None), jnp.tanh),
        "pair": (jnp.ones(()), [jnp.zeros(2, bool)]),
        "key": jax.random.key(0),
    }
    node = json.loads(json.dumps(encode(value)))
    back = decode(node, "ctx.locals")
    assert set(back) == {"box", "pair", "key"}
    box = back["box"]
    assert type(box).__name__ == "Box"
    assert box.count == 4
    assert box.low == jax.ShapeDtypeStruct((2, 3), jnp.float32)
    assert type(box.point).__name__ == "Point"
    assert box.point.y is None
    assert box.point.x.dtype == jnp.int32
    assert back["pair"][1][0].shape == (2,)
    assert isinstance(back["pair"][1], list)
    assert jnp.issubdtype(back["key"].dtype, jax.dtypes.prng_key)
    assert isinstance(box.fn, Unavailable)
    with pytest.raises(AttributeError, match=r"`ctx.locals\['box'\].fn` is Lerax's"):
        box.fn(1.0)


def test_a_stand_in_algorithm_counts_iterations_as_lerax_does():
    algorithm = standin_recording("ppo").context_values("on_iteration")["locals"]
    ppo = algorithm["self"]
    assert ppo.num_iterations(64) == 64 // (ppo.num_envs * ppo.num_steps)


def test_every_shipped_profile_decodes_to_what_was_recorded():
    """Decoding a profile loses nothing that encoding kept: each context field of
    each method of each algorithm encodes back to its recorded node."""
    from lerax_testing._lerax._algorithms import SPECS
    from lerax_testing._lerax._profiles import FOLDER

    for path in sorted(FOLDER.glob("lerax-*.json")):
        for name, profile in json.loads(path.read_text())["algorithms"].items():
            for method, fields in profile["methods"].items():
                for field, node in fields.items():
                    back = decode(node, f"ctx.{field}", SPECS[name].class_name)
                    assert encode(back) == node, (path.name, name, method, field)
