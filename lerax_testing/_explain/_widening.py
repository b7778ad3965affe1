"""Advice for an integer state leaf that updates turn into a float: what the
callback means decides the fix. A count written with a float constant (`+ 1.0`)
means an integer count: write the constant as an integer. An accumulator of
fractional values (rewards) means a float: declare the leaf a float, since
casting each update back to the integer would truncate it."""

from __future__ import annotations

import re

_INTEGER = re.compile(r"^(?:u?int\d*|bool)\[")
_FLOATING = re.compile(r"^(?:float|bfloat|complex)\d*\[")


def becomes_float(before: str, after: str) -> bool:
    """Whether a leaf declared (or started) as an integer or boolean became a
    float: casting such an update back would truncate it, so the leaf's dtype is
    what is wrong, not the update's."""
    return bool(_INTEGER.match(before) and _FLOATING.match(after))


def declare_float(name: str, before: str, after: str) -> str:
    """The fix for an integer leaf that float updates turn into a float: declare
    it a float, as the callback means, rather than truncating every update."""
    return (
        f"Declare {name} as a float, the dtype its updates have: start it with "
        f"`jnp.zeros((), jnp.{after})` (and annotate it `Float[Array, ...]`), not "
        f"as {before}, and write each update as `(old + x).astype(jnp.{after})`, "
        "which keeps every value and keeps float64 rewards (under x64) from "
        f"widening it. Do not cast updates back with `.astype(jnp.{before})`: "
        "that truncates every fractional value (a reward of 0.7 adds 0), which "
        f"is not what an accumulator of floats means. (A count that only ever "
        f"adds whole numbers can stay {before}: add `1`, not `1.0`.)"
    )


_WHOLE_FLOAT = re.compile(r"(?<![\w.])(\d+)\.0*(?![\w.])")


def whole_float_constant(location: tuple[str, int] | None) -> str | None:
    """A float literal of a whole number (`1.0`) on the user's line at
    `location`, if there is one: the sign of a count written with a float."""
    if location is None:
        return None
    import linecache

    line = linecache.getline(location[0], location[1]).split("#", 1)[0]
    found = _WHOLE_FLOAT.search(line)
    return found.group(0) if found else None


def count_in_integers(name: str, before: str, after: str, constant: str) -> str:
    """The fix for an integer count that a float constant (`+ 1.0`) turns into a
    float: write the constant as an integer, and the count stays what it was."""
    whole = constant.split(".", 1)[0]
    return (
        f"The line adds the float constant `{constant}` to {name}, a count in "
        f"{before}: write it `{whole}`, an integer, and the sum stays {before}. If "
        f"{name} accumulates fractional values instead (rewards), declare it a "
        f"float: start it with `jnp.zeros((), jnp.{after})`; casting updates back "
        f"to {before} would truncate them."
    )
