"""The `vmap` check: per-environment methods under `jax.vmap`, and batched or
unbatched step states everywhere else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import numpy as np
from jax import lax

from .._engine._calls import cached
from .._engine._contexts import ContextBuilder
from .._engine._drive import Call, Invoker, MethodError, Trajectory, drive, tables
from .._engine._episode import NotUniform, StaticPart
from .._engine._keys import wrap
from .._engine._records import host
from .._engine._scenario import Scenario
from .._explain._report import Failure
from .._search import find_failure, method_failure
from .._subject import Subject
from .._tree import comparable, first_mismatch, same_leaf
from ._registry import REGISTRY

RTOL, ATOL = 1e-5, 1e-6
"""How far a vmapped result may be from the same result computed alone (XLA may
fuse the two differently)."""

# Which arguments of the batched step functions carry the environment axis.
_BATCHED_ARGS = {"step_reset": (1,), "on_step": (0, 3, 4, 6)}


def _each_alone(method: str, contexts: ContextBuilder) -> Callable[..., Any]:
    """A jitted function taking the batched call's arguments and calling the
    method on each environment alone, one after another (`lax.map`)."""
    axes = _BATCHED_ARGS[method]
    single = tables(contexts)[0][method]

    def run(callback: Any, *args: Any) -> Any:
        def one(batched: tuple[Any, ...]) -> Any:
            parts = iter(batched)
            full = [next(parts) if i in axes else a for i, a in enumerate(args)]
            return single(callback, *full)

        return lax.map(one, tuple(args[i] for i in axes))

    return eqx.filter_jit(run)


def _alone_episode(contexts: ContextBuilder) -> Callable[..., Any]:
    """A jitted function calling `step_reset` and every step's `on_step` of a
    batched episode on each environment alone (`lax.map`), from the episode's
    stacked inputs: one call per example instead of one per step, and one
    compilation per callback. It takes the callback split as the episode took it
    (`EpisodeRun.parts`), so a call costs a dispatch, not a split and a hash, and
    returns the step states' arrays as flat lists of leaves (rebuilding nested
    modules for every example cost more than comparing them); their other parts
    must equal the batched episode's (it raises otherwise, and the calls are
    compared one by one)."""
    made = cached(contexts)
    if "alone" not in made:
        single = tables(contexts)[0]

        def run(
            static: StaticPart,
            step_static: StaticPart,
            impl: str,
            dynamic: Any,
            loc: Any,
            reset_keys: Any,
            ins: Any,
            dones: Any,
            rewards: Any,
            step_keys: Any,
        ) -> Any:
            """`step_reset` and every step's `on_step` on each environment alone, from
            the batched episode's split callback and stacked inputs; returns the flat
            leaves of the reset and step states, laid out as the batched episode's."""
            callback, env, policy = eqx.combine(dynamic, static.tree())
            rest = step_static.tree()
            reset_keys, step_keys = wrap(reset_keys, impl), wrap(step_keys, impl)

            def arrays(state: Any) -> Any:
                dynamic, others = eqx.partition(state, eqx.is_array)
                if not eqx.tree_equal(others, rest):
                    raise NotUniform
                return dynamic

            reset = lax.map(
                lambda k: arrays(single["step_reset"](callback, loc, k)), reset_keys
            )
            length, num_envs = dones.shape

            def one(xs: tuple[Any, ...]) -> Any:
                state, done, reward, key = xs
                state = eqx.combine(state, rest)
                return arrays(
                    single["on_step"](
                        callback, state, env, policy, done, reward, loc, key
                    )
                )

            flat = jax.tree.map(
                lambda x: x.reshape((length * num_envs, *x.shape[2:])),
                (ins, dones, rewards, step_keys),
            )
            outs = lax.map(one, flat)
            outs = jax.tree.map(
                lambda x: x.reshape((length, num_envs, *x.shape[1:])), outs
            )
            return jax.tree.leaves(reset), jax.tree.leaves(outs)

        made["alone"] = jax.jit(run, static_argnums=(0, 1, 2))
    return made["alone"]


def _same_leaves(a: list[Any], b: list[Any]) -> bool:
    """Whether two lists of leaves hold the same values, as `mismatch` compares
    them (`first_mismatch`'s tolerances)."""
    return len(a) == len(b) and all(
        same_leaf(comparable(x), comparable(y), rtol=RTOL, atol=ATOL)
        for x, y in zip(a, b, strict=True)
    )


def _first(tree: Any, count: int) -> Any:
    """The first `count` rows of each array leaf of `tree`."""
    return jax.tree.map(
        lambda x: x[:count] if isinstance(x, np.ndarray | jax.Array) else x, tree
    )


_ADVICE = REGISTRY["vmap"].fallback_advice


def check_vmap(subject: Subject) -> list[Failure]:
    """`vmap` failures: a step method whose batched result differs from calling it on
    each environment alone, or a method that fails with batched step states or (first
    few examples) with one environment. A jitted episode is compared whole, and call
    by call only when that fails, to name the method."""
    num_envs = max(subject.num_envs, 2)
    batched = Invoker(jit=True, batched=True, share=True)
    single = Invoker(jit=True, batched=False, share=True)
    alone = {
        method: _each_alone(method, subject.context.contexts)
        for method in _BATCHED_ARGS
    }
    all_alone = _alone_episode(subject.context.contexts)

    def mismatch(method: str, output: Any, each: Any) -> Failure | None:
        where = first_mismatch(output, each, rtol=RTOL, atol=ATOL, path="step_state")
        if where is None:
            return None
        return Failure(
            "vmap",
            method,
            f"`{method}` under `jax.vmap` over {num_envs} environments differs "
            f"from calling it on each environment alone, at `{where}`.",
            leaf=where,
            advice="Make the method depend only on its own environment's context "
            "and key; a host callback used under vmap must handle a batch "
            "(`jax.pure_callback(..., vmap_method=...)`).",
        )

    def compare(call: Call) -> Failure | None:
        try:
            each = alone[call.method](subject.callback, *call.args)
        except Exception as error:
            return method_failure(
                "vmap",
                error,
                subject,
                method=call.method,
                doing="called on each environment alone ",
                advice=_ADVICE,
            )
        return mismatch(call.method, call.output, each)

    def compare_episode(trajectory: Trajectory) -> Failure | None:
        """Every step of a jitted episode at once; raises when the methods fail
        on each environment alone (then `compare` names the method)."""
        run = trajectory.episode
        dynamic, static = run.parts
        reset, outs = all_alone(
            static,
            StaticPart(run.step_static),
            run.keys.impl,
            dynamic,
            run.numbers["loc"],
            run.keys.reset,
            run.ins,
            run.numbers["dones"],
            run.numbers["rewards"],
            run.keys.stacked,
        )
        step_reset = trajectory.calls[1]
        count = run.num_steps
        # Leaf by leaf first (outputs of the episode are arrays only, in the
        # order of their dynamic parts); the trees are made only for a mismatch.
        if _same_leaves(jax.tree.leaves(step_reset.output), reset) and _same_leaves(
            [comparable(x)[:count] for x in jax.tree.leaves(run.outs)],
            [comparable(x)[:count] for x in outs],
        ):
            return None
        treedef = jax.tree.structure(run.outs)
        failure = mismatch(
            "step_reset",
            step_reset.output,
            eqx.combine(jax.tree.unflatten(treedef, reset), run.step_static),
        )
        if failure is not None:
            return failure
        batched_outs = eqx.combine(_first(host(run.outs), count), run.step_static)
        alone_outs = eqx.combine(
            _first(jax.tree.unflatten(treedef, host(outs)), count), run.step_static
        )
        return mismatch("on_step", batched_outs, alone_outs)

    def compare_all(trajectory: Trajectory) -> list[Failure]:
        if trajectory.episode is not None:
            try:
                failure = compare_episode(trajectory)
            except Exception:
                pass  # compared call by call below, to name the method
            else:
                return [] if failure is None else [failure]
        for call in trajectory.calls:
            if call.method in alone:
                failure = compare(call)
                if failure is not None:
                    return [failure]
        return []

    def test(scenario: Scenario) -> list[Failure]:
        try:
            trajectory = drive(subject.callback, scenario, batched, subject.context)
        except MethodError as error:
            doing = f"with step states batched over {num_envs} environments "
            return [method_failure("vmap", error, subject, doing=doing, advice=_ADVICE)]
        found = compare_all(trajectory)
        if found or id(scenario) in later:
            return found
        try:
            drive(subject.callback, scenario, single, subject.context)
        except MethodError as error:
            doing = "with one (unbatched) environment "
            return [method_failure("vmap", error, subject, doing=doing, advice=_ADVICE)]
        return []

    # One unbatched environment changes the shapes the methods see, and a shape
    # error shows on any example: only the first few examples also run unbatched.
    later = subject.beyond_few("vmap", num_envs)
    return find_failure(subject, "vmap", test, num_envs=num_envs)
