"""Human-readable output of search results (ANSI colours on a terminal; the policy is aurora.cli.console.use_color).

Machine output never goes through here: ``--json`` is ``json.dumps`` of the response.
"""

from __future__ import annotations

import os
from pathlib import Path

from aurora.search.results import SearchResponse, SearchResult
from aurora.search.snippets import SnippetLine

_STYLES = {"path": "35", "lines": "32", "symbol": "1;33", "score": "2", "match": "1;31", "number": "2;32"}


def results_text(response: SearchResponse, color: bool, cwd: Path) -> str:
    """Return the results as ``path:start-end  symbol  score`` headers followed by snippet lines.

    Paths are shown relative to ``cwd`` when it is inside the index root (like git grep),
    absolute otherwise; JSON output keeps them relative to the root.
    """
    root = Path(response.root)
    inside = cwd.resolve().is_relative_to(root)
    blocks = []
    for result in response.results:
        path = root / result.chunk.path
        shown = os.path.relpath(path, cwd) if inside else str(path)
        blocks.append(_result_text(result, shown, response.files, color))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _result_text(result: SearchResult, path: str, files: bool, color: bool) -> str:
    chunk = result.chunk
    header = f"{_paint(path, 'path', color)}:{_paint(f'{chunk.line_start}-{chunk.line_end}', 'lines', color)}"
    if chunk.symbol:
        header += f"  {_paint(chunk.symbol, 'symbol', color)}"
    header += f"  {_paint(f'{result.score:.3f}', 'score', color)}"
    if files and result.matches > 1:
        header += f"  ({result.matches} matching chunks)"
    width = max((len(str(line.number)) for line in result.snippet), default=0)
    explained = [_paint(_explain_text(result), "score", color)] if result.explain else []
    lines = explained + [
        f"  {_paint(str(line.number).rjust(width), 'number', color)}  {_highlight(line, color)}"
        for line in result.snippet
    ]
    return "\n".join([header, *lines])


def _explain_text(result: SearchResult) -> str:
    """Return the ``--explain`` line: each signal's raw score, rank and share of the fused score."""
    parts = []
    for name, signal in (result.explain or {}).items():
        if signal.rank is None:
            parts.append(f"{name} not ranked {signal.contribution:+.4f}")
        else:
            parts.append(f"{name} {signal.score:.4g} #{signal.rank} {signal.contribution:+.4f}")
    if result.adjustments:
        parts.append("rerank " + " ".join(f"{reason} {value:+.4f}" for reason, value in result.adjustments.items()))
    return "  = " + "  |  ".join(parts)


def _highlight(line: SnippetLine, color: bool) -> str:
    if not color or not line.spans:
        return line.text
    pieces, cursor = [], 0
    for start, end in line.spans:
        pieces += [line.text[cursor:start], _paint(line.text[start:end], "match", color)]
        cursor = end
    pieces.append(line.text[cursor:])
    return "".join(pieces)


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if color else text
