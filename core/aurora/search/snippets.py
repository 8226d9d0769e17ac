"""Pick the lines of a chunk worth showing for a query, with the spans that match it."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import NamedTuple

_WORD = re.compile(r"\w+")
#: The longest line a snippet shows; a longer one is cut to a window around its first match.
MAX_LINE_CHARS = 240
#: The characters of a line searched for the query: a longer line (minified code, data) is matched on its start only,
#: so that a line of a megabyte costs what a line of a few kilobytes does.
MAX_SCAN_CHARS = 4096
#: The most distinct query words and terms a line is searched for (a long query's longest ones): the cost of the
#: search grows with their number, and a pasted page of text would otherwise cost seconds per chunk.
MAX_FILTER_KEYS = 64


class SnippetLine(NamedTuple):
    """One line of a snippet: its number in the file, its text and the matching spans.

    ``context`` marks a line shown around a chosen one (``--context``); ``start`` is where
    ``text`` begins in the file's line (above 0 when a long line was cut to a window).
    """

    number: int
    text: str
    spans: tuple[tuple[int, int], ...]
    context: bool = False
    start: int = 0

    @property
    def column(self) -> int:
        """The 1-based column of the line's first match in the file's line (1 when nothing matches)."""
        return self.start + (self.spans[0][0] if self.spans else 0) + 1


def line_filter(query: str, query_terms: Collection[str]) -> re.Pattern[str] | None:
    """Return a pattern that every line matching the query contains: any query word or term.

    Index terms are stems, mostly prefixes of the words they come from (``futur`` of
    ``future``), and the query's own words cover the rest, so only lines this pattern
    finds need the analyzer (a C-level search instead of a Python call per line).
    A query with more than :data:`MAX_FILTER_KEYS` of them is searched for its longest ones.
    """
    keys = set(query_terms) | {word.lower() for word in _WORD.findall(query)}
    if not keys:
        return None
    longest_first = sorted(keys, key=lambda key: (-len(key), key))[:MAX_FILTER_KEYS]
    return re.compile("|".join(re.escape(key) for key in longest_first), re.IGNORECASE)


def make_snippet(
    text: str,
    first_line: int,
    query_terms: Collection[str],
    analyze: Callable[[str], list[str]],
    max_lines: int,
    candidates_filter: re.Pattern[str] | None = None,
    context: int = 0,
) -> list[SnippetLine]:
    """Return up to ``max_lines`` lines of ``text``: those matching most query terms, in file order.

    When no line matches (a semantic hit, say), the first non-blank lines are returned.
    ``candidates_filter`` (see :func:`line_filter`) skips the analyzer on lines that cannot match.
    Only the first :data:`MAX_SCAN_CHARS` characters of a line are searched (and shown, cut further).
    ``context`` adds that many lines of ``text`` before and after each chosen line, as grep's -C.
    """
    if max_lines <= 0:
        return []
    terms = set(query_terms)
    matches: dict[str, bool] = {}  # word -> whether it gives a query term (words repeat within a chunk)

    def matching_word(word: str) -> bool:
        found = matches.get(word)
        if found is None:
            assert candidates_filter is not None
            found = matches[word] = bool(candidates_filter.search(word) and terms.intersection(analyze(word)))
        return found

    matching, first_lines = [], []
    lines = text.removesuffix("\n").split("\n")
    for offset, line in enumerate(lines):
        if not line.strip():
            continue
        if len(first_lines) < max_lines:
            first_lines.append(SnippetLine(first_line + offset, line, ()))
        scanned = line[:MAX_SCAN_CHARS]
        if not (terms and candidates_filter is not None and candidates_filter.search(scanned)):
            continue
        if terms.intersection(analyze(scanned)):
            spans = tuple((m.start(), m.end()) for m in _WORD.finditer(scanned) if matching_word(m.group()))
            if spans:
                matching.append(SnippetLine(first_line + offset, scanned, spans))
    if matching:
        best = sorted(matching, key=lambda c: (-len({c.text[a:b].lower() for a, b in c.spans}), c.number))
        chosen = sorted(best[:max_lines], key=lambda c: c.number)
    else:
        chosen = first_lines
    if context > 0:
        chosen = _with_context(chosen, lines, first_line, context)
    return [_shorten(line) for line in chosen]


def _with_context(chosen: list[SnippetLine], lines: list[str], first_line: int, context: int) -> list[SnippetLine]:
    """Return ``chosen`` with up to ``context`` lines of the chunk before and after each, in file order."""
    by_number = {line.number: line for line in chosen}
    last = first_line + len(lines) - 1
    numbers = {
        number
        for line in chosen
        for number in range(max(first_line, line.number - context), min(last, line.number + context) + 1)
    }
    return [
        by_number.get(number) or SnippetLine(number, lines[number - first_line], (), context=True)
        for number in sorted(numbers)
    ]


def _shorten(line: SnippetLine) -> SnippetLine:
    """Cut a long line to a window around its first match."""
    text = line.text.rstrip()
    if len(text) <= MAX_LINE_CHARS:
        return line._replace(text=text)
    start = max(0, (line.spans[0][0] if line.spans else 0) - MAX_LINE_CHARS // 4)
    end = start + MAX_LINE_CHARS
    spans = tuple((a - start, b - start) for a, b in line.spans if a >= start and b <= end)
    return line._replace(text=text[start:end], spans=spans, start=start)
