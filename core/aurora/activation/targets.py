"""A result as the commands name it: ``PATH:START-END`` (as ``aurora search`` prints it), ``PATH:LINE`` or ``PATH``.

``aurora feedback`` and ``aurora read`` both take one; the path is relative to the
current folder (or absolute) and must lie inside the indexed folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

from aurora.errors import UsageError

_TARGET = re.compile(r"(?P<path>.+?)(?::(?P<line>\d+)(?:-(?P<end>\d+))?)?")
#: The largest line number taken (SQLite's integers are 64-bit; no file has this many lines).
MAX_LINE = 2**31 - 1


class Target(NamedTuple):
    """A parsed result: its path relative to the index root (POSIX form), first line and last line if given."""

    path: str
    line: int | None
    end: int | None


def parse_target(text: str, root: Path, cwd: Path) -> Target:
    """Read ``text`` (a path relative to ``cwd``, or absolute) as a result of the index at ``root``.

    :class:`UsageError` when it is not of the form ``PATH[:LINE[-END]]`` or lies outside ``root``.
    """
    match = _TARGET.fullmatch(text.strip())
    if match is None or not match["path"]:
        raise UsageError(f"'{text}' is not a result: give PATH, PATH:LINE or PATH:START-END")
    line, end = (_line_number(match[group], text) for group in ("line", "end"))
    return Target(_relative_to_root(match["path"], root, cwd), line, end)


def _line_number(digits: str | None, text: str) -> int | None:
    """Return the line number ``digits`` name (None when absent); UsageError above :data:`MAX_LINE`."""
    if not digits:
        return None
    if len(digits) > len(str(MAX_LINE)) or int(digits) > MAX_LINE:
        raise UsageError(f"'{text}': line numbers go up to {MAX_LINE:,}")
    return int(digits)


def _relative_to_root(path: str, root: Path, cwd: Path) -> str:
    """Return ``path`` (relative to ``cwd``, or absolute) relative to the index root, in POSIX form."""
    absolute = Path(os.path.normpath(cwd / path))
    if not absolute.is_relative_to(root):
        raise UsageError(f"{path} is outside the indexed folder {root}")
    return absolute.relative_to(root).as_posix()
