"""Where an index lives: the ``.aurora/`` folder at a project root, and how to find it."""

from __future__ import annotations

import os
from pathlib import Path

INDEX_DIRNAME = ".aurora"
DATABASE_NAME = "aurora.db"
LOCK_NAME = "index.lock"
LEXICAL_DIRNAME = "lexical"


def index_dir(root: Path) -> Path:
    """Return the ``.aurora`` folder of ``root``."""
    return root / INDEX_DIRNAME


def find_root(start: Path) -> Path | None:
    """Return the nearest folder at or above ``start`` that holds an index, or ``None``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / INDEX_DIRNAME / DATABASE_NAME).is_file():
            return folder
    return None


def user_cache_dir() -> Path:
    """Return Aurora's per-user cache folder (``$XDG_CACHE_HOME/aurora``, else ``~/.cache/aurora``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "aurora"
