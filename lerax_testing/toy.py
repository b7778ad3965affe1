"""A small pure-JAX environment and policy to run callbacks on.

They stand in for a real environment and policy in the reference training loop:
cheap to step, fully jittable and vmappable, with episodes of varying length so that
callbacks see rewards and `done` flags as they would in training.

They are also the protocol an environment and a policy of your own follow, to be
checked with (`check_callback(cb, env=MyEnv(), policy=MyPolicy())`) or run in the
reference loop:

- `env.initial(*, key) -> state`: a new episode's state;
- `env.observation(state) -> observation`;
- `env.step(state, action, *, key) -> (state, reward, done)`, where a `done` step
    returns the next episode's first state;
- `policy.action(observation, *, key) -> action`.

A callback that reads an attribute they lack, such as `ctx.env.reward_scale`, gets
a `ToyAttributeError` saying how to check it with your own environment or policy.
"""

from __future__ import annotations

from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Int, Key

from lerax_callback import AbstractEnvLike, AbstractPolicy


class ToyAttributeError(AttributeError):
    """A callback asked the toy environment or policy for an attribute they lack.

    The callback was written for an environment or policy of its own: the message
    names the attribute and the ways to check the callback with that one instead.
    """


def _missing(toy: Any, attribute: str, option: str) -> AttributeError:
    """The error for `toy.attribute`: a plain `AttributeError` for dunder names,
    which JAX, equinox and copy probe with `hasattr`, else a `ToyAttributeError`."""
    kind = type(toy).__name__
    if attribute.startswith("__") and attribute.endswith("__"):
        return AttributeError(f"{kind!r} object has no attribute {attribute!r}")
    return ToyAttributeError(
        f"the toy `{kind}` has no attribute `{attribute}`, which the callback "
        f"reads (`ctx.{option}.{attribute}`); check it with its own {option}: "
        f"`check_callback(cb, {option}=My{option.title()}())`, "
        f"`lerax-conformance --{option} module:factory` or "
        f'`{option} = "module:factory"` in `[tool.lerax_testing]`.',
        name=attribute,
        obj=toy,
    )


@final
class ToyEnvState(eqx.Module):
    """The state of one `ToyEnv`: a position on a line and the episode's step count."""

    position: Float[Array, ""]
    time: Int[Array, ""]


@final
class ToyEnv(AbstractEnvLike):
    """A noisy walk on a line: the agent is rewarded for staying near the origin.

    An episode ends when the position leaves `[-bound, bound]` or after
    `max_episode_steps` steps, and the environment then starts a new one.

    **Arguments:**

    - `bound`: how far from the origin the walk may go before the episode ends.
    - `max_episode_steps`: the longest an episode lasts.
    - `noise`: the scale of the random push at each step.
    """

    name: str = "ToyEnv"
    bound: float = 2.0
    max_episode_steps: int = 8
    noise: float = 0.3

    def initial(self, *, key: Key[Array, ""]) -> ToyEnvState:
        """A new episode's state, starting near the origin."""
        position = jr.uniform(key, (), minval=-0.5, maxval=0.5)
        return ToyEnvState(position, jnp.zeros((), jnp.int32))

    def observation(self, state: ToyEnvState) -> Float[Array, ""]:
        """What the policy sees: the position."""
        return state.position

    def step(
        self, state: ToyEnvState, action: Float[Array, ""], *, key: Key[Array, ""]
    ) -> tuple[ToyEnvState, Float[Array, ""], Bool[Array, ""]]:
        """Apply `action`; returns the next state, the reward and whether it ended.

        When the episode ends the returned state is already the next episode's start.
        """
        push_key, reset_key = jr.split(key)
        push = self.noise * jr.normal(push_key, (), state.position.dtype)
        position = state.position + jnp.clip(action, -1.0, 1.0) + push
        time = state.time + 1
        reward = (1.0 - jnp.abs(position)).astype(position.dtype)
        done = (jnp.abs(position) > self.bound) | (time >= self.max_episode_steps)
        fresh = self.initial(key=reset_key)
        next_state = ToyEnvState(
            jnp.where(done, fresh.position.astype(position.dtype), position),
            jnp.where(done, fresh.time, time),
        )
        return next_state, reward, done

    def __getattr__(self, attribute: str) -> Any:
        raise _missing(self, attribute, "env")


@final
class ToyPolicy(AbstractPolicy):
    """A linear policy pushing back towards the origin, with exploration noise.

    **Arguments:**

    - `gain`: how hard it pushes back; the reference loop's mock training moves it.
    - `exploration`: the scale of the noise added to each action.
    """

    gain: Float[Array, ""]
    exploration: float = 0.2
    name: str = "ToyPolicy"

    def __init__(self, gain: float | Float[Array, ""] = 0.1, exploration: float = 0.2):
        self.gain = jnp.asarray(gain, dtype=float)
        self.exploration = exploration

    def action(
        self, observation: Float[Array, ""], *, key: Key[Array, ""]
    ) -> Float[Array, ""]:
        """The action for `observation`."""
        noise = self.exploration * jr.normal(key, (), observation.dtype)
        return -self.gain.astype(observation.dtype) * observation + noise

    def __getattr__(self, attribute: str) -> Any:
        raise _missing(self, attribute, "policy")


def toy_training_log(rewards: Array) -> dict[str, Array]:
    """The metrics Lerax's PPO logs and the mean reward
    (`strategies.TRAINING_LOG_KEYS`), made up from an iteration's rewards:
    scalars of the rewards' float dtype that depend on every reward of the
    rollout."""
    mean = jnp.mean(rewards)
    spread = jnp.mean(jnp.square(rewards - mean))
    zero = jnp.zeros_like(mean)
    return {
        "approx_kl": 1e-3 * jnp.abs(mean),
        "loss": jnp.square(1.0 - mean),
        "policy_loss": -mean,
        "value_loss": spread,
        "entropy_loss": zero,
        "explained_variance": 1.0 - spread / (spread + 1.0),
        "mean_reward": mean,
    }
