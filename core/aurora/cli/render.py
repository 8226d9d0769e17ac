"""Human-readable output of search results (ANSI colours on a terminal; the policy is aurora.cli.console.use_color).

Two text formats: the default (a header per result, then its snippet) and ``--vimgrep``
(``path:line:column:text``, one line per result). On a terminal with colour on, result
paths are OSC 8 hyperlinks to the file (``file://``; with ``#LINE`` on kitty, which opens
files at a line). ``--json`` is ``json.dumps`` of the response and never comes here.
What comes from the repository (paths, symbols, lines) is shown with its control
characters escaped (:func:`aurora.cli.console.visible`), coloured or not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aurora.cli.console import visible
from aurora.search.results import SearchResponse, SearchResult
from aurora.search.snippets import SnippetLine

_STYLES = {
    "path": "35",
    "lines": "32",
    "symbol": "1;33",
    "score": "2",
    "match": "1;31",
    "number": "2;32",
    "context": "2",
}
#: The text formats a search prints (``json`` is the other).
TEXT_FORMATS = ("text", "vimgrep")


def output_text(response: SearchResponse, output: Mapping[str, Any], cwd: Path) -> str:
    """Return the results in the text format ``output`` asks for, as the client's ``output`` request field says.

    ``output``: ``format`` (:data:`TEXT_FORMATS`), ``color`` and ``links`` (OSC 8 hyperlinks).
    The in-process search and the warm server both print through here.
    """
    if output.get("format") == "vimgrep":
        return results_vimgrep(response, cwd)
    return results_text(response, bool(output.get("color")), cwd, links=bool(output.get("links")))


def results_text(response: SearchResponse, color: bool, cwd: Path, links: bool = False) -> str:
    """Return the results as ``path:start-end  symbol  score`` headers followed by snippet lines.

    Paths are shown relative to ``cwd`` when it is inside the index root (like git grep),
    absolute otherwise; JSON output keeps them relative to the root. ``links`` makes each
    path an OSC 8 hyperlink to its file.
    """
    blocks = []
    for result, path, shown in _shown_paths(response, cwd):
        link = _hyperlink(path, result.chunk.line_start) if links else None
        blocks.append(_result_text(result, shown, response.files, color, link))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def results_vimgrep(response: SearchResponse, cwd: Path) -> str:
    """Return ``path:line:column:text`` per result: its first matching snippet line (else its first line).

    The column is 1-based, where the first query term matches on that line (1 when none does).
    """
    lines = []
    for result, _, shown in _shown_paths(response, cwd):
        snippet = [line for line in result.snippet if not line.context]
        line = next((line for line in snippet if line.spans), snippet[0] if snippet else None)
        if line is None:  # no snippet lines asked for: the chunk's first line
            lines.append(f"{shown}:{result.chunk.line_start}:1:{result.chunk.text.partition(chr(10))[0].rstrip()}")
        else:
            lines.append(f"{shown}:{line.number}:{line.column}:{line.text}")
    return "".join(f"{visible(line)}\n" for line in lines)


def _shown_paths(response: SearchResponse, cwd: Path) -> list[tuple[SearchResult, Path, str]]:
    """Return each result with its file's absolute path and the path to show (relative to ``cwd`` inside the root)."""
    root = Path(response.root)
    inside = cwd.resolve().is_relative_to(root)
    shown = []
    for result in response.results:
        path = root / result.chunk.path
        shown.append((result, path, os.path.relpath(path, cwd) if inside else str(path)))
    return shown


def _hyperlink(path: Path, line: int) -> str:
    """Return the ``file://`` URI of ``path`` for an OSC 8 link (``#LINE`` where the terminal opens files there)."""
    import socket
    from urllib.parse import quote

    uri = f"file://{quote(socket.gethostname())}{quote(path.as_posix())}"
    return f"{uri}#{line}" if os.environ.get("TERM") == "xterm-kitty" else uri


def _result_text(result: SearchResult, path: str, files: bool, color: bool, link: str | None = None) -> str:
    chunk = result.chunk
    shown = _paint(visible(path), "path", color)
    if link is not None:
        shown = f"\x1b]8;;{link}\x1b\\{shown}\x1b]8;;\x1b\\"
    header = f"{shown}:{_paint(f'{chunk.line_start}-{chunk.line_end}', 'lines', color)}"
    if chunk.symbol:
        header += f"  {_paint(visible(chunk.symbol), 'symbol', color)}"
    header += f"  {_paint(f'{result.score:.3f}', 'score', color)}"
    if files and result.matches > 1:
        header += f"  ({result.matches} matching chunks)"
    width = max((len(str(line.number)) for line in result.snippet), default=0)
    lines = [_paint(_explain_text(result), "score", color)] if result.explain else []
    gaps = any(line.context for line in result.snippet)  # with --context, `--` between separate groups, as grep
    previous = None
    for line in result.snippet:
        if gaps and previous is not None and line.number > previous + 1:
            lines.append(f"  {_paint('--', 'context', color)}")
        number = _paint(str(line.number).rjust(width), "context" if line.context else "number", color)
        lines.append(f"  {number}  {_highlight(line, color)}")
        previous = line.number
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
    """Return a snippet line, shown with :func:`visible` characters, its matches painted."""
    if not color or not line.spans:
        return visible(line.text)
    pieces, cursor = [], 0
    for start, end in line.spans:
        pieces += [visible(line.text[cursor:start]), _paint(visible(line.text[start:end]), "match", color)]
        cursor = end
    pieces.append(visible(line.text[cursor:]))
    return "".join(pieces)


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if color else text
