"""Chunk one source with tree-sitter: check, parse, outline, split the long pieces.

Imports tree-sitter (through :mod:`aurora_treesitter.grammars`) on first use, so the
plugin imports this module only inside ``aurora_chunk``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aurora.plugin import Chunk, ChunkSettings, line_span
from aurora_treesitter.guards import parseable
from aurora_treesitter.languages import ALTERNATIVES, SYNTAXES
from aurora_treesitter.outline import Outline
from aurora_treesitter.parsing import error_share, parse
from aurora_treesitter.parts import split_lines, statement_starts

#: A tree with a larger share of bytes the parser could not place is left to the fallback chunker.
MAX_ERROR_SHARE = 0.5
#: A tree with at most this share of misplaced bytes is kept without trying the alternative grammar. On the
#: code-search set's C and C++ files (an ad-hoc count, 2026-12-03), the alternative was better for 45 of the
#: 490 files this spares a second parse, by 0.12% of their bytes on average; those parses cost 2.3 CPU-seconds
#: of the set's 12. Its C and C++ scores did not change (bench/codesearch.py --languages c,cpp).
GOOD_ENOUGH_SHARE = 0.01


def chunk(text: str, language: str, settings: ChunkSettings, options: Mapping[str, Any]) -> list[Chunk] | None:
    """Return the chunks of ``text``, or None when it is binary, minified, too large, too slow or mostly errors."""
    if not parseable(text, options["max_chars"]):
        return None
    source = text.encode("utf-8", "surrogatepass")
    parsed = _best_tree(source, language, options["timeout_ms"])
    if parsed is None:
        return None
    grammar, tree = parsed
    lines = text.split("\n")
    outline = Outline(SYNTAXES[grammar], source, lines, options["merge_lines"])
    chunks = []
    for piece in outline.pieces(tree.root_node):
        parts = [(piece.start, piece.end)]
        if piece.end - piece.start + 1 > settings.max_chunk_lines:
            depths = statement_starts(piece.nodes, outline.starts_line)
            parts = split_lines(piece.start, piece.end, settings.max_chunk_lines, depths)
        signature = lines[piece.nodes[-1].start_point.row].strip() if piece.nodes else None
        for number, (first, last) in enumerate(parts):
            made = line_span(lines, first, last, piece.symbol, piece.kind)
            if made is not None:
                chunks.append(made._replace(signature=signature) if number else made)
    return chunks


def _best_tree(source: bytes, language: str, timeout_ms: int) -> tuple[str, Any] | None:
    """Return the grammar and tree of ``source`` with the fewest errors, or None when it timed out or is mostly errors.

    The file's own grammar goes first and an alternative grammar
    (:data:`~aurora_treesitter.languages.ALTERNATIVES`) is tried when more than
    :data:`GOOD_ENOUGH_SHARE` of its tree is errors; a file with the alternative's marks
    is parsed in the alternative first. All parses of a file share the one time limit.
    """
    grammars = [language]
    if language in ALTERNATIVES:
        alternative, marks = ALTERNATIVES[language]
        grammars = [alternative, language] if marks.search(source) else [language, alternative]
    deadline = time.monotonic() + timeout_ms / 1000
    best = None
    for grammar in grammars:
        tree = parse(source, grammar, max(0.0, deadline - time.monotonic()) * 1000)
        if tree is None:  # out of time
            break
        share = error_share(tree)
        if best is None or share < best[0]:
            best = (share, grammar, tree)
        if share <= GOOD_ENOUGH_SHARE:
            break
    if best is None:
        return None
    share, grammar, tree = best
    return (grammar, tree) if share <= MAX_ERROR_SHARE else None
