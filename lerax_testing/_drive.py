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
import jax.numpy as jnp
import jax.random as jr

from ._calls import (  # noqa: F401  (re-exported for the checks)
    BATCHED,
    DEFAULT_CONTEXTS,
    PLAIN,
    TOTAL_TIMESTEPS,
    call_table,
    tables,
)
from ._contexts import ContextBuilder
from ._episode import episode_calls, episode_function
from ._settings import MAX_STEPS
from ._trace import tracing
from .strategies import Scenario

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
    episodes: dict[Any, list[Call]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )
    """The recorded calls of the jitted episodes run so far (`Invoker.share`)."""


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
        try:
            return self.functions[method](*args)
        except Exception as error:
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


@dataclasses.dataclass
class Call:
    """One recorded method call: its arguments (after the callback) and output."""

    method: str
    args: tuple[Any, ...]
    output: Any


@dataclasses.dataclass
class Trajectory:
    calls: list[Call]

    def outputs(self, method: str) -> list[Any]:
        return [c.output for c in self.calls if c.method == method]

    def first(self, method: str) -> Call | None:
        return next((c for c in self.calls if c.method == method), None)


def representative_locals(value: float) -> dict[str, Any]:
    """An algorithm's `locals()` as far as callbacks read them: Lerax's `on_step`
    sees `observation`, `action`, `value` and `log_prob` among others (one
    environment's values). The same dict object is passed to every context, so
    that the `purity` check sees a callback change it in place."""
    value_array = jnp.asarray(value, dtype=float)
    return {
        "value": value_array,
        "observation": jnp.full((4,), value, dtype=float),
        "action": jnp.zeros((), jnp.int32),
        "log_prob": -jnp.abs(value_array),
    }


def scenario_arrays(scenario: Scenario, num_envs: int) -> dict[str, Any]:
    """The scenario's numbers as arrays; rewards use JAX's default float dtype
    (float64 when `jax_enable_x64` is on, as a JAX environment would produce).

    Built from Python numbers one step at a time (`device_put`, no compilation), so
    that examples of different lengths add no compilation of their own.
    """

    def per_env(row: tuple[Any, ...]) -> tuple[Any, ...] | Any:
        return row if num_envs > 1 else row[0]

    return {
        "rewards": [jnp.asarray(per_env(r), dtype=float) for r in scenario.rewards],
        "dones": [jnp.asarray(per_env(d), dtype=bool) for d in scenario.dones],
        "count": jnp.asarray(scenario.iteration_count, dtype=jnp.int32),
        "log": {
            k: jnp.asarray(v, dtype=float) for k, v in scenario.training_log.items()
        },
        "opt": {"step": jnp.asarray(scenario.opt_step, dtype=jnp.int32)},
        "locals": representative_locals(scenario.locals_value),
    }


MAX_SHARED = 4096
"""The most shared episodes kept per check run (`Env.episodes`)."""

MAX_KEYS = MAX_STEPS + 6
"""Keys split per example, whatever its length (one shape, one compilation)."""


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
        for record in context.episodes[key]:
            if on_call is not None:
                on_call(record)
        return Trajectory(list(context.episodes[key]))
    arrays = scenario_arrays(scenario, num_envs)
    if scenario.num_steps + 6 > MAX_KEYS:
        raise ValueError(f"scenarios are limited to {MAX_KEYS - 6} steps")
    keys = list(jr.split(jr.key(scenario.seed), MAX_KEYS))
    env, policy, loc = context.env, context.policy, arrays["locals"]
    count, opt, log = arrays["count"], arrays["opt"], arrays["log"]
    calls: list[Call] = []

    def call(method: str, *args: Any) -> Any:
        output = invoker(method, callback, *args)
        record = Call(method, args, output)
        calls.append(record)
        if on_call is not None:
            on_call(record)
        return output

    def env_keys(key: Any) -> Any:
        return jr.split(key, num_envs) if invoker.batched else key

    if getattr(invoker, "episodes", False):
        episode = episode_function(context.contexts, batched=invoker.batched)
        try:
            recorded = episode_calls(
                episode, callback, env, policy, arrays, keys, env_keys
            )
        except Exception:  # `NotUniform` or a method's error: call them one by one
            pass
        else:
            for method, args, output in recorded:
                call_record = Call(method, args, output)
                calls.append(call_record)
                if on_call is not None:
                    on_call(call_record)
            if shared and len(context.episodes) < MAX_SHARED:
                context.episodes[key] = list(calls)
            return Trajectory(calls)

    state = call("reset", loc, keys[0])
    step_state = call("step_reset", loc, env_keys(keys[1]))
    zero = jnp.zeros((), jnp.int32)
    state = call(
        "on_training_start", state, step_state, env, policy, zero, opt, loc, keys[2]
    )
    for t in range(scenario.num_steps):
        step_state = call(
            "on_step", step_state, env, policy, arrays["dones"][t],
            arrays["rewards"][t], loc, env_keys(keys[6 + t]),
        )  # fmt: skip
    state = call(
        "on_iteration", state, step_state, env, policy, count, opt, log, loc, keys[3]
    )
    call("continue_training", state, step_state, env, policy, count, opt, log, loc,
         keys[4])  # fmt: skip
    call("on_training_end", state, step_state, env, policy, count, opt, loc, keys[5])
    return Trajectory(calls)


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
