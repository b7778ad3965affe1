"""What every check receives: the callback under test and the run's options, and
the examples drawn for it (`Subject.stream`), shared between checks and subjects.
`_search` finds and shrinks failing examples."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import (
    HealthCheck,
    Phase,
    Verbosity,
    given,
    seed as hypothesis_seed,
    settings,
    strategies as st,
)

from lerax_callback._family import OURS

from ._checks._registry import FEW_EXAMPLES, REGISTRY
from ._engine._drive import Env
from ._engine._encoding import ExampleDecoder
from ._engine._scenario import TRAINING_LOG_KEYS, Scenario, decoders, scenario_from
from ._explain._reproduce import Construction, Replay, construction


@dataclasses.dataclass
class Subject:
    """The callback under test and the options of this run."""

    callback: Any
    description: str
    seed: int
    max_examples: int
    num_envs: int
    max_steps: int
    context: Env
    reward_options: dict[str, Any]
    training_log_strategy: st.SearchStrategy[dict[str, float]] | None
    training_log_names: tuple[str, ...] = TRAINING_LOG_KEYS
    """The generated training logs' metrics (without `training_log_strategy`)."""
    state_types: tuple[Any, Any] = (None, None)
    replay: Replay = dataclasses.field(default_factory=Replay)
    lerax: Any = None
    """The Lerax algorithms chosen for the callback (`_lerax._choice.LeraxChoice`),
    or `None` without Lerax."""
    streams: dict[tuple[int, int], list[Scenario]] = dataclasses.field(
        default_factory=dict, repr=False, compare=False
    )
    """The examples drawn so far, per number of environments and examples."""
    shared: dict[Any, Any] = dataclasses.field(
        default_factory=dict, repr=False, compare=False
    )
    """Findings one check makes and another repeats (`structure_failures`)."""

    def groups(self, num_envs: int) -> st.SearchStrategy[tuple[Scenario, ...]]:
        """`PER_DRAW` examples as one hypothesis example (see `PER_DRAW`)."""
        return _scenario_groups(
            PER_DRAW,
            num_envs=num_envs,
            max_steps=self.max_steps,
            reward_options=self.reward_options,
            training_log_names=self.training_log_names,
            training_log_strategy=self.training_log_strategy,
        )

    def stream(self, num_envs: int, max_examples: int) -> list[Scenario]:
        """The examples hypothesis draws for a check from this seed (when none
        fails), drawn once and shared by every check that asks for them, and by
        every later subject with the same seed and options in this process
        (drawing them costs about 0.15 ms an example, about what running one costs)."""
        key = (num_envs, max_examples)
        if key not in self.streams:
            shared: tuple[Any, ...] | None = (
                self.seed,
                num_envs,
                max_examples,
                self.max_steps,
                tuple(sorted(self.reward_options.items())),
                _ByIdentity(self.training_log_strategy),
                self.training_log_names,
            )
            try:
                drawn = _STREAMS.get(shared)
            except TypeError:  # an option that cannot be hashed: not shared
                drawn, shared = None, None
            if drawn is None:
                drawn = self._draw(num_envs, max_examples)
                if shared is not None:
                    if len(_STREAMS) >= MAX_STREAMS:
                        _STREAMS.pop(next(iter(_STREAMS)))
                    _STREAMS[shared] = drawn
            self.streams[key] = drawn
            self.context.streams.update((id(s), drawn) for s in drawn)
        return self.streams[key]

    def _draw(self, num_envs: int, max_examples: int) -> list[Scenario]:
        """`max_examples` distinct examples (fewer when hypothesis finds no more),
        as `find_failure`'s hypothesis run generates them when none fails."""
        drawn: dict[str, Scenario] = {}  # by `repr`: a training log is a dict

        @hypothesis_settings(draws(max_examples), (Phase.generate,))
        @hypothesis_seed(self.seed)
        @given(self.groups(num_envs))
        def draw(group: tuple[Scenario, ...]) -> None:
            drawn.update((repr(s), s) for s in group)

        draw()
        return list(drawn.values())[:max_examples]

    def shape_scenario(self, num_envs: int) -> Scenario:
        """A fixed example for the checks that trace once: two steps, the second
        ending every episode, and a training log like the generated ones (the first
        generated example's, with a training-log strategy), so that its calls trace
        as the generated examples' do."""
        if self.training_log_strategy is None:
            log = dict.fromkeys(self.training_log_names, 0.5)
        else:
            log = self.stream(self.num_envs, self.max_examples)[0].training_log
        return Scenario(
            seed=0,
            rewards=((1.0,) * num_envs, (0.5,) * num_envs),
            dones=((False,) * num_envs, (True,) * num_envs),
            iteration_count=1,
            training_log=log,
            opt_step=1,
            locals_value=0.0,
        )

    @property
    def keeps_final_state(self) -> bool:
        """Whether training keeps the state `on_training_end` returns: the
        reference loop of our own API returns it to the caller, Lerax's `learn()`
        stores it in a state it then drops (it returns the policy), so that there
        a state of any class trains."""
        return self.context.contexts.api is OURS

    def beyond_few(self, check: str, num_envs: int) -> set[int]:
        """The ids of `check`'s examples for `num_envs` after the first
        `few_examples`: what a check that runs a second, costlier pass on only
        the first few skips (examples hypothesis makes while shrinking are new
        objects, so they always run)."""
        stream = self.stream(num_envs, self.examples(check))
        return {id(s) for s in stream[self.few_examples :]}

    @property
    def few_examples(self) -> int:
        """How many the first few examples are: `FEW_EXAMPLES`, or every example
        when fewer are asked for."""
        return min(self.max_examples, FEW_EXAMPLES)

    def examples(self, check: str) -> int:
        """How many examples `check` takes: every one asked for, or fewer when its
        registry record caps them (`Check.max_examples`)."""
        cap = REGISTRY[check].max_examples
        return self.max_examples if cap is None else min(self.max_examples, cap)

    def reproducer(self, check: str) -> str:
        """Code that runs `check` as this run did: every non-default option, the
        environment and policy included (see `Replay`)."""
        return self.replay.code(self.callback_code(), check, self.seed)

    def callback_code(self) -> Construction:
        """Code that makes the callback as the user made it, for reproducers."""
        return construction(self.callback, self.description, self.replay.target)


def _scenario_groups(
    count: int,
    *,
    num_envs: int,
    max_steps: int,
    reward_options: dict[str, Any] | None,
    training_log_names: tuple[str, ...],
    training_log_strategy: st.SearchStrategy[dict[str, float]] | None,
) -> st.SearchStrategy[tuple[Scenario, ...]]:
    """`count` examples like those `scenarios` draws, as one hypothesis example,
    their bytes one choice (`_encoding.ExampleDecoder`): hypothesis copies a value
    drawn earlier in an example into later choices of the same kind, so examples
    drawn as choices of their own would often repeat one another."""
    decode = ExampleDecoder(
        max_steps,
        *decoders(num_envs, reward_options, training_log_names, training_log_strategy),
    )
    size = decode.size
    logs = (
        st.just((None,) * count)
        if training_log_strategy is None
        else st.tuples(*[training_log_strategy] * count)
    )

    def build(data: bytes, logs: tuple[Any, ...]) -> tuple[Scenario, ...]:
        return tuple(
            scenario_from(decode(data[i * size : (i + 1) * size]), log)
            for i, log in enumerate(logs)
        )

    return st.builds(
        build, st.binary(min_size=count * size, max_size=count * size), logs
    )


MAX_STREAMS = 16
"""Streams of examples kept for later subjects (`Subject.stream`)."""

_STREAMS: dict[tuple[Any, ...], list[Scenario]] = {}
"""Streams drawn in this process, by seed and every option that shapes them.
The scenarios are frozen, so subjects can share them."""


class _ByIdentity:
    """A key part equal only to itself: hypothesis strategies compare equal when
    their reprs do, and two `.map(lambda ...)` strategies with equal reprs may
    draw differently. Holds the object, so that its id is not reused."""

    def __init__(self, value: Any):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByIdentity) and other.value is self.value


PER_DRAW = 8
"""The examples in one hypothesis example. Hypothesis spends about 0.4 ms on each
example it makes, whatever it draws, more than running one of ours through a
check; eight to an example cost an eighth of that each (what is left, about
0.1 ms, is hypothesis drawing the bytes one at a time). When one of them fails,
hypothesis shrinks the eight together, the others to the simplest example, and
the failure reported is the failing one's."""


def draws(max_examples: int) -> int:
    """The hypothesis examples that make `max_examples` of ours (one more, as the
    first is hypothesis's simplest, the same example `PER_DRAW` times)."""
    return -(-max_examples // PER_DRAW) + 1


def hypothesis_settings(max_examples: int, phases: tuple[Phase, ...]) -> Any:
    """Hypothesis settings for the harness's own runs: quiet, no database, no
    deadline, only `phases`."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=False,
        print_blob=False,
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        phases=phases,
    )
