"""What a report says of a callback beside its checks' verdicts, when it is
checked against Lerax's algorithms: the parts of the callback that the chosen
algorithms never use, so that its author does not rely on them unawares."""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

from ._algorithms import titles

_API_PACKAGES = ("lerax", "lerax_callback")
"""The packages whose bases define the default (no-op) methods."""

_TRUE_CALLS = ("array", "asarray", "bool_")


def lerax_notes(
    callback: Any, algorithms: tuple[str, ...], standin: str = ""
) -> tuple[str, ...]:
    """The notes for `callback` checked against `algorithms` (none without);
    `standin`: the Lerax release whose recorded profiles stood in for them."""
    notes: tuple[str, ...] = ()
    if algorithms and standin:
        notes += (
            f"Lerax is not installed here: {titles(algorithms)} "
            f"{'is' if len(algorithms) == 1 else 'are'} stood in for by what Lerax "
            f"{standin}'s real `learn()` passes callbacks (recorded profiles), and "
            "the `lerax` check traces the reference loop with those contexts. "
            "Install Lerax (Python >= 3.13) to trace the real `learn()`.",
        )
    if not algorithms or not _stops_training(callback):
        return notes
    return notes + (
        f"`continue_training` can stop training, but Lerax's {titles(algorithms)} "
        "never call it: training runs every iteration whatever it returns. It is "
        "still checked for trace safety; to stop early, end `learn()` yourself (for "
        "instance train in shorter calls of `learn()` and test the callback's state "
        "between them).",
    )


def _stops_training(callback: Any) -> bool:
    """Whether `callback`'s class defines a `continue_training` of its own that
    can return something other than true (one that returns `True` always, as
    Lerax's abstract base obliges every callback to write, relies on nothing)."""
    method = getattr(type(callback), "continue_training", None)
    if method is None or _from_api(method):
        return False
    try:
        source = textwrap.dedent(inspect.getsource(method))
        body = ast.parse(source).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return True  # no source to read: assume it means to stop
    if not isinstance(body, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return True
    statements = [
        s
        for s in body.body
        if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]
    return not (
        len(statements) == 1
        and isinstance(statements[0], ast.Return)
        and _is_true(statements[0].value)
    )


def _from_api(method: Any) -> bool:
    module = getattr(method, "__module__", None) or ""
    return module.split(".")[0] in _API_PACKAGES


def _is_true(node: ast.expr | None) -> bool:
    """`True`, or `jnp.array(True)` and its kin."""
    if isinstance(node, ast.Constant):
        return node.value is True
    if isinstance(node, ast.Call) and len(node.args) == 1:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if isinstance(node.func, ast.Name):
            name = node.func.id
        return name in _TRUE_CALLS and _is_true(node.args[0])
    return False
