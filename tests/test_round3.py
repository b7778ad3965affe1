"""The third-round corpus (`round3/`): callbacks written as RL practitioners write
them, in both API families, each labelled by what training does with it, checked
as a user would check them: `check_callback` with every check must fail each
defective one, through the check its defect belongs to, and pass each correct one.

`round3/ours.py` is written against `lerax_callback`; `round3/lerax_family.py`
against Lerax's own `lerax.callback` (Lerax 0.0.6, Python 3.13; marked `lerax` and
skipped elsewhere), checked with the algorithms each is meant for.
"""

from __future__ import annotations

from typing import Any

import pytest
from round3 import ours

from lerax_testing import check_callback

try:
    import lerax.curriculum  # noqa: F401 - only Lerax 0.0.6 (main) has it
except ImportError:
    lerax_family = None
else:
    from round3 import lerax_family

OPTIONS = {"seed": 0, "max_examples": 8}

LABELS = ("crash", "wrong numbers", "trace-time only", "correct")

XFAIL: dict[str, str] = {}
"""Cases the harness gets wrong today, by name, with why: strict expected
failures, so that the day the harness agrees with the label the test says so."""


def _failed(report: Any) -> set[str]:
    return {r.check for r in report.results if r.status == "failed"}


def _params(
    cases: list[tuple[str, Any, str, str | None, str]],
    algorithms: dict[str, tuple[str, ...]] | None = None,
    *marks: Any,
) -> list[Any]:
    """One parameter per case: `(factory, label, check, why, options)`, with the
    algorithms of a Lerax-family case among the options."""
    params = []
    for name, factory, label, check, why in cases:
        options = dict(OPTIONS)
        if algorithms is not None:
            options["algorithms"] = algorithms.get(name, ("ppo",))
        extra = []
        if name in XFAIL:
            extra.append(pytest.mark.xfail(strict=True, reason=XFAIL[name]))
        params.append(
            pytest.param(
                factory, label, check, why, options, id=name, marks=[*marks, *extra]
            )
        )
    return params


ARGUMENTS = ("factory", "label", "check", "why", "options")


def _check(factory: Any, label: str, check: str | None, why: str, options: Any):
    report = check_callback(factory(), **options)
    if label == "correct":
        assert report.ok, report.render()
    else:
        assert check in _failed(report), f"{why}\n{report.render()}"


@pytest.mark.parametrize(ARGUMENTS, _params(ours.CASES))
def test_ours(factory: Any, label: str, check: str | None, why: str, options: Any):
    _check(factory, label, check, why, options)


if lerax_family is not None:
    LERAX_PARAMS = _params(
        lerax_family.CASES, lerax_family.ALGORITHMS, pytest.mark.lerax
    )
else:
    LERAX_PARAMS = [
        pytest.param(
            None,
            "correct",
            None,
            "",
            {},
            id="lerax_family",
            marks=[
                pytest.mark.lerax,
                pytest.mark.skip(reason="needs Lerax 0.0.6 (main branch, Python 3.13)"),
            ],
        )
    ]


@pytest.mark.parametrize(ARGUMENTS, LERAX_PARAMS)
def test_lerax_family(
    factory: Any, label: str, check: str | None, why: str, options: Any
):
    _check(factory, label, check, why, options)


def test_every_case_is_labelled_with_its_check():
    """A defective case names the check that must fail it, a correct one none;
    names are unique and say which class they make."""
    cases = [*ours.CASES, *(lerax_family.CASES if lerax_family else [])]
    names = [c[0] for c in cases]
    assert len(names) == len(set(names))
    for name, factory, label, check, _ in cases:
        assert label in LABELS, name
        assert (check is None) == (label == "correct"), name
        assert factory.__name__ == name
    assert set(XFAIL) <= set(names)
