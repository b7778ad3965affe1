"""`check_callback`: run every conformance check on a callback and report."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jax
from hypothesis import strategies as st

from lerax_callback import callback_state_types
from lerax_callback._checking import checking
from lerax_callback._family import OURS, callback_api, is_callback

from ._checks import REGISTRY
from ._config import InvalidArgument
from ._engine._contexts import ContextBuilder, context_fields
from ._engine._drive import Env
from ._engine._scenario import LERAX_PPO_LOG_KEYS, TRAINING_LOG_KEYS
from ._explain._advice import advise
from ._explain._classes import class_instead_of_instance
from ._explain._report import (
    CheckResult,
    Failure,
    Report,
    SkipCheck,
    merge_failures,
)
from ._explain._reproduce import Replay
from ._explain._source import (
    class_location,
    error_details,
    error_summary,
    user_location,
)
from ._globals import restore_jax_config
from ._lerax._choice import choose_algorithms, is_lerax_object
from ._lerax._notes import lerax_notes
from ._loop._protocol import require_protocol
from ._loop._run import callback_list
from ._options import _values as v
from ._sandbox import sandbox
from ._settings import (
    OPTIONS,
    Settings,
    resolve_settings,
    split_arguments,
    typechecking,
)
from ._subject import Subject
from .toy import ToyEnv, ToyPolicy

ProgressHook = Callable[[str, str], None]


def describe_callback(callback: Any) -> str:
    """A short, readable name for a callback, e.g. `MyCallback(alpha=0.1)`."""
    try:
        text = repr(callback)
    except Exception:  # a broken __repr__ must not break the report
        text = f"{type(callback).__qualname__}(...)"
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def check_callback(
    callback: Any,
    *,
    checks: Iterable[str] | None = None,
    skip: Mapping[str, str] | None = None,
    max_examples: int | None = None,
    num_envs: int | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    env: Any = None,
    policy: Any = None,
    reward_range: tuple[float, float] | None = None,
    allow_nonfinite_rewards: bool = False,
    training_logs: st.SearchStrategy[dict[str, float]] | None = None,
    context_values: Mapping[str, Any] | None = None,
    algorithms: Iterable[str] | None = None,
    typecheck: bool = False,
    project_config: bool = True,
    progress: ProgressHook | None = None,
) -> Report:
    """Check that `callback` is trace-safe; returns a `Report`, never raises for it.

    Generates contexts with hypothesis and calls every method the way training does
    (eagerly, under `jax.jit`, `vmap`ped over environments, in a `lax.scan`), then
    reports each problem with the method, the leaf, the user's source line, the
    shrunk failing example and a reproducer.

    **Arguments:**

    - `callback`: the callback instance to check, written against
        `lerax_callback` or Lerax's `lerax.callback`: each gets contexts of its own
        API's classes. Anything is accepted; an object that is not a callback
        fails the `api` check.
    - `checks`: the check ids to run (default: all of `CHECKS`).
    - `skip`: `{check id: reason}` for checks that do not apply to this callback;
        they are reported as skipped with the reason. A callback class can declare
        the same as `__conformance_skip__ = {...}`, and a project in
        `[tool.lerax_testing] skip` of its `pyproject.toml`.
    - `max_examples`: generated examples per check (default 20, or the project's);
        `runs` and `purity` (eager) and `typecheck` (traced) take at most 5 of
        them, `retrace` at most 10.
    - `num_envs`: parallel environments in batched calls (default 3, at least 2
        for the batched checks to mean anything).
    - `max_steps`: the longest generated sequence of steps (default 6).
    - `seed`: the seed of the examples. Without one a random seed is drawn (a fixed
        one in CI); the report shows it so that a failure can be reproduced.
    - `env`, `policy`: the environment and policy placed in contexts (default the
        toy ones). The `scan` and `x64` checks trace their loop with them, so they
        must then offer the toy environment's and policy's methods.
    - `reward_range`: `(low, high)` bounds of generated rewards (default ±1e6).
    - `allow_nonfinite_rewards`: also draw infinite and NaN rewards, to test
        robustness to a broken environment (the `finite` check then only reports
        NaN made from finite inputs).
    - `training_logs`: a strategy of `{name: float}` training logs, for callbacks
        that read metrics the default logs lack (by default, the metrics Lerax's
        PPO logs: `approx_kl`, `loss`, `policy_loss`, `value_loss`,
        `entropy_loss`, `explained_variance`; for a `lerax_callback` callback
        also the reference loop's `mean_reward`).
    - `context_values`: `{field: value}` for context fields the harness does not
        generate, such as the `algorithm` field of a newer Lerax's
        `IterationContext` and `TrainingContext`. Without one, such a field holds
        a placeholder whose use fails with a message naming the field.
    - `algorithms`: the Lerax algorithms the callback is meant for, named as
        `lerax.algorithm`'s modules (`ppo`, `a2c`, `reinforce`, `dqn`, `sac`,
        `sac_discrete`, `ddpg`, `td3`). Default: for a `lerax.callback` callback,
        every algorithm of the installed Lerax; for a `lerax_callback` one, none
        (it runs in the reference loop). The first shapes the contexts every check
        makes (its `locals`, training log, optimiser state and algorithm, recorded
        from its real `learn()`); the `lerax` check traces them all.
    - `typecheck`: switch on `lerax_callback`'s runtime type checking while the
        checks run (`--typecheck` of the command, `--lerax-typecheck` of pytest).
    - `project_config`: read `[tool.lerax_testing]` from the nearest
        `pyproject.toml` for defaults.
    - `progress`: called as `progress(callback_description, check_id)` before each
        check, for progress displays.

    A list of callbacks is checked as the one `CallbackList` of their family that
    Lerax's `learn(callback=[...])` makes of it.

    **Raises:**

    `InvalidArgument` (a `TypeError` and a `ValueError`) only for invalid
    arguments to `check_callback` itself, never because the callback is broken.
    """
    if isinstance(callback, (list, tuple)) and callback:
        if all(is_callback(c) for c in callback):
            try:
                callback = callback_list(list(callback))
            except TypeError as error:  # callbacks of two families
                raise InvalidArgument(str(error)) from error
    if isinstance(callback, type):
        raise InvalidArgument(
            "`check_callback` takes a callback instance, not a class: "
            + class_instead_of_instance(callback)
        )
    arguments = locals()  # the parameters, each option of the table among them
    given = {name: arguments[name] for name in OPTIONS}
    settings, objects = split_arguments(given)
    settings = resolve_settings(**settings, project=project_config)
    return run_checks(callback, settings, **objects, progress=progress)


def run_checks(
    callback: Any,
    settings: Settings,
    *,
    env: Any = None,
    policy: Any = None,
    training_logs: st.SearchStrategy[dict[str, float]] | None = None,
    context_values: Mapping[str, Any] | None = None,
    progress: ProgressHook | None = None,
    target: str | None = None,
) -> Report:
    """Run the checks `settings` selects on `callback` (`check_callback` once its
    arguments are resolved; the command and the plugin call it directly).
    `target` is the command's TARGET that made the callback (`pkg.cbs:Mine`),
    for reproducers that make it the same way."""
    check_context_values(callback, settings, context_values)
    skips = settings.skips_for(callback)  # `ConfigError`, an `InvalidArgument`
    replay = Replay.of_run(
        settings,
        env=env,
        policy=policy,
        training_logs=training_logs,
        context_values=context_values,
        target=target,
    )
    env, policy = settings.env_and_policy(env, policy)
    api = callback_api(callback)
    try:
        lerax = choose_algorithms(
            settings.algorithms, ours=api in (None, OURS), env=env, policy=policy
        )
    except ValueError as error:  # an algorithm the installed Lerax lacks
        raise InvalidArgument(str(error)) from error
    if is_lerax_object(env) or is_lerax_object(policy):
        # A Lerax environment is for Lerax's algorithms: the contexts get it from
        # their recording, the reference loop keeps the toy one.
        env = policy = None
    require_protocol(env, policy, checks=[c for c in settings.checks if c not in skips])
    reward_options: dict[str, Any] = {
        "allow_nonfinite": settings.allow_nonfinite_rewards
    }
    if settings.reward_range is not None:
        low, high = settings.reward_range
        reward_options.update(min_value=low, max_value=high)
    description = describe_callback(callback)
    state_types: tuple[Any, Any] = (None, None)
    if api is not None:
        state_types = callback_state_types(callback)
    values = {**settings.resolved_context_values(), **(context_values or {})}
    recording = None
    if lerax is not None and lerax.algorithms and api is not None:
        try:
            recording = lerax.recording(lerax.algorithms[0])
        except Exception:  # the `lerax` check reports what breaks `learn()`
            recording = None
    contexts = ContextBuilder(values=values)
    if api is not None:
        contexts = ContextBuilder(api, values, recording)
    subject = Subject(
        callback=callback,
        description=description,
        seed=settings.seed,
        max_examples=settings.max_examples,
        num_envs=settings.num_envs,
        max_steps=settings.max_steps,
        context=Env(
            ToyEnv() if env is None else env,
            ToyPolicy() if policy is None else policy,
            contexts,
        ),
        reward_options=reward_options,
        training_log_strategy=training_logs,
        # The log of the first algorithm chosen (PPO's metrics by default for a
        # Lerax callback); with none, ours also gets the loop's `mean_reward`.
        training_log_names=(
            recording.training_log_keys
            if recording is not None
            else TRAINING_LOG_KEYS
            if api in (None, OURS)
            else LERAX_PPO_LOG_KEYS
        ),
        state_types=state_types,
        replay=replay,
        lerax=lerax,
    )
    results: list[CheckResult] = []
    switch = typechecking() if settings.typecheck else contextlib.nullcontext()
    with sandbox(), switch:
        _run_each(callback, subject, settings.checks, skips, progress, results)
    return Report(
        callback=description,
        callback_type=f"{type(callback).__module__}.{type(callback).__qualname__}",
        location=class_location(callback),
        results=tuple(results),
        seed=settings.seed,
        settings={
            "max_examples": settings.max_examples,
            "num_envs": settings.num_envs,
            "max_steps": settings.max_steps,
            "checks": list(settings.checks),
        },
        notes=(
            lerax_notes(callback, lerax.algorithms, lerax.standin)
            if lerax is not None
            else ()
        ),
    )


def check_context_values(
    callback: Any, settings: Settings, context_values: Mapping[str, Any] | None = None
) -> None:
    """`InvalidArgument` for a context value no context of `callback`'s API family
    has a field for (it would be ignored: most often a misspelt field), naming it
    and the fields there are; before any check runs, and before any value is
    loaded. The command calls it for every callback before checking the first."""
    api = callback_api(callback)
    if api is None:  # not a callback: the `api` check says so
        return
    given = [*settings.context_values, *(context_values or {})]
    what = "`context_values` (`--context-value`)"
    v.context_fields(given, context_fields(api), what)


def _run_each(
    callback: Any,
    subject: Subject,
    checks: tuple[str, ...],
    skips: Mapping[str, str],
    progress: ProgressHook | None,
    results: list[CheckResult],
) -> None:
    """Run `checks` in order into `results`: skipped ones with their reason, and
    none after an `api` failure that leaves nothing to check."""
    api_ok = True
    description = subject.description
    for check in checks:
        if check in skips:
            results.append(CheckResult(check, "skipped", reason=skips[check]))
            continue
        if check != "api" and not api_ok:
            results.append(
                CheckResult(
                    check,
                    "skipped",
                    reason="not run: the callback fails the `api` check",
                )
            )
            continue
        if progress is not None:
            progress(description, check)
        with checking():
            results.append(run_check(check, subject))
        if check == "api" and results[-1].status == "failed":
            api_ok = not _fatal_api_failure(callback)


def _fatal_api_failure(callback: Any) -> bool:
    """Whether the other checks cannot run at all (not a callback, or abstract)."""
    return callback_api(callback) is None or bool(
        getattr(type(callback), "__abstractmethods__", ())
    )


def run_check(check: str, subject: Subject) -> CheckResult:
    """Run one check in isolation; an error in the harness itself becomes a failure."""
    start = time.perf_counter()
    try:
        # Host output of the callback (progress bars, prints) would interleave with
        # the report; `side_effects` captures what it needs itself.
        sink = io.StringIO()
        with (
            restore_jax_config(),
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            failures = REGISTRY[check].run(subject)
            jax.effects_barrier()
    except SkipCheck as skip:
        seconds = time.perf_counter() - start
        return CheckResult(check, "skipped", reason=str(skip), seconds=seconds)
    except SystemExit as exit:  # `sys.exit()` in callback code must not end the run
        location = user_location(exit, subject.callback)
        where = f" at {location[0]}:{location[1]}" if location else ""
        failures = [
            Failure(
                check,
                None,
                f"the callback called `sys.exit({exit.code!r})` (raised `SystemExit`)"
                f"{where}; a callback must never end the training process.",
                location=location,
                advice="Remove the `sys.exit`/`exit()`/`raise SystemExit`; to stop "
                "training early return `False` from `continue_training`.",
            )
        ]
    except Exception as error:  # the check itself broke: report, never crash the run
        failures = [
            Failure(
                check,
                None,
                f"the `{check}` check could not complete: {error_summary(error)}.",
                details=error_details(error),
            )
        ]
    seconds = time.perf_counter() - start
    # Advice matched to what went wrong, in the data too (JSON, JUnit, `.advice`),
    # not only in the rendered report.
    failures = [
        dataclasses.replace(f, advice=advise(f) or f.advice)
        for f in merge_failures(failures)
    ]
    status = "failed" if failures else "passed"
    return CheckResult(check, status, tuple(failures), seconds=seconds)
