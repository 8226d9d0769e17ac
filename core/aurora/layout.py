"""Where an index lives: the ``.aurora/`` folder at a project root, and how to find it."""

from __future__ import annotations

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
