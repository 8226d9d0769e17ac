"""Aurora's first-party chunkers, one entry point each in the ``aurora.chunker`` group.

``python`` (:mod:`aurora_chunkers.python`) splits Python by class, function and method,
``markdown`` (:mod:`aurora_chunkers.markdown`) splits Markdown by section, and ``windows``
(:mod:`aurora_chunkers.windows`) splits any text into overlapping line windows: the
``[index] fallback_chunker`` for every file no other chunker handles.
"""

from __future__ import annotations

from collections.abc import Sequence

from aurora.plugin import Chunk, line_span


def span(lines: Sequence[str], start: int, end: int, symbol: str | None, kind: str) -> list[Chunk]:
    """Return lines ``start..end`` (1-based, inclusive) as one chunk without blank edges; none when blank."""
    chunk = line_span(lines, start, end, symbol, kind)
    return [chunk] if chunk is not None else []
