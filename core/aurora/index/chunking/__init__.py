"""Split a file's text into chunks: the units that are indexed, scored and shown.

Python is split by class, function and method (with :mod:`ast`), Markdown by section,
everything else by windows of lines. Chunks longer than ``max_chunk_lines`` are split
into windows that keep their symbol.
"""

from __future__ import annotations

from typing import NamedTuple

from aurora.index.chunking.languages import language_of
from aurora.index.chunking.model import Chunk

__all__ = ["Chunk", "ChunkSettings", "chunk_text", "language_of"]


class ChunkSettings(NamedTuple):
    """Sizes used by the chunkers (the ``[index]`` settings)."""

    window_lines: int = 50
    window_overlap: int = 5
    max_chunk_lines: int = 150


def chunk_text(text: str, language: str, settings: ChunkSettings) -> list[Chunk]:
    """Return the chunks of ``text`` (with newlines already normalised), in line order."""
    # Imported here so that importing the Chunk type (the store does, on every search)
    # does not load ast and the chunkers.
    from aurora.index.chunking import markdown, python, windows

    lines = text.split("\n")
    if language == "python":
        chunks = python.chunks(text, lines)
    elif language == "markdown":
        chunks = markdown.chunks(lines)
    else:
        chunks = None
    if chunks is None:
        return windows.split(lines, 1, len(lines), None, "text", settings.window_lines, settings.window_overlap)
    return windows.limit(chunks, lines, settings.max_chunk_lines, settings.window_overlap)
