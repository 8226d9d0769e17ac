"""Line-window chunker: any text in windows of ``window_lines`` lines, neighbours sharing ``window_overlap``.

It declares no language: it is the ``[index] fallback_chunker``, which splits every file
no listed chunker handles, and every file a chunker could not split.
"""

from __future__ import annotations

from aurora.plugin import Chunk, ChunkSettings, PluginDescription, hookimpl, line_windows


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the chunker: overlapping windows of lines, for any language."""
    return PluginDescription(summary="Any text in overlapping windows of lines (the fallback)", version="1")


@hookimpl
def aurora_chunk(text: str, settings: ChunkSettings) -> list[Chunk]:
    """Return the windows of ``text``; blank ones are left out."""
    lines = text.split("\n")
    return line_windows(lines, 1, len(lines), None, "text", settings.window_lines, settings.window_overlap)
