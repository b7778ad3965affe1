"""The `side_effects` check: no Python side effect (a `print`, a log record, a
file written) that runs only while a method is traced, and no change to JAX's
global configuration."""

from __future__ import annotations

import contextlib
import functools
import traceback
from collections.abc import Iterator
from typing import Any

import jax

from .._engine._drive import Invoker, MethodError, drive
from .._explain._report import Failure
from .._explain._source import source_line, user_frame
from .._globals import (
    ConfigUpdate,
    config_changes,
    config_snapshot,
    recording_config_updates,
    restore_config,
)
from .._subject import Subject
from ._capture import TRACER_TEXT, TracerText, capture_effects


class _CapturingInvoker(Invoker):
    """Calls through `inner`, recording each method's output, files written and
    changes to JAX's configuration (undone at once, so that the next call runs
    under the configuration the harness chose)."""

    def __init__(self, inner: Invoker, callback: Any):
        self.inner = inner
        self.batched = inner.batched
        self.callback = callback
        self.effects: dict[str, str] = {}
        self.config: list[Failure] = []
        self.formatted: list[Failure] = []

    def bind(self, contexts: Any) -> None:
        self.inner.bind(contexts)

    def __call__(self, method: str, *args: Any) -> Any:
        written: list[str] = []
        updates: list[ConfigUpdate] = []
        shown: list[TracerText] = []
        before = config_snapshot()
        try:
            with (
                capture_effects(written, shown) as buffer,
                recording_config_updates(self.callback, updates),
                _formatted_prints(method, self.callback, self.formatted),
            ):
                out = self.inner(method, *args)
        finally:
            changed = config_changes(before, config_snapshot())
            restore_config(before)
            self.config.extend(_config_failure(method, c, updates) for c in changed)
        text = buffer.getvalue() + "".join(f"[wrote file {w}]\n" for w in written)
        self.effects[method] = self.effects.get(method, "") + text
        if shown and not any(f.method == method for f in self.formatted):
            self.formatted.append(
                _tracer_text_failure(method, self.callback, shown[0], text)
            )
        return out


@contextlib.contextmanager
def _formatted_prints(
    method: str, callback: Any, found: list[Failure]
) -> Iterator[None]:
    """Notes each `jax.debug.print` whose text already holds a traced value
    (an f-string or `str()` of a tracer, as the format string or an argument):
    formatted once, while tracing, it prints the tracer's description every
    time, never the value."""
    real = jax.debug.print

    @functools.wraps(real)
    def watching(fmt: str, *args: Any, **kwargs: Any) -> None:
        # The text, in the format string or handed to it (`str(ctx.reward)`).
        texts = (fmt, *args, *kwargs.values())
        text = next(
            (t for t in texts if isinstance(t, str) and TRACER_TEXT.search(t)), None
        )
        if text is not None and len(found) < 3:
            frames = [(f.filename, f.lineno or 0) for f in traceback.extract_stack()]
            location, at = _user_line(frames[::-1], callback)
            found.append(
                Failure(
                    "side_effects",
                    method,
                    f"`{method}` hands `jax.debug.print` text already formatted "
                    f"from a traced value{at}: {text!r}. The text is made once, "
                    "while tracing, so every print shows the tracer, never a value.",
                    location=location,
                    advice="Pass the values as arguments and leave the braces to "
                    '`jax.debug.print`: `jax.debug.print("reward {r}", '
                    "r=ctx.reward)`, not an f-string or `str()` of a traced value.",
                )
            )
        real(fmt, *args, **kwargs)

    jax.debug.print = watching  # type: ignore[assignment]
    try:
        yield
    finally:
        jax.debug.print = real  # type: ignore[assignment]


def _user_line(
    frames: list[tuple[str, int]], callback: Any
) -> tuple[tuple[str, int] | None, str]:
    """The user's line among `frames` (innermost first), and `` at `text` `` to
    name it in a message (empty when its text cannot be read)."""
    location = user_frame(frames, callback)
    line = source_line(location)
    return location, f" at `{line}`" if line else ""


def _tracer_text_failure(
    method: str, callback: Any, shown: TracerText, output: str
) -> Failure:
    """A method printed or logged text made from a traced value: made once, while
    tracing, it shows the tracer, and is printed or logged only then."""
    location, at = _user_line(shown.frames, callback)
    fragment = shown.text.strip()
    text = fragment
    if shown.kind == "print":  # the whole line, not the piece `print` wrote
        text = next((x for x in output.splitlines() if fragment in x), fragment)
    text = " ".join(text.split())
    text = text if len(text) <= 120 else text[:117] + "..."
    verb = "logs" if shown.kind == "log" else "prints"
    return Failure(
        "side_effects",
        method,
        f"`{method}` {verb} text formatted from a traced value{at}: {text!r}. "
        "The text is made once, while the method is traced (an f-string, `str()`, "
        "`format()` or `%` of a traced value), so it shows the tracer, never a "
        f"value, and the compiled method never {verb} it again.",
        location=location,
        advice='Leave the formatting to JAX: `jax.debug.print("reward {r}", '
        "r=ctx.reward)` prints the value on every call; to log, format inside a "
        'host function, `jax.debug.callback(lambda r: logger.info(f"reward '
        '{r}"), ctx.reward)`.',
    )


def _config_failure(
    method: str, change: tuple[str, Any, Any], updates: list[ConfigUpdate]
) -> Failure:
    """A `side_effects` failure for a method that changed a JAX flag for good."""
    name, old, new = change
    location = next((u.location for u in updates if u.name == name), None)
    line = source_line(location)
    where = f" at `{line}`" if line else ""
    return Failure(
        "side_effects",
        method,
        f"`{method}` changes JAX's global configuration: `{name}` from {old!r} to "
        f"{new!r}{where}. The flag stays changed after the call, for every later "
        "computation of the program and every other callback, and under `jax.jit` "
        "the change happens only while the method is traced.",
        leaf=name,
        expected=repr(old),
        found=repr(new),
        location=location,
        advice="Do not change global JAX configuration in a callback: set flags "
        "once where the program starts, or scope a change with its context manager "
        "(e.g. `with jax.debug_nans(True):`) outside the jitted training code.",
    )


ONCE_PER_TRAINING = frozenset(
    {"reset", "step_reset", "on_training_start", "on_training_end"}
)
"""Methods an algorithm traces once per `learn()` and never calls in a loop: what
they do while traced happens once per training, as it would when run (a run's
name printed at its start, a header written), so it is no finding unless the
text shows a tracer where a value was meant."""


def check_side_effects(subject: Subject) -> list[Failure]:
    """`side_effects` failures: JAX configuration changed by a method, and output or
    files a method makes only while traced. What each method does while traced anew
    is compared with what a compiled drive does; a method traced once per training is
    let off unless its text shows a tracer."""
    # What runs while tracing, per method: every call traced anew (nothing is
    # compiled), even if another check already compiled the same method.
    traced = Invoker(jit=True, batched=subject.num_envs > 1, trace=True, memo=False)
    scenario = subject.shape_scenario(subject.num_envs if subject.num_envs > 1 else 1)
    capturing = _CapturingInvoker(traced, subject.callback)
    try:
        drive(subject.callback, scenario, capturing, subject.context)
    except MethodError:
        return capturing.config  # the error itself is the `jit` check's
    if capturing.config or capturing.formatted:
        return capturing.config + capturing.formatted
    first = capturing.effects
    if not any(text.strip() for text in first.values()):
        return []
    # What runs when the compiled methods run: the second of two jitted drives
    # (the first may trace and compile, once for every check), whose output
    # cannot be told apart by method as one compiled program runs them all.
    jitted = Invoker(jit=True, batched=subject.num_envs > 1)
    later = ""
    for _ in range(2):
        written: list[str] = []
        before = config_snapshot()
        try:
            with capture_effects(written) as buffer:
                drive(subject.callback, scenario, jitted, subject.context)
        except MethodError:
            return []  # the `jit` check's finding
        finally:
            restore_config(before)
        later = buffer.getvalue() + "".join(f"[wrote file {w}]\n" for w in written)
    later_lines = {line.strip() for line in later.splitlines()}
    failures = []
    for method, text in first.items():
        if method in ONCE_PER_TRAINING and not TRACER_TEXT.search(text):
            continue
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines and not any(line in later_lines for line in lines):
            shown = " ".join(text.split())
            shown = shown if len(shown) <= 120 else shown[:117] + "..."
            failures.append(
                Failure(
                    "side_effects",
                    method,
                    f"`{method}` has a Python side effect that runs only while it "
                    f"is traced (first jitted call), not when the compiled function "
                    f"runs: {shown!r}.",
                    advice="Use `jax.debug.print` to print, and "
                    "`jax.debug.callback` to write files or log, so that it happens "
                    "on every call.",
                )
            )
    return failures
