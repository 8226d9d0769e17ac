"""Split a piece longer than the longest chunk into parts that end where statements end.

A part ends at most ``max_lines`` after it starts and at least half that: within that
window the next part starts at the line where the shallowest syntax node starts (a
statement of the body rather than a line inside an expression), the latest such line
if several tie. Only where no node starts in the window is the cut made at a fixed line.
Every part keeps the piece's symbol and kind, so each says what it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import repeat
from typing import Any

#: How deep under a piece's nodes to look for statement starts (definition, body, statements, their parts).
_DEPTH = 4


def statement_starts(nodes: Iterable[Any], starts_line: Callable[[Any], bool]) -> dict[int, int]:
    """Return, for each line where a node under ``nodes`` starts its line, the smallest depth of such a node."""
    depths: dict[int, int] = {}
    pending = [(node, 0) for node in nodes]
    while pending:
        node, depth = pending.pop()
        row = node.start_point.row
        if depth < depths.get(row + 1, _DEPTH + 1) and starts_line(node):
            depths[row + 1] = depth
        if depth < _DEPTH and node.end_point.row > row:
            pending.extend(zip(node.named_children, repeat(depth + 1)))
    return depths


def split_lines(start: int, end: int, max_lines: int, depths: dict[int, int]) -> list[tuple[int, int]]:
    """Return consecutive (first, last) line ranges covering ``start..end``, each at most ``max_lines`` long."""
    parts = []
    while end - start + 1 > max_lines:
        window = range(start + max_lines, start + max_lines // 2, -1)  # where the next part may start
        cut = min(window, key=lambda line: depths.get(line, _DEPTH + 1))
        parts.append((start, cut - 1))
        start = cut
    parts.append((start, end))
    return parts
