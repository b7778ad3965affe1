"""The callback API: abstract bases, generic parameters, contexts, composition."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import pytest
from jaxtyping import Array, Float, Int, Key

import lerax_callback as lc
from lerax_testing import run_training

PUBLIC_API = {
    "AbstractCallback",
    "AbstractCallbackState",
    "AbstractCallbackStepState",
    "AbstractEnvLike",
    "AbstractIterationCallback",
    "AbstractPolicy",
    "AbstractStatelessCallback",
    "AbstractStepCallback",
    "AbstractTrainingCallback",
    "CallbackList",
    "CallbackListState",
    "CallbackListStepState",
    "EarlyStoppingCallback",
    "EarlyStoppingState",
    "EmptyCallback",
    "EmptyCallbackState",
    "EmptyCallbackStepState",
    "EpisodeStatsCallback",
    "EpisodeStatsState",
    "EpisodeStatsStepState",
    "IterationContext",
    "ProgressBarCallback",
    "ProgressBarState",
    "ProgressBarStepState",
    "ResetContext",
    "StepContext",
    "TextProgressBar",
    "TrainingContext",
    "TypeCheckError",
    "callback_state_types",
    "check_fields",
    "enable_typechecking",
    "typecheck_call",
    "typechecked",
    "is_checking",
    "to_lerax",
    "typechecking_enabled",
}


class CountState(lc.AbstractCallbackState):
    count: Int[Array, ""]


class RewardStepState(lc.AbstractCallbackStepState):
    total: Float[Array, ""]


class StepCounter(lc.AbstractStepCallback[RewardStepState]):
    """Sums rewards per environment."""

    def step_reset(
        self, ctx: lc.ResetContext, *, key: Key[Array, ""]
    ) -> RewardStepState:
        return RewardStepState(jnp.zeros((), jnp.float32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> RewardStepState:
        return RewardStepState(ctx.state.total + ctx.reward.astype(jnp.float32))


class IterationCounter(lc.AbstractIterationCallback[CountState]):
    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> CountState:
        return CountState(jnp.zeros((), jnp.int32))

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> CountState:
        return CountState(ctx.state.count + 1)


class StartEnd(lc.AbstractTrainingCallback[CountState]):
    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> CountState:
        return CountState(jnp.zeros((), jnp.int32))

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> CountState:
        return CountState(ctx.state.count + 10)

    def on_training_end(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> CountState:
        return CountState(ctx.state.count + 100)


class StopAfter(IterationCounter):
    limit: int = 2

    def continue_training(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> jax.Array:
        return ctx.state.count < self.limit


def test_public_api_is_exactly_what_we_export():
    # pytest's assertion rewriting adds `@py_builtins`-style names to modules of
    # packages with a pytest plugin; those are not ours.
    exported = {name for name in dir(lc) if not name.startswith(("_", "@"))}
    assert exported == PUBLIC_API


@pytest.mark.parametrize(
    "base",
    [
        lc.AbstractCallback,
        lc.AbstractStatelessCallback,
        lc.AbstractStepCallback,
        lc.AbstractIterationCallback,
        lc.AbstractTrainingCallback,
    ],
)
def test_abstract_bases_refuse_to_instantiate(base):
    with pytest.raises(TypeError, match="abstract"):
        base()


def test_partial_bases_leave_exactly_the_documented_methods_abstract():
    def abstract(cls):
        return set(cls.__abstractmethods__)

    events = {"on_step", "on_iteration", "on_training_start", "on_training_end"}
    assert abstract(lc.AbstractStatelessCallback) == events
    assert abstract(lc.AbstractStepCallback) == {"step_reset", "on_step"}
    assert abstract(lc.AbstractIterationCallback) == {"reset", "on_iteration"}
    assert abstract(lc.AbstractTrainingCallback) == {
        "reset",
        "on_training_start",
        "on_training_end",
    }


def test_a_subclass_missing_a_method_refuses_to_instantiate():
    class Incomplete(lc.AbstractStepCallback[RewardStepState]):
        def step_reset(self, ctx, *, key):
            return RewardStepState(jnp.zeros(()))

    with pytest.raises(TypeError, match="on_step"):
        Incomplete()


class Direct(lc.AbstractCallback[CountState, RewardStepState]):
    reset = step_reset = on_step = on_iteration = None  # type: ignore[assignment]
    on_training_start = on_training_end = None  # type: ignore[assignment]


class Subclassed(Direct):
    pass


@pytest.mark.parametrize(
    ("callback", "expected"),
    [
        (Direct, (CountState, RewardStepState)),
        (Subclassed, (CountState, RewardStepState)),
        (StepCounter, (lc.EmptyCallbackState, RewardStepState)),
        (StepCounter(), (lc.EmptyCallbackState, RewardStepState)),
        (IterationCounter, (CountState, lc.EmptyCallbackStepState)),
        (StartEnd, (CountState, lc.EmptyCallbackStepState)),
        (lc.EmptyCallback, (lc.EmptyCallbackState, lc.EmptyCallbackStepState)),
        (lc.CallbackList, (lc.CallbackListState, lc.CallbackListStepState)),
    ],
)
def test_generic_parameters_are_recoverable(callback, expected):
    assert lc.callback_state_types(callback) == expected


def test_unparameterised_state_types_come_back_as_type_variables():
    state_type, step_state_type = lc.callback_state_types(lc.AbstractStepCallback)
    assert state_type is lc.EmptyCallbackState
    assert step_state_type.__bound__ is lc.AbstractCallbackStepState


def test_state_types_of_a_non_callback_is_a_clear_error():
    with pytest.raises(TypeError, match="AbstractCallback"):
        lc.callback_state_types(int)


def test_contexts_keep_the_documented_positional_order():
    def names(cls):
        return [f.name for f in cls.__dataclass_fields__.values()]

    assert names(lc.ResetContext) == ["locals"]
    assert names(lc.StepContext) == [
        "state",
        "env",
        "policy",
        "done",
        "reward",
        "locals",
    ]
    assert names(lc.IterationContext) == [
        "state",
        "step_state",
        "env",
        "policy",
        "iteration_count",
        "opt_state",
        "training_log",
        "locals",
    ]
    assert names(lc.TrainingContext) == [
        "state",
        "step_state",
        "env",
        "policy",
        "total_timesteps",
        "iteration_count",
        "opt_state",
        "locals",
    ]


def test_contexts_accept_any_environment_and_policy_object():
    class NotOurs:
        pass

    ctx = lc.StepContext(
        lc.EmptyCallbackStepState(),
        NotOurs(),
        NotOurs(),
        jnp.array(False),
        jnp.array(1.0),
        {},
    )
    assert isinstance(ctx.env, NotOurs)


def test_default_continue_training_is_a_true_scalar():
    flag = lc.EmptyCallback().continue_training(None, key=jr.key(0))
    assert flag.shape == ()
    assert flag.dtype == jnp.bool_
    assert bool(flag)


@pytest.mark.parametrize("num_envs", [1, 3])
def test_partial_bases_run_in_the_reference_loop(num_envs):
    result = run_training(StepCounter(), num_envs=num_envs, num_iterations=3)
    assert result.step_state.total.shape == (() if num_envs == 1 else (num_envs,))
    assert jnp.all(result.step_state.total != 0)
    assert int(run_training(IterationCounter(), num_envs=num_envs).state.count) == 4
    assert int(run_training(StartEnd(), num_envs=num_envs).state.count) == 110


@pytest.mark.parametrize("num_envs", [1, 3])
def test_callback_list_composes_heterogeneous_children(num_envs):
    children = [StepCounter(), IterationCounter(), StartEnd(), lc.EmptyCallback()]
    result = run_training(lc.CallbackList(children), num_envs=num_envs)
    alone = run_training(StepCounter(), num_envs=num_envs)
    states, step_states = result.state.states, result.step_state.states
    assert int(states[1].count) == 4
    assert int(states[2].count) == 110
    assert isinstance(states[3], lc.EmptyCallbackState)
    assert step_states[0].total.shape == alone.step_state.total.shape
    assert isinstance(step_states[1], lc.EmptyCallbackStepState)


def test_callback_list_gives_each_child_its_own_key():
    class KeyEcho(lc.AbstractIterationCallback[CountState]):
        def reset(self, ctx, *, key):
            return CountState(jr.randint(key, (), 0, 2**30))

        def on_iteration(self, ctx, *, key):
            return ctx.state

    state = lc.CallbackList([KeyEcho(), KeyEcho()]).reset(
        lc.ResetContext({}), key=jr.key(0)
    )
    assert int(state.states[0].count) != int(state.states[1].count)


def test_callback_list_continues_only_while_every_child_agrees():
    result = run_training(
        lc.CallbackList([StopAfter(limit=5), StopAfter(limit=2)]),
        num_envs=2,
        num_iterations=6,
    )
    assert int(result.iterations_run) == 2
    assert result.continue_flags.tolist() == [True, False, False, False, False, False]


def test_callback_list_rejects_a_class_in_place_of_an_instance():
    with pytest.raises(TypeError, match=r"StepCounter\(\)"):
        lc.CallbackList([StepCounter])


def test_an_empty_callback_list_runs():
    result = run_training(lc.CallbackList([]), num_envs=2)
    assert result.state.states == []
    assert int(result.iterations_run) == 4


def test_callbacks_are_modules_usable_under_filter_jit():
    @eqx.filter_jit
    def step(callback, ctx, key):
        return callback.on_step(ctx, key=key)

    ctx = lc.StepContext(
        RewardStepState(jnp.zeros((), jnp.float32)),
        None,
        None,
        jnp.array(False),
        jnp.array(2.0),
        {},
    )
    assert float(step(StepCounter(), ctx, jr.key(0)).total) == 2.0
