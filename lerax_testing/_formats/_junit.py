"""JUnit XML for CI systems: one `<testsuite>` per callback, one `<testcase>` per
check, with `<failure>` and `<skipped>` elements; a callback that could not be
checked is one `<testcase>` with an `<error>`."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET

from .._explain._report import CheckResult
from .._explain._sentences import shorten
from ._results import Outcome, RunResult

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Characters XML 1.0 forbids even escaped: control characters, lone surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: object) -> str:
    """`text` as a string XML can hold (ElementTree escapes `<`, `&` and quotes,
    but writes forbidden control characters as they are)."""
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", _ANSI.sub("", str(text)))


def _first_line(text: str | None, limit: int = 300) -> str:
    """The message attribute: the text's first line, cut only after a whole
    sentence (CI systems show it as the failure's title)."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return shorten(line, limit)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: object):
    element = ET.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    if text:
        element.text = clean(text)
    return element


def _testcase(suite: ET.Element, outcome: Outcome, result: CheckResult) -> str:
    assert outcome.report is not None
    classname = outcome.name.replace(":", ".")
    attrs: dict[str, object] = {
        "classname": classname,
        "name": result.check,
        "time": f"{result.seconds:.3f}",
    }
    failure = result.failures[0] if result.failures else None
    location = (failure and failure.location) or outcome.location
    if location is not None:
        attrs.update(file=location[0], line=location[1])
    case = _element(suite, "testcase", **attrs)
    if result.status == "failed":
        alone = dataclasses.replace(outcome.report, results=(result,))
        _element(
            case,
            "failure",
            alone.render(),
            message=_first_line(failure.message if failure else "failed"),
            type=result.check,
        )
    elif result.status == "skipped":
        _element(case, "skipped", message=result.reason or "skipped")
    return result.status


def _suite(root: ET.Element, outcome: Outcome) -> dict[str, int]:
    """Add `outcome`'s testsuite to `root`: a testcase per check of its report, or one
    `load` testcase when it has none (an error or a skip); returns its counts for the
    document's totals."""
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    seconds = 0.0
    suite = _element(root, "testsuite", name=outcome.name)
    if outcome.report is not None:
        properties = _element(suite, "properties")
        _element(properties, "property", name="callback", value=outcome.report.callback)
        _element(properties, "property", name="seed", value=outcome.report.seed)
        for result in outcome.report.results:
            status = _testcase(suite, outcome, result)
            counts["tests"] += 1
            counts["failures"] += status == "failed"
            counts["skipped"] += status == "skipped"
            seconds += result.seconds
    else:
        attrs: dict[str, object] = {
            "classname": outcome.name.replace(":", "."),
            "name": "load",
        }
        if outcome.location is not None:
            attrs.update(file=outcome.location[0], line=outcome.location[1])
        case = _element(suite, "testcase", **attrs)
        counts["tests"] = 1
        if outcome.status == "error":
            counts["errors"] = 1
            _element(
                case,
                "error",
                "\n\n".join(filter(None, [outcome.reason, outcome.details])),
                message=_first_line(outcome.reason),
                type=outcome.check or "error",
            )
        else:
            counts["skipped"] = 1
            _element(case, "skipped", message=outcome.reason or "skipped")
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{seconds:.3f}")
    return counts


def render_junit(result: RunResult) -> str:
    """The run as a JUnit XML document."""
    root = ET.Element("testsuites", {"name": "lerax-conformance"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for outcome in result.outcomes:
        for key, value in _suite(root, outcome).items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{result.seconds:.3f}")
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'
