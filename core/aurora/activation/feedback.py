"""``aurora feedback``: mark results as useful, so that they rank higher from now on.

A target is what ``aurora search`` prints: ``path:start-end``, ``path:line`` or a
bare ``path`` (every chunk of the file), with the path relative to the current folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from aurora.activation.usage import Usage, chunk_key
from aurora.errors import UsageError
from aurora.index.store import Store, StoredChunk

_TARGET = re.compile(r"(?P<path>.+?)(?::(?P<line>\d+)(?:-(?P<end>\d+))?)?")


class Marked(NamedTuple):
    """A chunk marked as useful, and its retrieval probability afterwards."""

    chunk: StoredChunk
    probability: float


def mark_useful(store: Store, usage: Usage, root: Path, targets: Sequence[str], cwd: Path) -> list[Marked]:
    """Record each target's chunks as useful; every target must name indexed chunks."""
    chunks: list[StoredChunk] = []
    for target in targets:
        match = _TARGET.fullmatch(target.strip())
        if match is None or not match["path"]:
            raise UsageError(f"'{target}' is not a result: give PATH, PATH:LINE or PATH:START-END")
        path = _relative_to_root(match["path"], root, cwd)
        line = int(match["line"]) if match["line"] else None
        found = store.chunks_at(path, line)
        if not found:
            where = f"{path} line {line}" if line else path
            raise UsageError(f"nothing indexed at {where}", hint="give a path:line that `aurora search` showed")
        exact = [chunk for chunk in found if match["end"] and chunk.line_end == int(match["end"])]
        chunks += exact[:1] or (found[:1] if line else found)
    keys = [chunk_key(c.path, c.symbol, c.line_start) for c in chunks]
    usage.record_feedback(keys)
    probabilities = usage.probabilities(keys)
    return [Marked(chunk, probabilities.get(key, 0.0)) for chunk, key in zip(chunks, keys, strict=True)]


def _relative_to_root(path: str, root: Path, cwd: Path) -> str:
    """Return ``path`` (relative to ``cwd``, or absolute) relative to the index root, in POSIX form."""
    absolute = Path(os.path.normpath(cwd / path))
    if not absolute.is_relative_to(root):
        raise UsageError(f"{path} is outside the indexed folder {root}")
    return absolute.relative_to(root).as_posix()
