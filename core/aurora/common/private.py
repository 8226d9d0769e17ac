"""Keep what Aurora writes about a project readable by its owner only.

An index holds the text of every file it read, so it must not be readable more widely
than the most private of them: ``.aurora/`` is made ``0700`` and its files ``0600``, and
what is wider (an index made by an earlier version, files a library wrote) is tightened
each time the index is opened for writing. On Windows, where modes do not govern access,
this does nothing.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

#: Permission bits for others than the owner.
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def private_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) for the owner only; tighten it and everything in it that is wider.

    Files that libraries write inside (LanceDB's, SQLite's) follow the process's umask,
    so each call tightens what is there (a few milliseconds for thousands of files).
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if sys.platform == "win32":
        return
    _tighten(folder)
    for top, folders, files in os.walk(folder):  # links are not followed
        for name in (*folders, *files):
            _tighten(Path(top, name))


def private_file(path: Path) -> None:
    """Create ``path`` empty for the owner only if it does not exist (SQLite gives its journals the same mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _tighten(path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
        if not stat.S_ISLNK(mode) and mode & _OTHERS:
            os.chmod(path, stat.S_IMODE(mode) & ~_OTHERS)
    except OSError:  # gone meanwhile, or not ours: the folder's own mode still keeps others out
        pass
