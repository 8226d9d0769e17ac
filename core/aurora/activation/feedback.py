"""``aurora feedback``: mark results as useful, so that they rank higher from now on.

A target is what ``aurora search`` prints (:mod:`aurora.activation.targets`):
``path:start-end``, ``path:line`` or a bare ``path`` (every chunk of the file), with the
path relative to the current folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from aurora.activation.targets import parse_target
from aurora.activation.usage import Usage, chunk_key
from aurora.errors import UsageError
from aurora.index.store import Store, StoredChunk


class Marked(NamedTuple):
    """A chunk marked as useful, and its retrieval probability afterwards."""

    chunk: StoredChunk
    probability: float


def mark_useful(store: Store, usage: Usage, root: Path, targets: Sequence[str], cwd: Path) -> list[Marked]:
    """Record each target's chunks as useful; every target must name indexed chunks."""
    chunks: list[StoredChunk] = []
    for text in targets:
        target = parse_target(text, root, cwd)
        found = store.chunks_at(target.path, target.line)
        if not found:
            where = f"{target.path} line {target.line}" if target.line else target.path
            raise UsageError(f"nothing indexed at {where}", hint="give a path:line that `aurora search` showed")
        exact = [chunk for chunk in found if target.end and chunk.line_end == target.end]
        chunks += exact[:1] or (found[:1] if target.line else found)
    keys = [chunk_key(c.path, c.symbol, c.line_start) for c in chunks]
    usage.record_feedback(keys)
    probabilities = usage.probabilities(keys)
    return [Marked(chunk, probabilities.get(key, 0.0)) for chunk, key in zip(chunks, keys, strict=True)]
