"""`lerax-conformance`: targets, output formats, exit statuses, `--init`.

Most tests call `main([...])` with `--no-isolate`, in this process; one runs the
installed command. Worker processes and hostile callbacks: `test_cli_hostile.py`.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lerax_testing import CHECKS, CheckResult, Failure, Report
from lerax_testing._cli._main import main
from lerax_testing._cli._targets import discover, parse_target
from lerax_testing._formats import Outcome, RunResult
from lerax_testing._formats._github import (
    MAX_ANNOTATIONS,
    annotations,
    escape_data,
    escape_property,
    render_github,
)
from lerax_testing._formats._junit import render_junit
from lerax_testing._formats._markdown import LIMIT, render_markdown
from lerax_testing._formats._results import report_from_dict
from lerax_testing._settings import Settings

pytest_plugins = ["pytester"]

STATE = """
import jax.numpy as jnp
from jaxtyping import Array, Float

import lerax_callback as lc


class Total(lc.AbstractCallbackStepState):
    total: Float[Array, ""]
"""

GOOD = (
    STATE
    + """

class Good(lc.AbstractStepCallback[Total]):
    def step_reset(self, ctx, *, key):
        return Total(jnp.zeros((), jnp.float32))

    def on_step(self, ctx, *, key):
        return Total(ctx.state.total + ctx.reward)
"""
)

BAD = (
    STATE
    + """

class Bad(lc.AbstractStepCallback[Total]):
    def step_reset(self, ctx, *, key):
        return Total(jnp.zeros((), jnp.float32))

    def on_step(self, ctx, *, key):
        if ctx.reward > 0:  # a Python `if` on a traced value
            return Total(ctx.state.total + ctx.reward)
        return ctx.state
"""
)

FAST = [
    "--checks",
    "api,runs,jit",
    "--max-examples",
    "2",
    "--seed",
    "5",
    "--no-isolate",
]
"""Quick options, in this process (`test_cli_hostile.py` covers the workers)."""


NEEDS = """
import lerax_callback as lc


class Window(lc.AbstractStatelessCallback):
    window: int

    def on_step(self, ctx, *, key): return ctx.state
    def on_iteration(self, ctx, *, key): return ctx.state
    def on_training_start(self, ctx, *, key): return ctx.state
    def on_training_end(self, ctx, *, key): return ctx.state
"""


@pytest.fixture
def no_check_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The checks that ran in this process: none, for a refused input."""
    from lerax_testing import _harness

    ran: list[str] = []

    def run_check(check: str, subject: Any) -> Any:
        ran.append(check)
        raise AssertionError(f"the `{check}` check ran")

    monkeypatch.setattr(_harness, "run_check", run_check)
    return ran


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder of callback modules, the working directory; `sys.path` and
    `sys.modules` are restored afterwards. Module names are unique per test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    suffix = os.path.basename(tmp_path).replace("-", "_")
    (tmp_path / f"good_{suffix}.py").write_text(GOOD)
    (tmp_path / f"bad_{suffix}.py").write_text(BAD)
    monkeypatch.setenv("CLI_SUFFIX", suffix)
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:  # the callback modules imported
        if (getattr(sys.modules[name], "__file__", None) or "").startswith(
            str(tmp_path)
        ):
            del sys.modules[name]


def _names(project: Path) -> tuple[str, str]:
    suffix = os.environ["CLI_SUFFIX"]
    return f"good_{suffix}", f"bad_{suffix}"


def test_every_format_from_one_run(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = _names(project)
    (project / "out").mkdir()  # the folder of an output file must exist
    status = main(
        [
            good,
            f"{bad}.py",
            *FAST,
            "--format",
            "text",
            "--format",
            "json=out/r.json",
            "-f",
            "junit=out/r.xml",
            "-f",
            "markdown=out/r.md",
            "-f",
            "github=out/gh",
        ]
    )
    out = capsys.readouterr().out
    assert status == 1
    # The text: a callbacks-by-checks table, the failure in full, a summary.
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("callback"))
    assert header.split() == ["callback", "api", "runs", "jit", "time"]
    assert f"{good}:Good" in out
    rows = [line.split()[:4] for line in lines]
    assert [f"{bad}.py:Bad", "ok", "ok", "FAIL"] in rows
    assert "`on_step` under `jax.jit` fails at `if ctx.reward > 0:" in out
    assert lines[-1] == (
        f"FAILED: 1 of 2 callbacks failed ({bad}.py:Bad: jit) (seed 5)."
    )
    # JSON: every report, a summary, the exit status.
    data = json.loads((project / "out/r.json").read_text())
    assert data["exit_status"] == 1
    assert data["seed"] == 5
    assert data["summary"] == {
        "callbacks": 2,
        "passed": 1,
        "failed": 1,
        "errors": 0,
        "skipped": 0,
    }
    bad_report = data["callbacks"][1]["report"]
    assert bad_report["callback_type"] == "bad_" + os.environ["CLI_SUFFIX"] + ".Bad"
    assert [r["status"] for r in bad_report["results"]] == [
        "passed",
        "passed",
        "failed",
    ]
    assert report_from_dict(bad_report).to_dict() == bad_report
    # JUnit: a testsuite per callback, a testcase per check.
    root = ET.parse(project / "out/r.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == (
        "6",
        "1",
        "0",
    )
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"{good}:Good", f"{bad}.py:Bad"]
    cases = suites[1].findall("testcase")
    assert [c.get("name") for c in cases] == ["api", "runs", "jit"]
    failure = cases[2].find("failure")
    assert failure is not None
    assert "if ctx.reward > 0:" in (failure.text or "")
    line = BAD.splitlines().index(
        "        if ctx.reward > 0:  # a Python `if` on a traced value"
    )
    assert cases[2].get("line") == str(line + 1)
    # Markdown and GitHub annotations.
    markdown = (project / "out/r.md").read_text()
    assert "| callback | api | runs | jit |" in markdown
    assert f"| <code>{bad}.py:Bad</code> | ✅ | ✅ | ❌ |" in markdown
    assert "<details>" in markdown
    github = (project / "out/gh").read_text().splitlines()
    assert github[0].startswith(
        f"::error file={bad}.py,line={line + 1},title={bad}.py%3ABad fails the `jit`"
    )
    assert github[-1].startswith("::notice title=lerax-conformance::FAILED: 1 of 2")


def test_all_passing_exits_zero_and_json_goes_to_stdout(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, _ = _names(project)
    assert main([f"{good}:Good", *FAST, "--format", "json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["summary"]["passed"] == 1
    assert data["callbacks"][0]["name"] == f"{good}:Good"
    assert captured.err == ""  # no progress display with a machine format


def test_progress_shows_callback_and_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, _ = _names(project)
    assert main([good, "--checks", "api", "--progress", "--no-isolate"]) == 0
    assert f"[1/1] checking {good}:Good" in capsys.readouterr().err


def test_an_import_error_fails_that_target_and_the_others_are_checked(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, _ = _names(project)
    (project / "broken.py").write_text("import os\nraise RuntimeError('no GPU')\n")
    status = main(["broken.py", good, *FAST, "-f", "text", "-f", "junit=r.xml"])
    out = capsys.readouterr().out
    assert status == 1
    row = next(line for line in out.splitlines() if line.startswith("broken.py"))
    assert row.split(maxsplit=1)[1] == "ERROR: importing it raised RuntimeError: no GPU"
    assert f"{good}:Good" in out
    assert 'File "' + str(project / "broken.py") + '", line 2' in out
    assert "_targets.py" not in out  # the traceback starts in the user's code
    root = ET.parse(project / "r.xml").getroot()
    assert root.get("errors") == "1"
    error = root.find("testsuite/testcase/error")
    assert error is not None
    assert error.get("message") == "importing it raised RuntimeError: no GPU"


def test_typecheck_is_on_while_checking(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import lerax_callback as lc

    (project / "probe.py").write_text(
        GOOD + "\nON_AT_IMPORT = lc.typechecking_enabled()\n"
    )
    argv = ["probe.py", "--checks", "api", "--typecheck", "--seed", "1"]
    assert main([*argv, "--no-isolate"]) == 0
    assert sys.modules["probe"].ON_AT_IMPORT is True
    assert not lc.typechecking_enabled()  # and off again afterwards


USAGE_ERRORS = [
    (["no_such_module_xyz"], "no module named 'no_such_module_xyz'"),
    (["missing.py"], "there is no file 'missing.py'"),
    (["plain.py"], "no callbacks found in 'plain.py'"),
    (["{good}:Nope"], "has no attribute 'Nope'; it defines Good"),
    (["{good}:Total"], "`Total` is a callback *state* class, not a callback"),
    (["needs.py:Window"], "`Window` needs constructor arguments (`window`)"),
    (["needs.py:Window"], "e.g. `callback = Window(window=...)`"),
    (["{good}", "--context-value", "nofield=os:getcwd"], "context field `nofield`"),
    (["{good}", "-f", "json=nowhere/r.json"], "the folder 'nowhere' does not exist"),
    (["{good}", "-f", "junit=."], "'.' is a folder, not a file"),
    (["{good}", "-o", "nowhere/r.txt"], "--output: cannot write 'nowhere/r.txt'"),
    (["{good}", "-f", "json=plain.py/r"], "the folder 'plain.py' is not a folder"),
    (["{good}", "--checks", "jit,jitt"], "--checks: unknown check id(s) ['jitt']"),
    (["{good}", "--checks", ","], "--checks: no check ids given"),
    (["{good}", "--skip", "x64"], "takes `CHECK=REASON`"),
    (["{good}", "--max-examples", "0"], "expected a positive integer, got 0"),
    (["{good}", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["{good}", "-f", "json", "-f", "junit"], "only one of the formats json, junit"),
    (["{good}", "-f", "yaml"], "unknown format 'yaml'"),
    ([], "give at least one TARGET"),
]


@pytest.mark.parametrize(
    ("argv", "reason"),
    USAGE_ERRORS,
    ids=[
        "unknown-module",
        "missing-file",
        "no-callbacks",
        "no-attribute",
        "state-class",
        "class-needs-arguments",
        "class-needs-arguments-example",
        "unknown-context-field",
        "output-folder-missing",
        "output-is-a-folder",
        "output-folder-missing-o",
        "output-folder-is-a-file",
        "unknown-check",
        "no-check",
        "skip-no-reason",
        "zero-examples",
        "unknown-option",
        "two-machine-formats",
        "unknown-format",
        "no-target",
    ],
)
def test_usage_errors_exit_2_with_a_one_line_reason(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    no_check_runs: list[str],
    argv: list[str],
    reason: str,
) -> None:
    good, _ = _names(project)
    (project / "plain.py").write_text("from lerax_callback import EmptyCallback\n")
    (project / "needs.py").write_text(NEEDS)
    assert main([a.format(good=good) for a in argv] + ["--no-isolate"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("lerax-conformance: error: ")
    assert reason in captured.err
    assert no_check_runs == []  # refused before any check
    assert not (project / "nowhere").exists()  # and no folder made


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="no /proc here")
def test_an_output_file_that_cannot_be_made_is_refused_up_front(
    project: Path, capsys: pytest.CaptureFixture[str], no_check_runs: list[str]
) -> None:
    good, _ = _names(project)
    assert main([good, *FAST, "-f", "json=/proc/r.json"]) == 2
    err = capsys.readouterr().err
    assert "cannot write '/proc/r.json': it cannot be made or written there" in err
    assert no_check_runs == []


def test_an_output_that_cannot_be_written_at_the_end_exits_2_without_traceback(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    good, _ = _names(project)
    real = Path.write_text

    def full_disk(self: Path, *args: Any, **kwargs: Any) -> int:
        if self.name == "r.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    status = main([good, *FAST, "--checks", "api", "-f", "json=r.json"])
    captured = capsys.readouterr()
    assert status == 2
    assert "could not write the json report to 'r.json': No space left" in captured.err
    assert "Traceback" not in captured.err
    assert "PASSED" in captured.out or f"{good}:Good" in captured.out  # the table


def test_progress_counts_every_target_s_callbacks_in_workers(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Workers discover every module before checking the first, so the count is
    the run's: `[1/3] [2/3] [3/3]`; a context field refused there costs no check."""
    good, _ = _names(project)
    (project / "second.py").write_text(GOOD.replace("Good", "Second"))
    (project / "third.py").write_text(GOOD.replace("Good", "Third"))
    argv = [good, "second.py", "third.py", "--checks", "api", "--progress"]
    assert main([*argv, "--timeout", "300"]) == 0
    err = capsys.readouterr().err
    for index in (1, 2, 3):
        assert f"[{index}/3] checking " in err, err
    assert main([*argv, "--context-value", "nofield=os:getcwd"]) == 2
    captured = capsys.readouterr()
    assert "unknown context field `nofield`" in captured.err
    assert "checking" not in captured.err  # no callback was started
    assert "Traceback" not in captured.err


DISCOVERED = """
from lerax_callback import EmptyCallback, EpisodeStatsCallback
from lerax_callback import AbstractStatelessCallback

imported = EpisodeStatsCallback(writer=None)  # assigned here: checked


class Needs(AbstractStatelessCallback):
    alpha: float

    def on_step(self, ctx, *, key): return ctx.state
    def on_iteration(self, ctx, *, key): return ctx.state
    def on_training_start(self, ctx, *, key): return ctx.state
    def on_training_end(self, ctx, *, key): return ctx.state


class Exposed(Needs):
    pass


exposed = Exposed(alpha=1.0)


class Plain(Needs):
    alpha: float = 0.5


class _Private(Plain):
    pass


class Breaks(Plain):
    def __check_init__(self):
        raise ValueError("alpha out of range")


def make():
    return Plain(alpha=2.0)
"""


def test_discovery_of_classes_instances_and_factories(project: Path) -> None:
    (project / "many.py").write_text(DISCOVERED)
    entries = discover(parse_target("many.py"))
    found = {e.name: (e.callback is not None, e.skipped, e.error) for e in entries}
    assert list(found) == [
        "many.py:imported",
        "many.py:Needs",
        "many.py:exposed",
        "many.py:Plain",
        "many.py:Breaks",
    ]
    assert found["many.py:imported"] == (True, None, None)
    assert found["many.py:exposed"] == (True, None, None)
    assert found["many.py:Plain"] == (True, None, None)
    skipped = found["many.py:Needs"][1]
    assert skipped is not None
    assert skipped.startswith("needs constructor arguments (alpha)")
    error = found["many.py:Breaks"][2]
    assert error == "calling `Breaks()` raised ValueError: alpha out of range"
    # An attribute: an instance, a class without arguments, a factory.
    (made,) = discover(parse_target("many.py:make"))
    assert made.callback.alpha == 2.0
    (plain,) = discover(parse_target("many.py:Plain"))
    assert plain.callback.alpha == 0.5
    assert plain.location is not None
    assert plain.location[1] == DISCOVERED.splitlines().index("class Plain(Needs):") + 1


def test_a_folder_stands_for_its_modules(project: Path) -> None:
    folder = project / "pkg"
    folder.mkdir()
    (folder / "one.py").write_text(GOOD)
    (folder / "two.py").write_text("x = 1\n")  # no callbacks: passed over
    (folder / "_private.py").write_text("raise RuntimeError\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "three.py").write_text(GOOD.replace("Good", "Three"))
    entries = discover(parse_target("pkg"))
    assert [e.name for e in entries] == [
        os.path.join("pkg", "one.py") + ":Good",
        os.path.join("pkg", "sub", "three.py") + ":Three",
    ]


def test_formats_escape_what_they_must() -> None:
    nasty = 'a <b> & "c"\x1b[31m red\x00 100% done, file: x\nnext'
    failure = Failure("jit", "on_step", nasty, location=("/elsewhere/cb.py", 3))
    report = Report(
        callback=nasty,
        callback_type="m.Cb",
        location=None,
        results=(CheckResult("jit", "failed", (failure,)),),
        seed=1,
    )
    result = RunResult([Outcome("m:Cb", "m", "failed", report)], Settings(seed=1))
    root = ET.fromstring(render_junit(result).split("\n", 1)[1])
    case_failure = root.find("testsuite/testcase/failure")
    assert case_failure is not None
    message = 'a <b> & "c" red\N{REPLACEMENT CHARACTER} 100% done, file: x'
    assert case_failure.get("message") == message
    assert escape_data("100%\r\nx") == "100%25%0D%0Ax"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    line = render_github(result).splitlines()[0]
    # Outside the repository, so no `file=`; the message on one line.
    assert line.startswith("::error title=m%3ACb fails the `jit` check::")
    assert line.endswith("file: x%0Anext")


def _failing(name: str, failures: int) -> Outcome:
    report = Report(
        callback=name,
        callback_type=f"m.{name}",
        location=("cb.py", 1),
        results=(
            CheckResult(
                "jit",
                "failed",
                tuple(
                    Failure("jit", "on_step", f"problem {i} " + "x" * 5000)
                    for i in range(failures)
                ),
            ),
        ),
        seed=1,
    )
    return Outcome(f"m:{name}", "m", "failed", report, location=("cb.py", 1))


def test_github_annotations_are_capped_at_ten() -> None:
    few = RunResult([_failing("A", 3), _failing("B", 4)], Settings(seed=1))
    assert len(annotations(few)) == 7  # one per failure
    some = RunResult([_failing(n, 3) for n in "ABCD"], Settings(seed=1))
    merged = annotations(some)
    assert len(merged) == 4  # one per callback
    assert merged[0].title == "m:A fails 1 check(s): jit"
    many = RunResult([_failing(f"C{i}", 2) for i in range(25)], Settings(seed=1))
    capped = annotations(many)
    assert len(capped) == MAX_ANNOTATIONS
    assert capped[-1].title == "16 more callbacks fail"


def test_markdown_stays_under_the_step_summary_limit() -> None:
    huge = RunResult([_failing(f"C{i}", 60) for i in range(40)], Settings(seed=1))
    text = render_markdown(huge)
    assert len(text.encode()) <= LIMIT
    assert "more failure reports left out" in text
    assert text.count("<details>") >= 3


def test_init_writes_a_working_test_file(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good, _ = _names(project)
    assert main(["--init", f"{good}:Good"]) == 0
    written = project / "tests" / "test_good_conformance.py"
    assert f"wrote {written.relative_to(project)}" in capsys.readouterr().out
    text = written.read_text()
    assert f"from {good} import Good" in text
    assert "test_good = conformance_suite(Good)" in text
    assert main(["--init", f"{good}:Good"]) == 2
    assert "exists already; pass --force" in capsys.readouterr().err
    assert main(["--init", f"{good}:Good", "--force"]) == 0
    pytester: pytest.Pytester = request.getfixturevalue("pytester")  # cds there
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"):
        monkeypatch.delenv(name, raising=False)  # the run inside is no xdist worker
    result = pytester.runpytest(str(written), "--collect-only", "-q")
    assert result.ret == 0
    assert sum("::test_good[" in line for line in result.stdout.lines) == len(CHECKS)


def test_the_installed_command_and_python_m(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(GOOD)
    run = subprocess.run(
        [
            Path(sys.executable).with_name("lerax-conformance"),
            "mine",
            "--checks",
            "api",
            "--format",
            "json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["summary"]["passed"] == 1
    # Help and usage errors come quickly: no JAX is imported for them.
    code = textwrap.dedent(
        """
        import sys
        from lerax_testing._cli._main import main
        assert main(["--help"]) == 0
        assert main(["no_such_module_xyz"]) == 2
        assert "jax" not in sys.modules
        """
    )
    quick = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert quick.returncode == 0, quick.stderr
    assert "exit status: 0 all callbacks passed" in quick.stdout
    module = subprocess.run(
        [sys.executable, "-m", "lerax_testing", "--list-checks"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert module.returncode == 0
    assert module.stdout.split()[0] == "api"
