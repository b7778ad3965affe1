"""What each option accepts: a validator per kind of value, called with the value
and `what` names it (`` `max_examples` ``, `--max-examples`, `[tool.lerax_testing]
in pyproject.toml: ...`), and a parser per kind of text for the command line and
ini files. Each raises `InvalidArgument` (`ConfigError` for skips and specs, as
before) saying what was given and what is allowed.

Imports no JAX: the check registry, the engine package's `MAX_STEPS` and the
names of Lerax's algorithms only.
"""

from __future__ import annotations

import errno
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .._checks._registry import CHECKS
from .._engine import MAX_STEPS
from .._lerax._algorithms import ALGORITHM_NAMES
from ._errors import ConfigError, InvalidArgument

# ------------------------------------------------------------------- validators


def positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"{what} must be a positive int, got {value!r}.")
    return value


def steps(value: Any, what: str) -> int:
    """A positive int no longer than the drivers' keys allow (`MAX_STEPS`)."""
    value = positive_int(value, what)
    if value > MAX_STEPS:
        raise InvalidArgument(f"{what} must be at most {MAX_STEPS}, got {value}.")
    return value


def integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{what} must be an int, got {value!r}.")
    return value


def flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool | int) or value not in (0, 1):
        raise InvalidArgument(f"{what} must be True or False, got {value!r}.")
    return bool(value)


def known_names(
    value: Any,
    known: tuple[str, ...],
    what: str,
    *,
    noun: str,
    allow_empty: bool = True,
    note: str = "",
    keyword: str = "",
) -> tuple[str, ...]:
    """`value`, a list of names from `known` (check ids, algorithms), in `known`'s
    order; `InvalidArgument` for a string (the fix shown as `keyword=[...]`),
    something that is no list, an unknown name (listing the known ones, then
    `note`) or, unless `allow_empty`, none."""
    if isinstance(value, str):
        raise InvalidArgument(
            f"{what} must be a list of {noun}s, e.g. `{keyword}[{value!r}]`, not a "
            "string."
        )
    try:
        names = list(value)
    except TypeError:
        raise InvalidArgument(
            f"{what} must be a list of {noun}s, got {value!r}."
        ) from None
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidArgument(
            f"{what}: unknown {noun}(s) {unknown}; the {noun}s are "
            f"{', '.join(known)}{note}."
        )
    if not names and not allow_empty:
        raise InvalidArgument(
            f"{what} is empty; name at least one {noun} or leave it out."
        )
    return tuple(n for n in known if n in names)


def select_checks(checks: Iterable[str] | None, what: str = "`checks`") -> tuple:
    """The check ids to run, in `CHECKS` order."""
    if checks is None:
        return CHECKS
    return known_names(checks, CHECKS, what, noun="check id", keyword="checks=")


def validate_skip(skip: Any, where: str) -> dict[str, str]:
    """A `{check id: reason}` mapping; a reason must be given for each check."""
    if skip is None:
        return {}
    if isinstance(skip, list | tuple | set | frozenset):
        raise ConfigError(
            f"{where} must map each check id to the reason it is skipped, e.g. "
            f'`{{"x64": "never run in float64"}}`; got a {type(skip).__name__}.'
        )
    if not isinstance(skip, Mapping):
        raise ConfigError(
            f"{where} must be a mapping of check id to reason, got {skip!r}."
        )
    out: dict[str, str] = {}
    for check, reason in skip.items():
        if check not in CHECKS:
            raise ConfigError(
                f"{where} names unknown check {check!r}; the checks are "
                f"{', '.join(CHECKS)}."
            )
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(
                f"{where} must give a reason for skipping {check!r}, e.g. "
                f'`{check} = "why this check does not apply"`.'
            )
        out[check] = reason.strip()
    return out


def validate_spec(spec: Any, where: str) -> str | None:
    """A `module:attribute` string naming an object (or a factory of one)."""
    if spec is None:
        return None
    module, colon, attribute = str(spec).partition(":")
    if not (isinstance(spec, str) and colon and module.strip() and attribute.strip()):
        raise ConfigError(
            f"{where} must be `module:attribute`, naming an object or a factory "
            f'that takes no arguments, e.g. `"mypkg.envs:make_env"`; got {spec!r}.'
        )
    return spec.strip()


def context_values(values: Any, what: str) -> dict[str, str]:
    """`{field: "module:attribute"}`."""
    if values is None:
        return {}
    if not isinstance(values, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and ":" in v
        for k, v in values.items()
    ):
        raise ConfigError(
            f'{what} must map context field names to `"module:attribute"` '
            "strings, e.g. "
            '`context_values = { algorithm = "mypkg.training:make_algorithm" }`.'
        )
    return {k: v.strip() for k, v in values.items()}


def reward_range(value: Any, what: str) -> tuple[float, float]:
    try:
        low, high = (float(bound) for bound in value)
    except (TypeError, ValueError):
        raise InvalidArgument(
            f"{what} must be (low, high), two numbers, got {value!r}."
        ) from None
    if not low < high or math.isnan(low) or math.isnan(high):
        raise InvalidArgument(f"{what} must be (low, high), got {tuple(value)}.")
    return low, high


def algorithms(value: Any, what: str) -> tuple[str, ...] | None:
    """Names of Lerax's algorithms, as `lerax.algorithm`'s modules name them
    (`None` for the callback's default), in `ALGORITHM_NAMES` order."""
    if value is None:
        return None
    return known_names(
        value,
        ALGORITHM_NAMES,
        what,
        noun="algorithm",
        allow_empty=False,
        note=" (named as `lerax.algorithm`'s modules)",
    )


def context_fields(
    names: Iterable[str], contexts: Mapping[str, Iterable[str]], what: str
) -> None:
    """Refuse a context value for a field no context of the callback's API family
    has, which would be ignored (most often a misspelt field), or for `state` and
    `step_state`, which the harness makes from the callback itself.

    `contexts` maps each context class the callback's methods receive (its
    family's, e.g. `lerax.callback.StepContext`) to its fields.
    """
    made = ("state", "step_state")
    known = sorted({f for fields in contexts.values() for f in fields} - set(made))
    for name in names:
        if name in made:
            raise InvalidArgument(
                f"{what}: `{name}` cannot be given; the harness makes the "
                f"callback's own states and passes them in `ctx.{name}`. Drop it."
            )
        if name not in known:
            raise InvalidArgument(
                f"{what}: unknown context field `{name}`; the contexts this "
                f"callback's methods receive ({', '.join(contexts)}) have the "
                f"fields {', '.join(known)}. Name one of them, or drop `{name}`."
            )


def output_file(path: str | os.PathLike[str], what: str) -> Path:
    """A file to write at the end of a run, checked now, before any check runs:
    its folder exists and can be written to, and it is no folder itself. Only
    the file is ever created: a missing folder is a mistake to report (a typo),
    not to make. Opening the file proves it can be written (a check of the
    permissions alone would pass `/proc/r.json`, or anything for root); a file
    made by that test is removed again."""
    file = Path(path).expanduser()
    shown = str(file)
    folder = file.parent
    if file.is_dir():
        raise InvalidArgument(
            f"{what}: {shown!r} is a folder, not a file; name a file in it, e.g. "
            f"{str(file / 'report.txt')!r}."
        )
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise InvalidArgument(
            f"{what}: cannot write {shown!r}: the folder {str(folder)!r} {problem}; "
            "create the folder first, or write to one that exists."
        )
    existed = file.exists()
    try:
        with open(file, "a", encoding="utf-8"):
            pass
    except OSError as error:
        problem = f"it cannot be made or written there ({error.strerror or error})"
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            where = "the file" if existed else f"the folder {str(folder)!r}"
            problem = f"{where} is not writable ({problem})"
        raise InvalidArgument(
            f"{what}: cannot write {shown!r}: {problem}; write to a folder you can "
            "write to."
        ) from None
    if not existed:
        file.unlink(missing_ok=True)
    return file


def anything(value: Any, what: str) -> Any:
    """An object only Python passes (a strategy): checked where it is used."""
    return value


# ---------------------------------------------------------------- text parsers


def parse_int(text: Any, what: str, *, minimum: int | None = None) -> int:
    """An integer option, or `ConfigError` saying what was given and what is allowed."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ConfigError(f"{what} must be an integer, got {text!r}.") from None
    if minimum is not None and value < minimum:
        allowed = "a positive integer" if minimum == 1 else f"at least {minimum}"
        raise ConfigError(
            f"{what} must be at least {minimum}: expected {allowed}, got {value}."
        )
    return value


def parse_positive(text: Any, what: str) -> int:
    return parse_int(text, what, minimum=1)


def parse_checks(text: str, what: str) -> tuple[str, ...]:
    """`jit,vmap` (commas or whitespace) as check ids, validated."""
    wanted = [c for c in str(text).replace(",", " ").split() if c]
    if not wanted:
        raise ConfigError(
            f"{what}: no check ids given; the checks are {', '.join(CHECKS)}."
        )
    return select_checks(wanted, what)


def parse_skip(items: Iterable[str], what: str) -> dict[str, str]:
    """`["x64=never in float64", ...]` as `{check: reason}`, validated.

    `CHECK: REASON` is accepted too, for ini files.
    """
    skip: dict[str, str] = {}
    for item in items:
        item = item.strip()
        if not item:
            continue
        separator = "=" if "=" in item else ":"
        check, found, reason = item.partition(separator)
        if not found:
            raise ConfigError(
                f"{what} takes `CHECK=REASON`, e.g. `x64=never run in float64`; "
                f"got {item!r}, without the reason."
            )
        skip[check.strip()] = reason.strip()
    return validate_skip(skip, what)


def parse_context_values(items: Iterable[str], what: str) -> dict[str, str]:
    """`["algorithm=mypkg:make_ppo", ...]` as `{field: "module:attribute"}`
    (`FIELD = module:attribute` is accepted too, for ini files)."""
    values: dict[str, str] = {}
    for item in items:
        name, found, spec = item.strip().partition("=")
        if not item.strip():
            continue
        if not found or not name.strip() or ":" not in spec:
            raise ConfigError(
                f"{what} takes `FIELD=module:attribute`, e.g. "
                f"`algorithm=mypkg.training:make_ppo`; got {item!r}."
            )
        values[name.strip()] = spec.strip()
    return values


def parse_range(text: str, what: str) -> tuple[float, float]:
    """`LOW,HIGH`, e.g. `-10,10`."""
    parts = str(text).split(",")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise ConfigError(
            f"{what} takes `LOW,HIGH`, e.g. `-10,10`; got {text!r}."
        ) from None
    return reward_range((low, high), what)


def parse_names(items: Iterable[str], what: str) -> list[str]:
    """Names given one per flag or line, or comma-separated; validated later."""
    return [n for item in items for n in item.replace(",", " ").split() if n]


def parse_text(text: Any, what: str) -> str:
    return str(text).strip()
