"""`lerax_callback` callbacks that read what only some of Lerax's algorithms pass,
each with the algorithms (of Lerax 0.0.6) that trace it fine: read from the
algorithms' own code and confirmed by tracing the real `learn()`
(`test_lerax_main.py`). `test_standins.py` holds the stand-ins to the same
verdicts without Lerax."""

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Float

import lerax_callback as lc

ON_POLICY = ("ppo", "a2c", "reinforce")
OFF_POLICY = ("dqn", "sac", "sac_discrete", "ddpg", "td3")
INJECT_HYPERPARAMS = ("ppo", "a2c", "reinforce", "dqn")
"""The algorithms whose optimiser state is `(clip state, InjectHyperparamsState)`."""
LOGS_Q_LOSS = ("sac", "sac_discrete", "ddpg", "td3")
EVERY = ON_POLICY + OFF_POLICY


class Seen(lc.AbstractCallbackState):
    value: Float[Array, ""]


class _Reader(lc.AbstractIterationCallback[Seen]):
    def reset(self, ctx: Any, *, key: Any) -> Seen:
        return Seen(jnp.zeros((), jnp.float32))

    def on_iteration(self, ctx: Any, *, key: Any) -> Seen:
        return Seen(jnp.asarray(self.read(ctx), jnp.float32).reshape(()))

    def read(self, ctx: Any) -> Any:
        raise NotImplementedError


class ApproxKL(_Reader):
    """PPO alone logs `approx_kl`."""

    def read(self, ctx: Any) -> Any:
        return ctx.training_log["approx_kl"]


class QLoss(_Reader):
    """The SAC family, DDPG and TD3 log `q_loss`."""

    def read(self, ctx: Any) -> Any:
        return ctx.training_log["q_loss"]


class LearningRate(_Reader):
    """The learning rate of an `optax.inject_hyperparams` optimiser chained after
    gradient clipping: the on-policy algorithms' and DQN's optimiser state."""

    def read(self, ctx: Any) -> Any:
        return ctx.opt_state[1].hyperparams["learning_rate"]


class RolloutRewards(_Reader):
    """The on-policy algorithms keep a rollout buffer in `on_iteration`'s locals."""

    def read(self, ctx: Any) -> Any:
        return jnp.mean(ctx.locals["rollout_buffer"].rewards)


class ObservationInIteration(_Reader):
    """No algorithm has the observation in `on_iteration`'s locals."""

    def read(self, ctx: Any) -> Any:
        return jnp.mean(ctx.locals["observation"])


class Steps(lc.AbstractStepCallback[Seen]):
    """Every algorithm passes the environment to `step_reset` and a next
    observation only in the off-policy ones' `on_step`."""

    key_read: str = "next_observation"

    def step_reset(self, ctx: Any, *, key: Any) -> Seen:
        del ctx.locals["env"]  # every algorithm has it (and copies are fresh)
        return Seen(jnp.zeros((), jnp.float32))

    def on_step(self, ctx: Any, *, key: Any) -> Seen:
        return Seen(jnp.mean(ctx.locals[self.key_read]).astype(jnp.float32))


CASES = [
    (ApproxKL(), ("ppo",)),
    (QLoss(), LOGS_Q_LOSS),
    (LearningRate(), INJECT_HYPERPARAMS),
    (RolloutRewards(), ON_POLICY),
    (ObservationInIteration(), ()),
    (Steps(), OFF_POLICY),
    (Steps("observation"), EVERY),
    (lc.EarlyStoppingCallback("loss"), ("ppo", "a2c", "reinforce", "dqn")),
]
"""`(callback, the algorithms that trace it fine)`."""
