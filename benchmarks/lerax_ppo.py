"""How much the built-in callbacks slow down Lerax's own PPO (needs `lerax`).

Trains PPO on CartPole at Lerax's default settings (4 environments x 512 steps
per iteration, 16 epochs of 32 minibatches) with no callback, and with
`EmptyCallback`, `EpisodeStatsCallback` and `ProgressBarCallback` passed
through `lerax_callback.to_lerax` (their writers showing nothing). Each run is
compiled once; then the timed repetitions are interleaved across the runs, so
that a change in machine load affects all of them alike, and each run's median
is reported as a ratio to the run without a callback (1.000x is no overhead;
below is slower), with the time the callback adds to each iteration.

    python benchmarks/lerax_ppo.py           # 65,536 steps per run, 5 repeats
    python benchmarks/lerax_ppo.py --quick   # 16,384 steps per run, 3 repeats
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

import jax
import jax.random as jr
from overhead import median_times, show_nothing  # this folder's timing helpers

import lerax_callback as lc

try:
    from lerax.algorithm import PPO
    from lerax.env.classic_control import CartPole
    from lerax.policy import MLPActorCriticPolicy
except ImportError as error:  # pragma: no cover - depends on the environment
    raise SystemExit(
        f"benchmarks/lerax_ppo.py needs Lerax ({error}); install it with "
        "`pip install -e '.[lerax]'` on Python 3.13 or newer."
    ) from error


def candidates(null_stream: Any) -> dict[str, Any]:
    """The callbacks to time, by name; `None` is PPO without a callback."""
    return {
        "no callback": None,
        "EmptyCallback": lc.to_lerax(lc.EmptyCallback()),
        "EpisodeStatsCallback": lc.to_lerax(
            lc.EpisodeStatsCallback(writer=show_nothing)
        ),
        "ProgressBarCallback": lc.to_lerax(
            lc.ProgressBarCallback(writer=lc.TextProgressBar(stream=null_stream))
        ),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-timesteps", type=int, default=65_536)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per loop")
    parser.add_argument(
        "--quick", action="store_true", help="16,384 steps per run, 3 repeats"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.total_timesteps, args.repeats = 16_384, 3
    if args.total_timesteps < 2048 or args.repeats < 1:
        parser.error("--total-timesteps must be at least 2048, --repeats at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    env = CartPole()
    policy = MLPActorCriticPolicy(env=env, key=jr.key(0))
    algorithm = PPO()
    iterations = args.total_timesteps // (algorithm.num_envs * algorithm.num_steps)
    print(
        f"PPO on CartPole, {args.total_timesteps:,} steps per run ({iterations} "
        f"iterations of {algorithm.num_envs} envs x {algorithm.num_steps} steps), "
        f"median of {args.repeats} runs, JAX {jax.__version__} on "
        f"{jax.default_backend()}"
    )
    with open(os.devnull, "w") as null_stream:
        runs = {
            name: lambda c=callback: algorithm.learn(
                env, policy, args.total_timesteps, key=jr.key(1), callback=c
            )
            for name, callback in candidates(null_stream).items()
        }
        medians = median_times(runs, args.repeats)
    baseline = medians["no callback"]
    width = max(len(name) for name in medians)
    print(f"{'run':<{width}}  {'seconds':>8} {'vs none':>9} {'ms/iteration':>13}")
    for name, median in medians.items():
        added = (median - baseline) / max(iterations, 1)
        print(
            f"{name:<{width}}  {median:>8.3f} {baseline / median:>8.3f}x "
            f"{1e3 * added:>+13.3f}"
        )


if __name__ == "__main__":
    main()
