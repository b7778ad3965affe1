"""A worker process of `lerax-conformance`: checks the callbacks of one target
module after another, and reports JSON events, one a line, on its standard output.

The parent (`_isolate`) writes jobs, one JSON line each, to the worker's standard
input and reads its events: first a `discover` job per module (it is imported,
and its callbacks counted and kept), then a job per module that checks them. The
worker sends everything the user's code prints to standard error, and gives the
user's code an empty standard input. A worker is reused for the next module, as
importing JAX is the slow part of starting one.

So that the parent can say what was running when a callback hangs or kills the
interpreter, the worker also reports:

- `method`: the callback method the main thread is in, sampled a few times a
  second by a daemon thread (a hang in Python is always caught there);
- `exit`: who called `os._exit`, and from which method, just before it exits.

Run as `python -m lerax_testing._cli._worker`.
"""

from __future__ import annotations

import dataclasses
import faulthandler
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn, TextIO

from .._settings import Settings
from ._entries import running_method, stack
from ._run import check_entry, check_inputs
from ._targets import Entry, UsageError, discover, parse_target

Emit = Callable[..., None]

SAMPLE_SECONDS = 0.2
"""How often the sampler looks at which callback method is running."""


def _emitter(stream: TextIO) -> Emit:
    lock = threading.Lock()  # the sampler thread writes too

    def emit(**event: Any) -> None:
        with lock:
            stream.write(json.dumps(event) + "\n")
            stream.flush()

    return emit


def _sample(emit: Emit, main: int) -> None:
    """Report the callback method the main thread is in whenever it changes."""
    last: str | None = None
    while True:
        time.sleep(SAMPLE_SECONDS)
        method = running_method(stack(sys._current_frames().get(main)))
        if method != last:
            emit(event="method", method=method)
            last = method


def _report_exits(emit: Emit) -> None:
    """Make `os._exit` say who called it before the interpreter is gone (it skips
    every cleanup, so nothing else could)."""
    real_exit = os._exit

    def _exit(code: int) -> NoReturn:
        caller = sys._getframe(1)
        emit(
            event="exit",
            code=code,
            method=running_method(stack(caller)),
            caller=f"{caller.f_code.co_filename}:{caller.f_lineno}",
        )
        real_exit(code)

    os._exit = _exit


Found = dict[str, tuple[list[Entry], Any]]
"""A module's callbacks found by a `discover` job, with the JAX configuration its
import left, by TARGET, until its check job takes them."""


def _run_job(job: dict[str, Any], settings: Settings, emit: Emit, found: Found) -> None:
    """Discover or check one target module's callbacks, and put JAX's configuration
    back as it was, so that a module that changes it on import (say
    `jax_disable_jit`) affects no later module in this worker."""
    from .._globals import config_snapshot, restore_config

    baseline = config_snapshot()
    try:
        _check_module(job, settings, emit, found)
    finally:
        restore_config(baseline)


def _check_module(
    job: dict[str, Any], settings: Settings, emit: Emit, found: Found
) -> None:
    """A `discover` job imports the module, reports its abstract bases and how many
    callbacks it has (so that the progress display knows the run's total before
    the first check) and keeps them for the check job, which checks each one not in
    `job["exclude"]`; a check job for a module not discovered here (in a fresh
    worker) discovers it first."""
    from .._globals import config_snapshot, restore_config

    cached = found.pop(job["target"], None)
    if cached is None:
        target = dataclasses.replace(parse_target(job["target"]), folder=job["folder"])
        try:
            entries = discover(target)
            for entry in entries:
                if entry.base is not None:
                    emit(event="base", name=entry.name, why=entry.base)
            entries = [e for e in entries if e.base is None]
            check_inputs(entries, settings)
        except UsageError as error:
            emit(event="usage-error", reason=str(error))
            return
        entries = [e for e in entries if e.name not in job["exclude"]]
        emit(event="total", count=sum(e.callback is not None for e in entries))
        if job.get("discover"):
            found[job["target"]] = (entries, config_snapshot())
            return
    else:
        entries, config = cached
        restore_config(config)  # as the module's import left it
    for entry in entries:
        if entry.name in job["exclude"]:
            continue
        if entry.callback is not None:
            emit(event="start", name=entry.name, location=entry.location)
        try:
            outcome = check_entry(
                entry,
                settings,
                lambda _, check: emit(event="check", check=check),
                interruptible=False,  # Ctrl-C reaches the parent, not us
            )
        except UsageError as error:
            emit(event="usage-error", reason=str(error))
            return
        emit(event="outcome", outcome=outcome.to_dict())


def worker_main() -> int:
    """Read jobs until the parent closes our standard input."""
    jobs = os.fdopen(os.dup(0), "r", encoding="utf-8")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # the user's code reads nothing
    events = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # what the user's code prints, even from C, goes to stderr
    emit = _emitter(events)
    # Import JAX and the API now, in this thread: the sampler needs the method
    # names, and two threads importing JAX at once break its import.
    import lerax_callback._callback  # noqa: F401

    faulthandler.enable(file=sys.stderr)  # a segfault shows the Python stack
    _report_exits(emit)
    main = threading.get_ident()
    threading.Thread(target=_sample, args=(emit, main), daemon=True).start()
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    typechecking = False
    found: Found = {}
    for line in jobs:
        job = json.loads(line)
        settings = Settings.from_dict(job["settings"])
        if settings.typecheck and not typechecking:
            from .._settings import typechecking as switch

            switch().__enter__()  # for the rest of this process's life
            typechecking = True
        _run_job(job, settings, emit, found)
        emit(event="end")
    return 0


if __name__ == "__main__":
    sys.exit(worker_main())
