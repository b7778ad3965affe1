"""The option table: every option is declared once in `_options.OPTIONS`, and
`check_callback`, the command, the plugin, `[tool.lerax_testing]` and the docs'
table of options take theirs from it. These tests fail when a place bypasses the
table."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from zoo import ReturnTracker

import lerax_callback as lc
from lerax_testing import ConfigError, InvalidArgument, check_callback
from lerax_testing._cli._main import _parser, main, settings_from
from lerax_testing._config import load_project_config
from lerax_testing._options import OPTIONS, SETTINGS, markdown_table
from lerax_testing._settings import Settings, resolve_settings

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["pytester"]


class Bad(NamedTuple):
    """A value each source cannot use: from Python, and as command-line text
    (`None`: a flag without a value cannot be wrong)."""

    python: Any
    text: str | None


BAD = {
    "checks": Bad(["jitt"], "jitt"),
    "skip": Bad({"jitt": "typo"}, "jitt=typo"),
    "max_examples": Bad(0, "0"),
    "num_envs": Bad(0, "0"),
    "max_steps": Bad(999, "999"),
    "seed": Bad("zero", "zero"),
    "reward_range": Bad((1.0, -1.0), "1,-1"),
    "allow_nonfinite_rewards": Bad("yes", None),
    "typecheck": Bad("yes", None),
    "context_values": Bad(None, "algorithm"),
    "env": Bad("my_envs", "my_envs"),
    "policy": Bad("my_policies", "my_policies"),
    "algorithms": Bad(["ppo2"], "ppo2"),
}
"""Every option that is validated: `training_logs` is a strategy, used as given,
and `context_values` from Python are objects."""


def test_the_bad_values_cover_every_validated_option():
    assert set(BAD) == set(OPTIONS) - {"training_logs"}


def test_check_callback_takes_every_option_and_nothing_else():
    parameters = set(inspect.signature(check_callback).parameters)
    assert parameters - {"callback", "project_config", "progress"} == set(OPTIONS)


def test_settings_hold_every_setting():
    fields = {f for f in Settings.__dataclass_fields__}
    assert fields - {"seed_source", "project_skip"} == {o.name for o in SETTINGS}


def test_the_command_has_a_flag_for_every_setting():
    flags = set(_parser()._option_string_actions)
    assert {o.flag for o in SETTINGS} <= flags
    assert all(o.flag is not None for o in SETTINGS)


@pytest.mark.parametrize("name", [n for n in BAD if BAD[n].python is not None])
def test_check_callback_refuses_a_bad_value_naming_the_option(name):
    with pytest.raises(InvalidArgument, match=f"`{name}`"):
        check_callback(
            ReturnTracker(), project_config=False, **{name: BAD[name].python}
        )


@pytest.mark.parametrize("name", [n for n in BAD if BAD[n].text is not None])
def test_the_command_refuses_a_bad_value_naming_the_option(name, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no pyproject.toml of ours
    flag = OPTIONS[name].flag
    args = _parser().parse_args([f"{flag}={BAD[name].text}"])
    with pytest.raises(InvalidArgument, match=f"{flag}|`{name}`"):
        settings_from(args)


def test_a_bad_value_is_a_usage_error_of_the_command(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cb.py").write_text("from lerax_callback import EmptyCallback\n")
    assert main(["cb.py:EmptyCallback", "--max-steps", "999", "--no-isolate"]) == 2
    assert "`max_steps` must be at most 58, got 999" in capsys.readouterr().err


@pytest.mark.parametrize("name", [n for n in BAD if BAD[n].python is not None])
def test_the_project_table_refuses_a_bad_value_naming_the_key(name, tmp_path):
    python = BAD[name].python
    value = repr(list(python) if isinstance(python, tuple) else python)
    if isinstance(python, dict):
        value = "{ " + ", ".join(f'{k} = "{v}"' for k, v in python.items()) + " }"
    toml = f"[tool.lerax_testing]\n{name} = {value}\n".replace("'", '"')
    (tmp_path / "pyproject.toml").write_text(toml)
    with pytest.raises(ConfigError, match=f"`{name}`"):
        load_project_config(tmp_path / "pyproject.toml")


def test_the_old_num_steps_key_is_refused_naming_max_steps(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.lerax_testing]\nnum_steps = 4\n")
    with pytest.raises(ConfigError, match=r"`num_steps` is now called `max_steps`"):
        load_project_config(tmp_path / "pyproject.toml")
    (tmp_path / "pyproject.toml").write_text("[tool.lerax_testing]\nmax_steps = 4\n")
    config = load_project_config(tmp_path / "pyproject.toml")
    assert resolve_settings(project=config).max_steps == 4


def test_an_explicit_value_wins_over_the_project_over_the_default(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.lerax_testing]\nnum_envs = 5\nreward_range = [-2, 2]\n"
    )
    config = load_project_config(tmp_path / "pyproject.toml")
    settings = resolve_settings(project=config, num_envs=4)
    assert (settings.num_envs, settings.reward_range) == (4, (-2.0, 2.0))
    assert resolve_settings(project=False).num_envs == OPTIONS["num_envs"].default


def test_typecheck_is_on_while_check_callback_runs():
    seen: list[bool] = []
    check_callback(
        lc.EmptyCallback(),
        checks=["api"],
        seed=0,
        typecheck=True,
        progress=lambda *_: seen.append(lc.typechecking_enabled()),
    )
    assert seen == [True]
    assert not lc.typechecking_enabled()


def test_the_docs_list_every_option_as_declared():
    text = (ROOT / "docs" / "configuring.md").read_text(encoding="utf-8")
    table = markdown_table()
    assert table in text, f"Write this table in docs/configuring.md:\n{table}"


# ------------------------------------------------------------------- the plugin


def test_the_plugin_has_an_option_and_an_ini_setting_for_every_setting(
    pytester: pytest.Pytester,
):
    result = pytester.runpytest("--help")
    text = result.stdout.str()
    for option in SETTINGS:
        assert option.plugin_flag in text, option.name
        assert f"{option.ini} " in text, option.name


@pytest.mark.parametrize("name", ["max_examples", "checks", "skip", "seed"])
def test_the_plugin_refuses_bad_text_naming_its_option(
    pytester: pytest.Pytester, name: str
):
    flag = OPTIONS[name].plugin_flag
    result = pytester.runpytest(f"{flag}={BAD[name].text}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert flag in result.stderr.str()


def test_the_plugins_options_reach_the_run(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nlerax_max_steps = 4\n")
    pytester.makepyfile(
        """
        import lerax_callback as lc

        def test_it(callback_conformance):
            report = callback_conformance(lc.EmptyCallback(), checks=["api"])
            assert report.settings["num_envs"] == 2
            assert report.settings["max_steps"] == 4

        def test_bad(callback_conformance):
            callback_conformance(lc.EmptyCallback(), max_steps=999)
        """
    )
    result = pytester.runpytest("--lerax-num-envs", "2", "--lerax-seed", "1")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*`max_steps` must be at most 58, got 999*"])
