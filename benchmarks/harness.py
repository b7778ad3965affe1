"""How long the conformance harness takes, relative to training itself.

For each callback, in one run:

- `minimal`: a minimal hand-written `jax.jit` loop (`reset`, `step_reset` and
  `on_step` vmapped over environments in a `lax.scan` over steps, then
  `on_iteration` and `continue_training`, in an outer `lax.scan` over iterations,
  on given rewards and dones, no environment), compiled and run once;
- `loop`: one jitted reference training loop (`run_training`), compilation
  included, as a user's own integration test would run it;
- `check`: `check_callback` with the default number of examples, and the XLA
  compilations it made (per check with `--per-check`, with their seconds);
- `check x10`: the same with ten times the examples.

Each figure is the median of `--repeats` (3) timings, each on a fresh copy of
the callback (an instance of a new subclass, so that no program compiled for an
earlier measurement is reused), in a process
whose one-time costs are paid: JAX compiles each eager operation once per
process, and a first, untimed check of the callback pays for those its methods
use, as the callbacks checked before it in one run of the command would. What
is timed is what every further callback costs, except that each timed check
draws its examples anew (a run of the command draws them once for all the
callbacks checked with the same seed and options).

Prints `check / minimal` (goal: under 10x), `check / loop`, and `check x10 /
check` (goal: under 1.5x: examples share one compilation per batch mode, so more
examples add little).

    python benchmarks/harness.py            # the full set
    python benchmarks/harness.py --quick    # two callbacks, fewer examples
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jax import lax, monitoring

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

import lerax_callback as lc  # noqa: E402
from lerax_callback._family import OURS, callback_api  # noqa: E402
from lerax_testing import check_callback, run_training  # noqa: E402
from lerax_testing._engine._contexts import ContextBuilder  # noqa: E402
from lerax_testing._engine._keys import _KEY_DATA, _example_keys  # noqa: E402
from lerax_testing._subject import _STREAMS  # noqa: E402
from lerax_testing.toy import toy_training_log  # noqa: E402

NUM_ENVS, NUM_STEPS, NUM_ITERATIONS = 3, 6, 3

_compiled: list[float] = []
"""The seconds of each XLA compilation since the list was last cleared."""


def _listen(event: str, duration: float, **kwargs: Any) -> None:
    if event == "/jax/core/compile/backend_compile_duration":
        _compiled.append(duration)


monitoring.register_event_duration_secs_listener(_listen)


def minimal_loop(callback: Any) -> Any:
    """The least a jitted training loop does with a callback (see above)."""
    make = ContextBuilder(callback_api(callback) or OURS).make

    @eqx.filter_jit
    def train(callback: Any, rewards: Any, dones: Any, key: Any) -> Any:
        keys = jr.split(key, 3)
        reset = make("reset", "reset", locals={})
        state = callback.reset(reset, key=keys[0])
        step_state = jax.vmap(lambda k: callback.step_reset(reset, key=k))(
            jr.split(keys[1], NUM_ENVS)
        )

        def iteration(carry: Any, xs: Any) -> Any:
            state, step_state = carry
            rewards, dones, key = xs

            def step(step_state: Any, xs: Any) -> Any:
                reward, done, key = xs

                def one(s: Any, r: Any, d: Any, k: Any) -> Any:
                    ctx = make(
                        "step",
                        "on_step",
                        state=s,
                        env=None,
                        policy=None,
                        done=d,
                        reward=r,
                        locals={},
                    )
                    return callback.on_step(ctx, key=k)

                keys = jr.split(key, NUM_ENVS)
                return jax.vmap(one)(step_state, reward, done, keys), None

            step_keys = jr.split(key, NUM_STEPS + 2)
            step_state, _ = lax.scan(step, step_state, (rewards, dones, step_keys[2:]))
            log = toy_training_log(rewards)
            ctx = make(
                "iteration",
                "on_iteration",
                state=state,
                step_state=step_state,
                env=None,
                policy=None,
                iteration_count=jnp.zeros((), jnp.int32),
                opt_state={},
                training_log=log,
                locals={},
            )
            state = callback.on_iteration(ctx, key=step_keys[0])
            ctx = make(
                "iteration",
                "continue_training",
                state=state,
                step_state=step_state,
                env=None,
                policy=None,
                iteration_count=jnp.zeros((), jnp.int32),
                opt_state={},
                training_log=log,
                locals={},
            )
            go = callback.continue_training(ctx, key=step_keys[1])
            return (state, step_state), go

        xs = (rewards, dones, jr.split(keys[2], NUM_ITERATIONS))
        return lax.scan(iteration, (state, step_state), xs)

    shape = (NUM_ITERATIONS, NUM_STEPS, NUM_ENVS)
    rewards = jnp.linspace(-1.0, 1.0, NUM_ITERATIONS * NUM_STEPS * NUM_ENVS)
    dones = jnp.arange(rewards.size) % 4 == 3
    return train(callback, rewards.reshape(shape), dones.reshape(shape), jr.key(0))


def _callbacks(quick: bool) -> list[tuple[str, Any]]:
    """Every example (`examples/`, ours) and every built-in callback, by name."""
    from builtin_stack import stack
    from loss_threshold import LossThreshold
    from return_tracker import ReturnTracker

    chosen = [
        ("ReturnTracker", ReturnTracker()),
        ("EpisodeStatsCallback", lc.EpisodeStatsCallback(writer=None)),
    ]
    if not quick:
        # The stack's progress bar draws to stderr; here it draws nothing.
        quiet = eqx.tree_at(lambda s: s.callbacks[0].writer, stack, _show_nothing)
        chosen += [
            ("LossThreshold", LossThreshold()),
            (
                "EarlyStoppingCallback",
                lc.EarlyStoppingCallback("loss", patience=3, mode="min"),
            ),
            (
                "CallbackList of two",
                lc.CallbackList([ReturnTracker(), LossThreshold()]),
            ),
            ("ProgressBarCallback", lc.ProgressBarCallback(writer=_show_nothing)),
            ("EmptyCallback", lc.EmptyCallback()),
            ("builtin_stack (example)", quiet),
        ]
        try:  # Lerax installs on Python 3.13 and newer
            sys.path.insert(0, str(ROOT / "examples" / "lerax"))
            from episode_returns import BestEpisodeReturn
        except ImportError:
            pass
        else:
            chosen.append(("BestEpisodeReturn (Lerax)", BestEpisodeReturn()))
    return chosen


def _show_nothing(**numbers: Any) -> None:
    """A progress writer that shows nothing (the harness's output stays a table)."""
    del numbers


def fresh(callback: Any) -> Any:
    """`callback` as an instance of a new subclass of its class: equal fields,
    but no program compiled for it yet (JAX caches programs per class)."""
    cls = type(callback)
    subclass = type(cls.__name__, (cls,), {"__module__": cls.__module__})
    copy = object.__new__(subclass)
    for field in dataclasses.fields(callback):
        object.__setattr__(copy, field.name, getattr(callback, field.name))
    return copy


def _seconds(fn: Any, callback: Any, repeats: int) -> float:
    """The median of `repeats` timings of `fn` on a fresh copy of `callback` (made
    before timing), each drawing its examples and their keys anew (not reusing
    those of earlier callbacks)."""
    times = []
    for _ in range(repeats):
        copy = fresh(callback)
        _STREAMS.clear()
        _example_keys.cache_clear()
        _KEY_DATA.clear()
        start = time.perf_counter()
        jax.block_until_ready(fn(copy))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(callback: Any, examples: int, repeats: int) -> tuple[Any, ...]:
    """`(minimal, loop, check, tenfold, marks)` for `callback`: seconds of each,
    and `(check, (compilations, compiling seconds, time))` at the start of each
    check of the first timed check, ending with `("end", ...)`."""
    minimal = _seconds(minimal_loop, callback, repeats)
    loop = _seconds(
        lambda cb: run_training(cb, num_envs=3, num_steps=6), callback, repeats
    )
    per_check: dict[str, tuple[int, float, float]] = {}
    marks: list[tuple[str, tuple[int, float, float]]] = []

    def progress(_: str, check: str) -> None:
        per_check[check] = (len(_compiled), sum(_compiled), time.perf_counter())

    def checked(cb: Any) -> bool:
        _compiled.clear()
        per_check.clear()
        ok = check_callback(cb, seed=0, max_examples=examples, progress=progress).ok
        if not marks:
            end = (len(_compiled), sum(_compiled), time.perf_counter())
            marks.extend([*per_check.items(), ("end", end)])
        return ok

    check = _seconds(checked, callback, repeats)
    tenfold = _seconds(
        lambda cb: check_callback(cb, seed=0, max_examples=10 * examples).ok,
        callback,
        repeats,
    )
    return minimal, loop, check, tenfold, marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--examples", type=int, default=20, help="examples per check")
    parser.add_argument(
        "--repeats", type=int, default=3, help="fresh copies timed per measurement"
    )
    parser.add_argument(
        "--per-check", action="store_true", help="compilations and seconds per check"
    )
    args = parser.parse_args()
    examples = 5 if args.quick else args.examples
    repeats = 1 if args.quick else max(args.repeats, 1)

    print(
        f"{'callback':<28}{'min s':>7}{'loop s':>8}{'check s':>9}{'x10 s':>8}"
        f"{'compiles':>9}{'check/min':>10}{'check/loop':>11}"
        f"{'x10/check':>10}"
    )
    # Pay the process's one-time costs (JAX's eager-operation caches, imports)
    # before timing anything, so that the first callback is not charged for them.
    run_training(lc.EmptyCallback())
    check_callback(lc.EmptyCallback(), seed=0, max_examples=2)
    minimal_loop(lc.EmptyCallback())
    minimal_ratios, check_ratios, scale_ratios = [], [], []
    for name, callback in _callbacks(args.quick):
        # What the callback prints (the Lerax example prints every iteration)
        # would bury the table.
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
            check_callback(fresh(callback), seed=0, max_examples=2)  # eager ops
            minimal, loop, check, tenfold, marks = measure(callback, examples, repeats)
        compiles = marks[-1][1][0]
        minimal_ratios.append(check / minimal)
        check_ratios.append(check / loop)
        scale_ratios.append(tenfold / check)
        print(
            f"{name:<28}{minimal:>7.2f}{loop:>8.2f}{check:>9.2f}{tenfold:>8.2f}"
            f"{compiles:>9}{check / minimal:>9.1f}x{check / loop:>10.1f}x"
            f"{tenfold / check:>9.2f}x"
        )
        if args.per_check:
            for (c, (n, s, t)), (_, (n2, s2, t2)) in zip(
                marks, marks[1:], strict=False
            ):
                print(
                    f"    {c:<14}{n2 - n:>3} compilations ({s2 - s:.2f} s "
                    f"compiling) {t2 - t:>6.2f} s in all"
                )
    print(
        f"median: check/minimal {statistics.median(minimal_ratios):.1f}x (goal "
        f"< 10x), check/loop {statistics.median(check_ratios):.1f}x, 10x examples "
        f"{statistics.median(scale_ratios):.2f}x (goal < 1.5x)"
    )


if __name__ == "__main__":
    main()
