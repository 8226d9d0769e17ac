"""Line windows for chunkers: split a span of lines into overlapping windows, cap chunk lengths.

Plugins import these through :mod:`aurora.plugin` (``line_span``, ``line_windows``, ``limit_chunks``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aurora.host.contract import Chunk


def line_span(lines: Sequence[str], start: int, end: int, symbol: str | None, kind: str) -> Chunk | None:
    """Return the chunk of lines ``start..end`` (1-based, inclusive) without blank edges, or None if blank."""
    while start <= end and not lines[start - 1].strip():
        start += 1
    while end >= start and not lines[end - 1].strip():
        end -= 1
    if start > end:
        return None
    return Chunk(start, end, "\n".join(lines[start - 1 : end]), symbol, kind)


def line_windows(
    lines: Sequence[str], start: int, end: int, symbol: str | None, kind: str, size: int, overlap: int
) -> list[Chunk]:
    """Split lines ``start..end`` (1-based, inclusive) into windows of ``size`` lines, neighbours sharing ``overlap``.

    Every window is trimmed of blank edges; blank windows are left out. With ``size`` at
    least the span's length this returns the span itself, trimmed (or nothing when blank).
    """
    while end >= start and not lines[end - 1].strip():
        end -= 1
    chunks = []
    step = max(1, size - overlap)
    first = start
    while first <= end:
        last = min(first + size - 1, end)
        chunk = line_span(lines, first, last, symbol, kind)
        if chunk is not None:
            chunks.append(chunk)
        if last == end:
            break
        first += step
    return chunks


def limit_chunks(chunks: Iterable[Chunk], lines: Sequence[str], max_lines: int, overlap: int) -> list[Chunk]:
    """Split every chunk longer than ``max_lines`` into windows that keep its symbol and kind."""
    limited = []
    for chunk in chunks:
        if chunk.line_end - chunk.line_start + 1 > max_lines:
            limited += line_windows(
                lines,
                chunk.line_start,
                chunk.line_end,
                chunk.symbol,
                chunk.kind,
                max_lines,
                min(overlap, max_lines - 1),
            )
        else:
            limited.append(chunk)
    return limited
