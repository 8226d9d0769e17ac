"""Markdown chunker: one chunk per section, named by its heading path (``Install > Linux``).

ATX headings (``## Title``) and setext headings (a line underlined with ``===`` or
``---``) start sections; headings inside fenced code blocks do not. Text before the
first heading is a section without a symbol. Sections longer than ``max_chunk_lines``
are split into windows that keep their heading path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aurora.plugin import Chunk, ChunkSettings, PluginDescription, hookimpl, limit_chunks
from aurora_chunkers import span

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the chunker: Markdown, by section."""
    return PluginDescription(
        summary="Markdown by section, named by the heading path; long ones in windows",
        languages=("markdown",),
        version="1",
    )


@hookimpl
def aurora_chunk(text: str, settings: ChunkSettings) -> list[Chunk]:
    """Return one chunk per section of a Markdown document."""
    lines = text.split("\n")
    headings = _headings(lines)
    bounds = [line for line, _, _ in headings] + [len(lines) + 1]
    found = span(lines, 1, bounds[0] - 1, None, "section")
    trail: list[tuple[int, str]] = []
    for index, (line, level, title) in enumerate(headings):
        trail = [(lvl, text) for lvl, text in trail if lvl < level] + [(level, title)]
        symbol = " > ".join(text for _, text in trail if text) or None
        found += span(lines, line, bounds[index + 1] - 1, symbol, "section")
    return limit_chunks(found, lines, settings.max_chunk_lines, settings.window_overlap)


def _headings(lines: Sequence[str]) -> list[tuple[int, int, str]]:
    """Return (first line, level, title) of every heading outside fenced code."""
    found: list[tuple[int, int, str]] = []
    fence = None
    front_matter = bool(lines) and lines[0].strip() == "---"
    for number, line in enumerate(lines, start=1):
        if front_matter:
            front_matter = number == 1 or line.strip() not in ("---", "...")
            continue
        opening = _FENCE.match(line)
        if fence:
            if opening and opening[1][0] == fence[0] and len(opening[1]) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening[1]
            continue
        atx = _ATX.match(line)
        if atx:
            found.append((number, len(atx[1]), (atx[2] or "").strip()))
            continue
        previous = lines[number - 2] if number > 1 else ""
        underline = _SETEXT.match(line)
        if underline and previous.strip() and not _is_block_start(previous):
            found.append((number - 1, 1 if underline[1][0] == "=" else 2, previous.strip()))
    return found


def _is_block_start(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(("#", ">", "-", "*", "+", "|", "```", "~~~")) or stripped[:1].isdigit()
