"""Runtime type checking: contexts, state fields, arguments and return values."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import pytest
from jaxtyping import Array, Bool, Float, Int, Key

import lerax_callback as lc
from lerax_callback._contexts import StateType
from lerax_testing import run_training

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _switch_is_restored():
    before = lc.typechecking_enabled()
    yield
    assert lc.typechecking_enabled() == before, "a test left the switch changed"


@pytest.fixture
def checking():
    with lc.enable_typechecking():
        yield


@pytest.fixture
def not_checking():
    with lc.enable_typechecking(False):
        yield


class Count(lc.AbstractCallbackState):
    count: Int[Array, ""]


class Total(lc.AbstractCallbackStepState):
    total: Float[Array, ""]


class Stranger(lc.AbstractCallbackState):
    pass


class Scaled(lc.AbstractCallbackStepState):
    """A custom `__init__`, a static field and a dimension shared by two fields."""

    values: Float[Array, " n"]
    mask: Bool[Array, " n"]
    scale: float = eqx.field(static=True)

    def __init__(self, values: Array, mask: Array, scale: float = 1.0):
        self.values = values * scale
        self.mask = mask
        self.scale = scale


@lc.typechecked
class OptedIn(lc.AbstractCallbackStepState):
    """Checked whatever the switch says, custom `__init__` included."""

    level: Int[Array, ""]

    def __init__(self, level: Array):
        self.level = level


class Boxed(lc.AbstractCallbackState, Generic[T]):
    inner: T


class BoxedCount(Boxed[Count]):
    pass


class Named(lc.AbstractCallbackState):
    name: eqx.AbstractVar[str]


class Concrete(Named):
    name: str


class Summer(lc.AbstractCallback[Count, Total]):
    """Unannotated, not opted in: held to the API's annotations when checked."""

    def reset(self, ctx, *, key):
        return Count(jnp.zeros((), jnp.int32))

    def step_reset(self, ctx, *, key):
        return Total(jnp.zeros((), jnp.float32))

    def on_step(self, ctx, *, key):
        return Total(ctx.state.total + ctx.reward)

    def on_iteration(self, ctx, *, key):
        return Count(ctx.state.count + 1)

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state


class Sloppy(Summer):
    """Runs under JAX, but its states break their annotations."""

    def reset(self, ctx, *, key):
        return Stranger()

    def on_step(self, ctx, *, key):
        return Total(ctx.state.total.astype(jnp.int32))


@lc.typechecked
class Iterations(lc.AbstractIterationCallback[Count]):
    """Opted in, annotated with the generic `StateType`."""

    wrong: bool = eqx.field(static=True, default=False)

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> StateType:
        return Stranger() if self.wrong else Count(jnp.zeros((), jnp.int32))

    def on_iteration(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> StateType:
        return Count(ctx.state.count + 1)


def step_context(
    state: object = None, *, done: Array | None = None, reward: Array | None = None
) -> lc.StepContext:
    return lc.StepContext(
        Total(jnp.zeros((), jnp.float32)) if state is None else state,
        None,
        None,
        jnp.array(False) if done is None else done,
        jnp.array(1.0) if reward is None else reward,
        {},
    )


KEY = jr.key(0)


# ----------------------------------------------------------------------- contexts


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        (
            {"done": jnp.zeros(4, bool)},
            r"Field `done` of `StepContext`.*\n.*expected: `Bool\[Array, ''\]`: an "
            r"array of shape \(\) and dtype bool\n.*found: +a `jax.Array` of shape "
            r"\(4,\) and dtype bool\n(.|\n)*vmap",
        ),
        (
            {"reward": jnp.array(1, jnp.int32)},
            r"Field `reward` of `StepContext`.*\n.*any `Float` dtype\n.*found: +a "
            r"`jax.Array` of shape \(\) and dtype int32",
        ),
    ],
    ids=["batched-done", "integer-reward"],
)
def test_a_wrong_context_is_caught_naming_context_field_expected_and_found(
    checking, fields, match
):
    with pytest.raises(lc.TypeCheckError, match=match) as info:
        step_context(**fields)
    assert info.value.__cause__ is not None, "the type checker's error is chained"
    assert step_context().reward.shape == ()


def test_contexts_are_checked_at_trace_time_and_per_environment_under_vmap(checking):
    traces = 0

    @jax.jit
    def reward_of(done: Array, reward: Array) -> Array:
        nonlocal traces
        traces += 1
        return step_context(done=done, reward=reward).reward

    batched = jax.vmap(reward_of)(jnp.zeros(3, bool), jnp.ones(3))
    assert batched.shape == (3,)
    with pytest.raises(lc.TypeCheckError, match=r"traced `jax.Array` of shape \(3,\)"):
        reward_of(jnp.zeros(3, bool), jnp.ones(3))
    assert traces == 2


def test_contexts_accept_anything_as_env_and_policy_when_checked(checking):
    ctx = lc.StepContext(
        Total(jnp.zeros(())), object(), "policy", jnp.array(True), jnp.array(0.5), {}
    )
    assert ctx.policy == "policy"


# -------------------------------------------------------------------------- states


def test_a_wrong_state_field_is_caught_when_checking_is_on(checking):
    with pytest.raises(
        lc.TypeCheckError,
        match=r"Field `count` of `Count`(.|\n)*any `Int` dtype\n.*dtype float32",
    ):
        Count(jnp.array(1.5))
    assert int(Count(jnp.array(1)).count) == 1


def test_a_custom_init_state_is_checked_with_shared_dimension_names(checking):
    with pytest.raises(
        lc.TypeCheckError,
        match=r"Field `mask` of `Scaled`(.|\n)*shape \(4,\)(.|\n)*bound so far.*n=3",
    ):
        Scaled(jnp.ones(3), jnp.ones(4, bool))
    assert Scaled(jnp.ones(3), jnp.ones(3, bool), scale=2.0).values.shape == (3,)


def test_an_opted_in_state_is_checked_with_the_switch_off(not_checking):
    with pytest.raises(lc.TypeCheckError, match="Field `level` of `OptedIn`"):
        OptedIn(jnp.array(0.5))
    assert int(OptedIn(jnp.array(2)).level) == 2
    Count(jnp.array(1.5))  # not opted in, switch off: unchecked


def test_generic_and_abstract_var_fields_are_checked_as_what_they_stand_for():
    with pytest.raises(
        lc.TypeCheckError, match=r"Field `inner` of `BoxedCount`(.|\n)*`Stranger`"
    ):
        lc.check_fields(BoxedCount(Stranger()))
    lc.check_fields(Boxed(Stranger()))  # `T` left open: not checked
    with pytest.raises(lc.TypeCheckError, match=r"Field `name` of `Concrete`"):
        lc.check_fields(Concrete(3))  # type: ignore[arg-type]
    lc.check_fields(Concrete("ok"))


def test_check_fields_catches_values_built_without_init():
    drifted = jax.tree.map(lambda x: x.astype(jnp.float32), Count(jnp.array(1)))
    with pytest.raises(lc.TypeCheckError, match="Field `count` of `Count`"):
        lc.check_fields(drifted)
    with pytest.raises(TypeError, match="instance"):
        lc.check_fields(Count)


# ------------------------------------------------- arguments and return values


@lc.typechecked
def combine(x: Float[Array, " n"], y: Float[Array, " n"]) -> Float[Array, " n"]:
    return jnp.concatenate([x, y]) if x.shape == (1,) else x + y


def test_arguments_and_return_values_share_dimension_names_within_a_call():
    assert combine(jnp.ones(3), jnp.ones(3)).shape == (3,)
    with pytest.raises(
        lc.TypeCheckError,
        match=r"Argument `y` of `combine`(.|\n)*found: +a `jax.Array` of shape "
        r"\(4,\)(.|\n)*n=3",
    ):
        combine(jnp.ones(3), jnp.ones(4))
    with pytest.raises(
        lc.TypeCheckError, match=r"The return value of `combine`(.|\n)*shape \(2,\)"
    ):
        combine(jnp.ones(1), jnp.ones(1))


def test_a_generic_return_annotation_is_checked_as_the_declared_state():
    with pytest.raises(
        lc.TypeCheckError,
        match=r"The return value of `Iterations.reset`(.|\n)*an instance of `Count` "
        r"\(what `StateType` stands for here\)\n.*found: +an instance of `Stranger`",
    ):
        Iterations(wrong=True).reset(lc.ResetContext({}), key=KEY)


@pytest.mark.parametrize("num_envs", [1, 3])
def test_correct_opted_in_callbacks_run_unchanged_in_the_jitted_vmapped_loop(
    num_envs,
):
    result = run_training(Iterations(), num_envs=num_envs, num_iterations=3)
    assert int(result.state.count) == 3


def test_subclasses_of_an_opted_in_callback_are_checked_too(not_checking):
    class Derived(Iterations):
        def on_iteration(self, ctx, *, key):
            return Stranger()

    ctx = lc.IterationContext(
        Count(jnp.array(0)),
        lc.EmptyCallbackStepState(),
        None,
        None,
        jnp.array(1),
        {},
        {},
        {},
    )
    with pytest.raises(lc.TypeCheckError, match="return value of `Derived"):
        Derived().on_iteration(ctx, key=KEY)


def test_a_wrong_argument_and_a_wrong_context_state_are_caught(checking):
    with pytest.raises(
        lc.TypeCheckError,
        match=r"Argument `key` of `Summer.on_step`(.|\n)*shape \(2,\) and dtype uint32",
    ):
        Summer().on_step(step_context(), key=jax.random.PRNGKey(0))
    with pytest.raises(
        lc.TypeCheckError,
        match=r"`ctx.state` of `Summer.on_step`(.|\n)*an instance of `Total`",
    ):
        Summer().on_step(step_context(lc.EmptyCallbackStepState()), key=KEY)


class _Counted(type):
    checks = 0

    def __instancecheck__(cls, instance: object) -> bool:
        if instance is not None:  # beartype probes the class once with `None`
            _Counted.checks += 1
        return True


class Anything(metaclass=_Counted):
    """An annotation that counts how often it is checked."""


@lc.typechecked
def double(x: Anything) -> Anything:
    return 2 * x


def test_checks_run_at_trace_time_only_under_jit():
    jitted = jax.jit(double)
    before = _Counted.checks
    for _ in range(3):
        jitted(jnp.ones(2))
    assert _Counted.checks - before == 2  # argument and return value, while tracing
    double(jnp.ones(2))
    assert _Counted.checks - before == 4  # and at every eager call


# --------------------------------------------------------------------- the switch


def test_the_switch_covers_classes_defined_before_and_after_and_comes_off(
    not_checking,
):
    original = vars(Summer)["on_step"]
    with lc.enable_typechecking():
        assert lc.typechecking_enabled()
        with pytest.raises(lc.TypeCheckError, match="Argument `ctx` of `Summer"):
            Summer().on_step(lc.ResetContext({}), key=KEY)

        class Later(Summer):
            def on_iteration(self, ctx, *, key):
                return Total(jnp.zeros(()))

        with pytest.raises(lc.TypeCheckError, match="return value of `Later"):
            Later().on_iteration(
                lc.IterationContext(
                    Count(jnp.array(0)),
                    Total(jnp.zeros(())),
                    None,
                    None,
                    jnp.array(1),
                    {},
                    {},
                    {},
                ),
                key=KEY,
            )
        with lc.enable_typechecking(False):
            assert vars(Summer)["on_step"] is original
        assert vars(Summer)["on_step"] is not original
    assert vars(Summer)["on_step"] is original, "off, methods are not wrapped"
    assert not hasattr(vars(Later)["on_iteration"], "__wrapped__")


def test_the_switch_checks_a_whole_jitted_training_run(checking):
    class Drifting(lc.AbstractStepCallback[Total]):
        # Consistent for JAX (an int32 carry), wrong for the annotation.
        def step_reset(self, ctx, *, key):
            return Total(jnp.zeros((), jnp.int32))

        def on_step(self, ctx, *, key):
            return Total(ctx.state.total + 1)

    with pytest.raises(
        lc.TypeCheckError, match=r"Field `total` of `Total`(.|\n)*traced"
    ):
        run_training(Drifting(), num_envs=2, num_iterations=1)
    with lc.enable_typechecking(False):
        result = run_training(Drifting(), num_envs=2, num_iterations=1, num_steps=2)
    assert result.step_state.total.dtype == jnp.int32


def test_the_switch_takes_only_a_bool():
    with pytest.raises(TypeError, match=r"enable_typechecking\(True\)"):
        lc.enable_typechecking("yes")  # type: ignore[arg-type]


def test_typechecked_refuses_what_it_cannot_check():
    with pytest.raises(TypeError, match="equinox.Module"):
        lc.typechecked(int)
    with pytest.raises(TypeError, match="functions"):
        lc.typechecked(3)


def test_the_error_is_a_type_error_with_a_public_path():
    assert issubclass(lc.TypeCheckError, TypeError)
    assert lc.TypeCheckError.__module__ == "lerax_callback"


# -------------------------------------------------------------------- typecheck_call


def test_typecheck_call_checks_callbacks_that_did_not_opt_in(not_checking):
    with pytest.raises(
        lc.TypeCheckError,
        match=r"The return value of `Sloppy.reset`(.|\n)*an instance of `Count`",
    ):
        lc.typecheck_call(Sloppy(), "reset", lc.ResetContext({}), key=KEY)
    with pytest.raises(
        lc.TypeCheckError,
        match=r"Field `total` of `Total` \(the return value of `Sloppy.on_step`\)"
        r"(.|\n)*dtype int32",
    ):
        lc.typecheck_call(Sloppy(), "on_step", step_context(), key=KEY)
    bad = lc.StepContext(
        Total(jnp.zeros(())), None, None, jnp.zeros(2, bool), jnp.array(1.0), {}
    )  # built with checking off: only `typecheck_call` sees it
    with pytest.raises(
        lc.TypeCheckError,
        match=r"Field `done` of `StepContext` \(`ctx` passed to `Summer.on_step`\)",
    ):
        lc.typecheck_call(Summer(), "on_step", bad, key=KEY)


def test_typecheck_call_returns_what_the_method_returns_under_jit_and_vmap():
    @jax.jit
    def on_step(total: Array, reward: Array) -> Array:
        ctx = step_context(Total(total), reward=reward)
        return lc.typecheck_call(Summer(), "on_step", ctx, key=KEY).total

    totals = jax.vmap(on_step)(jnp.zeros(3), jnp.ones(3))
    assert totals.tolist() == [1.0, 1.0, 1.0]


def test_typecheck_call_refuses_what_is_not_a_callback_method():
    with pytest.raises(TypeError, match=r"instance.*MyCallback\(\)"):
        lc.typecheck_call(Summer, "reset", lc.ResetContext({}), key=KEY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a method"):
        lc.typecheck_call(Summer(), "nothing", lc.ResetContext({}), key=KEY)


# ------------------------------------------------------- the environment variable


def _python(code: str, value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LERAX_TYPECHECK"}
    if value is not None:
        env["LERAX_TYPECHECK"] = value
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_environment_variable_switches_checking_on_for_a_whole_run():
    code = """
        import jax.numpy as jnp
        from jaxtyping import Array, Int
        import lerax_callback as lc
        from lerax_testing import run_training

        class N(lc.AbstractCallbackStepState):
            n: Int[Array, ""]

        class Steps(lc.AbstractStepCallback[N]):
            def step_reset(self, ctx, *, key):
                return N(jnp.zeros((), jnp.int32))

            def on_step(self, ctx, *, key):
                return ctx.state.n  # not a state: caught while tracing the loop

        assert lc.typechecking_enabled()
        N(jnp.array(1))
        for attempt in (lambda: N(jnp.array(1.5)), lambda: run_training(Steps())):
            try:
                attempt()
            except lc.TypeCheckError as error:
                print(str(error).splitlines()[0])
    """
    done = _python(code, "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Field `n` of `N` does not match its annotation.",
        "The return value of `Steps.on_step` does not match its annotation.",
    ]


def test_an_unrecognised_environment_value_is_a_clear_error():
    done = _python("import lerax_callback", "maybe")
    assert done.returncode != 0
    assert "LERAX_TYPECHECK='maybe' is not understood" in done.stderr


def test_checking_off_imports_no_type_checker_and_wraps_nothing():
    code = """
        import sys
        import lerax_callback as lc
        from lerax_testing import run_training

        run_training(lc.EmptyCallback(), num_iterations=1, num_steps=2)
        assert not lc.typechecking_enabled()
        assert "beartype" not in sys.modules, "checking off imported beartype"
        assert not hasattr(vars(lc.EmptyCallback)["on_step"], "__wrapped__")
    """
    done = _python(code, "0")
    assert done.returncode == 0, done.stderr
