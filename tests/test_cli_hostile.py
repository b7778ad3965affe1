"""`lerax-conformance` against callbacks that fight back: they exit, kill or hang
the interpreter, interrupt the run, or are abstract by mistake. Whatever they do,
every other callback is still checked and reported, the exit status stays 0/1/2
and the format files are written.

One folder of hostile callbacks is checked once, by the installed command, in one
test (about 35 s: workers import JAX, and one waits out a 20 s timeout; one test
rather than several sharing a fixture, which pytest-xdist would run once per
worker).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from lerax_testing._cli._folders import module_files
from lerax_testing._cli._main import main
from lerax_testing._cli._run import Progress
from lerax_testing._cli._targets import discover, parse_target
from lerax_testing._formats import RunResult
from lerax_testing._formats._text import summary_line
from lerax_testing._settings import Settings

METHODS = """
    def on_step(self, ctx, *, key): return ctx.state
    def on_iteration(self, ctx, *, key): return ctx.state
    def on_training_start(self, ctx, *, key): return ctx.state
    def on_training_end(self, ctx, *, key): return ctx.state
"""

HOSTILE = f"""
import os
import sys

import lerax_callback as lc


class Base(lc.AbstractStatelessCallback):
    __conformance_abstract__ = True  # a base: counted, not checked


class Fine(lc.AbstractStatelessCallback):{METHODS}

class ExitsZero(Fine):
    def on_step(self, ctx, *, key):
        sys.exit(0)


class RaisesSystemExit(Fine):
    def on_iteration(self, ctx, *, key):
        raise SystemExit(5)


class HardExit(Fine):
    def on_step(self, ctx, *, key):
        os._exit(3)


class AlsoFine(Fine):
    def on_step(self, ctx, *, key):
        print("printed by the callback")  # never into a format
        return ctx.state


class Hangs(Fine):
    def on_training_start(self, ctx, *, key):
        while True:
            pass


class Allocates(Fine):
    def on_iteration(self, ctx, *, key):
        import jax.numpy as jnp

        jnp.zeros((1 << 42,), jnp.float32)  # 16 TiB
        return ctx.state


class LoopsInJax(Fine):
    def on_step(self, ctx, *, key):
        import jax

        jax.lax.while_loop(lambda i: i == i, lambda i: i + 1, 0)  # never ends
        return ctx.state


class LastFine(Fine):
    pass
"""

MISTAKES = """
import lerax_callback as lc


class AbstractHelper(lc.AbstractStatelessCallback):  # a base by its name
    pass


class Forgotten(lc.AbstractStatelessCallback):  # abstract by mistake
    def on_step(self, ctx, *, key):
        return ctx.state
"""

DEEP = f"""
import lerax_callback as lc


class Deep(lc.AbstractStatelessCallback):{METHODS}"""


class Expected(NamedTuple):
    """One callback of the hostile folder and what the run must say of it."""

    name: str
    status: str
    reason: tuple[str, ...] = ()  # parts the reason must contain


EXPECTED = [
    Expected("zoo/hostile.py:Fine", "passed"),
    # `sys.exit` is a check failure of `check_callback` itself.
    Expected("zoo/hostile.py:ExitsZero", "failed", ("called `sys.exit(0)`",)),
    Expected("zoo/hostile.py:RaisesSystemExit", "failed", ("called `sys.exit(5)`",)),
    Expected(
        "zoo/hostile.py:HardExit",
        "error",
        (
            "exited with status 3 during the `runs` check",
            "`on_step` at",
            "`os._exit(3)`",
        ),
    ),
    Expected("zoo/hostile.py:AlsoFine", "passed"),
    Expected(
        "zoo/hostile.py:Hangs",
        "error",
        ("timed out after 20 s during the `runs` check", "in `on_training_start` at"),
    ),
    Expected("zoo/hostile.py:Allocates", "failed", ("RESOURCE_EXHAUSTED",)),
    Expected(
        "zoo/hostile.py:LoopsInJax",
        "error",
        ("timed out after 20 s during the `runs` check",),
    ),
    Expected("zoo/hostile.py:LastFine", "passed"),
    Expected(
        "zoo/import_exits.py",
        "error",
        ("exited with status 4 while importing it",),
    ),
    Expected(
        "zoo/nested/mistakes.py:Forgotten",
        "error",
        (
            "`Forgotten` is abstract: `on_iteration`, `on_training_end`, "
            "`on_training_start` are not implemented; implement them or name the "
            "class `Abstract...`",
        ),
    ),
    Expected("zoo/nested/more/deep.py:Deep", "passed"),
]


class Run(NamedTuple):
    folder: Path
    process: subprocess.CompletedProcess[str]
    data: dict[str, Any]


@pytest.fixture
def hostile_run(tmp_path: Path) -> Run:
    """The hostile folder, checked by the command in worker processes."""
    root = tmp_path
    zoo = root / "zoo"
    (zoo / "nested" / "more").mkdir(parents=True)
    (zoo / "hostile.py").write_text(HOSTILE)
    (zoo / "import_exits.py").write_text("import os\nos._exit(4)\n")
    (zoo / "nested" / "mistakes.py").write_text(MISTAKES)
    (zoo / "nested" / "more" / "deep.py").write_text(DEEP)
    for skipped in (".venv", "build", "env_of_any_name", ".hidden"):
        (zoo / skipped).mkdir()
        (zoo / skipped / "never.py").write_text("raise RuntimeError('searched')\n")
    (zoo / "env_of_any_name" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "out").mkdir()  # the folder of an output file must exist
    process = subprocess.run(
        [
            Path(sys.executable).with_name("lerax-conformance"),
            "zoo",
            "--timeout",
            "20",
            "--checks",
            "api,runs",
            "--max-examples",
            "2",
            "--seed",
            "3",
            "-f",
            "text",
            "-f",
            "json=out/r.json",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=400,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    data = json.loads((root / "out" / "r.json").read_text())
    return Run(root, process, data)


def test_a_hostile_callback_fails_alone_and_the_exit_status_is_1(
    hostile_run: Run,
) -> None:
    assert hostile_run.process.returncode == 1, hostile_run.process.stderr
    outcomes = {o["name"]: o for o in hostile_run.data["callbacks"]}
    assert list(outcomes) == [e.name for e in EXPECTED]
    for expected in EXPECTED:
        outcome = outcomes[expected.name]
        assert outcome["status"] == expected.status, outcome
        reason = outcome["reason"] or " ".join(
            f["message"] for r in outcome["report"]["results"] for f in r["failures"]
        )
        for part in expected.reason:
            assert part in reason, (part, reason)
    assert hostile_run.data["exit_status"] == 1
    assert hostile_run.data["summary"]["errors"] == 5
    # The summary counts the abstract bases passed over.
    bases = hostile_run.data["abstract_bases"]
    assert bases == [
        {"name": "zoo/hostile.py:Base", "why": "__conformance_abstract__ = True"},
        {
            "name": "zoo/nested/mistakes.py:AbstractHelper",
            "why": "names start with Abstract",
        },
    ]
    last = hostile_run.process.stdout.splitlines()[-1]
    assert last.startswith("FAILED: 3 of 12 callbacks failed (zoo/hostile.py:ExitsZero")
    assert last.endswith(
        "; skipped 2 abstract bases (__conformance_abstract__ = True: 1; names start "
        "with Abstract: 1) (seed 3)."
    )
    # Not a terminal here: the progress lines say what hung as it happens.
    err = hostile_run.process.stderr
    assert "zoo/hostile.py:Hangs: ERROR: the interpreter checking it timed out " in err
    assert "in `on_training_start` at " in err
    assert "searched" not in err + hostile_run.process.stdout  # skipped folders
    assert "printed by the callback" not in hostile_run.process.stdout


HOSTILE_IN_PROCESS = f"""
import sys

import lerax_callback as lc


class Fine(lc.AbstractStatelessCallback):{METHODS}

class ExitsZero(Fine):
    def on_step(self, ctx, *, key):
        sys.exit(0)


class RaisesSystemExit(Fine):
    def on_iteration(self, ctx, *, key):
        raise SystemExit(5)


class Interrupts(Fine):
    def on_step(self, ctx, *, key):
        raise KeyboardInterrupt


class NeverReached(Fine):
    pass
"""


@pytest.fixture
def in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A module of hostile callbacks with a unique name, for `--no-isolate`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    name = "hostile_" + tmp_path.name.replace("-", "_")
    (tmp_path / f"{name}.py").write_text(HOSTILE_IN_PROCESS)
    return tmp_path, name


def test_no_isolate_survives_sys_exit_and_reports_an_interrupt(
    in_process: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, name = in_process
    fast = ["--checks", "api,runs", "--max-examples", "2", "--seed", "1"]
    status = main(
        [f"{name}.py", *fast, "--no-isolate", "-f", "text", "-f", "json=r.json"]
    )
    assert status == 2  # interrupted, not 0 or 1
    captured = capsys.readouterr()
    assert "interrupted; reporting the results so far" in captured.err
    assert captured.out.splitlines()[-1] == (
        "INTERRUPTED: the run was stopped; 3 callbacks checked before that (seed 1)."
    )
    data = json.loads((folder / "r.json").read_text())
    assert data["interrupted"] is True
    assert data["exit_status"] == 2
    outcomes = {o["name"].rpartition(":")[2]: o for o in data["callbacks"]}
    assert list(outcomes) == ["Fine", "ExitsZero", "RaisesSystemExit"]
    assert outcomes["Fine"]["status"] == "passed"
    for name, code in (("ExitsZero", 0), ("RaisesSystemExit", 5)):
        assert outcomes[name]["status"] == "failed"
        [failure] = outcomes[name]["report"]["results"][1]["failures"]
        assert failure["message"].startswith(f"the callback called `sys.exit({code})`")


FAKE_API = """
import abc
from typing import Generic, TypeVar

import equinox as eqx

S = TypeVar("S")
T = TypeVar("T")


class AbstractCallbackState(eqx.Module):
    pass


class AbstractCallbackStepState(eqx.Module):
    pass


class ResetContext(eqx.Module):
    pass


class StepContext(eqx.Module):
    pass


class IterationContext(eqx.Module):
    pass


class TrainingContext(eqx.Module):
    pass


class AbstractCallback(eqx.Module, Generic[S, T]):
    @abc.abstractmethod
    def reset(self, ctx, *, key): ...
    @abc.abstractmethod
    def step_reset(self, ctx, *, key): ...
    @abc.abstractmethod
    def on_step(self, ctx, *, key): ...
    @abc.abstractmethod
    def on_iteration(self, ctx, *, key): ...
    @abc.abstractmethod
    def on_training_start(self, ctx, *, key): ...
    @abc.abstractmethod
    def on_training_end(self, ctx, *, key): ...
    @abc.abstractmethod
    def continue_training(self, ctx, *, key): ...
"""

FAMILY_USER = """
from {api} import AbstractCallback, AbstractCallbackState, AbstractCallbackStepState


class Theirs(AbstractCallback[AbstractCallbackState, AbstractCallbackStepState]):
    def reset(self, ctx, *, key): return AbstractCallbackState()
    def step_reset(self, ctx, *, key): return AbstractCallbackStepState()
    def on_step(self, ctx, *, key): return ctx.state
    def on_iteration(self, ctx, *, key): return ctx.state
    def on_training_start(self, ctx, *, key): return ctx.state
    def on_training_end(self, ctx, *, key): return ctx.state
    def continue_training(self, ctx, *, key): return True


class HalfDone(AbstractCallback[AbstractCallbackState, AbstractCallbackStepState]):
    def reset(self, ctx, *, key): return AbstractCallbackState()


theirs = Theirs()
"""


def test_callbacks_of_lerax_s_own_api_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in for `lerax.callback`: same names, distinct classes."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    suffix = tmp_path.name.replace("-", "_")
    (tmp_path / f"fake_api_{suffix}.py").write_text(FAKE_API)
    (tmp_path / "family_user.py").write_text(
        FAMILY_USER.format(api=f"fake_api_{suffix}")
    )
    entries = discover(parse_target("family_user.py"))
    found = {e.name: e for e in entries}
    # `Theirs` is checked through its instance `theirs`, as for our own family.
    assert list(found) == ["family_user.py:HalfDone", "family_user.py:theirs"]
    assert type(found["family_user.py:theirs"].callback).__name__ == "Theirs"
    error = found["family_user.py:HalfDone"].error
    assert error is not None
    assert error.startswith("`HalfDone` is abstract: `continue_training`, ")
    (one,) = discover(parse_target("family_user.py:Theirs"))
    assert type(one.callback).__name__ == "Theirs"


def test_folders_are_searched_recursively_past_environments_and_builds(
    tmp_path: Path,
) -> None:
    for path in [
        "a.py",
        "_private.py",
        "__init__.py",
        "sub/b.py",
        "sub/deeper/c.py",
        ".hidden/no.py",
        "venv/no.py",
        ".venv/no.py",
        "site-packages/no.py",
        "build/no.py",
        "dist/no.py",
        "__pycache__/no.py",
        "node_modules/no.py",
        "myenv/no.py",
        "notes.txt",
    ]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("")
    found = [p.relative_to(tmp_path).as_posix() for p in module_files(tmp_path)]
    assert found == ["a.py", "sub/b.py", "sub/deeper/c.py"]


def test_summary_names_the_bases_passed_over() -> None:
    result = RunResult(
        [],
        Settings(seed=1),
        bases=[
            ("m:AbstractA", "names start with Abstract"),
            ("m:AbstractB", "names start with Abstract"),
        ],
    )
    assert summary_line(result) == (
        "No callback was checked; skipped 2 abstract bases (names start with "
        "Abstract) (seed 1)."
    )


class _Terminal:
    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_a_note_stays_on_a_terminal_too() -> None:
    terminal = _Terminal()
    progress = Progress(terminal, total=2)  # type: ignore[arg-type]
    progress.start("m:Hangs")
    progress.check("runs")
    progress.note("m:Hangs: ERROR: timed out during the `runs` check")
    assert terminal.text.endswith(
        "\r\x1b[Km:Hangs: ERROR: timed out during the `runs` check\n"
    )


def test_timeout_needs_workers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lerax_callback", "--no-isolate", "--timeout", "5"]) == 2
    assert "--timeout applies to worker processes" in capsys.readouterr().err


CONFIG_AT_IMPORT = f"""
import jax

import lerax_callback as lc

jax.config.update("jax_disable_jit", True)  # for this module's own reasons


class NoJit(lc.AbstractStatelessCallback):{METHODS}
"""

FINE = f"""
import lerax_callback as lc


class Fine(lc.AbstractStatelessCallback):{METHODS}
"""


@pytest.mark.parametrize("isolation", ["--no-isolate", "--isolate"])
def test_a_module_changing_jax_config_on_import_leaves_its_neighbours_alone(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    isolation: str,
) -> None:
    (tmp_path / "a_changes_config.py").write_text(CONFIG_AT_IMPORT)
    (tmp_path / "b_fine.py").write_text(FINE)
    monkeypatch.chdir(tmp_path)
    fast = ["--checks", "retrace", "--max-examples", "2", "--seed", "1"]
    main([".", *fast, isolation, "-f", "json=r.json"])
    capsys.readouterr()
    outcomes = {
        o["name"]: o for o in json.loads((tmp_path / "r.json").read_text())["callbacks"]
    }
    assert outcomes["./b_fine.py:Fine"]["status"] == "passed", outcomes
    import jax

    assert jax.config.jax_disable_jit is False
