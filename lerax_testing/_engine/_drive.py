"""Driving a callback through a generated episode, eagerly or under `jit`.

Every check calls the callback's methods the way an algorithm does: step methods
`vmap`ped over environments (or unbatched with one environment), contexts built
from the states the callback itself returned. `Invoker` holds the (possibly
jitted) functions, built once per check so that all examples share one
compilation per input shape.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax

from ._arrays import scenario_arrays
from ._calls import (  # noqa: F401  (re-exported for the checks)
    BATCHED,
    DEFAULT_CONTEXTS,
    PLAIN,
    TOTAL_TIMESTEPS,
    call_table,
    tables,
)
from ._contexts import ContextBuilder, zero_count
from ._episode import episode_function, padded_length, run_episode, split_static
from ._failed import failed_trace, remember_failure, trace_key
from ._keys import MAX_KEYS, example_keys, prefetch_key_data
from ._records import Call, Trajectory
from ._scenario import Scenario
from ._trace import tracing

METHOD_ORDER = (
    "reset",
    "step_reset",
    "on_training_start",
    "on_step",
    "on_iteration",
    "continue_training",
    "on_training_end",
)


@dataclasses.dataclass(frozen=True)
class Env:
    """What contexts carry besides states and generated numbers: the environment,
    the policy, and the builder of the callback's own family's contexts."""

    env: Any
    policy: Any
    contexts: ContextBuilder = dataclasses.field(default_factory=ContextBuilder)
    episodes: dict[Any, Trajectory] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )
    """The recorded calls of the jitted episodes run so far (`Invoker.share`)."""
    parts: dict[int, tuple[Any, list[Any], Any]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )
    """Per callback (by id): the callback, its leaves and `_episode.split_static`
    of it with the environment and policy, made once rather than per example."""
    streams: dict[int, list[Any]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )
    """The stream of examples (`Subject.stream`) each example belongs to, by the
    example's id: the first jitted episode of one makes the keys of them all."""
    prefetched: set[tuple[bool, int]] = dataclasses.field(
        default_factory=set, compare=False, repr=False
    )
    """The (batch mode, stream id) pairs whose keys have been made."""


def _argument_names(method: str) -> tuple[str, ...]:
    names = tuple(inspect.signature(PLAIN[method]).parameters)[1:]
    if method in ("on_step",):
        names = tuple("step_state" if n == "state" else n for n in names)
    return names


ARGUMENT_NAMES: dict[str, tuple[str, ...]] = {m: _argument_names(m) for m in PLAIN}
"""The names of the arguments each call function takes after the callback, as the
messages call them (`state`, `step_state`, `reward`, ...)."""


class MethodError(Exception):
    """A callback method raised; carries the method name and the original error."""

    def __init__(self, method: str, error: BaseException):
        super().__init__(f"{method} raised {type(error).__name__}: {error}")
        self.method = method
        self.error = error


class Invoker:
    """Calls a callback's methods eagerly or through one jitted function each.

    The functions build contexts of the family `drive` binds (`Env.contexts`), and
    are made once per family builder, so that all examples of a check, and all
    checks of a callback, share one compilation per input shape.

    **Arguments:**

    - `jit`: wrap each method call in `eqx.filter_jit` (created here, once).
        JAX shares the compiled programs of one call function between invokers,
        and so between checks: each method is compiled once per input shape.
    - `batched`: step methods are vmapped over a leading environment axis.
    - `trace`: only trace each call (`_trace.tracing`): outputs are
        `jax.ShapeDtypeStruct`s and nothing is compiled; errors raised while
        tracing (as under `jit`) are raised. `memo=False` traces every call anew,
        even for inputs traced before.
    - `wrap`: an optional function applied to each plain call function before
        jitting or tracing.
    - `episodes`: when jitted (and neither tracing nor wrapped), `drive` runs a
        whole example as one jitted program (`_episode`), one compilation for
        every example and check, and calls the methods one by one only when that
        fails (then the first method that raises is known).
    - `share`: reuse the calls of a jitted episode another check ran on the same
        example (the checks draw the same examples from the same seed), for
        checks that only read the results; not for `purity`, which compares two
        runs of the same example.
    """

    def __init__(
        self,
        *,
        jit: bool,
        batched: bool,
        trace: bool = False,
        memo: bool = True,
        episodes: bool = True,
        share: bool = False,
        wrap: Callable[[str, Callable[..., Any]], Callable[..., Any]] | None = None,
    ):
        self.jit = jit
        self.batched = batched
        self.trace = trace
        self.memo = memo
        self.wrap = wrap
        self.episodes = episodes and jit and not trace and wrap is None
        self.share = share
        self.contexts = DEFAULT_CONTEXTS
        self._made: dict[ContextBuilder, dict[str, Callable[..., Any]]] = {}

    def bind(self, contexts: ContextBuilder) -> None:
        """Build contexts with `contexts` from now on (`drive` calls this)."""
        self.contexts = contexts

    @property
    def functions(self) -> dict[str, Callable[..., Any]]:
        made = self._made.get(self.contexts)
        if made is None:
            plain, batched = tables(self.contexts)
            made = {}
            for name, fn in (batched if self.batched else plain).items():
                if self.wrap is not None:
                    fn = self.wrap(name, fn)
                if self.trace:
                    fn = tracing(fn, memo=self.memo)
                elif self.jit:
                    fn = eqx.filter_jit(fn)
                made[name] = fn
            self._made[self.contexts] = made
        return made

    def __call__(self, method: str, *args: Any) -> Any:
        memo = self.jit and not self.trace and self.wrap is None
        key = (
            trace_key("call", self.contexts, self.batched, method, args)
            if memo
            else None
        )
        failed = failed_trace(key)
        if failed is not None:
            raise MethodError(method, failed) from failed
        try:
            return self.functions[method](*args)
        except Exception as error:
            remember_failure(key, error)
            raise MethodError(method, error) from error


class WrappedInvoker(Invoker):
    """Calls through another invoker, for checks that watch or change each call
    (they override `__call__` and call `self.inner`)."""

    def __init__(self, inner: Invoker):
        self.inner = inner
        self.batched = inner.batched

    def bind(self, contexts: ContextBuilder) -> None:
        self.inner.bind(contexts)

    def __call__(self, method: str, *args: Any) -> Any:
        return self.inner(method, *args)


MAX_SHARED = 4096
"""The most shared episodes kept per check run (`Env.episodes`)."""


def drive(
    callback: Any,
    scenario: Scenario,
    invoker: Invoker,
    context: Env,
    *,
    on_call: Callable[[Call], None] | None = None,
) -> Trajectory:
    """Run `callback` through `scenario`, feeding each output back as the next input.

    Raises `MethodError` from the first method that raises.
    """
    num_envs = scenario.num_envs if invoker.batched else 1
    invoker.bind(context.contexts)
    shared = getattr(invoker, "share", False) and getattr(invoker, "episodes", False)
    key = (id(callback), invoker.batched, repr(scenario))
    if shared and key in context.episodes:
        trajectory = context.episodes[key]
        if on_call is not None:
            for record in trajectory.calls:
                on_call(record)
        return trajectory
    if scenario.num_steps + 6 > MAX_KEYS:
        raise ValueError(f"scenarios are limited to {MAX_KEYS - 6} steps")
    env, policy = context.env, context.policy
    episode_key = None
    if getattr(invoker, "episodes", False):
        _prefetch_keys(scenario, invoker.batched, context)
        episode = episode_function(context.contexts, batched=invoker.batched)
        # An episode that failed to trace for inputs of these shapes fails again:
        # call the methods one by one at once (which finds the method that fails).
        # Best effort: a key that misses a difference only costs the slower path.
        log = scenario.training_log
        episode_key = trace_key(
            "episode",
            context.contexts,
            invoker.batched,
            callback,
            padded_length(scenario.num_steps),
            num_envs,
            tuple(sorted(log)) if isinstance(log, dict) else type(log),
            type(scenario.locals_value),
        )
    if getattr(invoker, "episodes", False) and failed_trace(episode_key) is None:
        try:
            recorded, run = run_episode(
                episode,
                callback,
                env,
                policy,
                scenario,
                invoker.batched,
                parts=_parts(context, callback),
            )
        except Exception as error:  # `NotUniform` or a method's error: one by one
            remember_failure(episode_key, error)
        else:
            if on_call is not None:
                for record in recorded:
                    on_call(record)
            trajectory = Trajectory(recorded, run)
            if shared and len(context.episodes) < MAX_SHARED:
                context.episodes[key] = trajectory
            return trajectory

    arrays = scenario_arrays(scenario, num_envs)
    loc, count, opt, log = (arrays[k] for k in ("locals", "count", "opt", "log"))
    calls: list[Call] = []

    def call(method: str, *args: Any) -> Any:
        output = invoker(method, callback, *args)
        record = Call(method, args, output)
        calls.append(record)
        if on_call is not None:
            on_call(record)
        return output

    keys = example_keys(
        scenario.seed,
        padded_length(scenario.num_steps),
        num_envs if invoker.batched else None,
    )
    state = call("reset", loc, keys.calls["reset"])
    step_state = call("step_reset", loc, keys.reset)
    zero = zero_count()
    state = call(
        "on_training_start",
        state,
        step_state,
        env,
        policy,
        zero,
        opt,
        loc,
        keys.calls["on_training_start"],
    )
    for t in range(scenario.num_steps):
        step_state = call(
            "on_step",
            step_state,
            env,
            policy,
            arrays["dones"][t],
            arrays["rewards"][t],
            loc,
            keys.steps[t],
        )
    tail = (env, policy, count, opt)
    state = call(
        "on_iteration", state, step_state, *tail, log, loc, keys.calls["on_iteration"]
    )
    call(
        "continue_training",
        state,
        step_state,
        *tail,
        log,
        loc,
        keys.calls["continue_training"],
    )
    call(
        "on_training_end", state, step_state, *tail, loc, keys.calls["on_training_end"]
    )
    return Trajectory(calls)


def _prefetch_keys(scenario: Any, batched: bool, context: Env) -> None:
    """Make the keys of every example of the stream `scenario` belongs to, in
    this batch mode, a few dispatches for them all (`prefetch_key_data`)."""
    stream = context.streams.get(id(scenario))
    if stream is None or (batched, id(stream)) in context.prefetched:
        return
    context.prefetched.add((batched, id(stream)))
    by_length: dict[int, list[int]] = {}
    for s in stream:
        by_length.setdefault(padded_length(s.num_steps), []).append(s.seed)
    num_envs = scenario.num_envs if batched else None
    for length, seeds in by_length.items():
        prefetch_key_data(seeds, length, num_envs)


def _parts(context: Env, callback: Any) -> Any:
    """`split_static((callback, env, policy))`, kept per callback and made again
    if the callback's leaves changed (a callback that assigns to itself, the
    `purity` check's finding, must still run with what it holds now)."""
    leaves = jax.tree.leaves(callback)
    kept = context.parts.get(id(callback))
    if (
        kept is None
        or kept[0] is not callback
        or len(kept[1]) != len(leaves)
        or any(a is not b for a, b in zip(kept[1], leaves, strict=True))
    ):
        parts = split_static((callback, context.env, context.policy))
        kept = (callback, leaves, parts)
        context.parts[id(callback)] = kept
    return kept[2]


def drive_jit_first(
    callback: Any,
    scenario: Scenario,
    jitted: Invoker,
    eager: Invoker,
    context: Env,
    *,
    on_call: Callable[[Call], None] | None = None,
    keep: tuple[type[BaseException], ...] = (),
) -> Trajectory:
    """`drive` through jitted methods (compiled once, so each example is cheap),
    falling back to eager calls when a method cannot be jitted (the `jit` check's
    finding), so that a check still sees every method's result.

    A method error whose cause is one of `keep` is raised rather than retried.
    """
    try:
        return drive(callback, scenario, jitted, context, on_call=on_call)
    except MethodError as error:
        if isinstance(error.error, keep):
            raise
    return drive(callback, scenario, eager, context, on_call=on_call)
