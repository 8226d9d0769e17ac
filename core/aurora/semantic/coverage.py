"""How much of an index is embedded: chunks whose current text has a vector, out of all chunks.

An interrupted `aurora index` keeps the vectors it made (docs/models.md, "Which model
a search uses"); until the next run embeds the rest, semantic search sees only part of
the index, and the search warnings and `aurora stats` say how much.
"""

from __future__ import annotations

from typing import NamedTuple

from aurora.errors import REPAIR_HINT, VectorIndexError
from aurora.host.contract import VectorStore
from aurora.index.store import Store


class Coverage(NamedTuple):
    """``embedded`` of the index's ``chunks`` have a vector of their current text."""

    embedded: int
    chunks: int

    @property
    def partial(self) -> bool:
        """True when some chunks have no vector yet."""
        return self.embedded < self.chunks

    def share(self) -> str:
        """Return the embedded share as a whole percentage that never rounds a partial index to 0% or 100%."""
        if not self.chunks:
            return "100%"
        percent = 100 * self.embedded / self.chunks
        if 0 < percent < 1:
            return "<1%"
        return f"{min(round(percent), 99) if self.partial else 100}%"

    def warning(self) -> str:
        """Return the search warning for a partial embedding, with the counts and the fix."""
        return (
            f"semantic search covers {self.embedded:,} of {self.chunks:,} chunks ({self.share()}): "
            "run `aurora index` to embed the rest"
        )


def measure(store: Store, table: VectorStore) -> Coverage:
    """Count the chunks of ``store`` whose vector in ``table`` was made from their current text.

    Raise :class:`~aurora.errors.VectorIndexError` when the table cannot be read (damaged files).
    """
    try:
        stored = table.rows()
    except OSError as exc:
        raise VectorIndexError(f"the vector table cannot be read: {exc}", hint=REPAIR_HINT) from None
    current = store.chunk_hashes()
    return Coverage(sum(1 for chunk_id, digest in current.items() if stored.get(chunk_id) == digest), len(current))
