"""Aurora: local hybrid search for codebases and notes.

The Python API in one line: ``aurora.open(path).search("query")`` (see :mod:`aurora.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from aurora.api import Project

__version__ = "0.1.0"


def open(path: str | Path = ".") -> Project:  # noqa: A001 - the documented entry point
    """Open the project whose index is at or above ``path`` (or ``path`` itself if none yet)."""
    from aurora.api import open_project

    return open_project(path)
