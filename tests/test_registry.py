"""The check registry: one record per check, from which the rest is derived (the
public ids, the command's list, the examples each check takes, the table of
checks on the Checks page). Fast: one check runs here, on two examples;
`test_checks.py` holds every registered check to its rows in `zoo.py`."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import lerax_testing
from lerax_testing._checks import CHECKS, REGISTRY, Check
from lerax_testing._cli._main import main
from lerax_testing._explain._causes import PREFERRED

ROOT = Path(__file__).resolve().parent.parent
CHECKS_PAGE = ROOT / "docs" / "checks.md"


def test_every_registered_function_resolves() -> None:
    for check in REGISTRY.values():
        module, _, name = check.function.partition(":")
        function = check.resolve()
        assert callable(function), check.id
        assert function.__module__ == f"lerax_testing._checks.{module}", check.id
        assert function.__name__ == name, check.id
        assert check.resolve() is function  # imported once


def test_the_registry_imports_no_jax() -> None:
    """What pytest start-up reads (the ids, `_settings`, `_config`, the loop's
    protocol) leaves JAX unimported; resolving a check imports it."""
    code = textwrap.dedent(
        """
        import sys
        import lerax_testing._checks, lerax_testing._settings, lerax_testing._config
        import lerax_testing._loop._protocol
        from lerax_testing._checks import REGISTRY
        assert "jax" not in sys.modules, sorted(sys.modules)
        REGISTRY["jit"].resolve()
        assert "jax" in sys.modules
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr


def test_the_public_ids_are_the_registrys() -> None:
    assert lerax_testing.CHECKS is CHECKS
    assert CHECKS == tuple(REGISTRY)


def test_the_cause_ranking_names_registered_checks_only() -> None:
    for kind, checks in PREFERRED.items():
        assert set(checks) <= set(CHECKS), kind


BAD_RECORDS = [
    ({"short": "struct"}, r"`fake` needs a `short` header of at most four"),
    ({"function": "_fake.check_fake"}, r"must be `\"_module:check_name\"`"),
    ({"max_examples": 0}, r"`max_examples` must be positive"),
    ({"finds_state_defects": True}, r"its leaf is a state's"),
]


@pytest.mark.parametrize(("change", "match"), BAD_RECORDS, ids=lambda v: str(v))
def test_a_bad_record_is_refused(change: dict, match: str) -> None:
    good = {"function": "_fake:check_fake", "summary": "s", "description": "d"}
    with pytest.raises(ValueError, match=match):
        Check("fake", **{**good, **change})


def test_a_longer_id_without_a_short_header_is_refused() -> None:
    with pytest.raises(ValueError, match=r"got 'sideways'"):
        Check("sideways", function="_x:check_x", summary="s", description="d")


def test_list_checks_prints_every_record(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-checks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(CHECKS)
    for line, check in zip(lines, REGISTRY.values(), strict=True):
        assert line.endswith(" " + check.summary)
        assert line.index(check.summary) == max(map(len, CHECKS)) + 2  # one column


def test_a_check_takes_the_examples_its_record_allows(monkeypatch) -> None:
    """`Subject.examples` reads the cap from the record: capping `types` at two
    draws one stream of two examples, for its second pass too."""
    from zoo import ReturnTracker

    from lerax_testing import check_callback
    from lerax_testing._subject import Subject

    drawn: list[tuple[int, int]] = []
    original = Subject.stream

    def stream(self: Subject, num_envs: int, max_examples: int) -> list:
        drawn.append((num_envs, max_examples))
        return original(self, num_envs, max_examples)

    capped = dataclasses.replace(REGISTRY["types"], max_examples=2)
    monkeypatch.setitem(REGISTRY, "types", capped)
    monkeypatch.setattr(Subject, "stream", stream)
    report = check_callback(ReturnTracker(), checks=["types"], seed=0, max_examples=7)
    assert report.ok, report.render()
    assert set(drawn) == {(3, 2)}


# -------------------------------------------------------------- the Checks page


def checks_table() -> str:
    """The Checks page's table of checks, as the registry has it."""
    rows = [f"| `{c.id}` | {c.description} |" for c in REGISTRY.values()]
    return "\n".join(["| id | what it verifies |", "|---|---|", *rows])


def _listed(ids: list[str]) -> str:
    quoted = [f"`{i}`" for i in ids]
    return (
        quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    )


def capped_examples_text() -> str:
    """What the Checks page says of the capped checks: `runs`, ... take at most 5."""
    caps = sorted({c.max_examples for c in REGISTRY.values() if c.max_examples})
    parts = []
    for cap in caps:
        ids = [c.id for c in REGISTRY.values() if c.max_examples == cap]
        verb = "" if parts else (" takes" if len(ids) == 1 else " take")
        parts.append(f"{_listed(ids)}{verb} at most {cap}")
    return ", ".join(parts)


def test_the_checks_page_lists_every_check_as_registered() -> None:
    text = CHECKS_PAGE.read_text(encoding="utf-8")
    assert checks_table() in text, (
        f"Write this table in docs/checks.md:\n{checks_table()}"
    )
    flowing = " ".join(text.split())
    capped = capped_examples_text()
    assert f"(default 20; {capped})" in flowing, f"docs/checks.md should say: {capped}"
