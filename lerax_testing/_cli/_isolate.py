"""Checking in worker processes, the command's default: each target module's
callbacks in a worker (`_worker`), each callback timed.

A callback that hangs past the timeout, exits the interpreter (`os._exit`, a
`SystemExit` past the harness), is killed or crashes (a segfault) becomes that
callback's error, naming the check and, when known, the method that was running;
a fresh worker goes on with the module's remaining callbacks, and then with the
other modules. A worker is reused from one module to the next while it lives, as
starting one (importing JAX) takes seconds.
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
from ._entries import Entry
from ._run import Progress
from ._targets import Target, UsageError, ensure_something_to_check, expand

_DONE = object()  # the worker's standard output closed: it is gone


def run_isolated(
    targets: Sequence[Target],
    settings: Settings,
    progress: Progress,
    *,
    timeout: float | None,
    usage_errors: list[str],
    outcomes: list[Outcome],
    bases: list[tuple[str, str]],
) -> None:
    """Check every target's modules in workers, appending to `outcomes` as results
    come (an interrupted run keeps them) and the abstract bases passed over to
    `bases`; a target's usage error (unknown attribute, no callbacks) is appended
    to `usage_errors` and the other targets go on.

    Every module is discovered first (imported in the worker, which keeps what it
    found), so that the progress display counts the run's callbacks before the
    first is checked: `[1/3]`, `[2/3]`, `[3/3]`, not `[1/1]`, `[2/2]`, `[3/3]`."""
    workers = _Workers()
    jobs = [
        (
            target,
            [
                _Job(part, settings, progress, timeout, workers)
                for part in expand(target)
            ],
        )
        for target in targets
    ]
    try:
        for _, parts in jobs:
            for job in parts:
                job.discover(bases, usage_errors)
        for target, parts in jobs:
            for job in parts:
                job.check(outcomes, usage_errors)
            if target.path is not None and target.path.is_dir():
                found = [o for job in parts for o in job.outcomes]
                found_bases = [b for job in parts for b in job.bases]
                error = _nothing_found(target, found, found_bases)
                if error is not None:
                    usage_errors.append(error)
    except BaseException:
        workers.kill()  # Ctrl-C: stop at once
        for _, parts in jobs:  # modules that failed to import, not yet reported
            for job in parts:
                outcomes.extend(job.pending)
        raise
    finally:
        workers.close()
        progress.finish()


def _nothing_found(
    folder: Target, outcomes: list[Outcome], bases: list[tuple[str, str]]
) -> str | None:
    """The usage error of a folder with nothing to check, as `discover` gives it
    in process (its modules were checked one by one here)."""
    found = [
        Entry(o.name, o.target, skipped=o.reason if o.status == "skipped" else None)
        for o in outcomes
    ] + [Entry(name, folder.text, base=why) for name, why in bases]
    try:
        ensure_something_to_check(folder.text, found)
    except UsageError as error:
        return str(error)
    return None


class _Job:
    """One target module, discovered then checked in workers, restarted past a
    callback that ended its worker."""

    def __init__(
        self,
        target: Target,
        settings: Settings,
        progress: Progress,
        timeout: float | None,
        workers: _Workers,
    ):
        self.target = target
        self.settings = settings
        self.progress = progress
        self.timeout = timeout
        self.workers = workers
        self.done: list[str] = []  # callbacks reported, not to check again
        self.outcomes: list[Outcome] = []  # this module's
        self.bases: list[tuple[str, str]] = []  # this module's
        self.pending: list[Outcome] = []  # its import's failure, reported in turn
        self.counted = False  # its total and bases are known
        self.over = False  # nothing to check: its import failed, or a usage error

    def discover(self, bases: list[tuple[str, str]], usage_errors: list[str]) -> None:
        """Import the module in a worker, which keeps its callbacks for `check`, and
        add their number to the progress display's total."""
        self._run(True, self.pending, bases, usage_errors)

    def check(self, outcomes: list[Outcome], usage_errors: list[str]) -> None:
        """Check the module's callbacks (a fresh worker imports it again)."""
        pending, self.pending = self.pending, []
        outcomes.extend(pending)
        self.outcomes.extend(pending)
        if not self.over:
            self._run(False, outcomes, [], usage_errors)

    def _run(
        self,
        discovering: bool,
        outcomes: list[Outcome],
        bases: list[tuple[str, str]],
        usage_errors: list[str],
    ) -> None:
        """Send the module to a worker and read its events until it ends; a worker that
        times out, exits or crashes gives the callback running then (or the import) an
        error outcome, and a fresh worker goes on without the callbacks reported
        (`done`). Bases and totals come once, as a restarted worker lists fewer."""
        while True:
            worker = self.workers.get()
            worker.send(
                {
                    "target": self.target.text,
                    "folder": self.target.folder,
                    "exclude": self.done,
                    "settings": self.settings.to_dict(),
                    "discover": discovering,
                }
            )
            current: str | None = None
            check: str | None = None
            method: str | None = None  # the sampled callback method running
            exited: dict[str, Any] | None = None  # who called `os._exit`
            location: list[Any] | None = None  # of the current callback's class
            deadline = self._deadline()
            while True:
                event = worker.next_event(_left(deadline))
                if event is None:
                    self.workers.kill()
                    what = f"timed out after {self.timeout:g} s"
                    break
                if event is _DONE:
                    what = _exit_text(worker.wait())
                    self.workers.forget()
                    break
                kind = event["event"]
                if kind == "end":
                    return
                if kind == "usage-error":
                    usage_errors.append(event["reason"])
                    self.over = self.over or discovering
                elif kind == "base" and not self.counted:
                    bases.append((event["name"], event["why"]))
                    self.bases.append((event["name"], event["why"]))
                elif kind == "total" and not self.counted:
                    self.progress.total += event["count"]
                    self.counted = True
                elif kind == "start":
                    current, check, method = event["name"], None, None
                    location = event.get("location")
                    self.progress.start(current)
                    deadline = self._deadline()
                elif kind == "check":
                    check = event["check"]
                    self.progress.check(check)
                elif kind == "method":
                    method = event["method"]
                elif kind == "exit":
                    exited = event
                elif kind == "outcome":
                    outcome = Outcome.from_dict(event["outcome"])
                    outcomes.append(outcome)
                    self.outcomes.append(outcome)
                    self.done.append(event["outcome"]["name"])
                    current = None
            self.counted = True
            reason = _reason(what, current, check, method, exited)
            name = current or self.target.text
            where = (location[0], location[1]) if current and location else None
            outcome = Outcome(
                name,
                self.target.text,
                "error",
                reason=reason,
                details=worker.stderr_tail() or None,
                location=where,
                check=check,
            )
            outcomes.append(outcome)
            if outcomes is not self.pending:
                self.outcomes.append(outcome)
            self.progress.note(f"{name}: ERROR: {reason}")
            if current is None:  # the import itself failed: nothing more to do
                self.over = True
                return
            self.done.append(current)

    def _deadline(self) -> float | None:
        return None if self.timeout is None else time.monotonic() + self.timeout


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _reason(
    what: str,
    current: str | None,
    check: str | None,
    method: str | None,
    exited: dict[str, Any] | None,
) -> str:
    """E.g. "the interpreter checking it timed out after 20 s during the `runs`
    check, in `on_step` at cb.py:12"."""
    if current is None:
        return f"the interpreter checking it {what} while importing it"
    during = f" during the `{check}` check" if check else ""
    if exited is None:
        return f"the interpreter checking it {what}{during}" + (
            f", in {method}" if method else ""
        )
    method, call = exited.get("method"), f"`os._exit({exited['code']})`"
    if method and method.endswith(f" at {exited['caller']}"):
        return f"the interpreter checking it {what}{during}: {method} called {call}"
    where = f", in {method}" if method else ""
    return (
        f"the interpreter checking it {what}{during}{where}: {call} was called at "
        f"{exited['caller']}"
    )


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


class _Workers:
    """The live worker, started when needed and reused until it dies."""

    def __init__(self) -> None:
        self.current: _Worker | None = None

    def get(self) -> _Worker:
        if self.current is None:
            self.current = _Worker()
        return self.current

    def forget(self) -> None:
        self.current = None

    def kill(self) -> None:
        if self.current is not None:
            self.current.kill()
            self.current = None

    def close(self) -> None:
        """Let the live worker finish; it exits when its standard input closes."""
        if self.current is not None:
            self.current.close()
            self.current = None


class _Worker:
    """One `python -m lerax_testing._cli._worker` process and its event stream."""

    def __init__(self) -> None:
        self.events: queue.Queue[Any] = queue.Queue()
        self.stderr: collections.deque[str] = collections.deque(maxlen=40)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lerax_testing._cli._worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # its own process group, to kill it whole
        )
        self._threads = [
            threading.Thread(target=self._read_events, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def send(self, job: dict[str, Any]) -> None:
        """Give the worker a job; if it is gone, its exit status will say why."""
        self.stderr.clear()  # the tail shown with a failure is this job's
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
        except OSError:
            pass

    def _read_events(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:  # closed at the end of the worker's output
            for line in self.process.stdout:
                try:
                    self.events.put(json.loads(line))
                except ValueError:
                    continue
        self.events.put(_DONE)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        with self.process.stderr:
            for line in self.process.stderr:
                self.stderr.append(line)

    def next_event(self, timeout: float | None) -> Any:
        """The next event, `_DONE` once the worker is gone, None on timeout."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait(self) -> int:
        try:
            # The worker closed its output, so it is exiting; a process kept
            # alive past that (a child holding its pipes) is ended.
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._kill_group()
            code = self.process.wait()
        for thread in self._threads:  # they close the pipes at end of file
            thread.join(timeout=5)
        return code

    def _kill_group(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # with what it started
        except (AttributeError, ProcessLookupError, PermissionError):  # Windows
            self.process.kill()

    def kill(self) -> None:
        self._kill_group()
        self.wait()
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass

    def close(self) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        else:
            self.wait()

    def stderr_tail(self) -> str:
        return "".join(self.stderr)[-4000:]
