"""The Lerax algorithms the harness can run: names as `lerax.algorithm`'s modules,
a tiny configuration of each (two environments, a few steps, a small replay
buffer), the environment each accepts by default and the policy it trains."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from typing import Any

ALGORITHM_NAMES = (
    "ppo",
    "a2c",
    "reinforce",
    "dqn",
    "sac",
    "sac_discrete",
    "ddpg",
    "td3",
)
"""Every algorithm the harness knows, named as `lerax.algorithm`'s modules, in the
order reports list them."""

_REPLAY = {"buffer_size": 32, "learning_starts": 2, "batch_size": 4}
_SMALL_Q = {"q_width_size": 16, "q_depth": 1}
_ACTOR_CRITIC = {
    "feature_size": 8,
    "feature_width": 16,
    "feature_depth": 1,
    "value_width": 16,
    "value_depth": 1,
    "action_width": 16,
    "action_depth": 1,
}


@dataclasses.dataclass(frozen=True)
class AlgorithmSpec:
    """How to build a tiny instance of one Lerax algorithm, and what it trains.

    - `name`: the module in `lerax.algorithm` (`ppo`, `sac_discrete`, ...).
    - `class_name`: the algorithm's class in that module.
    - `options`: the tiny configuration passed to the class.
    - `discrete`: whether it acts in discrete action spaces (CartPole) rather
        than continuous ones (Pendulum); PPO, A2C and REINFORCE do both.
    - `continuous`: whether it acts in continuous action spaces.
    - `policy`: the `lerax.policy` class it trains, and its small sizes.
    """

    name: str
    class_name: str
    options: dict[str, Any]
    discrete: bool
    continuous: bool
    policy: tuple[str, dict[str, Any]]

    @property
    def title(self) -> str:
        """The class name users know it by, e.g. `SACDiscrete`."""
        return self.class_name

    def installed(self) -> bool:
        """Whether the installed Lerax has this algorithm."""
        try:
            return importlib.util.find_spec(f"lerax.algorithm.{self.name}") is not None
        except ModuleNotFoundError:  # no Lerax at all
            return False

    def build(self) -> Any:
        """A tiny instance of the algorithm."""
        module = importlib.import_module(f"lerax.algorithm.{self.name}")
        return getattr(module, self.class_name)(**self.options)

    def default_env(self) -> Any:
        """CartPole for an algorithm that acts in discrete spaces, else Pendulum."""
        from lerax.env import classic_control

        return (
            classic_control.CartPole() if self.discrete else classic_control.Pendulum()
        )

    def accepts(self, env: Any) -> bool:
        """Whether the algorithm can act in `env`'s action space."""
        space = type(getattr(env, "action_space", None)).__name__
        if space == "Discrete":
            return self.discrete
        if space == "Box":
            return self.continuous
        return True  # a space the harness does not know: let `learn` decide

    def default_policy(self, env: Any) -> Any:
        """The policy this algorithm trains by default, small, for `env`."""
        import jax.random as jr
        import lerax.policy

        class_name, sizes = self.policy
        return getattr(lerax.policy, class_name)(env, **sizes, key=jr.key(0))

    def timesteps(self, algorithm: Any, iterations: int = 2) -> int:
        """`total_timesteps` that make `iterations` iterations of `algorithm`."""
        return int(algorithm.num_envs * algorithm.num_steps * iterations)


SPECS: dict[str, AlgorithmSpec] = {
    spec.name: spec
    for spec in (
        AlgorithmSpec(
            "ppo",
            "PPO",
            {"num_envs": 2, "num_steps": 4, "num_epochs": 1, "num_batches": 2},
            True,
            True,
            ("MLPActorCriticPolicy", _ACTOR_CRITIC),
        ),
        AlgorithmSpec(
            "a2c",
            "A2C",
            {"num_envs": 2, "num_steps": 4},
            True,
            True,
            ("MLPActorCriticPolicy", _ACTOR_CRITIC),
        ),
        AlgorithmSpec(
            "reinforce",
            "REINFORCE",
            {"num_envs": 2, "num_steps": 4},
            True,
            True,
            ("MLPActorCriticPolicy", _ACTOR_CRITIC),
        ),
        AlgorithmSpec(
            "dqn",
            "DQN",
            {"num_envs": 2, "num_steps": 2, "target_update_interval": 2, **_REPLAY},
            True,
            False,
            ("MLPQPolicy", {"width_size": 16, "depth": 1}),
        ),
        AlgorithmSpec(
            "sac",
            "SAC",
            {"num_envs": 2, "num_steps": 1, **_REPLAY, **_SMALL_Q},
            False,
            True,
            ("MLPSACPolicy", {"feature_size": 8, "width_size": 16, "depth": 1}),
        ),
        AlgorithmSpec(
            "sac_discrete",
            "SACDiscrete",
            {"num_envs": 2, "num_steps": 2, **_REPLAY, **_SMALL_Q},
            True,
            False,
            ("MLPDiscreteSACPolicy", {"width_size": 16, "depth": 1}),
        ),
        AlgorithmSpec(
            "ddpg",
            "DDPG",
            {"num_envs": 2, "num_steps": 1, **_REPLAY, **_SMALL_Q},
            False,
            True,
            ("MLPDeterministicPolicy", {"width_size": 16, "depth": 1}),
        ),
        AlgorithmSpec(
            "td3",
            "TD3",
            {"num_envs": 2, "num_steps": 1, **_REPLAY, **_SMALL_Q},
            False,
            True,
            ("MLPDeterministicPolicy", {"width_size": 16, "depth": 1}),
        ),
    )
}


def lerax_installed() -> bool:
    """Whether Lerax can be imported here (it needs Python 3.13)."""
    try:
        return importlib.util.find_spec("lerax") is not None
    except ValueError:
        return False


def installed_algorithms() -> tuple[str, ...]:
    """The algorithms the installed Lerax has, in `ALGORITHM_NAMES` order (empty
    without Lerax)."""
    if not lerax_installed():
        return ()
    return tuple(name for name in ALGORITHM_NAMES if SPECS[name].installed())


def titles(names: Any) -> str:
    """`PPO, A2C and SAC` for `("ppo", "a2c", "sac")`."""
    words = [SPECS[n].title if n in SPECS else n for n in names]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
