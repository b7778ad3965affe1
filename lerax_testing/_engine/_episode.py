"""A whole generated episode as one jitted program: one compilation per family
and batch mode, shared by every example and every check of a callback.

Jitting each method alone costs a compilation per method and batch mode (about
fourteen for a callback). Here `reset`, `step_reset`, `on_training_start`, the
steps, `on_iteration`, `continue_training` and `on_training_end` run in one
jitted function, the steps as one `lax.scan` (traced once, where an unrolled
loop was traced and compiled once per padded step). Episodes of different
lengths share it: the steps are padded to a fixed length and a step past the
episode's end leaves the step state as it was (`jnp.where`), so that the methods
see exactly the episode's states.

Each example costs one dispatch of the compiled program (its keys come as host
data from the process-wide key splitter, `_keys`, and are wrapped into keys inside
the program): the numbers go in as NumPy arrays, the step
states come out stacked, and the calls it records make their arguments and
outputs only when a check asks (`_records.LazyCall`). The callback, environment
and policy are split into arrays (traced) and the rest (hashed, a static
argument) once per check run (`drive` keeps them), where `eqx.filter_jit` would
split them on every call.

That needs step states that keep their structure, shapes and dtypes from one
step to the next; for any other callback (the `structure` check's finding) the
episode raises `NotUniform` and `drive` calls the methods one by one instead.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._arrays import host_numbers, scenario_arrays, unstack
from ._calls import cached, tables
from ._contexts import ContextBuilder, zero_count
from ._keys import CALL_KEYS, example_key_data, example_keys, wrap, wrap_calls
from ._records import Call, Lazy, LazyCall, host

MIN_PADDED_STEPS = 8
"""Steps are padded to this length, or to the next power of two above it."""


class NotUniform(Exception):
    """A step state changed structure, shape or dtype, or an output is not made
    of arrays alone: no padded episode."""


def padded_length(num_steps: int) -> int:
    """The padded length of an episode of `num_steps` steps: few lengths, so few
    compilations, whatever lengths hypothesis draws."""
    length = MIN_PADDED_STEPS
    while length < num_steps:
        length *= 2
    return length


def _keep_until(live: Any, new: Any, old: Any) -> Any:
    """`new` while the episode is `live`, else `old`; both must be alike."""
    new_dynamic, new_static = eqx.partition(new, eqx.is_array)
    old_dynamic, old_static = eqx.partition(old, eqx.is_array)
    same = jax.tree.structure(new) == jax.tree.structure(old) and all(
        a.shape == b.shape and a.dtype == b.dtype
        for a, b in zip(
            jax.tree.leaves(new_dynamic), jax.tree.leaves(old_dynamic), strict=True
        )
    )
    if not same or not eqx.tree_equal(new_static, old_static):
        raise NotUniform
    kept = jax.tree.map(lambda a, b: jnp.where(live, a, b), new_dynamic, old_dynamic)
    return eqx.combine(kept, new_static)


def _arrays_only(tree: Any) -> None:
    """Raise `NotUniform` for a Python number (or any leaf other than an array)
    among the outputs: `jax.jit` would return it as an array, where each method
    called alone returns it as it is (a `continue_training` returning `True`, a
    step state with a plain `float` field), and the checks must see that."""
    if not all(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(tree)):
        raise NotUniform


def _dynamic(tree: Any) -> Any:
    return eqx.partition(tree, eqx.is_array)[0]


class StaticPart:
    """The parts of a tree that are not arrays, hashable: a static argument of
    `jax.jit`, as `eqx.filter_jit` makes of them (it raises `TypeError` when a part
    cannot be hashed)."""

    def __init__(self, tree: Any):
        leaves, self.treedef = jax.tree.flatten(tree)
        self.leaves = tuple(leaves)
        self._hash = hash((self.treedef, self.leaves))

    def tree(self) -> Any:
        return jax.tree.unflatten(self.treedef, self.leaves)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, StaticPart)
            and self._hash == other._hash
            and self.treedef == other.treedef
            and all(
                type(a) is type(b) and (a is b or bool(a == b))
                for a, b in zip(self.leaves, other.leaves, strict=True)
            )
        )


def split_static(tree: Any) -> tuple[Any, StaticPart]:
    """`tree`'s arrays, and the rest as a `StaticPart`."""
    dynamic, static = eqx.partition(tree, eqx.is_array)
    return dynamic, StaticPart(static)


def _episode(table: dict[str, Any]) -> Any:
    """The jitted episode of one call table: every method of an example in one program,
    the split callback's static part a static argument."""

    def run(
        static: StaticPart,
        impl: str,
        dynamic: Any,
        loc: Any,
        count: Any,
        opt: Any,
        log: Any,
        dones: Any,
        rewards: Any,
        num_steps: Any,
        call_keys: Any,
        reset_keys: Any,
        step_keys: Any,
    ) -> Any:
        """One padded episode: every call's output, and the steps' stacked input and
        output step states; `NotUniform` when a state changes structure or an output
        is not all arrays."""
        # The keys come in split, as data: splitting them here would compile a
        # threefry hash per step into every callback's episode.
        callback, env, policy = eqx.combine(dynamic, static.tree())
        keys = wrap_calls(call_keys, impl)
        reset_keys, step_keys = wrap(reset_keys, impl), wrap(step_keys, impl)
        state = table["reset"](callback, loc, keys["reset"])
        step_state = table["step_reset"](callback, loc, reset_keys)
        zero = zero_count()
        started = table["on_training_start"](
            callback,
            state,
            step_state,
            env,
            policy,
            zero,
            opt,
            loc,
            keys["on_training_start"],
        )
        # The steps as one `lax.scan` (traced and compiled once, not once per
        # padded step); the states' static parts stay out of the carry. Inputs
        # and outputs stay stacked: unstacking inside the program would add
        # operations and outputs per step to compile.
        step_dynamic, step_static = eqx.partition(step_state, eqx.is_array)

        def step(carried: Any, xs: Any) -> Any:
            t, done, reward, key = xs
            current = eqx.combine(carried, step_static)
            new = table["on_step"](
                callback, current, env, policy, done, reward, loc, key
            )
            kept = _keep_until(t < num_steps, new, current)
            return _dynamic(kept), (carried, _dynamic(new))

        xs = (jnp.arange(dones.shape[0]), dones, rewards, step_keys)
        last, (ins, outs) = jax.lax.scan(step, step_dynamic, xs)
        current = eqx.combine(last, step_static)
        tail = (env, policy, count, opt)
        it = table["on_iteration"](
            callback, started, current, *tail, log, loc, keys["on_iteration"]
        )
        go = table["continue_training"](
            callback, it, current, *tail, log, loc, keys["continue_training"]
        )
        end = table["on_training_end"](
            callback, it, current, *tail, loc, keys["on_training_end"]
        )
        calls = (state, step_state, started, current, it, go, end)
        _arrays_only(calls)
        return calls, (ins, outs)

    return jax.jit(run, static_argnums=(0, 1))


def episode_function(contexts: ContextBuilder, *, batched: bool) -> Any:
    """The jitted episode of `contexts`'s family, made once per (equal) builder
    and batch mode."""
    made = cached(contexts).setdefault("episodes", {})
    if batched not in made:
        made[batched] = _episode(tables(contexts)[1 if batched else 0])
    return made[batched]


@dataclasses.dataclass
class EpisodeRun:
    """The results of one jitted episode, for checks that read every step at once:
    the step states before and after each step (`ins`, `outs`, stacked, arrays
    only), the step state's other parts (`step_static`), the keys' data (`keys`,
    `_keys.ExampleKeyData`), the numbers it ran on (`numbers`, NumPy), and the
    callback, environment and policy split as the program took them (`parts`,
    for other programs that take them alike)."""

    num_steps: int
    ins: Any
    outs: Any
    step_static: Any
    keys: Any
    numbers: dict[str, Any]
    parts: tuple[Any, StaticPart]


def run_episode(
    fn: Any,
    callback: Any,
    env: Any,
    policy: Any,
    scenario: Any,
    batched: bool,
    parts: tuple[Any, StaticPart] | None = None,
) -> tuple[list[Call], EpisodeRun]:
    """Run the jitted episode `fn` on one example: the calls `drive` would have
    made, in its order, with the arguments it would have passed (made when first
    read), and the stacked results.

    `parts` are `split_static((callback, env, policy))` when the caller keeps
    them. Raises whatever the episode raises (`NotUniform`, an error of a method,
    a `TypeError` for parts of the callback that cannot be hashed).
    """
    num_steps = scenario.num_steps
    num_envs = scenario.num_envs if batched else 1
    length = padded_length(num_steps)
    numbers = host_numbers(scenario, num_envs, length)
    dynamic, static = parts or split_static((callback, env, policy))
    data = example_key_data(scenario.seed, length, num_envs if batched else None)
    outputs = fn(
        static,
        data.impl,
        dynamic,
        numbers["loc"],
        numbers["count"],
        numbers["opt"],
        numbers["log"],
        numbers["dones"],
        numbers["rewards"],
        np.int32(num_steps),
        data.calls,
        data.reset,
        data.stacked,
    )
    jax.block_until_ready(outputs)
    (state, step_state, started, final, it, go, end), (ins, outs) = outputs
    step_static = eqx.partition(step_state, eqx.is_array)[1]
    run = EpisodeRun(
        num_steps, ins, outs, step_static, data, numbers, (dynamic, static)
    )
    methods = [
        "reset",
        "step_reset",
        "on_training_start",
        *["on_step"] * num_steps,
        "on_iteration",
        "continue_training",
        "on_training_end",
    ]
    ends = [state, step_state, started]
    tail_outputs = [it, go, end]

    def arguments(
        given: dict[str, Any], inputs: list[Any], keys: Any, steps: list[Any]
    ) -> list[Any]:
        """Each call's arguments, from the numbers `given` (JAX or NumPy)."""
        call_keys, reset_keys = keys.calls, keys.reset
        loc, opt, log = given["loc"], given["opt"], given["log"]
        tail = (env, policy, given["count"], opt)
        made = [
            (loc, call_keys["reset"]),
            (loc, reset_keys),
            (
                state,
                step_state,
                env,
                policy,
                given["zero"],
                opt,
                loc,
                call_keys["on_training_start"],
            ),
        ]
        made += [
            (
                inputs[t],
                env,
                policy,
                given["dones"][t],
                given["rewards"][t],
                loc,
                steps[t],
            )
            for t in range(num_steps)
        ]
        made += [
            (started, final, *tail, log, loc, call_keys["on_iteration"]),
            (it, final, *tail, log, loc, call_keys["continue_training"]),
            (it, final, *tail, loc, call_keys["on_training_end"]),
        ]
        return made

    def device_args() -> list[Any]:
        arrays = scenario_arrays(scenario, num_envs)
        given = {
            "loc": arrays["locals"],
            "count": arrays["count"],
            "opt": arrays["opt"],
            "log": arrays["log"],
            "dones": arrays["dones"],
            "rewards": arrays["rewards"],
            "zero": zero_count(),
        }
        rows = unstack(ins, num_steps)
        inputs = [step_state] + [eqx.combine(r, step_static) for r in rows[1:]]
        keys = example_keys(scenario.seed, length, num_envs if batched else None)
        return arguments(given, inputs, keys, list(keys.steps[:num_steps]))

    def device_outputs() -> list[Any]:
        rows = unstack(outs, num_steps)
        return [eqx.combine(r, step_static) for r in rows]

    def host_args() -> list[Any]:
        rows = _host_rows(ins, num_steps)
        inputs = [host(step_state)] + [eqx.combine(r, step_static) for r in rows[1:]]
        given = {**numbers, "zero": np.zeros((), numbers["count"].dtype)}
        return host(arguments(given, inputs, _HostKeys(data), [None] * num_steps))

    def host_outputs() -> list[Any]:
        rows = _host_rows(outs, num_steps)
        return host(ends + [eqx.combine(r, step_static) for r in rows] + tail_outputs)

    lazy = Lazy(device_args, device_outputs, host_args, host_outputs)
    # The outputs of all but the steps are the program's own arrays already.
    known: list[Any] = [*ends, *[None] * num_steps, *tail_outputs]
    calls: list[Call] = [
        LazyCall(method, i, lazy, type(step_state), step=i - len(ends))
        if method == "on_step"
        else LazyCall(method, i, lazy, type(known[i]), output=known[i])
        for i, method in enumerate(methods)
    ]
    return calls, run


class _HostKeys:
    """The keys' data where host arguments show keys (`host` would keep keys as
    they are; step keys are left out of host arguments)."""

    def __init__(self, data: Any):
        self.calls = {m: data.calls[i] for i, m in enumerate(CALL_KEYS)}
        self.reset = data.reset


def _host_rows(stacked: Any, count: int) -> list[Any]:
    """The first `count` rows of `stacked` as NumPy views (typed keys sliced)."""
    hosted = host(stacked)
    return [jax.tree.map(lambda leaf, t=t: leaf[t], hosted) for t in range(count)]
