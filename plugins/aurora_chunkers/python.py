"""Python chunker: one chunk per function, class header and method, with the code between them.

A definition's chunk starts at its first decorator, or at the comment block directly
above it. Nested functions stay inside their parent's chunk; nested classes are split
like top-level ones, with dotted symbols (``Outer.Inner.method``). Chunks longer than
``max_chunk_lines`` are split into windows that keep their symbol. A source that does
not parse is left to the fallback chunker.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from aurora.plugin import Chunk, ChunkSettings, PluginDescription, hookimpl, limit_chunks
from aurora_chunkers import span

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@hookimpl
def aurora_describe() -> PluginDescription:
    """Describe the chunker: Python, split with :mod:`ast`."""
    return PluginDescription(
        summary="Python by class, function and method (ast); long ones in windows",
        languages=("python",),
        version="1",
    )


@hookimpl
def aurora_chunk(text: str, settings: ChunkSettings) -> list[Chunk] | None:
    """Return the chunks of a Python source, or ``None`` when it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = text.split("\n")
    found: list[Chunk] = []
    _cover(tree.body, 1, len(lines), None, lines, found)
    return limit_chunks(found, lines, settings.max_chunk_lines, settings.window_overlap)


def _cover(
    body: Sequence[ast.stmt], start: int, end: int, owner: str | None, lines: Sequence[str], found: list[Chunk]
) -> None:
    """Cover lines ``start..end``: definitions in ``body`` get their own chunks, gaps go to ``owner``."""
    gap_kind = "class" if owner else "module"
    cursor = start
    for node in body:
        if not isinstance(node, _DEFINITIONS):
            continue
        first = max(cursor, _first_line(node, lines))
        found += span(lines, cursor, first - 1, owner, gap_kind)
        last = node.end_lineno or node.lineno
        name = f"{owner}.{node.name}" if owner else node.name
        if isinstance(node, ast.ClassDef):
            inner = [n for n in node.body if isinstance(n, _DEFINITIONS)]
            header_end = max(first, _first_line(inner[0], lines) - 1) if inner else last
            found += span(lines, first, header_end, name, "class")
            if inner:
                _cover(node.body, header_end + 1, last, name, lines, found)
        else:
            found += span(lines, first, last, name, "method" if owner else "function")
        cursor = last + 1
    found += span(lines, cursor, end, owner, gap_kind)


def _first_line(node: ast.stmt, lines: Sequence[str]) -> int:
    """Return the first line of a definition: its first decorator or the comments right above."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    while first > 1 and lines[first - 2].lstrip().startswith("#"):
        first -= 1
    return first
