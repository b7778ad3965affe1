"""Callbacks with their own environment: the protocol, the toy's hints, `--env` and
friends from every entry point, reproducers that carry them, `TrainingResult`.

The environment and callback are the example of the docs' "Configuring a check"
page, read from the page, so the example is tested as printed.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import equinox as eqx
import jax
import pytest

import lerax_callback as lc
from lerax_testing import ConfigError, ConformanceError, check_callback, run_training
from lerax_testing._cli._main import main
from lerax_testing._config import load_project_config
from lerax_testing._explain._reproduce import Replay
from lerax_testing._loop._protocol import protocol_problems, require_protocol
from lerax_testing._settings import Settings, resolve_settings
from lerax_testing.toy import ToyAttributeError, ToyEnv, ToyPolicy

pytest_plugins = ["pytester"]

PAGE = Path(__file__).resolve().parent.parent / "docs" / "configuring.md"
QUICK = {"checks": ["runs", "jit", "scan"], "max_examples": 3, "seed": 3}


def _page_files() -> dict[str, str]:
    """The page's example files, by the `# name.py` comment that opens each."""
    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("## Your own environment and policy") :]
    section = section[: section.index("\n## ")]
    files = {}
    for block in re.findall(r"```python\n(.*?)```", section, re.S):
        first = block.splitlines()[0]
        if first.startswith("# ") and first.endswith(".py"):
            files[first[2:]] = block
    assert set(files) == {"my_envs.py", "my_callbacks.py"}, files
    return files


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The page's `my_envs.py` and `my_callbacks.py` in the working directory,
    importable; `sys.path` and `sys.modules` restored afterwards."""
    for name, text in _page_files().items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if (getattr(sys.modules[name], "__file__", None) or "").startswith(
            str(tmp_path)
        ):
            del sys.modules[name]


# -- the bases' optional `name` ------------------------------------------------


def test_name_defaults_to_the_class_name_and_a_subclass_field_wins():
    class Plain(lc.AbstractEnvLike):
        size: int = 1

    class Named(lc.AbstractEnvLike):
        name: str  # required and positional before another required field
        size: int

    class Prop(lc.AbstractPolicy):
        @property
        def name(self) -> str:
            return "from a property"

    assert Plain().name == "Plain"
    assert Named("mine", 2).name == "mine"
    assert Prop().name == "from a property"
    assert ToyEnv().name == "ToyEnv"
    assert jax.tree.leaves(Plain()) == [1]  # `name` is no field, no leaf
    with pytest.raises(AttributeError, match="'Plain' object has no attribute 'x'"):
        Plain().x  # noqa: B018


# -- the toy's hints -----------------------------------------------------------


@pytest.mark.parametrize(
    ("toy", "option"), [(ToyEnv(), "env"), (ToyPolicy(), "policy")], ids=str
)
def test_the_toy_says_how_to_pass_your_own(toy, option):
    with pytest.raises(ToyAttributeError, match=r"reward_scale") as caught:
        toy.reward_scale  # noqa: B018
    message = str(caught.value)
    assert f"ctx.{option}.reward_scale" in message
    assert f"check_callback(cb, {option}=My{option.title()}())" in message
    assert f"--{option} module:factory" in message
    assert f'{option} = "module:factory"' in message
    assert isinstance(caught.value, AttributeError)
    assert not hasattr(toy, "reward_scale")
    # Dunder probes (JAX, numpy, copy) get a plain AttributeError.
    assert not hasattr(toy, "__jax_array__")
    with pytest.raises(AttributeError) as probe:
        toy.__array_interface__  # noqa: B018
    assert type(probe.value) is AttributeError


def test_a_callback_reading_its_environment_is_told_to_pass_it(example: Path):
    from my_callbacks import UnscaledReturn
    from my_envs import ScaledWalk

    report = check_callback(UnscaledReturn(), **QUICK)
    assert not report.ok
    runs = report.result("runs").failures[0]
    assert "ToyAttributeError" in runs.message
    assert "`check_callback(cb, env=MyEnv())`" in runs.message
    # With the environment, every method runs eagerly, jitted, and in the loop.
    report = check_callback(UnscaledReturn(), env=ScaledWalk(), **QUICK)
    assert report.ok, report.render()


# -- the protocol ---------------------------------------------------------------


class NoInitial(eqx.Module):
    def observation(self, state):
        return state

    def step(self, state, action, *, key):
        return state, 0.0, False


def test_a_missing_method_is_named_before_anything_runs():
    assert protocol_problems(None, None) == []
    assert protocol_problems(ToyEnv(), ToyPolicy()) == []
    assert protocol_problems(NoInitial(), object()) == [
        "the env `NoInitial` lacks `initial`",
        "the policy `object` lacks `action`",
    ]
    with pytest.raises(TypeError, match=r"`NoInitial` lacks `initial`.*calls"):
        run_training(None, env=NoInitial())
    with pytest.raises(TypeError, match=r"`scan` check.*skip=\{\"scan\": \"why\"\}"):
        check_callback(lc.EmptyCallback(), env=NoInitial(), checks=["runs", "scan"])
    require_protocol(NoInitial(), None, checks=["runs", "jit"])  # no loop: fine
    report = check_callback(
        lc.EmptyCallback(),
        env=NoInitial(),
        skip={"scan": "env for reading only", "x64": "likewise"},
        checks=["runs", "scan", "x64"],
        max_examples=2,
    )
    assert report.ok
    assert report.result("scan").status == "skipped"


# -- settings ------------------------------------------------------------------


def test_specs_are_settings_that_cross_processes(tmp_path: Path):
    settings = resolve_settings(env="my_envs:ScaledWalk", seed=1, project=False)
    assert settings.env == "my_envs:ScaledWalk"
    assert settings.policy is None
    assert Settings.from_dict(settings.to_dict()) == settings
    with pytest.raises(ConfigError, match=r"`env` must be `module:attribute`"):
        resolve_settings(env="my_envs", seed=1, project=False)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lerax_testing]\nenv = "a.b:make"\npolicy = "a.b:POLICY"\n'
    )
    config = load_project_config(tmp_path / "pyproject.toml")
    assert (config.env, config.policy) == ("a.b:make", "a.b:POLICY")
    settings = resolve_settings(seed=1, policy="c:d", project=config)
    assert (settings.env, settings.policy) == ("a.b:make", "c:d")  # argument wins
    (tmp_path / "pyproject.toml").write_text("[tool.lerax_testing]\nenv = 3\n")
    with pytest.raises(ConfigError, match=r"`env` must be `module:attribute`"):
        load_project_config(tmp_path / "pyproject.toml")


def test_objects_win_over_specs(example: Path):
    settings = resolve_settings(env="my_envs:ScaledWalk", seed=1, project=False)
    env, policy = settings.env_and_policy()
    assert type(env).__name__ == "ScaledWalk"  # the class was called
    assert policy is None
    mine = ToyEnv(bound=5.0)
    assert settings.env_and_policy(mine)[0] is mine
    bad = resolve_settings(env="my_envs:nothing", seed=1, project=False)
    with pytest.raises(ConfigError, match=r"cannot load 'my_envs:nothing'"):
        bad.env_and_policy()


# -- reproducers ---------------------------------------------------------------


def test_a_reproducer_of_default_options_is_the_short_one():
    settings = resolve_settings(seed=5, project=False)
    code = Replay.of_run(settings).code("Cb()", "jit", 5)
    assert code == (
        "from lerax_testing import check_callback\n"
        "check_callback(Cb(), checks=['jit'], seed=5).raise_for_failures()"
    )


def test_a_reproducer_carries_every_non_default_option(example: Path):
    settings = resolve_settings(
        seed=5,
        max_examples=7,
        num_envs=4,
        max_steps=9,
        reward_range=(-1, 1),
        allow_nonfinite_rewards=True,
        typecheck=True,
        env="my_envs:ScaledWalk",
        context_values={"algorithm": "my_envs:ScaledWalk"},
        project=False,
    )
    code = Replay.of_run(
        settings,
        policy=ToyPolicy(),
        training_logs=object(),
        context_values={"extra": 1},
    ).code("Cb()", "scan", 5, lc.EmptyCallback)
    assert code.splitlines()[:5] == [
        "from lerax_callback._builtins._empty import EmptyCallback",
        "import my_envs",
        "from lerax_testing import check_callback",
        "import lerax_callback",
        "lerax_callback.enable_typechecking()",
    ]
    call = code.splitlines()[-1]
    for part in (
        "checks=['scan']",
        "max_examples=7",
        "num_envs=4",
        "max_steps=9",
        "seed=5",
        "env=my_envs.ScaledWalk()",
        "policy=policy",
        "reward_range=(-1.0, 1.0)",
        "allow_nonfinite_rewards=True",
        "training_logs=training_logs",
        "context_values={'algorithm': my_envs.ScaledWalk(), 'extra': extra_value}",
    ):
        assert part in call, (part, call)
    assert "# define first: `policy`" in code


def test_a_printed_reproducer_fails_the_same_way(example: Path):
    (example / "pyproject.toml").write_text(
        '[tool.lerax_testing]\nenv = "my_envs:ScaledWalk"\n'
    )
    (example / "branchy.py").write_text(
        textwrap.dedent(
            """
            import jax.numpy as jnp
            from my_callbacks import Unscaled, UnscaledReturn

            class Branchy(UnscaledReturn):
                def on_step(self, ctx, *, key):
                    if ctx.done:  # a Python `if` on a traced value
                        return Unscaled(jnp.zeros((), jnp.float32))
                    return super().on_step(ctx, key=key)
            """
        )
    )
    from branchy import Branchy

    report = check_callback(Branchy(), checks=["jit"], max_examples=3, seed=2)
    (failure,) = report.failures
    assert failure.reproducer is not None
    assert "env=my_envs.ScaledWalk()" in failure.reproducer
    (example / "pyproject.toml").unlink()  # the reproducer alone names the env
    with pytest.raises(ConformanceError, match=r"\[jit\] `on_step` under"):
        exec(failure.reproducer, {})


# -- the command ---------------------------------------------------------------


def test_the_command_takes_env_and_says_what_is_missing(
    example: Path, capsys: pytest.CaptureFixture[str]
):
    quick = ["--checks", "runs,scan", "--max-examples", "2", "--seed", "1"]
    assert main(["my_callbacks.py", "--no-isolate", *quick]) == 1
    assert "--env module:factory" in capsys.readouterr().out
    ok = ["my_callbacks.py", "--no-isolate", "--env", "my_envs:ScaledWalk", *quick]
    assert main(ok) == 0
    (example / "broken_envs.py").write_text("class Half:\n    def step(self): ...\n")
    args = ["my_callbacks.py", "--no-isolate", "--env", "broken_envs:Half", *quick]
    assert main(args) == 2
    assert "`Half` lacks `initial`, `observation`" in capsys.readouterr().err
    assert main(["my_callbacks.py", "--env", "my_envs"]) == 2
    assert "`env` must be `module:attribute`" in capsys.readouterr().err


def test_the_command_reads_env_from_pyproject_in_its_workers(example: Path):
    (example / "pyproject.toml").write_text(
        '[tool.lerax_testing]\nenv = "my_envs:ScaledWalk"\n'
    )
    quick = ["--checks", "runs,scan", "--max-examples", "2", "--seed", "1"]
    assert main(["my_callbacks.py", "--timeout", "300", *quick]) == 0


# -- the pytest plugin -----------------------------------------------------------


def test_the_plugin_takes_env_from_the_command_line_and_the_ini_file(
    pytester: pytest.Pytester,
):
    pytester.makepyfile(**{n[:-3]: t for n, t in _page_files().items()})
    pytester.makepyfile(
        test_scaled="""
        from lerax_testing.pytest_plugin import conformance_suite
        from my_callbacks import UnscaledReturn

        test_it = conformance_suite(UnscaledReturn, checks=["runs", "scan"],
                                    max_examples=2)
        """
    )
    pytester.syspathinsert()
    failed = pytester.runpytest()
    failed.assert_outcomes(failed=2)
    failed.stdout.fnmatch_lines(["*ToyAttributeError*--env module:factory*"])
    passed = pytester.runpytest("--lerax-env", "my_envs:ScaledWalk")
    passed.assert_outcomes(passed=2)
    passed.stdout.fnmatch_lines(["lerax_testing: seed *, env my_envs:ScaledWalk"])
    pytester.makeini("[pytest]\nlerax_env = my_envs:ScaledWalk\n")
    pytester.runpytest().assert_outcomes(passed=2)


# -- the reference loop's result -------------------------------------------------


def test_training_result_shows_values_of_small_arrays():
    text = repr(run_training(lc.EmptyCallback(), num_envs=2, num_iterations=3))
    assert "iterations_run=Array(3, dtype=int32)" in text
    assert "continue_flags=Array([ True,  True,  True], dtype=bool)" in text
    big = repr(run_training(None, num_envs=40, num_steps=2, num_iterations=20))
    assert "continue_flags=bool[20]" in big
