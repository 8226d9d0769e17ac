"""Where an index lives: the ``.aurora/`` folder at a project root, and how to find it.

No pathlib at import: the client path of ``aurora search`` finds the root with this module.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    from pathlib import Path

    found = find_index_root(str(start.resolve()))
    return Path(found) if found is not None else None


def find_index_root(start: str) -> str | None:
    """Return the nearest folder at or above the absolute path ``start`` that holds an index, or ``None``."""
    folder = os.path.realpath(start)
    while True:
        if os.path.isfile(os.path.join(folder, INDEX_DIRNAME, DATABASE_NAME)):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
