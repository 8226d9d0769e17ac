"""Parse a source within a time limit, and measure how much of a tree the parser could not make sense of."""

from __future__ import annotations

import time
from typing import Any

from aurora_treesitter.grammars import parser


def parse(data: bytes, language: str, timeout_ms: float) -> Any | None:
    """Return the tree of ``data`` in ``language``, or None when parsing took longer than ``timeout_ms``.

    The parser reads ``data`` through a callback, since only such a parse can be
    cancelled; the callback hands out the rest of ``data`` without copying it.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    view = memoryview(data)

    def read(offset: int, _point: Any) -> memoryview:
        return view[offset:]

    def past_deadline(_offset: int, _has_error: bool) -> bool:
        return time.monotonic() >= deadline

    language_parser = parser(language)
    try:
        return language_parser.parse(read, progress_callback=past_deadline)
    except ValueError:  # cancelled; without a reset the parser would resume this parse on the next source
        language_parser.reset()
        return None


def error_share(tree: Any) -> float:
    """Return the share of the source's bytes the parser could not place: loose tokens in ERROR nodes, missing ones.

    A whole subtree without errors inside an ERROR node counts as parsed: tree-sitter
    sometimes wraps a whole file in one ERROR node around well-formed functions.
    """
    root = tree.root_node
    if not root.has_error:
        return 0.0
    loose = 0
    pending = [root]
    while pending:
        node = pending.pop()
        for child in node.children:
            if child.child_count and child.has_error:
                pending.append(child)
            elif child.is_error or (node.is_error and not child.child_count):
                loose += child.end_byte - child.start_byte
            elif child.is_missing:  # a token the parser had to invent counts as one byte
                loose += 1
    return loose / max(1, root.end_byte - root.start_byte)
