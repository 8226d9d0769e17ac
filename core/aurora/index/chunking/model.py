"""The chunk value type shared by all chunkers."""

from __future__ import annotations

from typing import NamedTuple


class Chunk(NamedTuple):
    """A span of lines (1-based, inclusive) with the symbol it belongs to, if any.

    ``kind`` says what the span is: ``function``, ``class``, ``method``, ``module``
    (code between definitions), ``section`` (Markdown) or ``text`` (a line window).
    """

    line_start: int
    line_end: int
    text: str
    symbol: str | None
    kind: str
