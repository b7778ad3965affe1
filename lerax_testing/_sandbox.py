"""A sandbox for the checks: callbacks that do not ask `is_checking()` write
nowhere real while they are checked.

Checks call a callback's methods hundreds of times on generated values. A logger
written for training would put those values into the user's real runs. During a
run of checks the working folder is a temporary one (relative paths land there),
Weights & Biases is disabled, and TensorBoard writers (`tensorboardX` or
PyTorch's, if the program imported them) add nothing to the runs they were made
for: those made meanwhile write into the temporary folder whatever folder they are
given, and those made before drop what they are given to add.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

ENVIRONMENT = {"WANDB_MODE": "disabled", "WANDB_SILENT": "true"}
"""Environment variables set while checking: W&B runs made meanwhile do nothing."""

WRITERS = ("tensorboardX", "torch.utils.tensorboard")
"""Modules whose `SummaryWriter`s are sent to the temporary folder, when imported."""

_LOG_DIR_NAMES = ("log_dir", "logdir")


@contextlib.contextmanager
def sandbox() -> Iterator[str]:
    """Run the block in a temporary working folder, with W&B disabled and
    TensorBoard writers redirected there; yields the folder's path."""
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(
            tempfile.TemporaryDirectory(prefix="lerax-checks-")
        )
        stack.enter_context(contextlib.chdir(folder))
        stack.enter_context(_environment(ENVIRONMENT))
        for name in WRITERS:
            module = sys.modules.get(name)
            writer = getattr(module, "SummaryWriter", None)
            if isinstance(writer, type):
                stack.enter_context(_redirected(writer, folder))
                stack.enter_context(_muted(writer))
        yield folder


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _redirected(writer: type, folder: str) -> Iterator[None]:
    """`writer(...)` made in `folder`, whatever log folder it is given."""
    original = writer.__init__

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        for name in _LOG_DIR_NAMES:
            kwargs.pop(name, None)
        original(self, os.path.join(folder, "tensorboard"), *args[1:], **kwargs)

    writer.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        writer.__init__ = original  # type: ignore[method-assign]


@contextlib.contextmanager
def _muted(writer: type) -> Iterator[None]:
    """`writer`'s `add_*` methods do nothing, for writers made before the checks
    (a logging callback's, opened on the user's run)."""
    saved = {
        name: value
        for name, value in vars(writer).items()
        if name.startswith("add_") and callable(value)
    }

    def nothing(self: Any, *args: Any, **kwargs: Any) -> None:
        return None

    for name in saved:
        setattr(writer, name, nothing)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(writer, name, value)
