"""The plugin's options: `--lerax-*` on the command line and `lerax_*` in ini files,
read once per pytest run into the shared `Settings`."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest

from .._config import ConfigError
from .._settings import (
    Settings,
    parse_context_values,
    parse_int,
    parse_skip,
    resolve_settings,
)

WORKER_SEED = "lerax_seed"
"""The key of the seed in pytest-xdist's `workerinput`."""


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """The plugin's options for one pytest run, after command line and ini files,
    resolved into the shared `Settings` (or the error that resolving raised, which
    fails the tests that check a callback rather than the whole run)."""

    settings: Settings | None
    error: Exception | None = None
    """The `InvalidArgument` resolving raised, kept whole (type, message, cause)."""
    typecheck: bool = False


SETTINGS = pytest.StashKey[RunOptions]()
CLEANUP = pytest.StashKey[contextlib.ExitStack]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lerax", "lerax_testing: callback conformance checks")
    group.addoption(
        "--lerax-max-examples",
        metavar="N",
        help="examples generated per conformance check (default: the ini setting "
        "lerax_max_examples, then [tool.lerax_testing] max_examples, then 20).",
    )
    group.addoption(
        "--lerax-seed",
        metavar="SEED",
        help="seed of the conformance checks' examples, to reproduce a run (default: "
        "lerax_seed, [tool.lerax_testing] seed, an integer --hypothesis-seed, a "
        "fixed seed in CI, else random; the seed in use is in the report header).",
    )
    group.addoption(
        "--lerax-skip",
        metavar="CHECK=REASON",
        action="append",
        default=[],
        help="skip a conformance check everywhere, with the reason (repeatable).",
    )
    group.addoption(
        "--lerax-context-value",
        metavar="FIELD=MODULE:FACTORY",
        action="append",
        default=[],
        help="a value for a context field the harness cannot make, e.g. "
        "algorithm=mypkg.training:make_ppo (repeatable).",
    )
    for what in ("env", "policy"):
        group.addoption(
            f"--lerax-{what}",
            metavar="MODULE:FACTORY",
            help=f"the {what} placed in contexts and run by the reference loop, "
            f"instead of the toy one (default: the ini setting lerax_{what}, then "
            f"[tool.lerax_testing] {what}).",
        )
        parser.addini(f"lerax_{what}", f"the {what}, as module:factory", default="")
    group.addoption(
        "--lerax-algorithm",
        metavar="NAME",
        action="append",
        default=[],
        help="a Lerax algorithm the callbacks are meant for (ppo, a2c, reinforce, "
        "dqn, sac, sac_discrete, ddpg, td3; repeatable; default: the ini setting "
        "lerax_algorithms, then [tool.lerax_testing] algorithms).",
    )
    parser.addini(
        "lerax_algorithms",
        "Lerax algorithms the callbacks are meant for, one a line",
        type="linelist",
        default=[],
    )
    group.addoption(
        "--lerax-typecheck",
        action="store_true",
        default=False,
        help="switch on lerax_callback's runtime type checking for the whole run.",
    )
    parser.addini("lerax_max_examples", "examples per conformance check", default="")
    parser.addini("lerax_seed", "seed of the conformance checks", default="")
    parser.addini(
        "lerax_skip",
        "conformance checks to skip, one `CHECK = REASON` a line",
        type="linelist",
        default=[],
    )
    parser.addini(
        "lerax_context_values",
        "context field values, one `FIELD = module:factory` a line",
        type="linelist",
        default=[],
    )
    parser.addini(
        "lerax_typecheck", "switch on runtime type checking", type="bool", default=False
    )


def read_settings(config: pytest.Config) -> RunOptions:
    try:
        max_examples = None
        raw = config.getoption("lerax_max_examples", default=None)
        if raw is not None:
            max_examples = parse_int(raw, "--lerax-max-examples", minimum=1)
        elif config.getini("lerax_max_examples"):
            raw = config.getini("lerax_max_examples")
            max_examples = parse_int(
                raw, "the ini setting lerax_max_examples", minimum=1
            )
        skip = parse_skip(config.getini("lerax_skip"), "the ini setting lerax_skip")
        skip.update(
            parse_skip(config.getoption("lerax_skip", default=[]), "--lerax-skip")
        )
        context_values = parse_context_values(
            config.getini("lerax_context_values"),
            "the ini setting lerax_context_values",
        )
        context_values.update(
            parse_context_values(
                config.getoption("lerax_context_value", default=[]),
                "--lerax-context-value",
            )
        )
        algorithms = config.getoption("lerax_algorithm", default=[]) or config.getini(
            "lerax_algorithms"
        )
        seed, source = _given_seed(config)
        env, policy = (
            config.getoption(f"lerax_{what}", default=None)
            or config.getini(f"lerax_{what}")
            or None
            for what in ("env", "policy")
        )
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from error
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and WORKER_SEED in workerinput:
        seed, source = workerinput[WORKER_SEED], "from the pytest-xdist controller"
    typecheck = bool(
        config.getoption("lerax_typecheck", default=False)
        or config.getini("lerax_typecheck")
    )
    try:
        settings = resolve_settings(
            seed=seed,
            seed_source=source,
            max_examples=max_examples,
            skip=skip,
            typecheck=typecheck,
            context_values=context_values,
            env=env,
            policy=policy,
            algorithms=list(algorithms) or None,
        )
    except (TypeError, ValueError) as error:  # `check_callback` reports it
        return RunOptions(None, error, typecheck)
    return RunOptions(settings, typecheck=typecheck)


def _given_seed(config: pytest.Config) -> tuple[int | None, str]:
    """The seed the command line or an ini file gives, and where it comes from."""
    raw = config.getoption("lerax_seed", default=None)
    if raw is not None:
        return parse_int(raw, "--lerax-seed"), "from --lerax-seed"
    raw = config.getini("lerax_seed") or None
    if raw is not None:
        return parse_int(raw, "the ini setting lerax_seed"), "from lerax_seed"
    seed = _hypothesis_seed(config)
    return seed, "from --hypothesis-seed"


def _hypothesis_seed(config: pytest.Config) -> int | None:
    """`--hypothesis-seed`, when it is an integer, seeds the conformance checks too."""
    raw = config.getoption("hypothesis_seed", default=None)
    try:
        return None if raw is None else int(raw)
    except ValueError:
        return None
