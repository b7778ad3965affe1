"""The context-mutation part of `purity`: what counts as an in-place change."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Key

import lerax_callback as lc
from lerax_testing import check_callback
from lerax_testing._checks._mutation import changes, snapshot

# `on_iteration`'s arguments after the callback: state, step_state, env, policy,
# count, opt, log, loc, key.


def _args(log: dict[str, Any], loc: dict[str, Any]) -> tuple[Any, ...]:
    zero = jnp.zeros(())
    return (None, None, None, None, zero, {"step": zero}, log, loc, None)


def _what(mutate: Any) -> list[str]:
    log: dict[str, Any] = {"loss": jnp.ones(())}
    loc: dict[str, Any] = {"history": [jnp.zeros(())], "value": 1.0}
    before = snapshot("on_iteration", _args(log, loc))
    mutate(log, loc)
    return [m.what for m in changes("on_iteration", before)]


def test_an_untouched_context_has_no_changes() -> None:
    assert _what(lambda log, loc: None) == []


def test_added_removed_and_replaced_keys_are_named() -> None:
    def mutate(log: dict[str, Any], loc: dict[str, Any]) -> None:
        log["lr"] = jnp.ones(())
        log["loss"] = log["loss"] + 1
        del loc["value"]

    assert sorted(_what(mutate)) == [
        "adds the key 'lr' to `ctx.training_log`",
        "removes the key 'value' from `ctx.locals`",
        "replaces `ctx.training_log['loss']`",
    ]


def test_list_appends_and_item_changes_are_named() -> None:
    def append(log: dict[str, Any], loc: dict[str, Any]) -> None:
        loc["history"].extend([jnp.ones(()), jnp.ones(())])

    def replace(log: dict[str, Any], loc: dict[str, Any]) -> None:
        loc["history"][0] = jnp.ones(())

    def shrink(log: dict[str, Any], loc: dict[str, Any]) -> None:
        loc["history"].pop()

    assert _what(append) == ["appends to `ctx.locals['history']`"]
    assert _what(replace) == ["replaces `ctx.locals['history'][0]`"]
    assert _what(shrink) == [
        "changes the length of `ctx.locals['history']` from 1 to 0"
    ]


def test_a_rebuilt_copy_is_no_change() -> None:
    def copy(log: dict[str, Any], loc: dict[str, Any]) -> None:
        new = {**log, "lr": jnp.ones(())}
        new["loss"] = jnp.zeros(())

    assert _what(copy) == []


class History(lc.AbstractCallbackStepState):
    rewards: list[Array]


class AppendsToItsState(lc.AbstractStepCallback[History]):
    """Appends to a list inside the step state it received, then returns it."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> History:
        return History([jnp.zeros((), jnp.float32)])

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> History:
        ctx.state.rewards[0] = ctx.state.rewards[0] + ctx.reward.astype(jnp.float32)
        return ctx.state


def test_a_list_inside_a_state_changed_in_place_is_reported_with_its_line() -> None:
    report = check_callback(
        AppendsToItsState(), checks=["purity"], seed=0, max_examples=2
    )
    failure = report.result("purity").failures[0]
    assert failure.method == "on_step"
    assert "replaces `ctx.state.rewards[0]`" in failure.message
    assert failure.location is not None
    assert failure.location[0] == __file__
    assert "copy" in (failure.advice or "").lower()


def test_recording_containers_are_pytrees_like_their_bases() -> None:
    from lerax_testing._checks._recording import Recorder, record

    recorded = record({"b": [1.0, 2.0], "a": 3.0}, Recorder(None), "ctx.locals")
    leaves, treedef = jax.tree_util.tree_flatten(recorded)
    assert leaves == [3.0, 1.0, 2.0]
    assert jax.tree.map(lambda x: x * 2, recorded) == {"a": 6.0, "b": [2.0, 4.0]}
