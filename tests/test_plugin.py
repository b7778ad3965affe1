"""The pytest plugin, end to end with `pytester`: the fixture, one item per check,
the `--lerax-*` options and ini settings, seeds under pytest-xdist, and a plugin
that loads without JAX."""

from __future__ import annotations

import re

# Imported here, before any in-process `pytester` run: each run forgets the
# modules first imported during it, and strategies the harness keeps for the
# process would then be of classes hypothesis no longer knows.
import hypothesis.strategies  # noqa: F401
import pytest

import lerax_callback as lc
import lerax_testing
from lerax_testing._settings import CI_SEED
from lerax_testing.pytest_plugin import conformance_suite

pytest_plugins = ["pytester"]

CALLBACKS = '''
import jax.numpy as jnp
from jaxtyping import Array, Float

import lerax_callback as lc
import lerax_testing


class Total(lc.AbstractCallbackStepState):
    total: Float[Array, ""]


class Good(lc.AbstractStepCallback[Total]):
    """Sums rewards with array operations only."""

    def step_reset(self, ctx, *, key):
        return Total(jnp.zeros((), jnp.float32))

    def on_step(self, ctx, *, key):
        return Total(ctx.state.total + ctx.reward)


class Bad(lc.AbstractStepCallback[Total]):
    """A Python `if` on a traced reward: runs eagerly, fails under `jax.jit`."""

    def step_reset(self, ctx, *, key):
        return Total(jnp.zeros((), jnp.float32))

    def on_step(self, ctx, *, key):
        if ctx.reward > 0:
            return Total(ctx.state.total + ctx.reward)
        return ctx.state
'''


XDIST_VARIABLES = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT")


@pytest.fixture(autouse=True)
def _not_an_xdist_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pytest runs inside these tests are no pytest-xdist workers, even when
    this one is (plugins such as pytest-benchmark would think so)."""
    for name in XDIST_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with a `callbacks` module; no `filterwarnings = error` here, so
    that the runs behave as in a user's project."""
    pytester.makepyfile(callbacks=CALLBACKS)
    pytester.syspathinsert()
    return pytester


def _lines(result: pytest.RunResult, *parts: str) -> None:
    """Assert that output lines contain `parts`, in this order."""
    result.stdout.re_match_lines([f".*{re.escape(part)}.*" for part in parts])


def _header_seed(result: pytest.RunResult) -> int:
    match = re.search(r"lerax_testing: seed (\d+)", result.stdout.str())
    assert match is not None, result.stdout.str()
    return int(match.group(1))


def test_plugin_loads_without_jax(pytester: pytest.Pytester) -> None:
    """A pytest run that uses no callback imports no JAX, though our plugin is on."""
    pytester.makepyfile(
        test_light="""
        import sys

        def test_no_jax():
            assert "lerax_testing.pytest_plugin" in sys.modules
            assert "jax" not in sys.modules, sorted(sys.modules)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=240)
    result.assert_outcomes(passed=1)
    _header_seed(result)


def test_suite_and_fixture(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_mine="""
        from lerax_testing.pytest_plugin import conformance_suite

        from callbacks import Bad, Good

        test_good = conformance_suite(Good(), checks=["jit", "api", "runs"])
        test_bad = conformance_suite(Bad, checks={"runs", "jit"}, max_examples=2)

        def test_fixture_passes(callback_conformance):
            report = callback_conformance(Good(), checks=["api", "runs"])
            assert report.ok
            assert report.seed == 5
            assert report.settings["max_examples"] == 3

        def test_fixture_fails(callback_conformance):
            callback_conformance(Bad(), checks=["jit"])
        """
    )
    result = project.runpytest("-v", "--lerax-seed", "5", "--lerax-max-examples", "3")
    result.assert_outcomes(passed=5, failed=2)
    _lines(
        result,
        "lerax_testing: seed 5 (from --lerax-seed; reproduce with --lerax-seed=5)",
        "test_mine.py::test_good[api] PASSED",
        "test_mine.py::test_good[runs] PASSED",
        "test_mine.py::test_good[jit] PASSED",
        "test_mine.py::test_bad[runs] PASSED",
        "test_mine.py::test_bad[jit] FAILED",
        "test_mine.py::test_fixture_passes PASSED",
        "test_mine.py::test_fixture_fails FAILED",
    )
    text = result.stdout.str()
    # The report's readable text, with the user's line and the fix, no traceback.
    first_failure = text[text.index("_ test_bad[jit] _") :]
    first_screen = "\n".join(first_failure.splitlines()[:25])
    assert "`on_step` under `jax.jit` fails at `if ctx.reward > 0:`" in first_screen
    assert "callbacks.py:" in first_screen
    assert "fix: " in first_screen
    assert "Traceback" not in first_screen
    assert "jax/_src" not in first_screen
    # The run's own options come along, so that the line runs the item as it ran.
    reproduce = (
        "pytest --lerax-seed=5 --lerax-max-examples 3 'test_mine.py::test_bad[jit]'"
    )
    assert f"Reproduce with: {reproduce}" in text


def test_an_item_failing_as_a_consequence_leads_with_its_root_cause(
    project: pytest.Pytester,
) -> None:
    """`retrace` fails for an integer total that float rewards turn into a float,
    but only because `structure`'s finding holds: its item leads with that fix."""
    project.makepyfile(
        drift="""
        import jax.numpy as jnp
        import lerax_callback as lc

        from callbacks import Total


        class IntTotal(lc.AbstractStepCallback[Total]):
            def step_reset(self, ctx, *, key):
                return Total(jnp.zeros((), jnp.int32))

            def on_step(self, ctx, *, key):
                return Total(ctx.state.total + ctx.reward)
        """,
        test_drift="""
        from lerax_testing.pytest_plugin import conformance_suite

        from drift import IntTotal

        test_int = conformance_suite(IntTotal(), checks=["retrace"], max_examples=2)
        """,
    )
    result = project.runpytest("-v", "--lerax-seed", "5", "-p", "no:randomly")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    item = text[text.index("_ test_int[retrace] _") :]
    root = item.index("Root cause, found by the `structure` check in `on_step`")
    assert root < item.index("[retrace] `on_step` was traced and compiled again")
    assert "fix: Declare `total` as a float" in item


def test_options_skip_and_ini_settings(project: pytest.Pytester) -> None:
    project.makeini(
        """
        [pytest]
        lerax_max_examples = 4
        lerax_seed = 77
        lerax_skip =
            x64 = our environments never run in float64
        """
    )
    project.makepyfile(
        test_opts="""
        from lerax_testing.pytest_plugin import conformance_suite

        from callbacks import Good

        test_good = conformance_suite(Good, checks=["api", "jit", "x64"])

        def test_settings(callback_conformance):
            report = callback_conformance(Good(), checks=["api", "x64"])
            assert report.seed == 77
            assert report.settings["max_examples"] == 2  # the command line wins
            assert report.skipped == {
                "x64": "our environments never run in float64"
            }
        """
    )
    result = project.runpytest(
        "-v", "-rs", "--lerax-max-examples=2", "--lerax-skip", "jit=not jitted here"
    )
    result.assert_outcomes(passed=2, skipped=2)
    _lines(
        result,
        "lerax_testing: seed 77 (from lerax_seed;",
        "test_good[jit] SKIPPED (jit: not jitted here)",
        "test_good[x64] SKIPPED (x64: our environments",
        "SKIPPED [1] test_opts.py:5: jit: not jitted here",
    )


def test_seed_from_pyproject_and_hypothesis(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.lerax_testing]\nseed = 1234\n")
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    assert _header_seed(pytester.runpytest()) == 1234
    assert _header_seed(pytester.runpytest("--lerax-seed", "9")) == 9


def test_hypothesis_options_keep_working(project: pytest.Pytester) -> None:
    """`--hypothesis-seed` (an integer one also seeds the checks) and profiles."""
    project.makeconftest(
        """
        from hypothesis import settings

        settings.register_profile("tiny", max_examples=3)
        """
    )
    project.makepyfile(
        test_both="""
        from hypothesis import given, settings, strategies as st

        from lerax_testing.pytest_plugin import conformance_suite

        from callbacks import Good

        test_good = conformance_suite(Good(), checks=["api"])

        calls = []

        @given(st.integers())
        def test_hypothesis(x):
            calls.append(x)

        def test_profile_in_use():
            assert settings.default.max_examples == 3
            assert 0 < len(calls) <= 3
        """
    )
    result = project.runpytest(
        "-v", "--hypothesis-seed=31", "--hypothesis-profile=tiny"
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*hypothesis profile 'tiny'*"])
    assert _header_seed(result) == 31


def test_typecheck_option(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tc="""
        import lerax_callback

        def test_on():
            assert lerax_callback.typechecking_enabled()
        """
    )
    result = project.runpytest("--lerax-typecheck")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*lerax_testing: seed *, runtime type checking on"])
    assert not lc.typechecking_enabled()  # switched off again after that run


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--lerax-max-examples", "many"], "*--lerax-max-examples must be an integer*"),
        (["--lerax-max-examples", "0"], "*--lerax-max-examples must be at least 1*"),
        (["--lerax-seed", "x"], "*--lerax-seed must be an integer, got 'x'*"),
        (["--lerax-skip", "jit"], "*takes `CHECK=REASON`*without the reason*"),
        (["--lerax-skip", "jitt=typo"], "*unknown check 'jitt'*"),
    ],
    ids=["examples-word", "examples-zero", "seed-word", "skip-no-reason", "skip-typo"],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, option: list[str], message: str
) -> None:
    result = pytester.runpytest(*option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_collection_is_deterministic_and_validated(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_collect="""
        from lerax_testing.pytest_plugin import conformance_suite

        from callbacks import Good

        test_some = conformance_suite(Good, checks={"x64", "api", "vmap", "jit"})
        test_all = conformance_suite(Good)
        """
    )
    result = project.runpytest("--collect-only", "-q", "-m", "lerax_conformance")
    lines = [line for line in result.stdout.lines if "::" in line]
    assert lines[:4] == [
        "test_collect.py::test_some[api]",
        "test_collect.py::test_some[jit]",
        "test_collect.py::test_some[vmap]",
        "test_collect.py::test_some[x64]",
    ]
    assert len(lines) == 4 + len(lerax_testing.CHECKS)
    assert result.ret == pytest.ExitCode.OK


def test_suite_rejects_unknown_checks() -> None:
    with pytest.raises(ValueError, match=r"unknown check id\(s\) \['jitt'\]"):
        conformance_suite(lc.EmptyCallback(), checks=["jitt"])
    with pytest.raises(TypeError, match=r"`checks=\['jit'\]`, not a string"):
        conformance_suite(lc.EmptyCallback(), checks="jit")


def test_suite_refuses_a_class_it_cannot_make_a_callback_of() -> None:
    """At collection, naming what the class needs or what it is."""

    class Window(lc.AbstractStatelessCallback):
        window: int

        def on_step(self, ctx, *, key):
            return ctx.state

        on_iteration = on_training_start = on_training_end = on_step

    with pytest.raises(
        lerax_testing.InvalidArgument, match=r"`Window\(window=\.\.\.\)`"
    ):
        conformance_suite(Window)
    with pytest.raises(lerax_testing.InvalidArgument, match=r"\*state\* class"):
        conformance_suite(lc.EmptyCallbackStepState)
    conformance_suite(lc.EmptyCallback)  # a class without arguments: made per item


def test_the_lazy_package_exports_exactly_its_public_names() -> None:
    import lerax_testing

    public = {name for name in dir(lerax_testing) if not name.startswith("_")}
    assert public == {
        "CHECKS",
        "CheckResult",
        "ConfigError",
        "ConformanceError",
        "Failure",
        "InvalidArgument",
        "MissingContextValueError",
        "Report",
        "TrainingResult",
        "check_callback",
        "is_checking",
        "run_training",
        "strategies",
        "toy",
    }
    for name in public:
        assert getattr(lerax_testing, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        lerax_testing.nope  # noqa: B018


def test_check_callback_uses_the_ci_seed_in_ci(monkeypatch, tmp_path) -> None:
    from lerax_callback import EmptyCallback

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    report = lerax_testing.check_callback(EmptyCallback(), checks=["api"])
    assert report.seed == CI_SEED


def test_xdist_workers_share_the_seed(project: pytest.Pytester) -> None:
    """Under `-n 2` every worker collects the same items and checks with the seed
    the controller chose and printed."""
    project.makeconftest(
        """
        import os
        from pathlib import Path

        import pytest

        @pytest.fixture(autouse=True)
        def record_seed(request):
            yield
            seeds = [v for k, v in request.node.user_properties if k == "lerax_seed"]
            worker = os.environ["PYTEST_XDIST_WORKER"]
            Path(f"seed-{worker}-{request.node.name}").write_text(str(seeds[0]))
        """
    )
    project.makepyfile(
        test_par="""
        from lerax_testing.pytest_plugin import conformance_suite

        from callbacks import Good

        test_good = conformance_suite(Good(), checks=["api", "runs", "jit", "types"])
        """
    )
    result = project.runpytest_subprocess(
        "-n",
        "2",
        "-v",
        "--lerax-max-examples",
        "2",
        "-p",
        "no:cacheprovider",
        timeout=240,
    )
    result.assert_outcomes(passed=4)
    _lines(result, "PASSED test_par.py::test_good[jit]")
    seed = _header_seed(result)
    seeds = {p.name: p.read_text() for p in project.path.glob("seed-*")}
    assert len(seeds) == 4
    assert {name.split("-")[1] for name in seeds} == {"gw0", "gw1"}
    assert set(seeds.values()) == {str(seed)}


def test_context_values_from_the_command_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        algo="""
        class Algorithm:
            learning_rate = 0.5

        def make():
            return Algorithm()
        """,
        test_ctx="""
        import jax.numpy as jnp

        import fake_lerax_api as fake

        class ReadsAlgorithm(fake.Counter):
            def on_iteration(self, ctx, *, key):
                rate = jnp.asarray(ctx.algorithm.learning_rate, jnp.float32)
                return super().on_iteration(ctx, key=key)

        def test_it(callback_conformance):
            callback_conformance(ReadsAlgorithm(), checks=["runs"], max_examples=2)
        """,
    )
    passed = pytester.runpytest("--lerax-context-value", "algorithm=algo:make")
    passed.assert_outcomes(passed=1)
    failed = pytester.runpytest()
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*ctx.algorithm*context_values*"])


def test_unusable_project_settings_fail_the_conformance_tests_only(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml("[tool.lerax_testing]\nmax_examples = 0\n")
    pytester.makepyfile(
        test_it="""
        import lerax_callback as lc

        def test_unrelated():
            pass

        def test_conformance(callback_conformance):
            callback_conformance(lc.EmptyCallback(), checks=["api"])
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*`max_examples` must be a positive int, got 0*"])


def test_the_plugin_keeps_the_error_and_its_cause(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nlerax_algorithms = ppo2\n")
    pytester.makepyfile(
        """
        import pytest
        from lerax_testing import InvalidArgument

        def test_bad(callback_conformance):
            with pytest.raises(InvalidArgument) as raised:
                callback_conformance(object())
            assert isinstance(raised.value.__cause__, InvalidArgument)
            assert "unknown algorithm(s) ['ppo2']" in str(raised.value)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
