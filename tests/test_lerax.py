"""Our callbacks in Lerax's own algorithms (`to_lerax`), and Lerax's callbacks in
our type checker. Needs Lerax (Python >= 3.13); skipped where it is not installed.

Each training run compiles a PPO (about 5 s on two cores), so there are few.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip(
    "lerax",
    reason='Lerax is not installed: `pip install -e ".[test,lerax]"` on Python 3.13',
)

import equinox as eqx  # noqa: E402
import fake_lerax_api as fake  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import lerax.callback as lx  # noqa: E402
from jaxtyping import Array, Float, Key  # noqa: E402
from lerax.algorithm import PPO  # noqa: E402
from lerax.env.classic_control import CartPole  # noqa: E402
from lerax.policy import MLPActorCriticPolicy  # noqa: E402

import lerax_callback as lc  # noqa: E402
from lerax_testing import strategies as lst  # noqa: E402
from lerax_testing._engine._arrays import host_locals  # noqa: E402

pytestmark = pytest.mark.lerax

NUM_ENVS, NUM_STEPS, ITERATIONS = 2, 64, 20
TOTAL_TIMESTEPS = NUM_ENVS * NUM_STEPS * ITERATIONS


@pytest.fixture(autouse=True)
def _switch_is_restored():
    before = lc.typechecking_enabled()
    yield
    assert lc.typechecking_enabled() == before, "a test left the switch changed"


class Value(lc.AbstractCallbackState):
    value: Float[Array, ""]


class StepValue(lc.AbstractCallbackStepState):
    value: Float[Array, ""]


class Probe(lc.AbstractCallback[Value, StepValue]):
    """Every result depends on the key and on each field of the context, and every
    method insists on getting our context classes."""

    def reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> Value:
        assert type(ctx) is lc.ResetContext
        return Value(jr.uniform(key) + ctx.locals["offset"])

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> StepValue:
        assert type(ctx) is lc.ResetContext
        return StepValue(jr.uniform(key) - ctx.locals["offset"])

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> StepValue:
        assert type(ctx) is lc.StepContext
        value = ctx.state.value + ctx.reward + ctx.done + jr.uniform(key)
        return StepValue(value + ctx.env + ctx.policy + ctx.locals["offset"])

    def _iteration(self, ctx: lc.IterationContext, key: Key[Array, ""]) -> Array:
        assert type(ctx) is lc.IterationContext
        return (
            ctx.state.value
            + jnp.sum(ctx.step_state.value)
            + ctx.iteration_count
            + ctx.opt_state
            + ctx.training_log["loss"]
            + ctx.env
            + ctx.policy
            + ctx.locals["offset"]
            + jr.uniform(key)
        )

    def on_iteration(self, ctx: lc.IterationContext, *, key: Key[Array, ""]) -> Value:
        return Value(self._iteration(ctx, key))

    def _training(self, ctx: lc.TrainingContext, key: Key[Array, ""]) -> Array:
        assert type(ctx) is lc.TrainingContext
        return (
            ctx.state.value
            + jnp.sum(ctx.step_state.value)
            + ctx.total_timesteps
            + ctx.iteration_count
            + ctx.opt_state
            + ctx.env
            + ctx.policy
            + ctx.locals["offset"]
            + jr.uniform(key)
        )

    def on_training_start(
        self, ctx: lc.TrainingContext, *, key: Key[Array, ""]
    ) -> Value:
        return Value(self._training(ctx, key))

    def on_training_end(self, ctx: lc.TrainingContext, *, key: Key[Array, ""]) -> Value:
        return Value(-self._training(ctx, key))

    def continue_training(
        self, ctx: lc.IterationContext, *, key: Key[Array, ""]
    ) -> Array:
        return self._iteration(ctx, key) < 10.0


class CurriculumProbe(Probe):
    def apply_curriculum(self, state: object, callback_state: Value) -> tuple:
        return state, Value(callback_state.value + 100.0)


def _contexts(family: object) -> dict[str, object]:
    """One context of each kind from `family` (`lerax.callback` or ours), with the
    same field values, made by field name; a field only newer Lerax has
    (`algorithm`) gets a placeholder, which the bridge must not pass on."""
    state, step_state = Value(jnp.array(1.0)), StepValue(jnp.array([2.0, 3.0]))
    values = {
        "env": jnp.array(4.0),
        "policy": jnp.array(5.0),
        "opt_state": jnp.array(6.0),
        "locals": {"offset": jnp.array(7.0)},
        "iteration_count": jnp.array(8, jnp.int32),
        "done": jnp.array(True),
        "reward": jnp.array(0.5),
        "training_log": {"loss": jnp.array(0.25)},
        "total_timesteps": 1000,
        "algorithm": "the algorithm",
    }

    def make(cls: type, **own: object) -> object:
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{n: own[n] if n in own else values[n] for n in names})

    return {
        "reset": make(family.ResetContext),
        "step": make(family.StepContext, state=StepValue(jnp.array(9.0))),
        "iteration": make(family.IterationContext, state=state, step_state=step_state),
        "training": make(family.TrainingContext, state=state, step_state=step_state),
    }


_KINDS = {
    "reset": "reset",
    "step_reset": "reset",
    "on_step": "step",
    "on_iteration": "iteration",
    "on_training_start": "training",
    "on_training_end": "training",
    "continue_training": "iteration",
}


@pytest.mark.parametrize("method", list(_KINDS))
def test_to_lerax_forwards_each_method_with_our_context(method):
    probe = Probe()
    bridge = lc.to_lerax(probe)
    key = jr.key(3)
    theirs = _contexts(lx)[_KINDS[method]]
    ours = _contexts(lc)[_KINDS[method]]
    expected = getattr(probe, method)(ours, key=key)
    assert eqx.tree_equal(getattr(bridge, method)(theirs, key=key), expected)


def test_to_lerax_ignores_fields_only_newer_lerax_has():
    probe = Probe()
    bridge = lc.to_lerax(probe)
    mine = _contexts(lc)["iteration"]
    newer = fake.IterationContext(
        *[getattr(mine, name) for name in ("state", "step_state", "env", "policy")],
        mine.iteration_count,
        mine.opt_state,
        mine.training_log,
        "the algorithm",
        mine.locals,
    )
    key = jr.key(4)
    assert eqx.tree_equal(
        bridge.on_iteration(newer, key=key), probe.on_iteration(mine, key=key)
    )


def test_apply_curriculum_is_forwarded_or_the_identity():
    state, cb_state = object(), Value(jnp.array(1.0))
    assert lc.to_lerax(Probe()).apply_curriculum(state, cb_state) == (state, cb_state)
    out_state, out = lc.to_lerax(CurriculumProbe()).apply_curriculum(state, cb_state)
    assert out_state is state
    assert float(out.value) == 101.0


def test_to_lerax_gives_a_lerax_callback_declaring_the_wrapped_state_types():
    bridge = lc.to_lerax(lc.EpisodeStatsCallback(writer=None))
    assert isinstance(bridge, lx.AbstractCallback)
    assert lc.callback_state_types(bridge) == (
        lc.EpisodeStatsState,
        lc.EpisodeStatsStepState,
    )
    # One class per wrapped class, so Lerax's jitted `learn` hits its cache.
    assert type(lc.to_lerax(lc.EpisodeStatsCallback(writer=None))) is type(bridge)
    assert lc.to_lerax(bridge) is bridge


def test_lerax_callbacks_and_foreign_families_are_not_wrapped():
    with pytest.raises(TypeError, match="port it to `lerax_callback.AbstractCallback`"):
        lc.to_lerax(fake.Counter())


def _learn(callback: lx.AbstractCallback) -> None:
    env = CartPole()
    policy = MLPActorCriticPolicy(env=env, key=jr.key(0))
    algorithm = PPO(num_envs=NUM_ENVS, num_steps=NUM_STEPS, num_epochs=4, num_batches=4)
    trained = algorithm.learn(
        env, policy, TOTAL_TIMESTEPS, key=jr.key(1), callback=callback
    )
    jax.block_until_ready(trained)
    jax.effects_barrier()


def _assert_plausible_cartpole_stats(rows: list[dict]) -> None:
    assert [row["iteration"] for row in rows] == list(range(1, ITERATIONS + 1))
    finished = [row for row in rows if row["episodes"] > 0]
    assert finished, "no CartPole episode finished in 2560 steps"
    for row in finished:
        # CartPole pays 1 per step and ends an episode within 500 steps; a
        # truncated episode's bootstrapped reward adds a little on top.
        assert 1.0 <= row["mean_return"] <= 500.0 + 100.0, row
        assert 1.0 <= row["mean_length"] <= 500.0, row
    assert finished[-1]["episodes"] >= finished[0]["episodes"]


def test_episode_stats_in_lerax_ppo_report_cartpole_returns():
    rows: list[dict] = []

    def writer(**row: object) -> None:
        rows.append(row)

    _learn(lc.to_lerax(lc.EpisodeStatsCallback(writer=writer)))
    _assert_plausible_cartpole_stats(rows)


def test_episode_stats_in_lerax_ppo_with_type_checking_on():
    rows: list[dict] = []

    def writer(**row: object) -> None:  # a new writer: a new trace, checks run
        rows.append(row)

    with lc.enable_typechecking():
        _learn(lc.to_lerax(lc.EpisodeStatsCallback(writer=writer)))
    _assert_plausible_cartpole_stats(rows)


class DriftingStep(lc.AbstractStepCallback[StepValue]):
    """Returns a float step state from `step_reset` but an int one from `on_step`."""

    def step_reset(self, ctx: lc.ResetContext, *, key: Key[Array, ""]) -> StepValue:
        return StepValue(jnp.zeros((), jnp.float32))

    def on_step(self, ctx: lc.StepContext, *, key: Key[Array, ""]) -> StepValue:
        return StepValue(jnp.zeros((), jnp.int32))


def test_type_checks_run_inside_lerax_training():
    """The check above can fail: a wrong dtype is caught while Lerax traces."""
    with (
        lc.enable_typechecking(),
        pytest.raises(lc.TypeCheckError, match=r"(?s)Field `value`.*int32"),
    ):
        _learn(lc.to_lerax(DriftingStep()))


def test_every_builtin_runs_in_lerax_ppo_and_early_stopping_cannot_stop_it():
    progress: list[dict] = []

    def show(**row: object) -> None:
        progress.append(row)

    callbacks = lc.CallbackList(
        [
            lc.EmptyCallback(),
            lc.ProgressBarCallback(writer=show),
            lc.EpisodeStatsCallback(writer=None),
            lc.EarlyStoppingCallback("loss", patience=1, mode="max"),
        ]
    )
    _learn(lc.to_lerax(callbacks))
    # Lerax 0.0.5 never calls `continue_training`: every iteration runs.
    assert progress[-1]["steps"] == TOTAL_TIMESTEPS
    assert len(progress) == ITERATIONS


class LeraxMine(lx.AbstractCallbackState):
    pass


class LeraxOther(lx.AbstractCallbackState):
    pass


def test_a_typechecked_lerax_callback_returning_the_wrong_state_names_both():
    @lc.typechecked
    class WrongReset(lx.AbstractIterationCallback[LeraxMine]):
        def reset(self, ctx, *, key):
            return LeraxOther()

        def on_iteration(self, ctx, *, key):
            return ctx.state

    assert lc.callback_state_types(WrongReset) == (
        LeraxMine,
        lx.base_callback.EmptyCallbackStepState,
    )
    with pytest.raises(
        lc.TypeCheckError,
        match=r"(?s)return value of `WrongReset.reset`.*`LeraxMine`.*`LeraxOther`",
    ):
        WrongReset().reset(lx.ResetContext({}), key=jr.key(0))


def test_our_callback_given_lerax_contexts_names_the_modules():
    with pytest.raises(lc.TypeCheckError) as caught:
        lc.typecheck_call(
            lc.EpisodeStatsCallback(writer=None),
            "reset",
            lx.ResetContext({}),
            key=jr.key(0),
        )
    message = str(caught.value)
    assert "expected: an instance of `lerax_callback.ResetContext`" in message
    assert "`lerax.callback.base_callback.ResetContext`" in message


def test_importing_lerax_callback_does_not_import_lerax():
    code = textwrap.dedent(
        """
        import sys
        import lerax_callback
        assert "lerax" not in sys.modules, "lerax imported"
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


_SEEN: dict[str, dict[str, tuple]] = {}


def _arrays(tree: dict) -> dict[str, tuple]:
    """Shape and dtype of each array in `tree` (tracers while Lerax traces)."""
    return {
        k: (jnp.shape(v), str(v.dtype))
        for k, v in tree.items()
        if isinstance(v, jax.Array)
    }


class RecordsContexts(
    lc.AbstractCallback[lc.EmptyCallbackState, lc.EmptyCallbackStepState]
):
    """Records, while Lerax traces it, the arrays of `on_step`'s `locals` and of
    the training log."""

    def reset(self, ctx, *, key):
        return lc.EmptyCallbackState()

    def step_reset(self, ctx, *, key):
        return lc.EmptyCallbackStepState()

    def on_step(self, ctx, *, key):
        _SEEN["locals"] = _arrays(ctx.locals)
        return ctx.state

    def on_iteration(self, ctx, *, key):
        _SEEN["log"] = _arrays(ctx.training_log)
        return ctx.state

    def on_training_start(self, ctx, *, key):
        return ctx.state

    def on_training_end(self, ctx, *, key):
        return ctx.state


def test_generated_training_logs_and_step_locals_are_those_ppo_passes():
    """A callback reading PPO's metrics or `on_step` variables is checked with
    the same names, shapes and dtypes it gets in training."""
    _learn(lc.to_lerax(RecordsContexts()))
    assert _SEEN["log"] == {name: ((), "float32") for name in lst.LERAX_PPO_LOG_KEYS}
    generated = _arrays({k: jnp.asarray(v) for k, v in host_locals(0.0).items()})
    assert generated.keys() <= _SEEN["locals"].keys()
    assert {k: _SEEN["locals"][k] for k in generated} == generated
