"""`lerax-conformance --isolate`: each target in a subprocess, each callback timed.

The parent starts `python -m lerax_testing._cli._isolate`, sends it the target and the
options on standard input, and reads JSON events, one a line, from its standard
output; the child sends everything the user's code prints to standard error. A
callback that hangs past the timeout, or kills the interpreter (`os._exit` in a host
callback, a segfault), becomes that callback's failure, and a fresh child goes on
with the target's remaining callbacks.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from .._formats import Outcome
from .._settings import Settings
from ._run import Progress, check_entry
from ._targets import Target, UsageError, discover

_DONE = object()  # end of the child's events


def run_isolated(
    targets: Sequence[Target],
    settings: Settings,
    progress: Progress,
    *,
    timeout: float | None,
    usage_errors: list[str],
) -> list[Outcome]:
    """Check every target in its own subprocess; a target's usage error (unknown
    attribute, no callbacks) is appended to `usage_errors` and the rest go on."""
    outcomes: list[Outcome] = []
    for target in targets:
        outcomes += _run_target(target, settings, progress, timeout, usage_errors)
    progress.finish()
    return outcomes


def _run_target(
    target: Target,
    settings: Settings,
    progress: Progress,
    timeout: float | None,
    usage_errors: list[str],
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    done: list[str] = []
    first = True
    while True:
        child = _Child(target, settings, done)
        current: str | None = None
        check: str | None = None
        location: list[Any] | None = None  # of the current callback's class
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            event = child.next_event(left)
            if event is None:  # timed out
                child.kill()
                what = f"timed out after {timeout:g} s"
                break
            if event is _DONE:
                code = child.wait()
                if code == 0 and child.finished:
                    return outcomes
                what = _exit_text(code)
                break
            kind = event["event"]
            if kind == "usage-error":
                usage_errors.append(event["reason"])
            elif kind == "total" and first:  # a restarted child counts fewer
                progress.total += event["count"]
                first = False
            elif kind == "start":
                current, check = event["name"], None
                location = event.get("location")
                progress.start(current)
                if timeout is not None:
                    deadline = time.monotonic() + timeout
            elif kind == "check":
                check = event["check"]
                progress.check(check)
            elif kind == "outcome":
                outcomes.append(Outcome.from_dict(event["outcome"]))
                done.append(event["outcome"]["name"])
                current = None
        during = f" during the `{check}` check" if check else ""
        doing = f"{what}{during}" if current else f"{what} while importing it"
        outcomes.append(
            Outcome(
                current or target.text,
                target.text,
                "error",
                reason=f"the interpreter checking it {doing}",
                details=child.stderr_tail() or None,
                location=(location[0], location[1]) if current and location else None,
                check=check,
            )
        )
        if current is None:  # the import itself failed: nothing more to do
            return outcomes
        done.append(current)


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


class _Child:
    """One `python -m lerax_testing._cli._isolate` process and its event stream."""

    def __init__(self, target: Target, settings: Settings, exclude: list[str]):
        self.events: queue.Queue[Any] = queue.Queue()
        self.stderr: collections.deque[str] = collections.deque(maxlen=40)
        self.finished = False
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lerax_testing._cli._isolate"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # its own process group, to kill it whole
        )
        job = {
            "target": target.text,
            "exclude": exclude,
            "settings": settings.to_dict(),
        }
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(job))
            self.process.stdin.close()
        except OSError:  # it died at once; its exit status tells why
            pass
        self._threads = [
            threading.Thread(target=self._read_events, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_events(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:  # closed at the end of the child's output
            for line in self.process.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "end":
                    self.finished = True
                self.events.put(event)
        self.events.put(_DONE)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        with self.process.stderr:
            for line in self.process.stderr:
                self.stderr.append(line)

    def next_event(self, timeout: float | None) -> Any:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait(self) -> int:
        code = self.process.wait()
        for thread in self._threads:  # they close the pipes at end of file
            thread.join(timeout=5)
        return code

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # with what it started
        except (AttributeError, ProcessLookupError, PermissionError):  # Windows
            self.process.kill()
        self.wait()

    def stderr_tail(self) -> str:
        return "".join(self.stderr)[-4000:]


def child_main() -> int:
    """The subprocess: check one target's callbacks, reporting events on stdout."""
    job = json.load(sys.stdin)
    events = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # what the user's code prints, even from C, goes to stderr

    def emit(**event: Any) -> None:
        events.write(json.dumps(event) + "\n")
        events.flush()

    settings = Settings.from_dict(job["settings"])
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    if settings.typecheck:
        from .._settings import typechecking

        typechecking().__enter__()  # for the rest of this process's life
    from ._targets import parse_target

    try:
        entries = discover(parse_target(job["target"]))
    except UsageError as error:
        emit(event="usage-error", reason=str(error))
        emit(event="end")
        return 0
    entries = [e for e in entries if e.name not in job["exclude"]]
    emit(event="total", count=sum(e.callback is not None for e in entries))
    for entry in entries:
        name = entry.name
        if entry.callback is not None:
            emit(event="start", name=name, location=entry.location)
        try:
            outcome = check_entry(
                entry, settings, lambda _, check: emit(event="check", check=check)
            )
        except UsageError as error:
            emit(event="usage-error", reason=str(error))
            break
        emit(event="outcome", outcome=outcome.to_dict())
    emit(event="end")
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
