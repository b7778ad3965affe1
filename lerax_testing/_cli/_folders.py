"""The modules a folder TARGET stands for: its `.py` files, searched recursively.

A folder is searched all the way down so that a callback in a subpackage is not
silently left out (a false green). Folders that hold no project code of the
user's are passed over: hidden ones, virtual environments, installed packages,
build output and caches. Private modules (`_name.py`, `__init__.py`) are passed
over as in a module's namespace.
"""

from __future__ import annotations

import os
from pathlib import Path

SKIPPED_FOLDERS = frozenset(
    {"site-packages", "build", "dist", "__pycache__", "node_modules", "venv"}
)
"""Folder names never searched (besides hidden ones and virtual environments)."""


def _searched(folder: Path) -> bool:
    name = folder.name
    return not (
        name.startswith(".")
        or name in SKIPPED_FOLDERS
        or (folder / "pyvenv.cfg").exists()  # a virtual environment of any name
    )


def module_files(folder: Path) -> list[Path]:
    """The public `.py` files under `folder`, in path order (a folder's own files
    before its subfolders')."""
    found: list[Path] = []
    for root, folders, files in os.walk(folder):
        here = Path(root)
        folders[:] = sorted(f for f in folders if _searched(here / f))
        found += [
            here / name
            for name in sorted(files)
            if name.endswith(".py")
            and not name.startswith("_")
            and (here / name).is_file()
        ]
    return found
